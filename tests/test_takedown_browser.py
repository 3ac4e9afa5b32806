"""A takedown in a real browser: a caseworker pastes 30 lines (some not addresses, some repeats), asks the forum to
remove its addresses by mail (the mail is captured), records what the forum did, and a supervisor's statistics
change with each step (as beat's minute update counts it). axe-core checks every page on the way."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from stats import keeping
from takedowns.models import TakedownRequest
from tests.calls import ensure_checklist, open_case
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.takedown_calls import PASTE, described

pytestmark = pytest.mark.browser
FORUM = [f"http://forum.example.org/thread/{n}" for n in range(1, 8)]


def assert_accessible(page, state):
    assert axe_violations(page) == [], f"axe on {state}"


def url_figure(page, field):
    return page.locator(f"#url-headline [data-field={field}]")


def test_a_takedown_from_pasting_to_the_statistics(browser, live_server, transactional_db, celery_in_process):
    ensure_checklist()
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    sam = make_staff("sam@helpline.test", "supervisor", name="Sam")
    case = open_case(casey)
    described("example.org", name="Example Forum", kind="forum", abuse_email="abuse@forum.example.org")

    stats = signed_in_context(browser, live_server, sam).new_page()
    stats.goto(live_server.url + "/statistics/")
    expect(url_figure(stats, "asked")).to_have_text("0")

    page = signed_in_context(browser, live_server, casey).new_page()
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    expect(page.locator("#takedown-counts")).to_contain_text("No web addresses yet")
    page.get_by_role("link", name="Web addresses and takedown requests").click()
    expect(page.get_by_role("heading", name=re.compile("Web addresses and takedowns"))).to_be_visible()

    # 30 lines: 24 addresses on 4 sites, 3 repeats in other spellings, 3 lines that are not web addresses.
    page.get_by_label("Web addresses, one on each line").fill("\n".join(PASTE))
    page.get_by_role("button", name="Add addresses").click()
    expect(page.locator("#paste-result")).to_contain_text("Added 24 addresses; 3 repeats merged.")
    expect(page.locator("#paste-problems li")).to_have_count(3)
    expect(page.locator("#paste-problems")).to_contain_text("Line 25, “http://192.168.1.20/private.jpg”")
    assert page.get_by_label("Web addresses, one on each line").input_value().splitlines() == [
        "see the pics here!!", "mailto:abuse@forum.example.org", "http://192.168.1.20/private.jpg"]
    expect(page.locator("form.site-addresses")).to_have_count(4)
    assert_accessible(page, "the case's web addresses, after a paste with problems")

    forum = page.locator('form[data-site="example.org"]')
    expect(forum.locator("tbody tr")).to_have_count(7)
    forum.get_by_text("Ask Example Forum to remove the chosen addresses").click()
    forum.get_by_label("Relying on").select_option(label="UK Online Safety Act 2023 (intimate image abuse)")
    forum.get_by_label("How").select_option("mail")
    forum.get_by_role("button", name="Send the request").click()
    expect(page.locator(".messages")).to_contain_text("being sent by mail")
    sent = TakedownRequest.objects.get()
    expect(page.locator(f'[data-request="{sent.reference}"] [data-field=state]')).to_contain_text("Sent")

    (message,) = mail.outbox
    assert message.to == ["abuse@forum.example.org"] and sent.reference in message.subject
    assert all(url in message.body for url in FORUM) and "fotosite" not in message.body
    assert case.reference not in message.body and "Casey" not in message.body

    keeping.update()  # beat's minute: the statistics count what happened since its last run
    stats.reload()
    expect(url_figure(stats, "asked")).to_have_text("7")
    expect(url_figure(stats, "removed")).to_have_text("0")
    expect(url_figure(stats, "requests")).to_have_text("1")

    # The forum took two down: record it for those two.
    for row in forum.locator("tbody tr").all():
        row.get_by_role("checkbox").uncheck()
    for url in FORUM[:2]:
        forum.get_by_role("checkbox", name=f"Choose {url}").check()
    forum.get_by_text("Record what became of the chosen addresses").click()
    forum.get_by_label("Outcome").select_option(label="Removed")
    forum.get_by_role("button", name="Record the outcome").click()
    expect(page.locator(".messages")).to_contain_text("Recorded for 2 addresses.")
    expect(page.locator('form[data-site="example.org"] [data-outcome="removed"]')).to_have_count(2)
    assert_accessible(page, "the case's web addresses, worked")

    keeping.update()
    page.get_by_role("link", name=sent.reference).click()
    expect(page.locator("#mail-body")).to_contain_text(FORUM[0])
    assert_accessible(page, "the request")
    page.get_by_role("link", name="Example Forum").first.click()
    expect(page.locator('#site-record [data-field="removed"]')).to_have_text("2")
    assert_accessible(page, "the site's record")

    stats.reload()
    expect(url_figure(stats, "removed")).to_have_text("2")
    expect(url_figure(stats, "url_removal_rate")).to_have_text("29%")
    expect(stats.locator('#url-sites [data-site="example.org"] [data-field=removal]')).to_have_text("29%")
    assert_accessible(stats, "the statistics")
    page.context.close()
    stats.context.close()
