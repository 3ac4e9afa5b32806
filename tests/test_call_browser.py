"""The call in two real browsers: the caseworker's and the caller's own device.

The caseworker records the contact, opens the case and issues a link; the caller hashes 3 images and 1 video on
their device and sends the hashes; the caseworker watches them arrive; the caller checks the case with reference
+ PIN and withdraws; the caseworker is told. Request capture proves what never crossed the wire, and axe-core
checks every state of every page on the way.
"""

import os
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from playwright.sync_api import expect

from cases.models import Case, Item
from hashing import reference
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.hashing_corpus import scaled
from tests.helpers import answer_yes_to_everything, capture_bodies, carries_file_bytes, choose_language
from tests.local_servers import serve_in_thread

pytestmark = pytest.mark.browser


@pytest.fixture
def caller_files(tmp_path):
    from skimage import data

    files = []
    for name, picture, size in [("beach-private.jpg", data.astronaut(), (900, 700)),
                                ("IMG_2231 me.png", data.coffee(), (300, 200)),
                                ("bedroom mirror.jpg", data.chelsea(), (640, 480))]:
        path = tmp_path / name
        Image.fromarray(scaled(picture, *size)).save(path, quality=90)
        files.append(path)
    video = tmp_path / "clip-secret.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(300_000))
    files.append(video)
    return files


def assert_accessible(page, state):
    assert axe_violations(page) == [], f"axe on {state}"




def test_the_call_end_to_end(browser, live_server, transactional_db, caller_files):
    caseworker = make_staff("casey@helpline.test", "caseworker", name="Casey")
    staff = signed_in_context(browser, live_server, caseworker)
    staff_bodies = capture_bodies(staff)
    desk = staff.new_page()

    # The caseworker records the contact and passes the intake.
    desk.goto(live_server.url + "/contacts/new/")
    assert_accessible(desk, "intake")
    desk.get_by_label("Phone").check()
    desk.get_by_label("The person in the images").check()
    answer_yes_to_everything(desk)
    desk.get_by_label("What happened").select_option(label="Threatened to share")
    desk.get_by_role("button", name="Record only").click()
    desk.get_by_role("button", name="Open a case").wait_for()
    assert_accessible(desk, "contact page")
    desk.get_by_role("button", name="Open a case").click()
    desk.get_by_role("heading", name=re.compile(r"^Case ")).wait_for()
    assert_accessible(desk, "case page")
    desk.get_by_role("button", name="Send a hashing link").click()
    link_url = desk.locator("#link-url").inner_text()
    assert_accessible(desk, "case page with link")
    case = Case.objects.get()

    # The caller, on their own device.
    device = browser.new_context()
    sent = []
    device.on("request", lambda request: sent.append(request))
    held = []  # the hasher's worker script, held back so the page stays in its "hashing" state for axe
    device.route("**/static/hashing/worker.js", lambda route: held.append(route))
    phone = device.new_page()
    phone.goto(link_url)
    assert phone.title() == "Online form"
    assert_accessible(phone, "consent")
    for box in phone.locator("input[name=consent]").all():
        box.check()
    assert_accessible(phone, "choose files")
    phone.locator("#files").set_input_files([str(p) for p in caller_files])
    phone.wait_for_selector("body[data-state=hashing]")
    assert_accessible(phone, "files chosen, hashing")
    assert phone.locator("body").get_attribute("data-state") == "hashing"
    held[0].continue_()
    phone.wait_for_selector("body[data-state=ready]", timeout=60_000)
    assert phone.locator("#file-list li").count() == 4
    assert phone.locator("#file-list img.thumb").count() == 3 and phone.locator("#file-list video").count() == 1
    assert phone.locator("#file-list img.thumb").first.get_attribute("src").startswith("blob:")
    assert_accessible(phone, "ready to send")
    phone.get_by_role("button", name="Send fingerprints").click()
    phone.wait_for_selector("body[data-state=done]", timeout=30_000)
    assert_accessible(phone, "done")
    shown_reference = phone.locator("#done-reference").inner_text()
    pin = phone.locator("#done-pin").inner_text()
    assert shown_reference == case.display_reference and re.fullmatch(r"\d{4} \d{4}", pin)

    # The caseworker's page shows the four items without a reload.
    expect(desk.locator("[data-count=image]")).to_have_text("3", timeout=10_000)
    expect(desk.locator("[data-count=video]")).to_have_text("1")
    # The poll that brought the items may have read the case just before they were committed: the next one shows
    # its new status.
    expect(desk.locator("[data-field=status]")).to_have_text("Hashes submitted")
    images = Item.objects.filter(case=case, kind="image")
    assert images.count() == 3 and all(item.bank_hashes.count() == 3 for item in images)
    (clip,) = Item.objects.filter(case=case, kind="video")
    assert list(clip.bank_hashes.values_list("signal_type", flat=True)) == ["md5"]
    for path in caller_files:  # exactly the reference hasher's values reached the bank
        want = reference.hash_file(path)
        item = Item.objects.get(case=case, md5=want["md5"])
        if want["kind"] == "image":
            assert set(item.bank_hashes.values_list("value", flat=True)) == {want["md5"], want["pdq"], want["phash"]}

    # The caller checks the case with reference + PIN, and withdraws it.
    phone.get_by_role("link", name="Check your case").click()
    assert_accessible(phone, "status")
    phone.get_by_label("Case reference").fill(shown_reference.lower())
    phone.get_by_label("PIN", exact=True).fill(pin)
    phone.get_by_role("button", name="Show my case").click()
    phone.wait_for_url("**/status/case/")
    assert phone.locator("tbody tr").count() == 4
    assert_accessible(phone, "case status")
    phone.get_by_role("link", name="Withdraw my case").click()
    assert_accessible(phone, "withdraw confirmation")
    phone.get_by_role("button", name="Yes, withdraw my case").click()
    phone.wait_for_url("**/status/case/")
    assert "Withdrawn" in phone.locator("[data-field=status]").inner_text()
    assert phone.evaluate("() => localStorage.length + sessionStorage.length") == 0

    # The caseworker is told: on the open case page, live, and on the dashboard.
    desk.locator("#withdrawn-banner").wait_for(state="visible", timeout=10_000)
    desk.goto(live_server.url + "/")
    assert desk.locator("#notifications").get_by_text(case.display_reference).is_visible()

    # No file bytes and no file names left the caller's device; no PIN reached the caseworker's browser.
    contents = {path: path.read_bytes() for path in caller_files}
    posts = [r for r in sent if r.method == "POST"]
    assert posts, "the hashes were sent"
    for request in sent:
        body = request.post_data_buffer or b""
        text = request.url + " " + str(request.headers) + " " + body.decode("latin-1")
        for path, data in contents.items():
            assert not carries_file_bytes(body, data), f"{request.url} carried bytes of {path.name}"
            assert path.name not in text and path.stem not in text, f"{request.url} carried a file name"
    digits = pin.replace(" ", "")
    assert staff_bodies, "the caseworker's responses were captured"
    for url, body in staff_bodies:
        assert digits.encode() not in body and pin.encode() not in body, f"the PIN reached the caseworker: {url}"
    device.close()
    staff.close()


class ExitSite(BaseHTTPRequestHandler):
    """The neutral site the quick exit leads to; remembers the Referer of each visit."""

    seen = []

    def do_GET(self):  # noqa: N802 (the standard library's name)
        ExitSite.seen.append((self.path, self.headers.get("Referer")))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!DOCTYPE html><title>Weather</title><p>Sunny.</p>")

    def log_message(self, *args):
        pass


@pytest.fixture
def exit_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ExitSite)
    serve_in_thread(server)
    ExitSite.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/weather"
    server.shutdown()


def test_caller_pages_post_with_csrf_and_send_no_referrer_elsewhere(browser, live_server, transactional_db,
                                                                  settings, exit_site):
    """Both halves of the referrer policy: same-origin POSTs pass CSRF in Chromium (no "Origin: null"), and
    leaving for another site sends no referrer; the quick exit also replaces the page in the history."""
    settings.QUICK_EXIT_URL = exit_site
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/start/?lang=en-gb")
    for question in ("Are you the person", "Were you 18", "Are they intimate", "Do you have the images"):
        page.get_by_role("group", name=re.compile(question)).get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()  # a form POST: CSRF must pass
    page.wait_for_url("**/h/*/")
    assert page.get_by_role("heading", name="Make fingerprints of your images and videos").is_visible()
    assert Case.objects.count() == 1

    page.get_by_role("link", name="Leave this site quickly").click()
    page.wait_for_url(exit_site)
    assert ("/weather", None) in ExitSite.seen  # arrived with no Referer header at all
    assert not [referer for _path, referer in ExitSite.seen if referer and live_server.url in referer]
    page.go_back()
    assert "/h/" not in page.url  # the caller page was replaced in the history
    context.close()


def test_caller_pages_in_spanish_are_accessible(browser, live_server, transactional_db):
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/start/")
    choose_language(page, "Español")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Evita que se compartan imágenes íntimas").is_visible()
    assert_accessible(page, "start in Spanish")
    page.get_by_role("button", name="Continuar").click()  # nothing answered: the errors, in Spanish
    expect(page.get_by_text("Responde a esta pregunta.").first).to_be_visible()  # the form again, in place
    assert_accessible(page, "eligibility errors in Spanish")
    page.goto(live_server.url + "/status/")
    assert page.get_by_role("heading", name="Consulta tu caso").is_visible()
    context.close()


def test_the_other_caller_pages_are_accessible(browser, live_server, transactional_db):
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/start/?lang=en-gb")
    assert_accessible(page, "self-service start")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Please answer this question.").first).to_be_visible()
    assert_accessible(page, "eligibility with errors")
    page.get_by_role("group", name=re.compile("Are you the person")).get_by_label("Yes").check()
    page.get_by_role("group", name=re.compile("Were you 18")).get_by_label("No").check()
    page.get_by_label("I am in danger right now").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="There is a service made for you")).to_be_visible()
    assert page.get_by_role("alert").get_by_text("Call 999").is_visible()
    assert_accessible(page, "under 18: where to go")
    page.goto(live_server.url + "/h/")
    assert_accessible(page, "enter a code")
    page.get_by_label("Code").fill("ZZZZZ-ZZZZZ")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("We could not find this link")).to_be_visible()
    assert_accessible(page, "unknown code")
    page.goto(live_server.url + "/h/ZZZZZZZZZZ/")
    assert_accessible(page, "refused link")
    context.close()


def test_the_accessibility_check_finds_real_violations(page):
    """The axe helper itself: a page with known faults must fail it, or the checks above prove nothing."""
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    rules = {rule for rule, _impact, _targets in axe_violations(page)}
    assert {"image-alt", "label", "html-has-lang"} <= rules
