"""Staff forms in a real browser (1280×800): a reload after a form reloads the page, never the form. "Send a hashing
link" and "Issue key" each make one thing shown once: after a reload there is still exactly one, and it is no
longer on the page. A GET on a form's address (a link followed, an address typed) opens its page."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import HashingLink
from partners import onboarding
from partners.models import ApiKey
from tests.calls import open_case
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.helpers import ACTOR, live_partner

pytestmark = pytest.mark.browser


def staff_page(browser, live_server, user):
    page = signed_in_context(browser, live_server, user).new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    return page


def test_a_reload_after_send_a_hashing_link_leaves_exactly_one_live_link(browser, live_server, transactional_db):
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    case = open_case(casey)
    page = staff_page(browser, live_server, casey)
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    page.get_by_role("button", name="Send a hashing link").click()
    code = page.locator("#link-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    assert page.url.endswith(f"/cases/{case.reference}/#new-link")  # back on the case page, at the link
    expect(page.locator(".messages")).to_contain_text("Hashing link ready")
    assert axe_violations(page) == [], "axe on the case page with its new link"

    page.reload()
    expect(page.get_by_role("heading", name=f"Case {case.display_reference}")).to_be_visible()
    expect(page.locator("#link-code")).to_have_count(0)  # shown once: gone on reload
    expect(page.locator(".messages")).to_have_count(0)
    assert HashingLink.objects.filter(case=case).usable().count() == 1


def test_a_reload_after_issue_key_leaves_exactly_one_working_key(browser, live_server, transactional_db):
    pat = make_staff("pat@helpline.test", "partner_manager", name="Pat")
    partner = live_partner()
    page = staff_page(browser, live_server, pat)
    page.goto(f"{live_server.url}/partners/{partner.slug}/")
    keys = page.get_by_role("region", name="API keys")
    keys.get_by_label("Fetch the hash feed").check()
    keys.get_by_role("button", name="Issue key").click()
    bearer = page.locator("#new-key-bearer").inner_text()
    assert ApiKey.objects.get(partner=partner).matches(bearer.split(".", 1)[1])
    expect(page.locator(".messages")).to_contain_text("Key issued")

    page.reload()
    expect(page.get_by_role("heading", name=partner.name, exact=True)).to_be_visible()
    expect(page.locator("#new-key-bearer")).to_have_count(0)
    assert page.content().count(bearer.split(".", 1)[1]) == 0
    assert ApiKey.objects.filter(partner=partner).working().count() == 1


def test_a_form_address_opened_directly_shows_its_page(browser, live_server, transactional_db):
    pat = make_staff("pat@helpline.test", "partner_manager", name="Pat")
    partner = live_partner()
    key, _secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    page = staff_page(browser, live_server, pat)
    for address in (f"/partners/{partner.slug}/keys/", f"/partners/{partner.slug}/keys/{key.pk}/revoke/"):
        response = page.goto(live_server.url + address)
        assert response.ok and page.url == f"{live_server.url}/partners/{partner.slug}/"
        expect(page.get_by_role("heading", name=partner.name, exact=True)).to_be_visible()
    assert list(ApiKey.objects.filter(partner=partner).working()) == [key]
