"""The supervisors' statistics page: the scenario of tests/test_stats.py, read back through the dashboard (in a
real browser: the drawn bars' values and their data table, axe-core), the CSV exports with small numbers
suppressed, and who may see it."""

import csv
import io

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from cases.models import Case
from stats import keeping
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.stats_scenario import scenario

MARCH = {"first": "2026-03-01", "last": "2026-03-31", "bucket": "week"}


@pytest.fixture
def supervisor_with_scenario(transactional_db):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    scenario(caseworker)
    keeping.rebuild()
    return make_staff("sam@helpline.test", "supervisor")


@pytest.mark.browser
def test_the_dashboard_draws_the_scenarios_numbers(browser, live_server, supervisor_with_scenario):
    page = signed_in_context(browser, live_server, supervisor_with_scenario).new_page()
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
    assert page.locator('[data-field="removal_rate"]').inner_text() == "100%"
    assert page.locator('[data-field="within_48h"]').inner_text() == "75%"
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
