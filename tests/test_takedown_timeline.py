"""Takedown steps on the case's timeline: a request, reminder or escalation sent (by the caseworker through a web
form, or by the worker by mail), a mail that could not be sent, an outcome recorded. Takedowns tell cases through
one cases action (cases.actions.note_takedown_step); the timeline names the request and the site, never an
address."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from cases import actions as case_actions
from cases.models import CaseEvent
from takedowns import actions
from takedowns.models import TakedownRequest
from tests.calls import open_case
from tests.takedown_calls import described, paste

FORUM = [f"http://forum.example.org/thread/{n}" for n in range(1, 5)]


def steps(case):
    return [(e.details["step"], e.who, e.summary()) for e in case.events.filter(kind=CaseEvent.Kind.TAKEDOWN)]


def test_each_step_of_a_takedown_goes_on_the_timeline(login_as, caseworker, settings):
    case = open_case(caseworker)
    paste(case, caseworker, FORUM)
    host = described("bighost.example", name="Big Host")
    site = described("example.org", name="Example Forum", abuse_email="abuse@forum.example.org",
                     hosting_provider=host)
    first, second, third, fourth = case.web_addresses.order_by("url")

    by_form = actions.request_takedown(case, site, [first, second], method="web_form", basis="site_policy",
                                       by=caseworker)
    by_mail = actions.request_takedown(case, site, [third, fourth], method="mail", basis="uk_osa", by=caseworker)
    assert len(steps(case)) == 1  # the mail is not sent yet: queued is not a step
    actions.deliver(by_mail.pk)
    removed_at = timezone.now() - timedelta(hours=3)
    actions.record_outcome(case, [first], "removed", at=removed_at, by=caseworker)
    actions.record_outcome(case, [third], "refused", reason="Not against our rules", by=caseworker)
    actions.remind(by_form, method="web_form", by=caseworker)
    escalation = actions.escalate(by_mail, by=caseworker)
    settings.EMAIL_BACKEND = "tests.test_takedown_requests.RefusingBackend"
    settings.TAKEDOWN_MAIL_RETRY_SCHEDULE = []
    actions.deliver(escalation.pk)

    ref = by_form.reference
    assert steps(case) == [
        ("sent", "Casey", f"Request {ref} to Example Forum sent through the site's web form (2 addresses)"),
        ("sent", "system", f"Request {by_mail.reference} to Example Forum sent by mail (2 addresses)"),
        ("outcome", "Casey", "1 address recorded as removed (dated "
         f"{date_format(timezone.localtime(removed_at), 'DATETIME_FORMAT')})"),
        ("outcome", "Casey", "1 address recorded as refused"),
        ("sent", "Casey", f"Reminder {TakedownRequest.objects.get(kind='reminder').reference} "
         "to Example Forum sent through the site's web form (1 address)"),
        ("failed", "system", f"Escalation to the hosting provider {escalation.reference} to Big Host could not be "
         "sent by mail (1 address)"),
    ]
    page = login_as(caseworker).get(reverse("case_detail", args=[case.reference])).content.decode()
    timeline = page.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count('data-kind="takedown"') == 6 and "sent by mail (2 addresses)" in timeline
    assert "forum.example.org" not in timeline and "thread" not in timeline  # never an address


def test_only_a_takedown_step_goes_through_the_action(caseworker):
    case = open_case(caseworker)
    with pytest.raises(ValueError, match="not a takedown step"):
        case_actions.note_takedown_step(case, "url", addresses=1)
