"""Web addresses are as sensitive as the images (design rule 11): staff case screens only (the caller's page and
the statistics get counts), their own retention class, cleared with the case's data, never in a log line."""

import logging
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from cases import actions as case_actions
from cases.models import Case
from core.errors import Refusal
from ncii_portal import retention
from stats import keeping, reading
from takedowns import actions, checks, tasks
from takedowns.models import Address, AddressOutcome, TakedownRequest
from tests.calls import image, issue_code, open_case, submit
from tests.takedown_calls import PASTE, described, paste


def worked_case(caseworker, n):
    """A case with two addresses asked for (one refused, with a reason) and a statement in the request."""
    case = open_case(caseworker)
    paste(case, caseworker, [f"https://forum.example.org/case{n}/a", f"https://forum.example.org/case{n}/b"])
    sent = actions.request_takedown(case, described("example.org"), case.web_addresses.all(), method="web_form",
                                    basis="site_policy", statement=f"Statement {n}", by=caseworker)
    first, second = case.web_addresses.order_by("url")
    actions.record_outcome(case, [first], "removed", by=caseworker)
    actions.record_outcome(case, [second], "refused", reason=f"Reason {n}", by=caseworker)
    return case, sent


def ended(case, days, status):
    when = timezone.now() - timedelta(days=days)
    Case.objects.filter(pk=case.pk).update(status=status, ended_at=when,
                                           withdrawn_at=when if status == Case.Status.WITHDRAWN else None)


def test_retention_clears_the_addresses_with_the_cases_data_and_keeps_the_counts(login_as, caseworker, settings):
    closed_long_ago, old_request = worked_case(caseworker, 1)
    withdrawn, _ = worked_case(caseworker, 2)
    closed_lately, _ = worked_case(caseworker, 3)
    current, _ = worked_case(caseworker, 4)
    ended(closed_long_ago, settings.RETENTION_WEB_ADDRESSES_DAYS + 1, Case.Status.CLOSED)
    ended(withdrawn, settings.RETENTION_WITHDRAWN_DAYS + 1, Case.Status.WITHDRAWN)  # sooner, with its items
    ended(closed_lately, settings.RETENTION_WEB_ADDRESSES_DAYS - 1, Case.Status.CLOSED)
    site = described("example.org")
    keeping.rebuild()
    before = reading.site_record(site)

    assert retention.apply()["web_addresses"] == 4
    for case in (closed_long_ago, withdrawn):
        assert set(Address.objects.filter(case=case).values_list("url", flat=True)) == {""}
        assert not AddressOutcome.objects.filter(address__case=case).exclude(reason="").exists()
        assert TakedownRequest.objects.get(case=case).statement == ""
    for case in (closed_lately, current):
        assert Address.objects.filter(case=case).exclude(url="").count() == 2
        assert TakedownRequest.objects.get(case=case).statement != ""
    # What stays is counts: the site's record is unchanged, and the case's screens show nothing of them.
    keeping.update()
    assert reading.site_record(site) == before
    keeping.rebuild()  # retention leaves the records the rollups count: a rebuild counts them still
    assert reading.site_record(site) == before and before["asked"] == 8
    Case.objects.filter(pk=closed_long_ago.pk).update(status=Case.Status.OPEN, ended_at=None)  # reopened
    client = login_as(caseworker)
    page = client.get(reverse("case_web_addresses", args=[closed_long_ago.reference])).content.decode()
    assert "No web addresses on this case yet." in page and "case1" not in page
    assert "None left (retention cleared them)" in client.get(
        reverse("takedown_request", args=[closed_long_ago.reference, old_request.pk])).content.decode()
    # The same address can be added again, and nothing is cleared twice.
    paste(closed_long_ago, caseworker, ["https://forum.example.org/case1/a"])
    assert retention.apply()["web_addresses"] == 0


def test_the_callers_page_shows_counts_and_nothing_that_names_a_site(caseworker):
    case = open_case(caseworker)
    reply = submit(issue_code(case, caseworker), [image(1)])
    paste(case, caseworker)
    site = described("example.org", name="Example Forum")
    actions.request_takedown(case, site, case.web_addresses.filter(site=site), method="web_form",
                             basis="site_policy", by=caseworker)
    actions.record_outcome(case, case.web_addresses.filter(site=site)[:5], "removed", by=caseworker)
    client = Client()
    client.post(reverse("caller:status"), {"reference": case.reference, "pin": reply.json()["pin"]})
    page = client.get(reverse("caller:case")).content.decode()
    assert 'data-field="addresses">24<' in page and 'data-field="asked">7<' in page
    assert 'data-field="removed">5<' in page
    for named in ("example", "Example Forum", "forum", "fotosite", "http"):
        assert named not in page.split("<main", 1)[1].split("</main>", 1)[0], named
    with translation.override("es"):
        spanish = render_to_string("takedowns/caller_counts.html", {"counts": {"found": 3, "asked": 2, "removed": 1}})
    assert "Direcciones web que conocemos" in spanish and "Retiradas" in spanish


def test_no_address_reaches_a_log_line(login_as, caseworker, caplog, settings, celery_in_process,
                                       django_capture_on_commit_callbacks, web_pages):
    """The whole of a takedown at DEBUG: pasting (bad lines too), a mail that fails then goes, outcomes, the
    check asking a real server; no log record may hold an address or a site's reason."""
    caplog.set_level(logging.DEBUG)
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.EMAIL_BACKEND = "tests.test_takedown_requests.RefusingBackend"
    case = open_case(caseworker)
    client = login_as(caseworker)
    client.post(reverse("web_addresses_add", args=[case.reference]), {"addresses": "\n".join(PASTE)})
    site = described("example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("takedown_request_new", args=[case.reference]), {
            "site": site.pk, "address": list(case.web_addresses.filter(site=site).values_list("pk", flat=True)),
            "method": "mail", "basis": "copyright"})
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    TakedownRequest.objects.update(next_attempt_at=timezone.now())
    tasks.send_due()
    assert TakedownRequest.objects.get().state == "sent"
    client.post(reverse("web_addresses_outcome", args=[case.reference]), {
        "address": [case.web_addresses.filter(site=site).first().pk], "outcome": "refused",
        "reason": "Secret reason"})
    server = web_pages(statuses={"/thread/gone.jpg": 404})
    # The paste refuses local addresses; the check is what is under test here.
    Address.objects.filter(pk=Address.objects.filter(site=site).last().pk).update(
        url=f"{server.url}/thread/gone.jpg")
    checks.check_due()
    assert Address.objects.filter(check_status=404).exists()

    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "takedown request" in logged and "takedown check: " in logged  # the logs were captured
    for secret in ("example.co.uk", "example.org", "example.net", "fotosite", "/thread/", "/album/", "gone.jpg",
                   "192.168.1.20", "see the pics", "Secret reason"):
        assert secret not in logged, secret


def test_withdrawing_a_case_stops_new_requests(caseworker):
    case, _ = worked_case(caseworker, 5)
    case_actions.move_case(case, "withdraw", by=caseworker, reason="caller_asked")
    with pytest.raises(Refusal, match="withdrawn"):
        actions.request_takedown(case, described("example.org"), case.web_addresses.exclude(outcome="removed"),
                                 method="web_form", basis="site_policy", by=caseworker)
