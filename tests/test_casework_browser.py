"""Casework in a real browser: a caseworker works a case from the dashboard to "active", and the timeline
shows each step in order; a colleague opens the same case by its reference, with a reason, and the audit log
holds exactly one event for that view. axe-core checks the dashboard, case list and case page."""

import re

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from tests.calls import ensure_checklist, image, issue_code, open_case, submit, video
from tests.conftest import axe_violations, make_staff, signed_in_context

pytestmark = pytest.mark.browser


def assert_accessible(page, state):
    assert axe_violations(page) == [], f"axe on {state}"


@pytest.fixture
def seeded_case(transactional_db):
    ensure_checklist()
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    case = open_case(casey)
    assert submit(issue_code(case, casey), [image(1), image(2), video(3)]).status_code == 200
    return casey, case


def test_a_caseworker_works_a_case_and_a_colleague_opens_it_by_reference(browser, live_server, seeded_case):
    casey, case = seeded_case
    context = signed_in_context(browser, live_server, casey)
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert_accessible(page, "dashboard")
    expect(page.locator("#waiting")).to_contain_text(case.display_reference)
    page.get_by_role("link", name="My cases").click()
    assert_accessible(page, "case list")
    page.locator("#cases").get_by_role("link", name=case.display_reference).click()
    expect(page.get_by_role("heading", name=f"Case {case.display_reference}")).to_be_visible()
    assert_accessible(page, "case page")
    expect(page.locator("[data-count=image]")).to_have_text("2")

    checklist = page.locator("#checklist")
    checklist.get_by_role("combobox", name=re.compile("Screenshots taken")).select_option("done")
    checklist.get_by_role("textbox", name=re.compile("Note: Screenshots taken")).fill("4 screenshots")
    checklist.get_by_role("combobox", name=re.compile("Police report")).select_option("not_applicable")
    checklist.get_by_role("button", name="Save checklist").click()
    expect(page.locator("#timeline li").last).to_contain_text("Checklist updated")

    page.get_by_label("Service").select_option(label="Police")
    page.get_by_label("Referral status").select_option(label="Made")
    page.get_by_label("Outcome").fill("Crime reference 42/26")
    page.get_by_role("button", name="Save referral").click()
    expect(page.locator("#referrals")).to_contain_text("Police — Made: Crime reference 42/26")

    page.get_by_label("Add a note").fill("Caller is safe; agreed to call back on Friday.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes")).to_contain_text("agreed to call back on Friday")

    page.get_by_role("button", name="Make active").click()
    expect(page.locator("[data-field=status]")).to_have_text("Active")
    assert_accessible(page, "case page, worked")

    kinds = page.locator("#timeline li").evaluate_all("items => items.map(li => li.dataset.kind)")
    assert kinds == ["contact", "opened", "link_sent", "items_added", "status", "checklist", "checklist",
                     "referral", "note", "status"]
    timeline = page.locator("#timeline").inner_text()
    assert timeline.index("Screenshots taken") < timeline.index("Police report made") < timeline.index("Police: made")
    expect(page.locator("#timeline li").last).to_contain_text("now active")

    # A colleague opens it by its reference, says why, and that view is one audit event.
    robin = make_staff("robin@helpline.test", "caseworker", name="Robin")
    other = signed_in_context(browser, live_server, robin).new_page()
    other.goto(live_server.url + "/cases/")
    other.get_by_label("Open a case by its reference").fill(case.display_reference.lower())
    other.get_by_role("button", name="Open", exact=True).click()
    expect(other.get_by_role("heading", name=f"Open case {case.display_reference}")).to_be_visible()
    assert_accessible(other, "reason to open")
    other.get_by_label("Covering for a colleague").check()
    with other.expect_response(lambda response: response.url.endswith("/live.json")) as poll:
        other.get_by_role("button", name="Open the case").click()
        expect(other.get_by_text("You opened this case by its reference")).to_be_visible()
    assert poll.value.ok  # the live view has polled (not a fixed wait that may see no poll): polls are not views
    views = AuditEvent.objects.filter(action="case.viewed", actor=robin)
    assert views.count() == 1 and views.get().details == {"reason": "covering"}
    context.close()
    other.context.close()
