"""One lock order for a case and its links (cases.actions.lock_case_and_links): a caller's submission and a
withdrawal, or a link's revocation, racing on two PostgreSQL connections, queue one behind the other instead of
deadlocking.

Each race is forced, not hoped for: the withdrawal pauses while it holds its first lock (in check_reason, which it
calls under the lock), the other side is started and runs until PostgreSQL shows it waiting for a lock, and only
then does the withdrawal go on. Under the old order (link, then case) the two then wait for each other and
PostgreSQL breaks the deadlock by failing one of them."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from cases import actions
from cases.models import Case, HashingLink
from hashing.models import BankHash
from tests.calls import image, issue_code, open_case, payload, submit
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_for_a_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


class Thread(threading.Thread):
    """Runs `work` on its own database connection; keeps its result or the exception it raised."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None

    def run(self):
        try:
            self.result = self.work()
        except Exception as exc:  # noqa: BLE001 - the test looks at what it was
            self.error = exc
        finally:
            connections.close_all()


def race(monkeypatch, withdraw, other):
    """Start `withdraw`, hold it just after it took the case's lock, run `other` until it waits for a lock, then let
    the withdrawal go on. Returns both threads, finished."""
    holding, go_on = threading.Event(), threading.Event()
    check_reason = actions.check_reason

    def paused(*args, **kwargs):
        check_reason(*args, **kwargs)
        holding.set()
        assert go_on.wait(30)

    monkeypatch.setattr(actions, "check_reason", paused)
    first = Thread(withdraw)
    first.start()
    assert holding.wait(30), first.error
    second = Thread(other)
    second.start()
    assert wait_for(waiting_for_a_lock, timeout=30), "the second transaction never waited for the first"
    go_on.set()
    for thread in (first, second):
        thread.join(60)
        assert not thread.is_alive()
    return first, second


def test_a_submission_racing_a_withdrawal_waits_for_it(monkeypatch, caseworker):
    case = open_case(caseworker)
    code = issue_code(case, caseworker)
    assert submit(issue_code(case, caseworker), [image(1)]).status_code == 200
    client = Client(raise_request_exception=False)  # a deadlock would be the caller's 500

    def send():
        return client.post(reverse("caller:submit", args=[code]), payload([image(2)]),
                           content_type="application/json")

    withdrawal, submission = race(
        monkeypatch, lambda: actions.withdraw_case(case, by=caseworker, reason="caller_asked"), send)
    assert withdrawal.error is None, withdrawal.error
    assert submission.error is None, submission.error
    # The withdrawal came first: the submission found the link cancelled, and added nothing.
    assert submission.result.status_code == 410, submission.result.content
    assert "cancelled" in submission.result.json()["error"]
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN and case.items.count() == 1
    assert not BankHash.objects.filter(status=BankHash.Status.ACTIVE).exists()
    assert not HashingLink.objects.filter(case=case, revoked_at=None).exists()


def test_a_revocation_racing_a_withdrawal_waits_for_it(monkeypatch, caseworker):
    case = open_case(caseworker)
    issue_code(case, caseworker)
    link = case.links.get()
    withdrawal, revocation = race(
        monkeypatch, lambda: actions.withdraw_case(case, by=caseworker, reason="caller_asked"),
        lambda: actions.revoke_link(link, by=caseworker))
    assert withdrawal.error is None, withdrawal.error
    assert revocation.error is None, revocation.error
    link.refresh_from_db()
    assert link.revoked_at is not None and Case.objects.get(pk=case.pk).is_withdrawn


def test_a_partners_feedback_racing_a_withdrawal_waits_for_it(monkeypatch, caseworker):
    """Feedback writes outcomes (pointing at hashes) and the cases' timelines (pointing at cases): under the old
    order it held a hash and waited for the case a withdrawal held, which waited for the hash."""
    from partners import outcomes
    from tests.helpers import live_partner

    case = open_case(caseworker)
    assert submit(issue_code(case, caseworker), [image(1)]).status_code == 200
    partner = live_partner()
    report = {"signal_type": "pdq", "value": image(1)["pdq"], "outcome": "Blocked", "tags": [], "acted_at": None}

    withdrawal, feedback = race(
        monkeypatch, lambda: actions.withdraw_case(case, by=caseworker, reason="caller_asked"),
        lambda: outcomes.record_feedback(partner, [report], via="native"))
    assert withdrawal.error is None, withdrawal.error
    assert feedback.error is None, feedback.error
    assert feedback.result == (1, 0)
    assert Case.objects.get(pk=case.pk).is_withdrawn
