"""The site directory staff keep: one site per registrable domain, with its kind and how to ask it; a site that
belongs to a partner links to it; each site's record is built from the requests sent to it."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from stats import keeping, reading
from takedowns import actions
from takedowns.models import Address, Site, TakedownRequest
from tests.calls import open_case
from tests.helpers import live_partner
from tests.takedown_calls import described, paste

NEW = {"new-domain": "https://www.Example.co.uk/some/page", "new-name": "Example Tube", "new-kind": "adult",
       "new-abuse_email": "abuse@example.co.uk", "new-web_form_url": "", "new-language": "en", "new-notes": "",
       "new-partner": "", "new-hosting_domain": "bighost.example.net"}


def test_a_site_is_added_under_its_registrable_domain(login_as, caseworker):
    client = login_as(caseworker)
    response = client.post(reverse("site_list"), NEW)
    site = Site.objects.get(domain="example.co.uk")
    assert response.status_code == 302 and response["Location"] == reverse("site_detail", args=[site.pk])
    assert (site.name, site.kind, site.abuse_email) == ("Example Tube", "adult", "abuse@example.co.uk")
    assert site.hosting_provider.domain == "example.net" and site.hosting_provider.name == "example.net"
    assert AuditEvent.objects.filter(action="site.added", target_id=str(site.pk)).exists()

    again = client.post(reverse("site_list"), {**NEW, "new-domain": "EXAMPLE.co.uk"})
    assert again.status_code == 400 and "example.co.uk is in the directory already" in again.content.decode()
    bad = client.post(reverse("site_list"), {**NEW, "new-domain": "not a domain"})
    assert bad.status_code == 400 and "not a website" in html.unescape(bad.content.decode())
    assert Site.objects.count() == 2  # the site and its hosting provider


def test_a_site_is_found_by_name_domain_or_kind(login_as, caseworker):
    for n in range(60):
        Site.objects.create(domain=f"site{n}.example", name=f"Site {n:02d}", kind="forum" if n % 2 else "adult")
    client = login_as(caseworker)
    page = client.get(reverse("site_list"), {"q": "site1", "kind": "forum"}).content.decode()
    assert "6 sites." in page and "Site 11" in page and "Site 10" not in page
    assert "Page 1 of 2" in client.get(reverse("site_list")).content.decode()


def test_the_record_is_built_from_the_requests(login_as, caseworker):
    case = open_case(caseworker)
    paste(case, caseworker, [f"https://forum.example.org/t/{n}" for n in range(1, 7)])
    site = described("example.org", name="Example Forum")
    addresses = list(case.web_addresses.order_by("url"))
    sent = actions.request_takedown(case, site, addresses[:5], method="web_form", basis="site_policy", by=caseworker)
    # The request went three days ago.
    ago = timezone.now() - timedelta(hours=72)
    TakedownRequest.objects.filter(pk=sent.pk).update(sent_at=ago, due_at=ago + timedelta(hours=48))
    Address.objects.filter(requests=sent).update(first_asked_at=ago)
    removed_fast, removed_slow, refused, no_answer, _waiting = Address.objects.filter(requests=sent).order_by("url")
    actions.record_outcome(case, [removed_fast], "removed", at=ago + timedelta(hours=10), by=caseworker)
    actions.record_outcome(case, [removed_slow], "removed", at=ago + timedelta(hours=60), by=caseworker)
    actions.record_outcome(case, [refused], "refused", reason="Not against our rules", by=caseworker)
    actions.record_outcome(case, [no_answer], "no_answer", by=caseworker)

    keeping.rebuild()  # the statistics' rollups (beat updates them every minute)
    record = reading.site_record(site)
    assert {k: record[k] for k in ("requests", "follow_ups", "overdue", "asked", "removed", "refused", "no_answer",
                                   "reinstated", "waiting", "within_48h", "not_asked")} == {
        "requests": 1, "follow_ups": 0, "overdue": 1, "asked": 5, "removed": 2, "refused": 1, "no_answer": 1,
        "reinstated": 0, "waiting": 1, "within_48h": 1, "not_asked": 1}
    assert record["removal_rate"] == 0.4 and record["within_48h_share"] == 0.5
    assert record["to_removal_median"] == timedelta(hours=10) and record["to_removal_p90"] == timedelta(hours=60)

    # A reminder asks again for the two without an answer: they wait again, and the request is followed up.
    actions.remind(sent, method="web_form", by=caseworker)
    keeping.update()
    page = login_as(caseworker).get(reverse("site_detail", args=[site.pk])).content.decode()
    for field, text in (("requests", "1"), ("follow_ups", "1"), ("overdue", "0"), ("removal_rate", "40 %"),
                        ("to_removal", "10 h (2 d 12 h)"), ("within_48h", "50 %"), ("waiting", "2"),
                        ("no_answer", "0")):
        assert f'data-field="{field}">{text}</dd>' in page, field


@pytest.mark.parametrize(("role", "linked"), [("caseworker", False), ("partner_manager", True)])
def test_a_partners_site_links_to_the_partner_for_those_who_see_partners(login_as, personas, role, linked):
    partner = live_partner("photogram")
    site = actions.save_site(None, by=personas["administrator"], domain="photogram.example", name="Photogram",
                             partner=partner, kind=Site.Kind.OTHER)
    assert site.kind == Site.Kind.PARTNER  # a partner's site is a partner platform unless said otherwise
    page = login_as(personas[role]).get(reverse("site_detail", args=[site.pk])).content.decode()
    assert "Photogram" in page
    assert (reverse("partner_detail", args=["photogram"]) in page) is linked


def test_a_site_is_changed_on_its_page(login_as, caseworker):
    site = described("example.org")
    response = login_as(caseworker).post(reverse("site_detail", args=[site.pk]), {
        "domain": "example.org", "name": "Example Forum", "kind": "forum", "abuse_email": "",
        "web_form_url": "https://example.org/report", "language": "de", "notes": "Answers in German only.",
        "partner": "", "hosting_domain": ""})
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.kind, site.abuse_email, site.web_form_url, site.language) == (
        "Example Forum", "forum", "", "https://example.org/report", "de")
    assert AuditEvent.objects.filter(action="site.changed", target_id=str(site.pk)).exists()
