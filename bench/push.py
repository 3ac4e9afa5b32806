"""Benchmark: push delivery of a whole bank to many partners through the real Celery worker, next to a baseline
in the same run (the same POSTs, same bodies and signatures, sent from a plain loop in this process).

    .venv/bin/python bench/push.py [--hashes 100000] [--partners 20] [--batch 1000] [--repeat 3] [--debug]

Builds a scratch database (ncii_bench_push on the test PostgreSQL, dropped at the end), bulk-seeds bank hashes
and their change log with COPY, starts one webhook server per partner on 127.0.0.1 (each in its own process,
asyncio, answering 200 at once, counting messages by webhook-id and the hashes in their data.records), creates
the partners live through partners.onboarding, with a webhook each (partners.webhooks), and starts a real worker
(`celery worker --concurrency 2`, broker on Redis db 9).

Each run then enqueues partners.tasks.push_due once and times until every server has received every hash and
no Delivery is left undelivered: hash-deliveries/s = hashes x partners / seconds. The baseline POSTs the
Delivery bodies that run produced, each to its partner's server in order, signed as the worker signs them,
from as many threads as the worker has processes (2), over keep-alive connections (urllib3 PoolManager).
Between runs the deliveries, their attempts and push positions are removed and the cursors set back to 0.
Medians over --repeat runs. Goal: at least 10 000 hash-deliveries/s.

The worker runs with DEBUG=0, as deployed (--debug: DEBUG=1, where Django keeps and formats every query).
CPU seconds are shown per run: the worker's processes, the servers', and the whole machine's (the rest is
PostgreSQL, Redis, this process, and whatever else runs on the machine: see the load average printed first).
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import django
import psutil
import psycopg
import redis
import urllib3
from common import ROOT, ScratchDatabase, load_average

BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/9")
DATABASE = ScratchDatabase("ncii_bench_push", SECRET_KEY="bench-push-not-secret", WEBHOOK_ALLOW_LOOPBACK="1",
                           SECURE_SSL_REDIRECT="0", CELERY_BROKER_URL=BROKER_URL,
                           CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/8"))
DB_URL = DATABASE.url

WORKER_PROCESSES = 2


def seed(count):
    """count bank hashes (90 % PDQ of good quality, 10 % video MD5s), one change each, with COPY (as bench/feed.py;
    no cases: push does not read them)."""
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        with conn.cursor().copy("COPY hashing_bankhash (signal_type, value, full_value, status, review, quality, video,"
                                " other_file, created, changed) FROM STDIN") as copy:
            day = "2026-11-01"
            for n in range(count):
                if n % 10:
                    copy.write_row(("pdq", f"{n:064x}", "", "active", "", 90, False, False, day, day))
                else:
                    copy.write_row(("md5", f"{n:032x}", "", "active", "", None, True, False, day, day))
        conn.execute("""INSERT INTO hashing_bankchange (bank_hash_id, status, review, quality, video, other_file,
                                                               txid, at)
                        SELECT id, status, review, quality, video, other_file, pg_current_xact_id()::text::bigint,
                               timestamptz '2026-11-01'
                        FROM hashing_bankhash""")
        conn.execute("ANALYZE")


# --- The partners' webhook servers ----------------------------------------------------------------------------

HASHES, MESSAGES, POSTS, GENERATION, CPU, PORT = range(6)  # slots of a server's shared counts


def serve(counts):
    """One partner's webhook endpoint (a process of its own): 200 to every request, and for each POST the
    webhook-id counted once and the length of its data.records added to the hashes received."""
    asyncio.run(_serve(counts))


async def _serve(counts):
    seen, generation = set(), 0

    async def handle(reader, writer):
        nonlocal seen, generation
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                if head[0].startswith("POST "):
                    records = len(json.loads(body)["data"]["records"])
                    with counts.get_lock():
                        if counts[GENERATION] != generation:  # counts were reset: a new run
                            seen, generation = set(), counts[GENERATION]
                        counts[POSTS] += 1
                        if headers["webhook-id"] not in seen:
                            seen.add(headers["webhook-id"])
                            counts[MESSAGES] += 1
                            counts[HASHES] += records
                        counts[CPU] = time.process_time()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    counts[CPU], counts[PORT] = time.process_time(), server.sockets[0].getsockname()[1]
    await server.serve_forever()


class Server:
    def __init__(self, context):
        self.counts = context.Array("d", 6)
        self.process = context.Process(target=serve, args=(self.counts,), daemon=True)
        self.process.start()

    @property
    def port(self):
        deadline = time.monotonic() + 30
        while not self.counts[PORT]:
            if not self.process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("a webhook server did not start")
            time.sleep(0.05)
        return int(self.counts[PORT])

    def reset(self):
        with self.counts.get_lock():
            self.counts[HASHES] = self.counts[MESSAGES] = self.counts[POSTS] = 0
            self.counts[GENERATION] += 1

    def __getitem__(self, slot):
        return self.counts[slot]


def received(servers, slot):
    return int(sum(s[slot] for s in servers))


# --- Partners, worker, runs ---------------------------------------------------------------------------------

def make_partner(n, url):
    from partners import onboarding, webhooks

    partner = onboarding.create_partner(name=f"Bench {n}", slug=f"bench-{n}", actor_label="bench")
    for move in ("start_vetting", "sign_agreement", "start_integration"):
        partner = onboarding.move_partner(partner, move, actor_label="bench")
    partner = onboarding.move_partner(partner, "go_live", actor_label="bench", override=True)
    return partner, webhooks.set_webhook(partner, url, actor_label="bench")


def start_worker(env, log):
    from ncii_portal.celery import app

    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "ncii_portal", "worker", "--concurrency",
                               str(WORKER_PROCESSES), "--loglevel", "WARNING", "--hostname",
                               f"bench-push-{os.getpid()}@%h"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start; see {log.name}")
    return worker


def wait_settled(count):
    """Until the seeded changes are below PostgreSQL's snapshot xmin, i.e. a feed may serve them: a transaction
    left open anywhere on the server holds them back, which is no part of what is measured."""
    from hashing.models import BankChange

    deadline = time.monotonic() + 120
    while BankChange.objects.settled().count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the seeded changes are not settled after 120 s: a long transaction on the server?")
        time.sleep(0.2)


def reset(servers):
    """Back to nothing delivered: every partner starts at the beginning of the change log again."""
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        conn.execute("TRUNCATE partners_deliveryattempt, partners_delivery")
        conn.execute("DELETE FROM partners_feedposition WHERE route = 'push'")
        if conn.execute("SELECT to_regclass('partners_handover')").fetchone()[0]:  # where push records handovers
            conn.execute("DELETE FROM partners_handover WHERE route = 'push'")
        conn.execute("UPDATE partners_webhook SET cursor_txid = 0, cursor_change_id = 0, lease_until = NULL,"
                     " degraded_at = NULL")
        conn.execute("VACUUM ANALYZE partners_webhook, partners_feedposition, partners_delivery,"
                     " partners_deliveryattempt")
    for server in servers:
        server.reset()


def cpu_seconds(worker, servers):
    """CPU seconds so far: the worker's processes, the servers', the whole machine's (busy, all cores)."""
    tree = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
    used = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
            used += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    machine = psutil.cpu_times()
    return {"worker": used, "servers": sum(s[CPU] for s in servers),
            "machine": machine.user + machine.nice + machine.system + machine.irq + machine.softirq}


def worker_run(worker, servers, hashes, timeout):
    """Seconds from enqueueing push_due once until every server has every hash and nothing is undelivered."""
    from partners import tasks
    from partners.models import Delivery

    started = time.perf_counter()
    tasks.push_due.delay()
    while True:
        if all(s[HASHES] >= hashes for s in servers) and not Delivery.objects.exclude(
                state=Delivery.State.DELIVERED).exists():
            return time.perf_counter() - started
        if worker.poll() is not None:
            raise RuntimeError("the Celery worker exited")
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"not delivered after {timeout} s: {received(servers, HASHES):,} hashes received "
                               f"of {hashes * len(servers):,}")
        time.sleep(0.01)


def wait_idle(broker):
    """Until the worker has nothing running, reserved or queued, and no partner is leased: a round that ends
    after the last delivery must not run into the next run."""
    from ncii_portal.celery import app
    from partners.models import Webhook

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not broker.llen("celery") and not Webhook.objects.exclude(lease_until=None).exists():
            inspect = app.control.inspect(timeout=1)
            if not any(tasks for replies in (inspect.active(), inspect.reserved(), inspect.scheduled())
                       for tasks in (replies or {}).values()):
                return
        time.sleep(0.2)
    raise RuntimeError("the worker is still busy 60 s after the run")


def bodies(partners):
    """Each partner's Delivery bodies as the worker sent them, in order: [(url, secret, [(id, bytes)])]."""
    from partners.models import Delivery

    return [(partner.webhook.url, secret,
             [(message_id, body.encode()) for message_id, body in
              Delivery.objects.filter(partner=partner).order_by("id").values_list("message_id", "body")])
            for partner, secret in partners]


def baseline(targets):
    """The same POSTs from a plain loop: each partner's bodies in order, as many threads as worker processes."""
    from partners.push import signature

    http = urllib3.PoolManager(maxsize=WORKER_PROCESSES, retries=False)

    def send_all(target):
        url, secret, messages = target
        for message_id, body in messages:
            timestamp = int(time.time())
            headers = {"Content-Type": "application/json", "User-Agent": "helpline-portal-push/1",
                       "webhook-id": message_id, "webhook-timestamp": str(timestamp),
                       "webhook-signature": signature(secret, message_id, timestamp, body)}
            response = http.request("POST", url, body=body, headers=headers)
            if response.status != 200:
                raise RuntimeError(f"baseline POST to {url}: {response.status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKER_PROCESSES) as pool:
        list(pool.map(send_all, targets))
    return time.perf_counter() - started


def measured(worker, servers, function, *args):
    """(seconds function(*args) returned, CPU seconds used meanwhile by the worker, the servers, the machine)."""
    before = cpu_seconds(worker, servers)
    seconds = function(*args)
    after = cpu_seconds(worker, servers)
    return seconds, {key: after[key] - before[key] for key in after}


def figures(seconds, hash_deliveries, posts):
    return f"{seconds:7.2f} s {hash_deliveries / seconds:10,.0f} hash-deliveries/s {posts / seconds:7,.0f} POSTs/s"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hashes", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000, help="PUSH_BATCH_SIZE: records per webhook call")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900, help="seconds a worker run may take at most")
    parser.add_argument("--debug", action="store_true", help="run the worker with DEBUG=1")
    args = parser.parse_args()
    os.environ["PUSH_BATCH_SIZE"] = str(args.batch)
    began = time.perf_counter()
    print(load_average())

    context = multiprocessing.get_context("spawn")
    servers, worker, broker = [], None, redis.Redis.from_url(BROKER_URL)
    log = tempfile.NamedTemporaryFile(prefix="bench-push-worker-", suffix=".log", delete=False)  # noqa: SIM115
    try:
        servers = [Server(context) for _ in range(args.partners)]
        DATABASE.create()
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(args.hashes)
        print(f"seeded {args.hashes:,} hashes in {time.perf_counter() - started:.1f} s")
        partners = [make_partner(n, f"http://127.0.0.1:{server.port}/hooks/bench-{n}")
                    for n, server in enumerate(servers, 1)]
        broker.flushdb()
        env = {**os.environ, "C_FORCE_ROOT": "1", "DEBUG": "1" if args.debug else "0"}
        worker = start_worker(env, log)
        wait_settled(args.hashes)

        total, runs = args.hashes * args.partners, {"worker": [], "baseline": []}
        for n in range(1, args.repeat + 1):
            reset(servers)
            seconds, cpu = measured(worker, servers, worker_run, worker, servers, args.hashes, args.timeout)
            posts, messages = received(servers, POSTS), received(servers, MESSAGES)
            runs["worker"].append((seconds, posts))
            print(f"run {n}: worker   {figures(seconds, total, posts)} ({messages:,} messages, "
                  f"{posts - messages} repeated); cpu s: worker {cpu['worker']:.1f}, servers {cpu['servers']:.1f}, "
                  f"machine {cpu['machine']:.1f} of {seconds * os.cpu_count():.1f}", flush=True)

            wait_idle(broker)
            targets = bodies(partners)
            size = statistics.median(len(body) for _id, body in targets[0][2])
            for server in servers:
                server.reset()
            seconds, cpu = measured(worker, servers, baseline, targets)
            if received(servers, HASHES) != total:
                raise RuntimeError(f"baseline: {received(servers, HASHES):,} hashes received of {total:,}")
            posts = received(servers, POSTS)
            runs["baseline"].append((seconds, posts))
            print(f"run {n}: baseline {figures(seconds, total, posts)}; cpu s: servers {cpu['servers']:.1f}, "
                  f"machine {cpu['machine']:.1f} of {seconds * os.cpu_count():.1f}", flush=True)
            del targets

        print(f"medians of {args.repeat} runs: {args.hashes:,} hashes to each of {args.partners} partners "
              f"({total:,} hash-deliveries), {args.batch:,} a batch ({runs['worker'][0][1]:,} POSTs of "
              f"{size / 1000:,.0f} kB)")
        medians = {}
        for name, label in [("worker", f"worker, celery --concurrency {WORKER_PROCESSES}"),
                            ("baseline", f"baseline, plain loop, {WORKER_PROCESSES} threads")]:
            seconds = medians[name] = statistics.median(s for s, _posts in runs[name])
            posts = runs[name][0][1]
            print(f"{label:36s}{figures(seconds, total, posts)}")
        rate = total / medians["worker"]
        print(f"worker / baseline: {medians['baseline'] / medians['worker']:.2f} of the baseline's rate "
              f"({medians['worker'] / medians['baseline']:.1f}x its time)")
        print(f"goal 10,000 hash-deliveries/s: {'met' if rate >= 10_000 else 'NOT met'} ({rate:,.0f}/s)")
    except BaseException:
        if worker is not None:
            log.flush()
            print(f"worker log ({log.name}), last lines:\n" + "\n".join(
                Path(log.name).read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
        raise
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(60)
        for server in servers:
            server.process.terminate()
            server.process.join(10)
        broker.flushdb()
        log.close()
        Path(log.name).unlink(missing_ok=True)
        DATABASE.drop()
        print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
