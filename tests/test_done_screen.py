"""The done screen on a 390 × 844 phone: its own heading, the reference and PIN large and unbroken with copy
buttons, that the PIN cannot be shown again, and what happens next, with partners' typical time from the
statistics when there are enough actions to publish one (design rule 10), else a plain sentence."""

from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from hashing.models import BankHash
from partners.models import Outcome
from stats import keeping
from tests.calls import image, issue_code, open_case, submit
from tests.conftest import axe_violations, make_staff
from tests.helpers import live_partner

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LINES = "element => { const range = document.createRange(); range.selectNodeContents(element); " \
        "return new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top))).size; }"


@pytest.fixture
def caseworker(transactional_db):
    return make_staff("casey@helpline.test", "caseworker")


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGB", (90, 70), (10, 120, 200)).save(path)
    return path


def send(browser, live_server, code, photo, language="en-gb"):
    context = browser.new_context(viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(live_server.url + f"/h/{code}/?lang={language}")
    for box in page.locator("input[name=consent]").all():
        box.check()
    page.locator("#files").set_input_files(str(photo))
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    page.locator("#send").click()
    page.wait_for_selector("body[data-state=done]", timeout=30_000)
    return context, page


def test_the_done_screen_shows_reference_and_pin_whole_with_copy_buttons(browser, live_server, caseworker, photo):
    case = open_case(caseworker)
    context, page = send(browser, live_server, issue_code(case, caseworker), photo)
    expect(page.get_by_role("heading", level=1)).to_have_text("Done: your fingerprints were received")
    expect(page.get_by_role("heading", name="Make fingerprints of your images and videos")).to_be_hidden()
    assert page.evaluate("() => document.activeElement.id") == "done-heading"

    reference, pin = page.locator("#done-reference"), page.locator("#done-pin")
    expect(reference).to_have_text(case.display_reference)
    for value in (reference, pin):
        assert value.evaluate(LINES) == 1, f"{value.inner_text()} is broken over lines"
        assert float(value.evaluate("element => parseFloat(getComputedStyle(element).fontSize)")) >= 24
        box = value.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("button", name="Copy reference").click()
    expect(page.locator("#copy-status")).to_have_text("Case reference copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == case.display_reference
    page.get_by_role("button", name="Copy PIN").click()
    expect(page.locator("#copy-status")).to_have_text("PIN copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == pin.inner_text()
    for button in page.locator("button.copy").all():
        assert button.bounding_box()["height"] >= 44

    expect(page.locator("#pin-once")).to_contain_text("This PIN cannot be shown again.")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.locator("#next-typical")).to_contain_text("how long that takes depends on the website")
    assert axe_violations(page) == [], "axe on the done screen"
    context.close()


def test_when_copying_is_refused_the_value_is_selected(browser, live_server, caseworker, photo):
    context, page = send(browser, live_server, issue_code(open_case(caseworker), caseworker), photo)
    page.evaluate("() => { navigator.clipboard.writeText = () => Promise.reject(new Error('denied')); }")
    page.get_by_role("button", name="Copy PIN").click()
    expect(page.locator("#copy-status")).to_contain_text("This browser could not copy it")
    assert page.evaluate("() => String(window.getSelection())") == page.locator("#done-pin").inner_text()
    context.close()


def test_more_files_for_a_case_keep_its_pin_and_say_so(browser, live_server, caseworker, photo):
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [image(9)])
    context, page = send(browser, live_server, issue_code(case, caseworker), photo)
    expect(page.locator("#done-pin-row")).to_be_hidden()
    expect(page.locator("#done-added")).to_have_text("Your files were added to your case. Use the PIN you were "
                                                     "given the first time.")
    context.close()


def actions_in_about(hours, count, caseworker):
    """`count` hashes a partner matched a day ago and blocked `hours` later, in the statistics."""
    partner = live_partner()
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [image(n) for n in range(1, count + 1)])
    matched = timezone.now() - timedelta(days=1)
    for n in range(1, count + 1):
        bank_hash = BankHash.objects.get(value=image(n)["pdq"])
        for value, at in (("PendingReview", matched), ("Blocked", matched + timedelta(hours=hours))):
            Outcome.objects.create(partner=partner, bank_hash=bank_hash, signal_type="pdq", value=value, acted_at=at)
    keeping.rebuild()


def test_next_steps_give_partners_typical_time_from_the_statistics(browser, live_server, caseworker, photo):
    actions_in_about(3, 5, caseworker)
    context, page = send(browser, live_server, issue_code(open_case(caseworker), caseworker), photo, "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hecho: hemos recibido tus huellas")
    expect(page.locator("#next-typical")).to_contain_text("suele bloquearla o retirarla en unas 3 horas")
    expect(page.get_by_role("button", name="Copiar el PIN")).to_be_visible()
    context.close()


def test_a_typical_time_over_a_handful_of_actions_is_not_published(browser, live_server, caseworker, photo):
    actions_in_about(3, 4, caseworker)
    context, page = send(browser, live_server, issue_code(open_case(caseworker), caseworker), photo)
    expect(page.locator("#next-typical")).to_contain_text("how long that takes depends on the website")
    expect(page.locator("#next-typical")).not_to_contain_text("hours")
    context.close()
