"""Onboarding a partner in a real browser (1280×800): the move buttons read as words; "Go live" checks what the
records show (sandbox reports, a contact, a key) besides the ticks only a person can give, and says what is
missing; a new key appears at the top of the page with a button that copies it. axe-core checks the page."""

import pytest
from playwright.sync_api import expect

from partners import onboarding, sandbox
from partners.models import Partner
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.helpers import ACTOR

pytestmark = pytest.mark.browser


def manager_page(browser, live_server):
    pat = make_staff("pat@helpline.test", "partner_manager", name="Pat")
    context = signed_in_context(browser, live_server, pat)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    return page


def move_buttons(page):
    return page.locator("#moves").get_by_role("button").all_inner_texts()


def test_the_move_buttons_read_as_words(browser, live_server, transactional_db):
    onboarding.create_partner(name="Pixshare", slug="pixshare", **ACTOR)
    page = manager_page(browser, live_server)
    page.goto(live_server.url + "/partners/pixshare/")
    seen = []
    for label in ("Start vetting", "Sign agreement", "Start integration"):
        seen.append(move_buttons(page))
        page.get_by_role("button", name=label, exact=True).click()
        expect(page.locator(".messages")).to_contain_text("Moved")
    seen.append(move_buttons(page))
    assert seen == [["Start vetting", "Offboard"], ["Sign agreement", "Offboard"], ["Start integration", "Offboard"],
                    ["Go live", "Offboard"]]


def test_go_live_needs_what_the_records_show_and_names_what_is_missing(browser, live_server, transactional_db):
    partner = onboarding.create_partner(name="Pixshare", slug="pixshare", **ACTOR)
    for move in ("start_vetting", "sign_agreement", "start_integration"):
        onboarding.move_partner(partner, move, **ACTOR)
    page = manager_page(browser, live_server)
    page.goto(live_server.url + "/partners/pixshare/")
    page.get_by_label("Agreement and data-processing terms signed").check()
    page.get_by_label("Security review passed").check()
    page.get_by_role("button", name="Save checklist").click()
    page.get_by_role("button", name="Go live", exact=True).click()
    refusal = page.get_by_role("alert")
    for missing in ("A contact named", "Sandbox reports on all 12 photos (0 so far)", "A working API key"):
        expect(refusal).to_contain_text(missing)
    expect(page.locator("[data-field=state]")).to_have_text("Integration (sandbox)")
    assert axe_violations(page) == [], "axe on the partner page, go-live refused"

    contacts = page.get_by_role("region", name="Contacts")
    contacts.get_by_label("Name").fill("Ada Ops")
    contacts.get_by_label("Email").fill("ada@pixshare.example")
    contacts.get_by_role("button", name="Add contact").click()
    keys = page.get_by_role("region", name="API keys")
    keys.get_by_label("Fetch the hash feed").check()
    keys.get_by_role("button", name="Issue key").click()
    # The partner's machine reports on eleven of the twelve sandbox photos.
    reports = [{"signal_type": "pdq", "value": photo["pdq"], "outcome": "Blocked", "tags": []}
               for photo in sandbox.photos()]
    sandbox.record_feedback(partner, reports[:11], via="native")
    page.goto(live_server.url + "/partners/pixshare/")
    readiness = page.locator("#readiness")
    expect(readiness.locator("[data-met=yes]")).to_have_count(2)
    expect(readiness.locator("[data-met=no]")).to_contain_text("Sandbox reports on all 12 photos (11 so far)")
    page.get_by_role("button", name="Go live", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "Not live until the onboarding checklist is complete: Sandbox reports on all 12 photos (11 so far).")
    sandbox.record_feedback(partner, reports[11:], via="native")
    page.get_by_role("button", name="Go live", exact=True).click()
    expect(page.locator("[data-field=state]")).to_have_text("Live")
    assert Partner.objects.get(pk=partner.pk).state == "live"


def test_a_new_key_shows_at_the_top_with_a_copy_button(browser, live_server, transactional_db):
    partner = onboarding.create_partner(name="Pixshare", slug="pixshare", **ACTOR)
    page = manager_page(browser, live_server)
    page.goto(live_server.url + "/partners/pixshare/")
    keys = page.get_by_role("region", name="API keys")
    keys.get_by_label("Fetch the hash feed").check()
    keys.get_by_role("button", name="Issue key").click()
    panel = page.locator("#new-key")
    expect(panel).to_be_in_viewport()
    heading = page.get_by_role("heading", name="Pixshare", exact=True).bounding_box()
    first_section = page.locator("main section").first.bounding_box()
    box = panel.bounding_box()
    assert heading["y"] < box["y"] < first_section["y"]
    bearer = page.locator("#new-key-bearer").inner_text()
    assert partner.keys.get().matches(bearer.split(".", 1)[1])
    assert axe_violations(page) == [], "axe on the partner page with a new key"

    panel.get_by_role("button", name="Copy the key").click()
    expect(panel.get_by_role("status")).to_have_text("Copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == bearer
