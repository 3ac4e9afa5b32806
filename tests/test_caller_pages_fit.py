"""No caller page scrolls sideways on the narrowest phone (320 px), in English, Spanish and Urdu (right to left),
in every state a caller meets: every route of cases/caller_urls.py is walked, so a new caller page cannot be left
out.

The withdrawn status page (partners told, not told yet, with a long name) was cut off at the side on a 390 px
phone: its numbers are checked to lie inside the screen, and a partner not told yet says when it should be.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases import actions, caller_urls
from cases.models import HashingLink
from partners import onboarding
from partners.models import Handover
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import axe_violations, make_staff
from tests.helpers import ACTOR, fetch_all, live_partner

pytestmark = pytest.mark.browser

NARROWEST = {"width": 320, "height": 640}
LANGUAGES = ("en-gb", "es", "ur")  # Urdu: right to left, and the tallest script
# Routes that are not pages: they answer a script or a beacon, never draw anything.
NOT_PAGES = {"submit": "the hashing page's JSON endpoint", "leave": "the quick exit's beacon"}


def fits(page, where):
    width, screen = page.evaluate("() => document.documentElement.scrollWidth"), page.viewport_size["width"]
    assert width <= screen, f"{where} is {width} px wide on a {screen} px screen"


def visit(page, url, where):
    response = page.goto(url)
    assert response.status < 500, where
    fits(page, where)


@pytest.fixture
def withdrawn_case(transactional_db):
    """A withdrawn case whose hashes two partners fetched before the withdrawal: one has fetched since (told), one
    has not (not yet told), and it fetches about every six hours."""
    caseworker = make_staff("casey@helpline.test", "caseworker")
    fetchers = [live_partner("photogram"), live_partner("worldwide-adult-video-sharing-platform")]
    keys = [onboarding.issue_key(partner, scopes=["fetch"], **ACTOR) for partner in fetchers]
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), [image(1), image(2), video(3)]).json()["pin"]
    for key, secret in keys:
        fetch_all(key, secret, limit=1000)
    late = fetchers[1]
    earlier = timezone.now() - timezone.timedelta(hours=18)
    for n in range(3):  # its earlier fetches, six hours apart
        Handover.objects.create(partner=late, route="native", at=earlier + timezone.timedelta(hours=6 * n), txid=0,
                                change_id=0)
    actions.withdraw_case(case)
    fetch_all(*keys[0], limit=1000)
    return case, pin


def unlock(page, live_server, case, pin):
    page.goto(live_server.url + reverse("caller:status"))
    page.locator("input[name=reference]").fill(case.display_reference)
    page.locator("input[name=pin]").fill(pin)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/status/case/")


def test_the_withdrawn_status_page_fits_a_phone_and_says_when_partners_hear(browser, live_server, withdrawn_case):
    case, pin = withdrawn_case
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    unlock(page, live_server, case, pin)
    expect(page.locator("[data-field=status]")).to_contain_text("Withdrawn")
    fits(page, "withdrawn status page")
    for field in ("had", "told", "confirmed"):
        box = page.locator(f"[data-field={field}]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"the {field} number is cut off"
    assert page.locator("[data-field=had]").inner_text() == "2"
    assert page.locator("[data-field=told]").inner_text() == "1"
    told = page.locator("[data-partner=Photogram]")
    expect(told.locator("[data-field=partner-told]")).to_have_text("Yes")
    waiting = page.locator('[data-partner="Worldwide-Adult-Video-Sharing-Platform"] [data-field=partner-told]')
    expect(waiting).to_contain_text("Not yet")
    expect(waiting).to_contain_text(re.compile(r"within about 6 hours"))
    assert axe_violations(page) == [], "axe on the withdrawn status page"

    page.goto(live_server.url + reverse("caller:case") + "?lang=es")
    waiting = page.locator('[data-partner="Worldwide-Adult-Video-Sharing-Platform"] [data-field=partner-told]')
    expect(waiting).to_contain_text("Todavía no")
    expect(waiting).to_contain_text("unas 6 horas")
    fits(page, "withdrawn status page in Spanish")
    context.close()


# The first language in the fast lane too; each other one only in the whole suite (`make test`).
@pytest.mark.parametrize("language", [pytest.param(language, marks=[pytest.mark.slow] * (n > 0))
                                      for n, language in enumerate(LANGUAGES)])
def test_no_caller_page_scrolls_sideways_at_320_px(browser, live_server, withdrawn_case, tmp_path, language):
    from PIL import Image

    case, pin = withdrawn_case
    caseworker = case.caseworker
    names = {pattern.name for pattern in caller_urls.urlpatterns}
    checked = set()
    long_name = tmp_path / ("holiday-photo-" + "x" * 80 + ".png")
    Image.new("RGB", (64, 48), (200, 120, 90)).save(long_name)
    document = tmp_path / "statement.pdf"
    document.write_bytes(b"%PDF-1.4\n" + b"0" * 2000)

    context = browser.new_context(viewport=NARROWEST)
    page = context.new_page()
    page.goto(live_server.url + f"/start/?lang={language}")  # the language is kept for the visit
    url = live_server.url

    visit(page, url + reverse("caller:start"), f"start ({language})")
    page.locator("#eligibility button[type=submit]").click()
    fits(page, f"start with errors ({language})")
    for question, answer in (("in_content", "yes"), ("adult_in_content", "no")):
        page.locator(f"input[name={question}][value={answer}]").check()
    page.locator("input[name=immediate_danger]").check()
    page.locator("#eligibility button[type=submit]").click()
    page.wait_for_load_state()
    fits(page, f"not eligible, in danger ({language})")
    page.goto(url + reverse("caller:start"))
    for question in ("in_content", "adult_in_content", "intimate", "has_files"):
        page.locator(f"input[name={question}][value=yes]").check()
    page.locator("input[name=immediate_danger]").check()
    page.locator("#eligibility button[type=submit]").click()
    page.locator(".banner.danger").wait_for()
    fits(page, f"in danger, before hashing ({language})")
    checked.add("start")

    visit(page, url + reverse("caller:enter_code"), f"enter a code ({language})")
    page.locator("input[name=code]").fill("ZZZZZ-ZZZZZ")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    fits(page, f"unknown code ({language})")
    checked.add("enter_code")

    visit(page, url + reverse("caller:hash", args=["ZZZZZZZZZZ"]), f"refused link ({language})")
    code = issue_code(case_for_more_files(caseworker), caseworker)
    visit(page, url + reverse("caller:hash", args=[code]), f"hashing page ({language})")
    for box in page.locator("input[name=consent]").all():
        box.check()
    page.locator("#files").set_input_files([str(long_name), str(document)])
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    fits(page, f"hashing page with files ({language})")
    page.locator("#send").click()
    page.wait_for_selector("body[data-state=done]", timeout=30_000)
    fits(page, f"done screen ({language})")
    checked.add("hash")

    visit(page, url + reverse("caller:status"), f"status ({language})")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    fits(page, f"status with errors ({language})")
    checked.add("status")

    unlock(page, live_server, case, pin)
    fits(page, f"withdrawn case ({language})")
    checked.add("case")
    active, active_pin = active_case(caseworker)
    unlock(page, live_server, active, active_pin)
    fits(page, f"active case ({language})")
    visit(page, url + reverse("caller:withdraw"), f"withdraw confirmation ({language})")
    checked.add("withdraw")

    _link, pin_code = actions.issue_link(active, by=caseworker, purpose=HashingLink.Purpose.NEW_PIN,
                                         caller_verified=True)
    visit(page, url + reverse("caller:hash", args=[pin_code]), f"new-PIN link ({language})")
    page.locator("form button[type=submit]").last.click()
    page.locator("#new-pin").wait_for()
    fits(page, f"the new PIN ({language})")
    checked.add("new_pin")

    visit(page, url + reverse("caller:cover_tracks"), f"cover your tracks ({language})")
    checked.add("cover_tracks")

    for name in NOT_PAGES:
        answer = page.request.get(url + reverse(f"caller:{name}", args=["ZZZZZZZZZZ"] if name == "submit" else []))
        assert answer.status == 405, f"{name} answers GET with {answer.status}: is it a page now?"
    context.close()
    assert checked | set(NOT_PAGES) == names, f"caller routes not walked: {names - checked - set(NOT_PAGES)}"


def case_for_more_files(caseworker):
    return open_case(caseworker)


def active_case(caseworker):
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), [image(40), video(41)]).json()["pin"]
    return case, pin
