"""The supervisors' statistics page: the scenario of tests/test_stats.py, read back through the dashboard (in a
real browser: the drawn bars' values and their data table, the headline's rates with the counts they rest on,
axe-core), the CSV exports with small numbers suppressed, who may see it, and the printable monthly report (the
window's latest month, a month picker, previous and next, printed without navigation)."""

import csv
import io

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from audit.models import AuditEvent
from cases.models import Case
from stats import keeping
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.stats_scenario import beta_removes, scenario

MARCH = {"first": "2026-03-01", "last": "2026-03-31", "bucket": "week"}


@pytest.fixture
def supervisor_with_scenario(transactional_db):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    scenario(caseworker)
    keeping.rebuild()
    return make_staff("sam@helpline.test", "supervisor")


def laptop_page(browser, live_server, user):
    """A signed-in page at 1280×800, where a supervisor reads the statistics."""
    return signed_in_context(browser, live_server, user, viewport={"width": 1280, "height": 800}).new_page()


@pytest.mark.browser
def test_the_dashboard_draws_the_scenarios_numbers(browser, live_server, supervisor_with_scenario):
    page = laptop_page(browser, live_server, supervisor_with_scenario)
    page.goto(live_server.url + reverse("stats_dashboard"))
    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).fill("2026-03-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**first=2026-03-01**")
    # ISO weeks of March 2026: W09 (1 March) to W14; the scenario happens in W13 (28-29 March) and W14 (30).
    bars = {chart: {bar.get_attribute("data-bucket"): int(bar.get_attribute("data-value"))
                    for bar in page.locator(f'figure[data-number="{chart}"] rect').all()}
            for chart in ("shared", "matched", "actioned")}
    assert bars["shared"] == {"2026-W09": 0, "2026-W10": 0, "2026-W11": 0, "2026-W12": 0, "2026-W13": 24,
                              "2026-W14": 0}
    assert bars["matched"]["2026-W13"] == 3 and bars["matched"]["2026-W14"] == 2
    assert bars["actioned"]["2026-W13"] == 1 and bars["actioned"]["2026-W14"] == 3
    row = page.locator('#series tr[data-bucket="2026-W14"]')
    assert [row.locator(f'td[data-number="{n}"]').inner_text() for n in ("shared", "matched", "reviewed",
                                                                          "actioned")] == ["0", "2", "3", "3"]
    # Each headline rate with the count it rests on: 4 reviewed; 4 actioned after sharing, 3 of them within 48 h.
    assert page.locator('[data-field="removal_rate"]').inner_text() == "100% of 4 reviewed"
    assert page.locator('[data-field="within_48h"]').inner_text() == "75% of 4 actioned after sharing"
    assert page.locator('[data-field="to_action"]').inner_text() == "1 d 1 h (2 d 6 h)"
    assert page.locator('#partners tr[data-partner="Alpha"] [data-field="within"]').inner_text() == "50%"
    assert axe_violations(page) == []


def test_exports_suppress_small_numbers(supervisor_with_scenario, login_as):
    client = login_as(supervisor_with_scenario)
    response = client.get(reverse("stats_export", args=["partners"]), MARCH)
    assert response["Content-Type"].startswith("text/csv")
    rows = {row[0]: row for row in csv.reader(io.StringIO(response.content.decode()))}
    # Shared 10, matched 3, reviewed 2, actioned 2: Alpha's 10 shared goes with Gamma's 4, which the "all" row
    # would otherwise give back (24 - 10 - 10); a rate over two reviews would single out cases.
    assert rows["Alpha"][1:6] == ["suppressed", "<5", "<5", "<5", "suppressed"]
    assert rows["Gamma"][1] == "<5" and rows["Beta"][1] == "10"
    assert rows["all"][1:5] == ["24", "5", "<5", "<5"]
    series = list(csv.reader(io.StringIO(client.get(reverse("stats_export", args=["series"]), MARCH)
                                         .content.decode())))
    assert ["2026-W13", "24", "<5", "<5", "<5"] in series
    assert client.get(reverse("stats_export", args=["nothing"]), MARCH).status_code == 404


def test_only_supervisors_and_administrators_see_statistics(supervisor_with_scenario, login_as):
    partner_manager = make_staff("pat@helpline.test", "partner_manager")
    assert login_as(partner_manager).get(reverse("stats_export", args=["partners"])).status_code == 403
    bad = login_as(supervisor_with_scenario).get(reverse("stats_dashboard"), {"first": "2026-04-01",
                                                                                 "last": "2026-03-01"})
    assert bad.status_code == 400 and "ends before it starts" in bad.content.decode()


def test_a_period_to_the_last_day_there_is_is_refused_not_a_crash(supervisor_with_scenario, login_as):
    client = login_as(supervisor_with_scenario)
    far = {"first": "9999-01-01", "last": "9999-12-31", "bucket": "week"}  # the day after cannot be written
    page = client.get(reverse("stats_dashboard"), far)
    assert page.status_code == 400 and "up to the year 2100" in page.content.decode()
    assert client.get(reverse("stats_export", args=["partners"]), far).status_code == 200  # the default period


def test_a_supervisor_drills_down_to_the_cases_and_it_is_audited(supervisor_with_scenario, login_as):
    client = login_as(supervisor_with_scenario)
    page = client.get(reverse("stats_drill_down", args=["alpha", "actioned"]), MARCH).content.decode()
    # Alpha actioned photos 1 and 3: the first two cases hold them (photo 1 is in both).
    expected = Case.objects.order_by("created")[:2]
    assert all(case.display_reference in page for case in expected)
    assert Case.objects.order_by("created")[2].display_reference not in page
    event = AuditEvent.objects.get(action="stats.drill_down")
    assert event.details == {"number": "actioned", "first": "2026-03-01", "last": "2026-03-31", "cases": 2}
    administrator = make_staff("ada@helpline.test", "administrator")
    assert login_as(administrator).get(reverse("stats_drill_down", args=["alpha", "actioned"])).status_code == 403


def test_the_monthly_report_suppresses_small_numbers(supervisor_with_scenario, login_as):
    page = login_as(supervisor_with_scenario).get(reverse("stats_monthly_report", args=[2026, 3])).content.decode()
    alpha = page[page.index('<th scope="row">Alpha</th>'):].split("</tr>")[0]
    assert "<td>suppressed</td><td>&lt;5</td><td>&lt;5</td><td>&lt;5</td><td>suppressed</td>" in alpha


# --- The printable monthly report ------------------------------------------------------------------------------

@pytest.mark.browser
def test_the_report_opens_the_windows_latest_month_and_moves_by_month(browser, live_server,
                                                                       supervisor_with_scenario):
    page = laptop_page(browser, live_server, supervisor_with_scenario)
    page.goto(live_server.url + reverse("stats_dashboard") + "?first=2026-01-15&last=2026-03-31&bucket=week")
    page.get_by_role("link", name="Printable report for March 2026").click()
    page.wait_for_url("**/statistics/report/2026-03/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly report: March 2026")
    page.get_by_role("link", name="Previous month: February 2026").click()
    page.wait_for_url("**/statistics/report/2026-02/")
    page.get_by_role("link", name="Next month: March 2026").click()
    page.wait_for_url("**/statistics/report/2026-03/")
    page.get_by_label("Month", exact=True).fill("2025-11")
    page.get_by_role("button", name="Open").click()
    page.wait_for_url("**/statistics/report/2025-11/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly report: November 2025")
    assert axe_violations(page) == []


def test_the_report_picker_refuses_a_month_it_cannot_read(supervisor_with_scenario, login_as):
    client = login_as(supervisor_with_scenario)
    assert client.get(reverse("stats_monthly_report_pick"), {"month": "2026-03"})["Location"] == reverse(
        "stats_monthly_report", args=[2026, 3])
    for month in ("March", "2026-13", "1999-12", "2026-03-01", "2026-3x", ""):
        response = client.get(reverse("stats_monthly_report_pick"), {"month": month})
        assert response.status_code == 400 and "Choose a month" in response.content.decode(), month


@pytest.mark.browser
def test_the_reports_headline_rests_on_its_counts_and_prints_without_navigation(browser, live_server,
                                                                                 supervisor_with_scenario):
    page = laptop_page(browser, live_server, supervisor_with_scenario)
    march = live_server.url + reverse("stats_monthly_report", args=[2026, 3])
    page.goto(march)
    # The scenario's March: 4 reviewed, "<5" in the report: the rates are withheld, and no "of 4" gives it away.
    headline = page.locator("#report-headline")
    expect(headline.locator('[data-field="removal_rate"]')).to_have_text("suppressed")
    expect(headline.locator('[data-field="within_48h"]')).to_have_text("suppressed")
    assert " of " not in " ".join(headline.locator("dd").all_inner_texts())
    # Beta removes five more 16 hours after it was given them: 9 reviewed and actioned, all after sharing, 8 of
    # them within 48 hours. "89% of 9" would give back the one later action (Alpha's, at 48 h 01 min).
    beta_removes(0, 5, "2026-03-29T10:00")
    keeping.rebuild()
    page.goto(march)
    expect(headline.locator('[data-field="removal_rate"]')).to_have_text("100% of 9 reviewed")
    expect(headline.locator('[data-field="within_48h"]')).to_have_text("suppressed")
    # And four more after 66 hours: 13 actioned after sharing, 8 within 48 hours and 5 later.
    beta_removes(5, 9, "2026-03-31T12:00")
    keeping.rebuild()
    page.goto(march)
    expect(headline.locator('[data-field="removal_rate"]')).to_have_text("100% of 13 reviewed")
    expect(headline.locator('[data-field="within_48h"]')).to_have_text("62% of 13 actioned after sharing")
    assert axe_violations(page) == []
    navigation = page.locator("nav")
    assert navigation.count() == 2  # the portal's, the report's months
    expect(page.get_by_label("Month", exact=True)).to_be_visible()
    page.emulate_media(media="print")
    for index in range(navigation.count()):
        expect(navigation.nth(index)).to_be_hidden()
    expect(page.get_by_label("Month", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(headline).to_be_visible()
    expect(page.locator("#report-partners")).to_be_visible()
