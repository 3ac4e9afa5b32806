"""Takedown requests: from the case, by mail from the template of the legal basis chosen (sent after commit by
Celery, retried when the mail fails, shown as sent or failed), or recorded as sent through the site's web form.
A request names addresses, carries no image, and says nothing of the caller unless the caseworker writes it."""

import html
import logging
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from takedowns import actions, tasks
from takedowns.models import Address, AddressOutcome, TakedownRequest
from tests.calls import ensure_checklist, open_case
from tests.conftest import make_staff, wait_for
from tests.takedown_calls import described, paste

FORUM = [f"http://forum.example.org/thread/{n}" for n in range(1, 5)]


class RefusingBackend(BaseEmailBackend):
    """A mail server that hangs up on every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed: " + messages[0].body)


@pytest.fixture
def forum_case(caseworker):
    case = open_case(caseworker)
    paste(case, caseworker, [*FORUM, "https://other.example.com/a.jpg"])
    return case, described("example.org", name="Example Forum", abuse_email="abuse@forum.example.org")


def ask(client, case, site, addresses, **fields):
    return client.post(reverse("takedown_request_new", args=[case.reference]), {
        "site": site.pk, "address": [a.pk for a in addresses], "method": "mail", "basis": "site_policy", **fields})


def test_a_mail_request_goes_after_commit_and_names_only_the_addresses(
        login_as, caseworker, forum_case, celery_in_process, django_capture_on_commit_callbacks):
    case, site = forum_case
    client = login_as(caseworker)
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, case, site, case.web_addresses.filter(site=site), basis="uk_osa")
        assert response.status_code == 302
        assert mail.outbox == []  # nothing goes before the request is committed
        assert TakedownRequest.objects.get().state == TakedownRequest.State.QUEUED
    (message,) = mail.outbox
    sent = TakedownRequest.objects.get()
    assert message.to == ["abuse@forum.example.org"] and message.attachments == []
    assert sent.reference in message.subject and sent.reference in message.body
    assert all(url in message.body for url in FORUM) and "other.example.com" not in message.body
    assert "Online Safety Act" in message.body
    # Nothing of the caller or the case: no reference, no caseworker, no statement.
    for secret in (case.reference, case.display_reference, caseworker.email, caseworker.name, "person can confirm"):
        assert secret not in message.body and secret not in message.subject

    assert sent.state == TakedownRequest.State.SENT and sent.to_email == "abuse@forum.example.org"
    assert sent.due_at - sent.sent_at == timedelta(hours=48)
    asked = case.web_addresses.filter(site=site)
    assert {a.outcome for a in asked} == {Address.Outcome.ASKED}
    assert {a.first_asked_at for a in asked} == {sent.sent_at}
    assert AddressOutcome.objects.filter(request=sent, outcome=Address.Outcome.ASKED).count() == 4
    page = client.get(reverse("case_web_addresses", args=[case.reference])).content.decode()
    assert f"Request {sent.reference} to Example Forum: being sent by mail." in page
    assert 'data-state="sent"' in page
    details = [e.details for e in AuditEvent.objects.filter(action__startswith="takedown.")]
    assert {"request": sent.pk} in details and "example" not in str(details)


def test_the_statement_goes_only_when_the_caseworker_writes_one(
        login_as, caseworker, forum_case, celery_in_process, django_capture_on_commit_callbacks):
    case, site = forum_case
    with django_capture_on_commit_callbacks(execute=True):
        ask(login_as(caseworker), case, site, case.web_addresses.filter(site=site), basis="us_take_it_down",
            statement="The person can confirm who they are through the helpline.")
    (message,) = mail.outbox
    assert "The person can confirm who they are through the helpline." in message.body
    assert "TAKE IT DOWN Act" in message.body and "48 hours" in message.body


@pytest.mark.parametrize("basis", [b for b, _label in TakedownRequest.Basis.choices])
def test_each_legal_basis_has_its_own_text(caseworker, forum_case, basis):
    case, site = forum_case
    sent = actions.request_takedown(case, site, case.web_addresses.filter(site=site), method="mail", basis=basis,
                                    by=caseworker)
    message, addresses = actions.compose(sent)
    others = {b: actions.compose(TakedownRequest(pk=sent.pk, basis=b, site=site, kind="request"))[0].body
              for b in TakedownRequest.Basis.values}
    assert len(set(others.values())) == len(TakedownRequest.Basis.values)
    assert message.body == others[basis] and len(addresses) == 4


def test_a_request_through_the_web_form_is_recorded_as_sent_now(login_as, caseworker, forum_case):
    case, site = forum_case
    response = ask(login_as(caseworker), case, site, case.web_addresses.filter(site=site), method="web_form")
    assert response.status_code == 302 and mail.outbox == []
    sent = TakedownRequest.objects.get()
    assert sent.state == TakedownRequest.State.SENT and sent.method == "web_form" and sent.to_email == ""
    assert sent.due_at - sent.sent_at == timedelta(hours=48)
    assert set(case.web_addresses.filter(site=site).values_list("outcome", flat=True)) == {"asked"}
    page = login_as(caseworker).get(reverse("takedown_request", args=[case.reference, sent.pk])).content.decode()
    assert "The text for the site's web form" in page and FORUM[0] in page


def test_what_cannot_be_asked_is_refused_with_a_reason(login_as, caseworker, forum_case):
    case, site = forum_case
    client = login_as(caseworker)
    other = case.web_addresses.get(url="https://other.example.com/a.jpg")
    forum = case.web_addresses.filter(site=site)
    no_mail = described("example.com", abuse_email="")
    refusals = [
        (ask(client, case, no_mail, [other]), 409, "no abuse mail address for example.com"),
        (ask(client, case, site, [other]), 404, "not this case's on this site"),
        (ask(client, case, site, []), 400, "Choose the addresses"),
        (ask(client, case, site, forum, method="pigeon"), 400, "How: Select a valid choice"),
        (ask(client, case, site, forum, basis="vibes"), 400, "Relying on: Select a valid choice"),
        (client.post(reverse("takedown_request_new", args=[case.reference]), {"site": "x", "address": ["1"],
                                                                               "method": "mail", "basis": "copyright"}),
         400, "Choose the site"),
        (client.post(reverse("takedown_request_new", args=[case.reference]), {"site": site.pk, "address": ["1x"],
                                                                               "method": "mail", "basis": "copyright"}),
         400, "Choose addresses from the list"),
    ]
    for response, status, message in refusals:
        assert response.status_code == status and message in html.unescape(response.content.decode()), message
    # Another case's addresses are not this case's to ask for.
    elsewhere = open_case(caseworker)
    paste(elsewhere, caseworker, ["http://forum.example.org/thread/99"])
    response = ask(client, case, site, elsewhere.web_addresses.all())
    assert response.status_code == 400 and "Choose the addresses" in response.content.decode()
    # A removed address is not asked for again.
    actions.record_outcome(case, [forum.first()], "removed", by=caseworker)
    response = ask(client, case, site, forum)
    assert response.status_code == 400 and "removed already" in response.content.decode()
    assert not TakedownRequest.objects.exists()


def test_a_mail_that_fails_is_retried_then_shown_as_failed_and_can_be_sent_again(
        login_as, caseworker, forum_case, settings, caplog, celery_in_process, django_capture_on_commit_callbacks):
    case, site = forum_case
    settings.TAKEDOWN_MAIL_RETRY_SCHEDULE = [60, 300]
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    sent = actions.request_takedown(case, site, case.web_addresses.filter(site=site), method="mail",
                                    basis="site_policy", by=caseworker)
    caplog.set_level(logging.DEBUG)
    waits = []
    for _attempt in range(3):
        waits.append(actions.deliver(sent.pk))
        assert actions.deliver(sent.pk) is None  # not due yet: nothing is sent early
        TakedownRequest.objects.filter(pk=sent.pk).update(next_attempt_at=timezone.now())
    sent.refresh_from_db()
    assert waits == [60, 300, None]
    assert sent.state == TakedownRequest.State.FAILED and sent.attempts == 3
    assert sent.last_error == "SMTPServerDisconnected" and sent.sent_at is None
    assert set(case.web_addresses.filter(site=site).values_list("outcome", flat=True)) == {"new"}
    assert AuditEvent.objects.filter(action="takedown.failed").count() == 1
    # The log says which request failed and how, never what the mail said.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"takedown request {sent.pk}: the mail could not be sent (SMTPServerDisconnected)" in logged
    assert "forum.example.org/thread" not in logged

    client = login_as(caseworker)
    page = client.get(reverse("case_web_addresses", args=[case.reference])).content.decode()
    assert f'data-request="{sent.reference}" data-state="failed"' in page
    assert "Send it again" in client.get(reverse("takedown_request", args=[case.reference, sent.pk])).content.decode()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("takedown_send_again", args=[case.reference, sent.pk])).status_code == 302
    sent.refresh_from_db()
    assert sent.state == TakedownRequest.State.SENT and len(mail.outbox) == 1


def test_the_task_asks_for_its_own_retry(caseworker, forum_case, settings, monkeypatch):
    case, site = forum_case
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    settings.TAKEDOWN_MAIL_RETRY_SCHEDULE = [42]
    sent = actions.request_takedown(case, site, case.web_addresses.filter(site=site), method="mail",
                                    basis="site_policy", by=caseworker)
    asked = []
    monkeypatch.setattr(tasks, "ask_to_send", lambda request_id, countdown=0: asked.append((request_id, countdown)))
    tasks.send_request(sent.pk)
    assert asked == [(sent.pk, 42)]


def test_beat_sends_what_no_message_carried(caseworker, forum_case, celery_in_process):
    case, site = forum_case
    # Queued in a transaction that never ran its after-commit step (a lost broker message, say).
    sent = actions.request_takedown(case, site, case.web_addresses.filter(site=site), method="mail",
                                    basis="site_policy", by=caseworker)
    assert mail.outbox == []
    tasks.send_due()
    sent.refresh_from_db()
    assert sent.state == TakedownRequest.State.SENT and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_request(celery_worker):
    ensure_checklist()
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    case = open_case(casey)
    paste(case, casey, FORUM)
    site = described("example.org")
    before = set(worker_mail(celery_worker))
    sent = actions.request_takedown(case, site, case.web_addresses.all(), method="mail", basis="copyright", by=casey)
    assert wait_for(lambda: TakedownRequest.objects.get(pk=sent.pk).state == TakedownRequest.State.SENT, timeout=30)
    (new,) = set(worker_mail(celery_worker)) - before
    text = new.read_text()
    assert "To: abuse@example.org" in text and sent.reference in text and FORUM[0] in text


def worker_mail(worker):
    return list(worker.mail_dir.glob("*.log"))
