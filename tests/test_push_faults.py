"""Push under faults. Each test ends by counting what the partner received against what was due: every message
delivered (none lost) and repeats absorbed by webhook-id (the partner sees each message once).

- the partner answers 500, or too slowly, for a while, then recovers;
- retries run out: the batch is parked, managers alerted, and a person's "resume" delivers it;
- the broker is unreachable when the change commits (our own redis-server on a spare port, never the
  machine's), then returns: beat's re-drive delivers it;
- the worker is killed (SIGKILL) mid-delivery and started again: the lease runs out, beat re-drives, and the
  same webhook-id is sent again.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from hashing.models import BankHash
from partners import push, webhooks
from partners.models import Delivery, Webhook
from tests.calls import image, issue_code, open_case, submit
from tests.conftest import PUSH_ENV, server_env, signed_in_client, wait_for
from tests.helpers import ACTOR, live_partner

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.worker


def shared_now():
    return {(h.signal_type, h.value) for h in BankHash.objects.all() if h.is_shareable}


def check_counts(partner, partner_server, secret):
    """Every delivery the portal cut was received, verified, exactly once per webhook-id; the partner holds
    exactly what it may hold."""
    messages = partner_server.messages(secret)
    cut = set(Delivery.objects.filter(partner=partner, event="hashes.changed").values_list("message_id", flat=True))
    assert cut and set(messages) == cut
    # The worker records "delivered" once the partner has answered: a moment after the partner holds it.
    assert wait_for(lambda: not Delivery.objects.filter(partner=partner).exclude(state="delivered").exists(),
                    timeout=15)
    held = {key for key, status in partner_server.records(secret).items() if status == "active"}
    assert held == shared_now()
    return len(partner_server.calls) - len(messages)  # repeats the partner absorbed


def many_items(count, start=0):
    return [image(start + n) for n in range(1, count + 1)]


def test_a_partner_failing_for_a_while_gets_everything_once(transactional_db, celery_worker, push_settings,
                                                            receiver, caseworker):
    # 500 twice, then two answers slower than PUSH_TIMEOUT (the partner got them; we gave up), then fine.
    partner_server = receiver(answers=[500, 500, "slow", "slow", 200])
    partner = live_partner()
    secret = webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    submit(issue_code(open_case(caseworker), caseworker), many_items(30))  # 90 hashes: two batches of 50
    assert wait_for(lambda: len(partner_server.records(secret)) >= 90 and not Delivery.objects.exclude(
        state="delivered").exists(), timeout=60)
    repeats = check_counts(partner, partner_server, secret)
    assert repeats >= 4  # the failed and the slow calls, absorbed by webhook-id


def test_a_slow_partner_does_not_hold_up_the_others(transactional_db, celery_worker, push_settings, receiver,
                                                    caseworker):
    stuck_server, quick_server = receiver(answers=["hold"]), receiver()  # the stuck one never answers in time
    stuck, quick = live_partner("stuck"), live_partner("quick")
    webhooks.set_webhook(stuck, stuck_server.url, **ACTOR)
    secret = webhooks.set_webhook(quick, quick_server.url, **ACTOR)
    started = time.monotonic()
    submit(issue_code(open_case(caseworker), caseworker), many_items(30))  # two batches each
    assert wait_for(lambda: not Delivery.objects.filter(partner=quick).exclude(state="delivered").exists()
                    and len(quick_server.records(secret)) == 90, timeout=30)
    assert time.monotonic() - started < 15  # while the stuck partner times out, retries, and waits its turn
    assert Delivery.objects.filter(partner=stuck, state="pending").exists()


def test_spent_retries_park_the_batch_alert_and_resume(transactional_db, celery_worker, push_settings, receiver,
                                                       caseworker, partner_manager, tmp_path):
    partner_server = receiver(answers=[503])
    partner = live_partner()
    secret = webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    submit(issue_code(open_case(caseworker), caseworker), many_items(2))
    assert wait_for(lambda: Delivery.objects.filter(partner=partner, state="parked").exists(), timeout=60)
    webhook = Webhook.objects.get(partner=partner)
    attempts = len(PUSH_ENV["PUSH_RETRY_SCHEDULE"].split(",")) + 1
    assert webhook.degraded_at and Delivery.objects.get(partner=partner).attempts == attempts
    assert wait_for(lambda: any("Push to Tiktak has stopped" in m.read_text()  # mailed once the parking commits
                                for m in Path(celery_worker.mail_dir).glob("*.log")), timeout=15)
    page = signed_in_client(partner_manager).get(reverse("partner_detail", args=[partner.slug])).content.decode()
    assert "Push has stopped" in page and "503" in page

    partner_server.answers = [200]
    calls = len(partner_server.calls)
    # Parked stays parked: a push round (what the worker runs on a change, a retry or beat's re-drive) sends
    # nothing behind a person's back, though the partner would now answer 200.
    assert wait_for(lambda: Webhook.objects.get(partner=partner).lease_until is None)  # no round holds the lease
    assert push.run_round(partner.pk) is None
    assert Delivery.objects.get(partner=partner).state == "parked" and len(partner_server.calls) == calls
    webhooks.resume_push(partner, by=partner_manager)
    assert wait_for(lambda: not Delivery.objects.exclude(state="delivered").exists(), timeout=30)
    check_counts(partner, partner_server, secret)
    assert Webhook.objects.get(partner=partner).degraded_at is None


# --- Our own broker and processes ----------------------------------------------------------------------------

def spare_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """A redis-server of our own on a spare port, and workers and beat on it, with the test database."""

    def __init__(self, env, tmp_path):
        self.port, self.tmp, self.redis, self.processes = spare_port(), tmp_path, None, []
        self.env = {**env, **PUSH_ENV, "C_FORCE_ROOT": "1",
                    "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.port}/0"}

    def start_redis(self):
        self.redis = subprocess.Popen(["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: self.redis_answers(), timeout=10)

    def redis_answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def start(self, role, **env):
        args = ["worker", "--pool=solo", "--hostname", f"{role}-{len(self.processes)}@%h"] if role == "worker" \
            else ["beat", "--schedule", str(self.tmp / "beat-schedule")]
        log = open(self.tmp / f"{role}-{len(self.processes)}.log", "wb")  # noqa: SIM115 (lives with the process)
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "ncii_portal", *args],
                                   cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def run(self, code):
        """Python in a fresh process of the portal (as a web request's process would be), on this stack."""
        return subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(20)
        if self.redis:
            self.redis.terminate()
            self.redis.wait(10)


@pytest.fixture
def stack(django_db_blocker, tmp_path):
    made = Stack(server_env(django_db_blocker), tmp_path)
    yield made
    made.stop()


SUBMIT = """
from cases import actions
from cases.models import Case
from tests.calls import image, submit
case = Case.objects.get(reference={reference!r})
_link, code = actions.issue_link(case, by=case.opened_by)
print(submit(code, [image(n) for n in range({first}, {last})]).status_code)
"""


def test_a_change_committed_while_the_broker_is_down_is_delivered_when_it_returns(
        transactional_db, stack, push_settings, receiver, caseworker):
    partner_server = receiver()
    partner = live_partner()
    secret = webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    case = open_case(caseworker)
    done = stack.run(SUBMIT.format(reference=case.reference, first=1, last=6))  # no redis on that port yet
    assert done.returncode == 0 and done.stdout.strip().endswith("200"), done.stderr
    assert "beat will re-drive" in done.stderr  # the commit went through; the ask for a round did not
    assert len(shared_now()) == 15 and not partner_server.calls  # five photos: PDQ, pHash and MD5 each

    stack.start_redis()
    stack.start("worker")
    stack.start("beat")
    assert wait_for(lambda: len(partner_server.records(secret)) >= 15, timeout=60)
    check_counts(partner, partner_server, secret)


def test_a_worker_killed_mid_delivery_is_replaced_and_the_batch_sent_again(
        transactional_db, stack, push_settings, receiver, caseworker):
    slow = {"PUSH_TIMEOUT": "5", "PUSH_LEASE_SECONDS": "12"}  # the call outlives the kill; the lease, both
    partner_server = receiver(answers=["hold", 200])
    partner = live_partner()
    secret = webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    stack.start_redis()
    first = stack.start("worker", **slow)
    stack.start("beat", **slow)
    case = open_case(caseworker)
    assert stack.run(SUBMIT.format(reference=case.reference, first=1, last=4)).stdout.strip().endswith("200")
    assert wait_for(lambda: partner_server.calls, timeout=30)  # mid-delivery: the partner holds the answer
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    assert Delivery.objects.get(partner=partner).state == "pending"

    stack.start("worker", **slow)
    assert wait_for(lambda: not Delivery.objects.exclude(state="delivered").exists(), timeout=60)
    assert check_counts(partner, partner_server, secret) >= 1  # the killed worker's message came again
