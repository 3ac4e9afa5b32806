"""The hashing page on a 390 × 844 phone: a real, translated 44 px file button (a label over a hidden input that the
keyboard still reaches), controls that say why they cannot be used yet and look it, and progress that is full
only when a file is really done, per file and overall."""

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.calls import issue_code, open_case
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, axe_violations, make_staff

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Stands in for the hasher's worker: reports the MD5 phase complete, then works on for ever (an image is still to
# be decoded), so the page shows a file that is part way.
STUCK_AFTER_MD5 = """
self.onmessage = ({ data }) => {
  self.postMessage({ id: data.id, progress: { phase: "md5", done: 100, total: 100 } });
};
"""


@pytest.fixture
def hashing_url(live_server, transactional_db):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    return live_server.url + f"/h/{issue_code(open_case(caseworker), caseworker)}/"


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def photos(tmp_path):
    paths = []
    for n in range(5):
        path = tmp_path / f"photo-{n}.png"
        Image.new("RGB", (80 + n, 60), (40 * n, 90, 160)).save(path)
        paths.append(path)
    return paths


def consent(page):
    for box in page.locator("input[name=consent]").all():
        box.check()


def test_the_file_button_is_real_translated_and_large(phone, hashing_url, photos):
    phone.goto(hashing_url + "?lang=es")
    button = phone.locator("label[for=files]")
    expect(button).to_have_text("Elegir imágenes y vídeos")
    consent(phone)
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    native = phone.locator("#files").bounding_box()
    assert native["width"] <= 1 and native["height"] <= 1, "the browser's own (English) file button shows"
    phone.locator("#files").set_input_files([str(p) for p in photos])
    phone.wait_for_selector("body[data-state=ready]", timeout=30_000)
    expect(phone.locator("#files-status")).to_have_text("5 de 5 archivos listos")
    assert "No file chosen" not in phone.locator("body").inner_text()
    assert axe_violations(phone) == [], "axe on the hashing page in Spanish, files ready"


@pytest.fixture
def own_phone(browser):
    """A page in a Chromium of its own. In the suite's shared browser, after hundreds of other tests' contexts,
    Chromium twice did not open the chooser for a Space on the focused input (whole-suite runs only, never this
    module alone, and not after every other browser test either): what is asked here is what a caller's own
    browser does, so it gets one."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium.new_context(viewport=PHONE).new_page()
    chromium.close()


def test_the_file_button_works_from_the_keyboard(own_phone, hashing_url):
    phone = own_phone
    phone.goto(hashing_url)
    consent(phone)
    phone.locator("input[name=consent]").last.focus()
    phone.keyboard.press("Tab")
    assert phone.evaluate("() => document.activeElement.id") == "files"
    outline = phone.locator("label[for=files]").evaluate("label => getComputedStyle(label).outlineStyle")
    assert outline != "none", "the focused file button shows no focus"
    with phone.expect_file_chooser() as chooser:
        phone.keyboard.press("Space")
    assert chooser.value.is_multiple()


def test_disabled_controls_say_why_and_look_disabled(phone, hashing_url, photos):
    phone.goto(hashing_url)
    send, choose = phone.locator("#send"), phone.locator("label[for=files]")
    expect(phone.locator("#files")).to_be_disabled()
    expect(phone.locator("#files-why")).to_be_visible()
    expect(phone.locator("#files-why")).to_contain_text("Tick all four statements")
    assert "files-why" in phone.locator("#files").get_attribute("aria-describedby")
    expect(send).to_be_disabled()
    expect(phone.locator("#send-why")).to_have_text("Tick all four statements above first.")
    assert send.get_attribute("aria-describedby") == "send-why"
    looks = "element => [getComputedStyle(element).backgroundColor, getComputedStyle(element).cursor]"
    disabled_send, disabled_choose = send.evaluate(looks), choose.evaluate(looks)

    consent(phone)
    expect(phone.locator("#files-why")).to_be_hidden()
    expect(phone.locator("#send-why")).to_have_text("Choose at least one file first.")
    assert choose.evaluate(looks) != disabled_choose, "the file button looks the same disabled and enabled"
    phone.locator("#files").set_input_files(str(photos[0]))
    phone.wait_for_selector("body[data-state=ready]", timeout=30_000)
    expect(send).to_be_enabled()
    expect(phone.locator("#send-why")).to_be_hidden()
    enabled_send = send.evaluate(looks)
    assert disabled_send != enabled_send and disabled_send[1] == "not-allowed", "a disabled Send looks active"
    assert send.bounding_box()["height"] >= 44
    assert axe_violations(phone) == [], "axe on the hashing page, ready to send"


def test_progress_is_full_only_when_a_file_is_done(browser, hashing_url, photos):
    context = browser.new_context(viewport=PHONE)
    context.route("**/static/hashing/worker.js", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body=STUCK_AFTER_MD5))
    page = context.new_page()
    page.goto(hashing_url)
    consent(page)
    page.locator("#files").set_input_files([str(photos[0]), str(photos[1])])
    bars = page.locator("#file-list progress")
    expect(bars).to_have_count(2)
    page.wait_for_function("() => document.querySelector('#file-list progress').value > 0")
    for bar in bars.all():
        assert 0 < bar.evaluate("bar => bar.value") < 1, "the bar is full while the file is still being fingerprinted"
    overall = page.locator("#overall-progress")
    assert 0 < overall.evaluate("bar => bar.value") < 1
    expect(page.locator("#files-status")).to_have_text("0 of 2 files ready")
    expect(page.locator("#file-list .file-note").first).to_have_text("Making fingerprints…")
    context.close()

    context = browser.new_context(viewport=PHONE)  # the real hasher: full when done, and the count says so
    page = context.new_page()
    page.goto(hashing_url)
    consent(page)
    page.locator("#files").set_input_files([str(photos[0]), str(photos[1])])
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    assert page.locator("#overall-progress").evaluate("bar => bar.value") == 1
    assert [bar.evaluate("bar => bar.value") for bar in page.locator("#file-list progress").all()] == [1, 1]
    expect(page.locator("#files-status")).to_have_text("2 of 2 files ready")
    context.close()
