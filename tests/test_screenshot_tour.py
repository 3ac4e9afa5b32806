"""A screenshot tour: the caller's flow on a 390 px phone and the caseworker's at 1280 px, each page once.

`make screenshots` writes them to docs/screenshots/ (docs/caller.md shows them); in the suite they go to a
temporary folder, and the tour checks each page as it goes (no sideways scroll on the phone, axe-core clean).
"""

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from cases.models import Case
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.hashing_corpus import scaled
from tests.helpers import PHONE, answer_yes_to_everything, live_partner

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESK = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    taken = []

    def shot(page, name, *, phone=False):
        assert axe_violations(page) == [], f"axe on {name}"
        if phone:
            assert page.evaluate("() => document.documentElement.scrollWidth") <= page.viewport_size["width"], name
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        taken.append(name)

    shot.taken = taken
    return shot


@pytest.fixture
def photos(tmp_path):
    from skimage import data

    files = []
    for name, picture in [("one.jpg", data.astronaut()), ("two.png", data.coffee())]:
        path = tmp_path / name
        Image.fromarray(scaled(picture, 640, 480)).save(path)
        files.append(path)
    return files


def test_the_tour(browser, live_server, transactional_db, shots, photos):
    caseworker = make_staff("casey@helpline.test", "caseworker", "supervisor", "partner_manager", name="Casey")
    live_partner("photogram")
    staff = signed_in_context(browser, live_server, caseworker, **DESK)
    desk = staff.new_page()

    # The caseworker: dashboard, intake, the case page with a code to read out.
    desk.goto(live_server.url + "/")
    shots(desk, "desk-1-dashboard")
    desk.goto(live_server.url + "/contacts/new/")
    shots(desk, "desk-2-intake")
    desk.get_by_label("Phone").check()
    answer_yes_to_everything(desk)
    desk.get_by_label("What happened").select_option(label="Threatened to share")
    desk.get_by_role("button", name="Record and open the case").click()
    desk.get_by_role("heading", name=re.compile(r"^Case ")).wait_for()
    desk.get_by_role("button", name="Send a hashing link").click()
    code = desk.locator("#link-code").inner_text()
    shots(desk, "desk-3-case-code")
    case = Case.objects.get()

    # The caller, on their phone: the code, consent, hashing, done.
    device = browser.new_context(**PHONE)
    phone = device.new_page()
    phone.goto(live_server.url + "/h/")
    shots(phone, "phone-1-enter-code", phone=True)
    phone.locator("input[name=code]").fill(code)
    phone.locator("form button[type=submit]").first.click()
    phone.locator("input[name=consent]").first.wait_for()
    shots(phone, "phone-2-consent", phone=True)
    for box in phone.locator("input[name=consent]").all():
        box.check()
    phone.locator("input[type=file]").set_input_files([str(p) for p in photos])
    phone.wait_for_selector("body[data-state=ready]", timeout=60_000)
    shots(phone, "phone-3-ready", phone=True)
    phone.get_by_role("button", name=re.compile("Send")).click()
    phone.wait_for_selector("body[data-state=done]", timeout=30_000)
    shots(phone, "phone-4-done", phone=True)
    reference, pin = phone.locator("#done-reference").inner_text(), phone.locator("#done-pin").inner_text()

    # The caseworker sees the items arrive.
    desk.wait_for_selector("[data-count=image]:text('2')", timeout=10_000)
    shots(desk, "desk-4-items-arrived")

    # The caller checks the case, and withdraws it.
    phone.goto(live_server.url + "/status/")
    shots(phone, "phone-5-check", phone=True)
    phone.get_by_label("Case reference").fill(reference)
    phone.get_by_label("PIN", exact=True).fill(pin)
    phone.get_by_role("button", name="Show my case").click()
    phone.wait_for_url("**/status/case/")
    shots(phone, "phone-6-status", phone=True)
    phone.get_by_role("link", name="Withdraw my case").click()
    phone.get_by_role("button", name="Yes, withdraw my case").wait_for()
    shots(phone, "phone-7-withdraw", phone=True)
    phone.get_by_role("button", name="Yes, withdraw my case").click()
    phone.wait_for_function("() => /Withdrawn/.test(document.body.innerText)")
    shots(phone, "phone-8-withdrawn", phone=True)
    phone.goto(live_server.url + "/help/")
    shots(phone, "phone-9-cover-your-tracks", phone=True)
    device.close()

    # The rest of the desk: the case list, statistics, partners.
    desk.goto(live_server.url + "/cases/")
    shots(desk, "desk-5-case-list")
    desk.goto(live_server.url + "/statistics/")
    shots(desk, "desk-6-statistics")
    desk.goto(live_server.url + "/partners/")
    shots(desk, "desk-7-partners")
    staff.close()
    assert case.reference and len(shots.taken) == 16


def filled_side(page, selector, value):
    """Which end of a progress bar fills first: draw it at `value` and compare the colour at its two ends."""
    bar = page.locator(selector)
    page.evaluate("([sel, v]) => { document.querySelector(sel).value = v; }", [selector, value])
    image = Image.open(io.BytesIO(bar.screenshot())).convert("RGB")
    width, height = image.size

    def shade(x):
        return sum(image.getpixel((x, height // 2)))

    return "left" if shade(3) < shade(width - 4) else "right"


def reads_left_to_right(page, selector):
    """The first character of an element's text is drawn left of its last (a PIN "1234 5678" in right-to-left
    text would otherwise show as "5678 1234")."""
    return page.evaluate("""(sel) => {
        const node = document.querySelector(sel).firstChild;
        const box = (i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                             return r.getBoundingClientRect(); };
        return getComputedStyle(node.parentElement).direction === "ltr" && box(0).left < box(node.length - 1).left;
    }""", selector)


@pytest.mark.parametrize("code", ["ar", "ur"])
def test_right_to_left_on_a_phone(browser, live_server, transactional_db, shots, photos, code):
    """Arabic and Urdu at 390 px: the quick exit at the start of the bar (the right), bars filling from the right,
    the reference and the PIN left to right; screenshots of each step for docs/caller.md."""
    from cases import actions
    from tests.calls import open_case

    caseworker = make_staff("casey@helpline.test", "caseworker")
    case = open_case(caseworker)
    _link, link_code = actions.issue_link(case, by=caseworker, language=code)  # picked on the call
    device = browser.new_context(**PHONE)
    phone = device.new_page()
    phone.goto(live_server.url + f"/h/{link_code}/")
    phone.locator("input[name=consent]").first.wait_for()
    assert phone.locator("html").get_attribute("dir") == "rtl"
    shots(phone, f"phone-{code}-1-consent", phone=True)
    exit_box = phone.locator("#quick-exit").bounding_box()
    switch_box = phone.locator("details.languages summary").bounding_box()
    assert exit_box["x"] + exit_box["width"] > 390 - 40, "the quick exit is not at the right, the start in RTL"
    assert switch_box["x"] + switch_box["width"] <= exit_box["x"], "the language switch is not left of it"
    for box in phone.locator("input[name=consent]").all():
        box.check()
    phone.locator("input[type=file]").set_input_files([str(p) for p in photos])
    phone.wait_for_selector("body[data-state=ready]", timeout=60_000)
    shots(phone, f"phone-{code}-2-ready", phone=True)
    thumb, note = phone.locator(".file .thumb").first.bounding_box(), phone.locator(".file-note").first.bounding_box()
    assert thumb["x"] > note["x"], "a file's preview is not at the start (right) of its row"
    assert filled_side(phone, "#overall-progress", 0.3) == "right"
    assert filled_side(phone, "#file-list > li:first-child progress", 0.3) == "right"
    phone.evaluate("() => document.querySelectorAll('progress').forEach((bar) => { bar.value = 1; })")
    phone.locator("#send").click()
    phone.wait_for_selector("body[data-state=done]", timeout=30_000)
    shots(phone, f"phone-{code}-3-done", phone=True)
    assert reads_left_to_right(phone, "#done-pin") and reads_left_to_right(phone, "#done-reference")
    reference, pin = phone.locator("#done-reference").inner_text(), phone.locator("#done-pin").inner_text()
    phone.goto(live_server.url + "/status/")
    phone.locator("input[name=reference]").fill(reference)
    phone.locator("input[name=pin]").fill(pin)
    phone.locator("form button[type=submit]").click()
    phone.wait_for_url("**/status/case/")
    assert phone.locator("html").get_attribute("lang") == code  # the link's language, kept for the visit
    assert reads_left_to_right(phone, "[data-field=reference] span")
    shots(phone, f"phone-{code}-4-status", phone=True)
    device.close()


def test_left_to_right_is_the_mirror(browser, live_server, transactional_db):
    """The same checks in English hold the other way round, so the RTL ones above can fail."""
    device = browser.new_context(**PHONE)
    phone = device.new_page()
    phone.goto(live_server.url + "/status/")
    exit_box = phone.locator("#quick-exit").bounding_box()
    assert exit_box["x"] < 40
    phone.evaluate("() => { const p = document.createElement('progress'); p.id = 'probe'; p.max = 1; "
                   "p.style.width = '200px'; document.querySelector('main').prepend(p); }")
    assert filled_side(phone, "#probe", 0.3) == "left"
    phone.goto(live_server.url + "/status/?lang=ar")
    phone.evaluate("() => { const p = document.createElement('progress'); p.id = 'probe'; p.max = 1; "
                   "p.style.width = '200px'; document.querySelector('main').prepend(p); }")
    assert filled_side(phone, "#probe", 0.3) == "right"
    device.close()
