"""Follow-ups: each request falls due TAKEDOWN_FOLLOW_UP_HOURS after it went; beat puts overdue ones in the
caseworker's "for your attention", with a reminder or an escalation to the site's hosting provider on offer.
Outcomes per address (removed, refused with the site's reason, no answer, back up later), each with its time."""

import html
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from takedowns import actions, tasks
from takedowns.models import Address, AddressOutcome, TakedownRequest
from tests.calls import open_case
from tests.conftest import make_staff
from tests.takedown_calls import described, paste

FORUM = [f"http://forum.example.org/thread/{n}" for n in range(1, 4)]


@pytest.fixture
def asked(caseworker):
    """A request sent through the web form for three addresses, and its site."""
    case = open_case(caseworker)
    paste(case, caseworker, FORUM)
    site = described("example.org", name="Example Forum")
    sent = actions.request_takedown(case, site, case.web_addresses.all(), method="web_form", basis="site_policy",
                                    by=caseworker)
    return case, site, sent


def overdue_by(sent, hours):
    """The request went `hours` past its due time ago."""
    went = timezone.now() - timedelta(hours=48 + hours)
    TakedownRequest.objects.filter(pk=sent.pk).update(sent_at=went, due_at=went + timedelta(hours=48))
    Address.objects.filter(requests=sent).update(first_asked_at=went)


def test_the_due_date_is_a_setting(caseworker, settings):
    settings.TAKEDOWN_FOLLOW_UP_HOURS = 24
    case = open_case(caseworker)
    paste(case, caseworker, FORUM)
    sent = actions.request_takedown(case, described("example.org"), case.web_addresses.all(), method="web_form",
                                    basis="site_policy", by=caseworker)
    assert sent.due_at - sent.sent_at == timedelta(hours=24)


def test_beat_puts_overdue_requests_in_their_caseworkers_attention(login_as, caseworker, asked):
    case, _site, sent = asked
    client = login_as(caseworker)
    assert "is overdue" not in client.get(reverse("dashboard")).content.decode()
    overdue_by(sent, 1)
    assert "is overdue" not in client.get(reverse("dashboard")).content.decode()  # until beat has looked
    assert tasks.mark_overdue() == 1 and tasks.mark_overdue() == 0
    page = client.get(reverse("dashboard")).content.decode()
    assert f"Takedown request {sent.reference} to Example Forum is overdue: case {case.display_reference}" in page
    assert reverse("takedown_request", args=[case.reference, sent.pk]) in page
    # Not in anyone else's.
    other = make_staff("robin@helpline.test", "caseworker", name="Robin")
    assert sent.reference not in login_as(other).get(reverse("dashboard")).content.decode()
    # Every address answered: nothing left to follow up, so it leaves the list.
    actions.record_outcome(case, case.web_addresses.all(), "removed", by=caseworker)
    assert sent.reference not in client.get(reverse("dashboard")).content.decode()


def test_a_reminder_asks_again_for_what_is_still_waiting(login_as, caseworker, asked, celery_in_process,
                                                         django_capture_on_commit_callbacks):
    case, site, sent = asked
    site.abuse_email = "abuse@forum.example.org"
    site.save()
    overdue_by(sent, 2)
    tasks.mark_overdue()
    first = case.web_addresses.get(url=FORUM[0])
    actions.record_outcome(case, [first], "removed", by=caseworker)
    client = login_as(caseworker)
    page = client.get(reverse("takedown_request", args=[case.reference, sent.pk])).content.decode()
    assert "2 addresses still without an answer, past the due date" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("takedown_remind", args=[case.reference, sent.pk]), {"method": "mail"})
    reminder = TakedownRequest.objects.get(kind="reminder")
    assert response["Location"] == reverse("takedown_request", args=[case.reference, reminder.pk])
    assert reminder.follows == sent and reminder.state == "sent" and reminder.due_at > timezone.now()
    (message,) = mail.outbox
    assert message.subject.startswith("Reminder:") and sent.reference in message.body
    assert FORUM[1] in message.body and FORUM[2] in message.body and FORUM[0] not in message.body
    sent.refresh_from_db()
    assert sent.followed_up_at is not None
    assert sent.reference not in client.get(reverse("dashboard")).content.decode()
    again = client.post(reverse("takedown_remind", args=[case.reference, sent.pk]), {"method": "mail"})
    assert again.status_code == 409 and "followed up already" in again.content.decode()


def test_an_escalation_goes_to_the_hosting_provider(login_as, caseworker, asked, celery_in_process,
                                                    django_capture_on_commit_callbacks):
    case, site, sent = asked
    overdue_by(sent, 1)
    client = login_as(caseworker)
    url = reverse("takedown_escalate", args=[case.reference, sent.pk])
    unknown = client.post(url, {"hosting_domain": ""})
    assert unknown.status_code == 400 and "does not say who hosts Example Forum" in unknown.content.decode()
    no_mail = client.post(url, {"hosting_domain": "https://www.bighost.example.net/"})
    assert no_mail.status_code == 409 and "no abuse mail address for example.net" in no_mail.content.decode()
    described("example.net", name="Big Host", abuse_email="abuse@bighost.example.net")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"hosting_domain": "bighost.example.net"})
    assert response.status_code == 302
    escalation = TakedownRequest.objects.get(kind="escalation")
    assert escalation.site.domain == "example.net" and escalation.follows == sent
    site.refresh_from_db()
    assert site.hosting_provider == escalation.site and site.hosting_provider.kind == "hosting"
    (message,) = mail.outbox
    assert message.to == ["abuse@bighost.example.net"] and message.subject.startswith("Hosting provider:")
    assert "Example Forum (example.org)" in message.body and all(u in message.body for u in FORUM)
    # The directory now knows who hosts the site; the addresses stay filed under the site where they are.
    assert reverse("site_detail", args=[escalation.site.pk]) in client.get(
        reverse("site_detail", args=[site.pk])).content.decode()
    assert set(case.web_addresses.values_list("site__domain", flat=True)) == {"example.org"}


def test_outcomes_are_recorded_per_address_with_their_time(login_as, caseworker, asked):
    case, _site, sent = asked
    one, two, three = case.web_addresses.order_by("url")
    client = login_as(caseworker)
    url = reverse("web_addresses_outcome", args=[case.reference])
    yesterday = timezone.localtime() - timedelta(hours=20)
    refusals = [
        ({"address": [one.pk], "outcome": "refused", "reason": ""}, "Give the site's reason"),
        ({"address": [one.pk], "outcome": "reinstated"}, "Only an address that was removed"),
        ({"address": [one.pk], "outcome": "removed", "at": "2099-01-01T10:00"}, "cannot be in the future"),
        ({"address": [one.pk], "outcome": "removed", "at": "2000-01-01T10:00"}, "before the address was first"),
        ({"address": [one.pk], "outcome": "gone"}, "Outcome: Select a valid choice"),
        ({"address": [], "outcome": "removed"}, "Choose the addresses"),
    ]
    for data, message in refusals:
        response = client.post(url, data)
        assert response.status_code == 400 and message in html.unescape(response.content.decode()), message
    assert not AddressOutcome.objects.exclude(outcome="asked").exists()

    TakedownRequest.objects.filter(pk=sent.pk).update(sent_at=yesterday - timedelta(hours=1))
    Address.objects.filter(requests=sent).update(first_asked_at=yesterday - timedelta(hours=1))
    AddressOutcome.objects.filter(request=sent).update(at=yesterday - timedelta(hours=1))
    assert client.post(url, {"address": [one.pk], "outcome": "removed",
                             "at": yesterday.strftime("%Y-%m-%dT%H:%M")}).status_code == 302
    assert client.post(url, {"address": [two.pk], "outcome": "refused",
                             "reason": "Says it is a lookalike"}).status_code == 302
    assert client.post(url, {"address": [three.pk], "outcome": "no_answer"}).status_code == 302
    assert client.post(url, {"address": [one.pk], "outcome": "reinstated"}).status_code == 302
    one.refresh_from_db()
    assert one.outcome == "reinstated" and one.removed_at is None
    steps = list(AddressOutcome.objects.filter(address=one).values_list("outcome", "request"))
    assert steps == [("asked", sent.pk), ("removed", sent.pk), ("reinstated", sent.pk)]
    removal = AddressOutcome.objects.get(address=one, outcome="removed")
    assert removal.at == yesterday.replace(second=0, microsecond=0) and removal.recorded_by == caseworker
    page = client.get(reverse("case_web_addresses", args=[case.reference])).content.decode()
    assert "Refused" in page and "Says it is a lookalike" in page and "Back up (reinstated)" in page
    detail = client.get(reverse("takedown_request", args=[case.reference, sent.pk])).content.decode()
    assert "Refused (“Says it is a lookalike”)" in detail
