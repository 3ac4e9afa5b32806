"""The takedown numbers of docs/statistics.md ("Web addresses") on a hand-built scenario with the expected numbers
written out: URL removal rate overall and per site, time to removal, share removed within 48 hours, requests
sent and overdue; on the dashboard, in the CSV and the monthly report with small numbers suppressed. The pages
read rollups (stats.keeping, stats.reading): they equal the reference computed from the records
(tests/stats_reference.py), and the minute's updates equal a rebuild."""

import csv
import io
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from core.periods import Period
from stats import keeping, reading
from takedowns.models import Address, AddressOutcome, Site, TakedownRequest
from tests import stats_reference as reference
from tests.calls import open_case
from tests.takedown_calls import described, paste

ZONE = ZoneInfo("Europe/London")
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
H = timedelta(hours=1)


def asked(case, site, count, at, *, by, outcomes=(), tag=""):
    """`count` addresses on `site`, first asked for at `at` by one request; `outcomes` gives the first ones'
    (outcome, hours after the request)."""
    urls = [f"https://{tag or 'www'}.{site.domain}/{at:%m%d%H}/{n}" for n in range(count)]
    paste(case, by, urls)
    addresses = list(case.web_addresses.filter(url__in=urls).order_by("url"))
    request = TakedownRequest.objects.create(case=case, site=site, method="web_form", basis="site_policy",
                                             state="sent", sent_at=at, due_at=at + 48 * H)
    request.addresses.set(addresses)
    Address.objects.filter(pk__in=[a.pk for a in addresses]).update(first_asked_at=at, outcome="asked", outcome_at=at)
    for address, (outcome, hours) in zip(addresses, outcomes, strict=False):
        when = at + hours * H
        Address.objects.filter(pk=address.pk).update(outcome=outcome, outcome_at=when,
                                                     removed_at=when if outcome == "removed" else None)
        AddressOutcome.objects.create(address=address, request=request, outcome=outcome, at=when)
    return request


@pytest.fixture
def scenario(caseworker):
    """March 2026 (Europe/London):
    - Tube (adult site): 10 addresses asked for on 2 March: 6 removed (after 2, 10, 20, 30, 47 and 60 hours), 1
      refused, 1 back up after a removal, 2 still waiting; and 3 asked for on 31 March at 23:30 (in March),
      none answered.
    - Forum (forum): 5 asked for on 10 March: 1 removed after 100 hours, 2 no answer, 2 waiting.
    - Outside March: 4 Tube addresses asked for on 28 February, all removed; 2 Forum addresses on 1 April 00:30.
    A request to Forum of 10 March is overdue now; everything else was answered in part or is not due."""
    case = open_case(caseworker)
    tube = described("tube.example", name="Tube", kind=Site.Kind.ADULT)
    forum = described("forum.example", name="Forum", kind=Site.Kind.FORUM)
    march2 = datetime(2026, 3, 2, 9, tzinfo=ZONE)
    asked(case, tube, 10, march2, by=caseworker, outcomes=[
        ("removed", 2), ("removed", 10), ("removed", 20), ("removed", 30), ("removed", 47), ("removed", 60),
        ("refused", 5), ("reinstated", 50)])
    late = asked(case, tube, 3, datetime(2026, 3, 31, 23, 30, tzinfo=ZONE), by=caseworker, tag="late")
    overdue = asked(case, forum, 5, datetime(2026, 3, 10, 12, tzinfo=ZONE), by=caseworker, outcomes=[
        ("removed", 100), ("no_answer", 72), ("no_answer", 80)])
    asked(case, tube, 4, datetime(2026, 2, 28, 12, tzinfo=ZONE), by=caseworker, outcomes=[("removed", 1)] * 4,
          tag="feb")
    asked(case, forum, 2, datetime(2026, 4, 1, 0, 30, tzinfo=ZONE), by=caseworker, tag="april")
    # Only the Forum request of 10 March is overdue now: the others are answered or followed up.
    TakedownRequest.objects.exclude(pk=overdue.pk).exclude(pk=late.pk).update(due_at=datetime(2099, 1, 1,
                                                                                             tzinfo=ZONE))
    TakedownRequest.objects.filter(pk=late.pk).update(followed_up_at=datetime(2026, 4, 5, tzinfo=ZONE))
    keeping.rebuild()
    return tube, forum


def test_a_periods_figures_per_site_and_overall(scenario):
    tube, forum = scenario
    found = reading.address_figures(MARCH)
    expected = {
        tube.pk: {"asked": 13, "removed": 6, "refused": 1, "no_answer": 0, "reinstated": 1, "waiting": 5,
                  "within_48h": 5, "requests": 2, "overdue": 0},
        forum.pk: {"asked": 5, "removed": 1, "refused": 0, "no_answer": 2, "reinstated": 0, "waiting": 2,
                   "within_48h": 0, "requests": 1, "overdue": 1},
        "all": {"asked": 18, "removed": 7, "refused": 1, "no_answer": 2, "reinstated": 1, "waiting": 7,
                "within_48h": 5, "requests": 3, "overdue": 1},
    }
    table = {**found["sites"], "all": found["all"]}
    assert {key: {k: row[k] for k in expected["all"]} for key, row in table.items()} == expected
    assert table[tube.pk]["removal_rate"] == 6 / 13 and table["all"]["removal_rate"] == 7 / 18
    # Nearest rank over the removed, as its bin's upper edge (stats.bins): Tube 2, 10, 20, 30, 47, 60 hours (all
    # edges); with Forum's 100 hours (in the bin up to 102 hours) for all.
    assert table[tube.pk]["to_removal_median"] == 20 * H and table[tube.pk]["to_removal_p90"] == 60 * H
    assert table["all"]["to_removal_median"] == 30 * H and table["all"]["to_removal_p90"] == 102 * H
    assert table[tube.pk]["within_48h_share"] == 5 / 6 and table[forum.pk]["within_48h_share"] == 0
    kinds = found["kinds"]
    assert (kinds["adult"]["asked"], kinds["adult"]["to_removal_median"]) == (13, 20 * H)
    assert (kinds["forum"]["removed"], kinds["forum"]["overdue"], kinds["forum"]["to_removal_p90"]) == (1, 1, 102 * H)
    # Only the sites asked for (the dashboard's top sites), with their times; the rest stay the same.
    top = reading.address_figures(MARCH, top=1)
    assert list(top["sites"]) == [tube.pk] and top["sites"][tube.pk] == found["sites"][tube.pk]
    assert top["all"] == found["all"] and top["kinds"] == found["kinds"] and top["site_count"] == 2


def test_the_dashboard_shows_the_url_figures(login_as, supervisor, scenario):
    page = login_as(supervisor).get(reverse("stats_dashboard"), {"first": "2026-03-01", "last": "2026-03-31",
                                                                 "bucket": "week"}).content.decode()
    section = page.split('id="web-addresses"', 1)[1]
    for field, text in (("asked", "18"), ("removed", "7"), ("url_removal_rate", "39%"),
                        ("to_removal", "1 d 6 h (4 d 6 h)"), ("url_within_48h", "71%"), ("requests", "3"),
                        ("overdue", "1")):
        assert f'data-field="{field}">{text}</dd>' in section, field
    assert '<tr data-site="tube.example">' in section and 'data-field="removal">46%' in section
    assert "https://" not in section


def test_the_csv_suppresses_small_numbers_and_names_no_address(login_as, supervisor, scenario):
    response = login_as(supervisor).get(reverse("stats_export", args=["web-addresses"]),
                                        {"first": "2026-03-01", "last": "2026-03-31", "bucket": "week"})
    assert response.status_code == 200 and "https://" not in response.content.decode()
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, *body = rows
    assert header[:5] == ["site", "domain", "kind", "addresses asked for", "removed"]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert list(table) == ["Forum", "Tube", "all sites"]
    assert table["Tube"]["addresses asked for"] == "13" and table["all sites"]["addresses asked for"] == "18"
    # Forum's one removal is small; Tube's six would give it back (all minus Tube), so they are hidden too.
    assert table["Forum"]["removed"] == "<5" and table["Tube"]["removed"] == "suppressed"
    assert table["all sites"]["removed"] == "7" and table["all sites"]["removal rate"] == "39%"
    counts = header[3:11]
    for row in table.values():  # no count from 1 to 4 shows
        assert not any(row[c] in {"1", "2", "3", "4"} for c in counts), row
    # No sum in the file has a single hidden count: Forum's removed (<5) is not all minus Tube, nor Forum's
    # asked minus its other outcomes.
    hidden = {(name, c) for name, row in table.items() for c in counts if row[c] in ("<5", "suppressed")}
    for c in counts:
        assert len({n for n in table if (n, c) in hidden}) != 1, c
    for name in table:
        parts = [(name, c) for c in ("addresses asked for", "removed", "refused", "no answer", "back up",
                                     "still waiting")]
        assert sum(p in hidden for p in parts) != 1, name
    assert table["Forum"]["removal rate"] == "suppressed" and table["Forum"]["median time to removal"] == "suppressed"
    assert table["Tube"]["removal rate"] == "suppressed"  # removed × asked for would give the hidden count back


def test_the_monthly_report_has_the_url_figures_by_kind(login_as, supervisor, scenario):
    page = login_as(supervisor).get(reverse("stats_monthly_report", args=[2026, 3])).content.decode()
    table = page.split('id="report-web-addresses"', 1)[1].split("</table>", 1)[0]
    assert "Adult site" in table and "Forum" in table and "All sites" in table
    assert "<td>13</td>" in table and "<td>18</td>" in table and "tube.example" not in table


# --- Rollups: the same numbers, kept incrementally -------------------------------------------------------------

def without_kind(found):
    assert found["site_count"] == len(found["sites"])
    return {"all": found["all"], "kinds": found["kinds"],
            "sites": {key: {k: v for k, v in row.items() if k != "kind"} for key, row in found["sites"].items()}}


def test_the_rollups_give_the_reference_numbers(scenario):
    for first, last in [(date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 3, 2), date(2026, 3, 2)),
                        (date(2026, 3, 31), date(2026, 4, 1)), (date(2026, 2, 1), date(2026, 4, 30)),
                        (date(2026, 5, 1), date(2026, 5, 31))]:
        period = Period(first, last)
        assert without_kind(reading.address_figures(period)) == reference.address_figures(period), (first, last)
    assert reading.address_figures(MARCH)["all"]["asked"] == 18


def rollup_rows():
    from stats.models import RemovalHistogram, SiteDay, SiteMonth, SiteOverdue

    return ({tuple(row) for row in SiteDay.objects.values_list("site_id", "day", *SiteDay.COUNTS)},
            set(RemovalHistogram.objects.values_list("site_id", "day", "bin", "count")),
            {tuple(row) for row in SiteMonth.objects.values_list("site_id", "day", *SiteMonth.COUNTS)},
            set(SiteOverdue.objects.values_list("site_id", "requests")))


def test_rebuild_equals_incremental_on_a_randomised_scenario(caseworker, mailoutbox):
    """Casework as it happens, through the actions: addresses pasted on several sites, requests by web form and
    by mail (sent by the worker's action), outcomes recorded (some dated back, some changed later: back up after
    a removal), reminders and escalations. Updated after each step, the rollups equal a rebuild and the
    reference, and each site's record agrees."""
    from takedowns import actions

    rng = random.Random(18)
    sites = [described(f"site{n}.example", name=f"Site {n}", kind=kind)
             for n, kind in enumerate(["adult", "forum", "forum", "file_host"])]
    host = described("host.example", name="Host", kind=Site.Kind.HOSTING)
    Site.objects.filter(pk__in=[s.pk for s in sites[:2]]).update(hosting_provider=host)
    keeping.update()  # the first run: from scratch, nothing yet
    cases = []
    for step in range(8):
        case = open_case(caseworker)
        cases.append(case)
        for site in rng.sample(sites, 2):
            paste(case, caseworker, [f"https://www.{site.domain}/{step}/{n}" for n in range(rng.randint(1, 4))])
        for site in sites:
            addresses = list(case.web_addresses.filter(site=site))
            if addresses and rng.random() < 0.8:
                method = rng.choice(["web_form", "mail"])
                sent = actions.request_takedown(case, site, addresses, method=method, basis="site_policy",
                                                by=caseworker)
                if method == "mail":
                    actions.deliver(sent.pk)
        for case in rng.sample(cases, min(3, len(cases))):
            waiting = list(case.web_addresses.filter(outcome__in=["asked", "no_answer", "removed"]))
            if not waiting:
                continue
            chosen = rng.sample(waiting, rng.randint(1, len(waiting)))
            if all(a.outcome == "removed" for a in chosen):
                outcome = "reinstated"
            else:
                chosen = [a for a in chosen if a.outcome != "removed"]
                outcome = rng.choice(["removed", "removed", "refused", "no_answer"])
            first = max(a.first_asked_at for a in chosen)
            at = first + (timezone.now() - first) * rng.random() if outcome != "reinstated" else None
            actions.record_outcome(case, chosen, outcome, reason="Not our rules", at=at, by=caseworker)
        for request in TakedownRequest.objects.filter(state="sent", followed_up_at=None).order_by("?")[:1]:
            if actions.still_waiting(request).exists():
                if request.site.hosting_provider_id:
                    actions.escalate(request, by=caseworker)
                else:
                    actions.remind(request, method="web_form", by=caseworker)
                for queued in TakedownRequest.objects.filter(state="queued"):
                    actions.deliver(queued.pk)
        keeping.update(reach=timedelta(0))  # no overlap: only what each step did is recounted
    incremental = rollup_rows()
    keeping.rebuild()
    assert rollup_rows() == incremental
    assert len(incremental[0]) >= 4 and incremental[1] and len(incremental[2]) >= 4
    today = Period(timezone.localdate() - timedelta(days=1), timezone.localdate())
    found = reading.address_figures(today)
    assert without_kind(found) == reference.address_figures(today)
    assert found["all"]["asked"] > 10 and found["all"]["removed"] > 0 and found["all"]["requests"] > 8
    for site in [*sites, host]:
        record = reading.site_record(site)
        row = reference.address_figures(today)["sites"].get(site.pk)
        if row is None:  # never asked (a host no escalation reached)
            assert record["asked"] == record["requests"] == record["follow_ups"] == 0, site
            continue
        assert {k: record[k] for k in ("asked", "removed", "refused", "no_answer", "reinstated", "waiting",
                                       "within_48h", "overdue", "to_removal_median", "to_removal_p90")} == {
            k: row[k] for k in ("asked", "removed", "refused", "no_answer", "reinstated", "waiting", "within_48h",
                                "overdue", "to_removal_median", "to_removal_p90")}
        assert record["requests"] + record["follow_ups"] == row["requests"]
        assert record["follow_ups"] == site.requests.filter(state="sent").exclude(kind="request").count()
