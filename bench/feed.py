"""Benchmark: a full sync of a large bank through the native feed and through FetchHashes with the threatexchange
client, next to a baseline in the same run (one COPY of the same rows to nowhere).

    .venv/bin/python bench/feed.py [--hashes 1000000] [--repeat 3]

Builds a scratch database (ncii_bench_feed on the test PostgreSQL, dropped at the end), bulk-seeds bank hashes
and their change log with COPY, serves the portal with gunicorn, and times each sync end to end over HTTP.
Prints seconds and records/s for each. Goal: each under 20 s for 1 000 000 hashes.

FetchHashes is timed twice: as plain HTTP and JSON (the portal's share), and through the threatexchange client,
which also turns every record into dataclasses with dacite (its share: the difference).
"""

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import django
import psycopg
from common import ROOT, ScratchDatabase

DATABASE = ScratchDatabase("ncii_bench_feed")
DB_URL = DATABASE.url


def seed(count):
    """count bank hashes (90 % PDQ of good quality, 10 % video MD5s), one change each, with COPY."""
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
        # Every hash held by a case, four items to a case, as callers' submissions leave them.
        conn.execute("""INSERT INTO cases_case (reference, status, abuse_type, language, pin_digest, pin_failures,
                                                consent_version, created)
                        SELECT lpad(g::text, 12, '0'), 'active', 'shared', 'en-gb', '', 0, '1', '2026-11-01'
                        FROM generate_series(1, (%s + 3) / 4) g""", [count])
        conn.execute("""INSERT INTO cases_item (case_id, kind, md5, unreadable, created)
                        SELECT (SELECT min(id) FROM cases_case) + (h.id - 1) / 4,
                               CASE WHEN h.video THEN 'video' ELSE 'image' END, md5(h.value), false, '2026-11-01'
                        FROM hashing_bankhash h ORDER BY h.id""")
        conn.execute("""INSERT INTO cases_item_bank_hashes (item_id, bankhash_id)
                        SELECT i.id, h.id FROM cases_item i JOIN hashing_bankhash h ON md5(h.value) = i.md5""")
        conn.execute("ANALYZE")


def baseline():
    """One COPY of the same rows (hash and its latest change) to nowhere: the floor for reading them at all."""
    started = time.perf_counter()
    with psycopg.connect(DB_URL) as conn, conn.cursor().copy(
            "COPY (SELECT h.signal_type, h.value, h.status, h.quality, c.at FROM hashing_bankchange c "
            "JOIN hashing_bankhash h ON h.id = c.bank_hash_id ORDER BY c.txid, c.id) TO STDOUT") as copy:
        sink = io.BytesIO()
        for block in copy:
            sink.write(block)
    return time.perf_counter() - started


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def native_sync(url, bearer):
    records, cursor, started = 0, "", time.perf_counter()
    while True:
        request = urllib.request.Request(f"{url}/api/v1/hashes?limit=5000&cursor={cursor}",
                                         headers={"Authorization": f"Bearer {bearer}"})
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (our own local server)
            body = json.load(response)
        records += len(body["records"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return records, time.perf_counter() - started


def stopncii_raw_sync(url, public_id, secret):
    """The same pages as plain HTTP and JSON: the portal's share of a FetchHashes sync, without the client's."""
    import requests

    session = requests.Session()
    session.headers.update({"Ocp-Apim-Subscription-Key": public_id, "x-functions-key": secret})
    records, started = 0, time.perf_counter()
    params = {"startTimestamp": 10, "pageSize": 5000}
    while True:
        body = session.get(f"{url}/api/stopncii/v1/FetchHashes", params=params, timeout=120).json()
        records += len(body["hashRecords"])
        if not body["hasMoreRecords"]:
            return records, time.perf_counter() - started
        params["nextPageToken"] = body["nextPageToken"]


def stopncii_sync(url, public_id, secret):
    from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI

    api = StopNCIIAPI(public_id, secret, base_url_override=f"{url}/api/stopncii/v1")
    records, started = 0, time.perf_counter()
    has_more, token = True, ""
    while has_more:
        page = api.fetch_hashes(page_size=5000, next_page=token)
        records += len(page.hashRecords)
        has_more, token = page.hasMoreRecords, page.nextPageToken or ""
    return records, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    DATABASE.create()
    django.setup()
    from django.core.management import call_command

    from partners import onboarding

    server = None
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(args.hashes)
        print(f"seeded {args.hashes:,} hashes in {time.perf_counter() - started:.1f} s")
        partner = onboarding.create_partner(name="Bench", slug="bench", actor_label="bench")
        for move in ("start_vetting", "sign_agreement", "start_integration"):
            onboarding.move_partner(partner, move, actor_label="bench")
        onboarding.move_partner(partner, "go_live", actor_label="bench", override=True)
        key, secret = onboarding.issue_key(partner, scopes=["fetch"], actor_label="bench")

        port = free_port()
        env = {**os.environ, "PARTNER_API_REQUESTS_PER_MINUTE": "100000"}
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "ncii_portal.wsgi", "--bind",
                                   f"127.0.0.1:{port}", "--workers", "2", "--timeout", "300"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/api/schema/", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)

        runs = {"baseline": [], "native": [], "raw": [], "client": []}
        for _ in range(args.repeat):  # interleaved, so noise falls on every kind alike; medians reported
            runs["baseline"].append((args.hashes, baseline()))
            runs["native"].append(native_sync(url, f"{key.public_id}.{secret}"))
            time.sleep(1.1)
            runs["raw"].append(stopncii_raw_sync(url, key.public_id, secret))
            runs["client"].append(stopncii_sync(url, key.public_id, secret))
        floor = statistics.median(seconds for _records, seconds in runs["baseline"])
        print(f"medians of {args.repeat} runs:")
        for name, label in [("baseline", "baseline COPY of the rows"), ("native", "native feed, full sync"),
                            ("raw", "FetchHashes, plain HTTP + JSON"), ("client", "FetchHashes via threatexchange")]:
            records = runs[name][0][0]
            seconds = statistics.median(s for _records, s in runs[name])
            print(f"{label:31s}{seconds:6.1f} s  {records / seconds:10,.0f} records/s  "
                  f"({records:,} records, {seconds / floor:.1f}x the baseline)")
    finally:
        if server:
            server.terminate()
            server.wait(30)
        DATABASE.drop()


if __name__ == "__main__":
    main()
