"""Every language, walked in a real browser: the code, consent, hashing, done, the status page, each page in the
language the browser asks for (its first visit), translated (headings and the script's own words), right to left
where the language is, and axe-core clean. One browser, one context per language, one small image each."""

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image

from tests.calls import issue_code, open_case
from tests.conftest import axe_violations, make_staff
from tests.helpers import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def said(code, text):
    with translation.override(code):
        return _(text)


def clean(page, code, where):
    assert axe_violations(page) == [], f"axe on {where} in {code}"


def test_every_language_walks_from_the_code_to_the_status_page(browser, live_server, transactional_db, tmp_path,
                                                               settings):
    settings.CALLER_CODE_TRIES_PER_IP_PER_HOUR = 1000  # two tries a language, all from this one address
    caseworker = make_staff("casey@helpline.test", "caseworker")
    photo = tmp_path / "photo.png"
    Image.effect_mandelbrot((160, 120), (-2, -1.2, 1, 1.2), 60).convert("RGB").save(photo)

    for code, _name in settings.LANGUAGES:
        context = browser.new_context(locale=code, **PHONE)  # its Accept-Language: the first visit follows it
        page = context.new_page()
        link_code = issue_code(open_case(caseworker), caseworker)
        page.goto(live_server.url + "/h/")
        html = page.locator("html")
        assert html.get_attribute("lang") == code
        assert html.get_attribute("dir") == ("rtl" if code in settings.LANGUAGES_BIDI else "ltr")
        assert page.locator("h1").inner_text() == said(code, "Enter your code")
        clean(page, code, "the code page")
        page.locator("input[name=code]").fill(link_code)
        page.locator("form button[type=submit]").click()

        page.locator("#consent-heading").wait_for()
        assert page.locator("h1").first.inner_text() == said(code, "Make fingerprints of your images and videos")
        assert page.locator("label.file-button").inner_text() == said(code, "Choose images and videos")
        clean(page, code, "consent")
        for box in page.locator("input[name=consent]").all():
            box.check()
        page.locator("#files").set_input_files([str(photo)])
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        with translation.override(code):
            ready = ngettext("%(ready)s of %(count)s file ready", "%(ready)s of %(count)s files ready", 1)
            note = f'{_("Image")}: {_("Ready")}'
        assert page.locator("#files-status").inner_text() == ready % {"ready": 1, "count": 1}
        assert page.locator(".file-note").inner_text() == note
        clean(page, code, "the files ready")
        page.locator("#send").click()
        page.wait_for_selector("body[data-state=done]", timeout=30_000)
        assert page.locator("#done-heading").inner_text() == said(code, "Done: your fingerprints were received")
        clean(page, code, "done")
        reference, pin = page.locator("#done-reference").inner_text(), page.locator("#done-pin").inner_text()

        page.get_by_role("link", name=said(code, "Check your case"), exact=True).click()
        page.locator("input[name=reference]").fill(reference)
        page.locator("input[name=pin]").fill(pin)
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/status/case/")
        assert page.locator("h1").inner_text() == said(code, "Your case")
        assert page.locator("[data-field=status]").inner_text() == said(
            code, "Active: your fingerprints are used to find and block copies.")
        clean(page, code, "the status page")
        context.close()


@pytest.mark.parametrize("code", ["pl", "ar"])
def test_the_hashers_warning_is_shown_in_the_callers_language(browser, live_server, transactional_db, tmp_path,
                                                                code):
    """An image this browser cannot open gets only its MD5, and the hasher's reason, in the caller's language."""
    from cases.caller_views import caller_texts

    caseworker = make_staff("casey@helpline.test", "caseworker")
    damaged = tmp_path / "damaged.jpg"
    Image.new("RGB", (64, 48), (90, 120, 200)).save(damaged, quality=90)
    damaged.write_bytes(damaged.read_bytes()[:200] + b"\x00" * 400)  # a JPEG's header, then nothing decodable
    context = browser.new_context(locale=code)
    page = context.new_page()
    page.goto(live_server.url + f"/h/{issue_code(open_case(caseworker), caseworker)}/")
    for box in page.locator("input[name=consent]").all():
        box.check()
    page.locator("#files").set_input_files([str(damaged)])
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    with translation.override(code):
        texts = caller_texts()
    with translation.override("en-gb"):
        english = caller_texts()
    note = page.locator(".file-note").inner_text()
    kind, _colon, reason = note.partition(": ")
    assert kind == texts["kind_image"]
    assert reason in texts["warnings"].values() and reason not in english["warnings"].values(), note
    context.close()
