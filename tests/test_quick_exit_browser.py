"""The quick exit keeps its promise on a caller's phone (390×844): moving between the caller pages replaces the
tab's history entry instead of adding one, so after the quick exit (the button, or Esc or Shift pressed three
times) Back shows the page the caller was on before this site, and `history.length` is what it was when they
arrived. Where the browser cannot forget (its own history list), the "cover your tracks" page says so."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.calls import image, issue_code, open_case, submit
from tests.conftest import axe_violations, make_staff
from tests.helpers import PHONE, choose_language

pytestmark = pytest.mark.browser

EVERYDAY = "https://everyday.example"  # an everyday site, served by the browser context itself


@pytest.fixture
def phone(browser, settings):
    """A caller's phone that came to the portal from an everyday page (EVERYDAY/news); the quick exit leads to
    EVERYDAY/weather."""
    settings.QUICK_EXIT_URL = EVERYDAY + "/weather"
    context = browser.new_context(**PHONE)
    context.route(EVERYDAY + "/**", lambda route: route.fulfill(
        content_type="text/html",
        body=f"<!DOCTYPE html><title>{route.request.url.rsplit('/', 1)[1]}</title><p>Everyday page.</p>"))
    page = context.new_page()
    page.goto(EVERYDAY + "/news")
    yield page
    context.close()


def entries(page):
    return page.evaluate("() => history.length")


def assert_accessible(page, state):
    assert axe_violations(page) == [], f"axe on {state}"


def assert_left_no_trace(page, arrived):
    """After the quick exit: the exit page, as many history entries as when the caller arrived, and Back leads to
    the page before this site."""
    page.wait_for_url(EVERYDAY + "/weather")
    assert entries(page) == arrived
    page.go_back()
    page.wait_for_url(EVERYDAY + "/news")
    assert page.title() == "news"


def test_after_the_quick_exit_back_shows_the_page_before_the_portal(phone, live_server, transactional_db):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), [image(1)]).json()["pin"]

    phone.goto(live_server.url + "/start/?lang=en-gb")
    arrived = entries(phone)
    phone.get_by_role("link", name="Check it or withdraw it").click()
    phone.get_by_role("heading", name="Check your case").wait_for()
    assert entries(phone) == arrived
    phone.get_by_label("Case reference").fill(case.display_reference)
    phone.get_by_label("PIN", exact=True).fill("0000 0000" if pin != "0000 0000" else "1111 1111")
    phone.get_by_role("button", name="Show my case").click()  # a form answered with the form again
    phone.get_by_role("alert").wait_for()
    assert entries(phone) == arrived
    assert_accessible(phone, "status, wrong PIN")
    phone.get_by_label("PIN", exact=True).fill(pin)
    phone.get_by_role("button", name="Show my case").click()  # a form answered with a redirect
    phone.wait_for_url("**/status/case/")
    assert entries(phone) == arrived
    choose_language(phone, "Español")
    phone.get_by_role("heading", name="Tu caso").wait_for()
    phone.get_by_role("link", name="Retirar mi caso").click()
    phone.wait_for_url("**/status/withdraw/")
    assert entries(phone) == arrived
    assert_accessible(phone, "withdraw confirmation in Spanish")

    phone.get_by_role("link", name="Salir rápido de esta web").click()
    assert_left_no_trace(phone, arrived)
    assert Client().get(reverse("caller:case")).status_code == 302


def test_esc_or_shift_pressed_three_times_is_the_quick_exit(phone, live_server, transactional_db):
    phone.goto(live_server.url + "/start/?lang=en-gb")
    arrived = entries(phone)
    assert_accessible(phone, "start")
    for question in ("Are you the person", "Were you 18", "Are they intimate", "Do you have the images"):
        phone.get_by_role("group", name=re.compile(question)).get_by_label("Yes").check()
    phone.get_by_role("button", name="Continue").click()  # the self-service form, answered with a redirect
    phone.wait_for_url("**/h/*/")
    assert entries(phone) == arrived
    phone.keyboard.press("Escape")
    phone.keyboard.press("Escape")
    phone.keyboard.press("a")  # another key in between starts the count again
    phone.keyboard.press("Escape")
    phone.keyboard.press("Escape")
    assert phone.evaluate("() => document.body.hidden") is False and "/h/" in phone.url
    phone.keyboard.press("Escape")
    assert_left_no_trace(phone, arrived)

    phone.goto(live_server.url + "/status/")
    arrived = entries(phone)
    phone.keyboard.press("Shift")
    phone.keyboard.press("Shift+A")  # typing a capital letter is not a press of Shift alone
    phone.keyboard.press("Shift")
    phone.keyboard.press("Shift")
    assert phone.evaluate("() => document.body.hidden") is False
    phone.keyboard.press("Shift")
    assert_left_no_trace(phone, arrived)


def test_the_caller_pages_say_what_the_browser_may_still_keep(phone, live_server, transactional_db):
    phone.goto(live_server.url + "/status/?lang=en-gb")
    footer = phone.locator("footer").inner_text()
    assert "not saved in your browser" not in footer
    assert "three times" in footer
    arrived = entries(phone)
    phone.locator("footer").get_by_role("link", name="How to cover your tracks").click()
    phone.get_by_role("heading", name="Keeping your visit private").wait_for()
    assert entries(phone) == arrived
    for words in ("private window", "history", "another device"):
        assert words in phone.locator("main").inner_text()
    assert_accessible(phone, "cover your tracks")
    phone.get_by_role("link", name="Back", exact=True).click()  # to the page the caller came from
    phone.get_by_role("heading", name="Check your case").wait_for()
    assert entries(phone) == arrived
    choose_language(phone, "Español")
    phone.locator("footer").get_by_role("link", name="Cómo borrar tu rastro").click()
    phone.get_by_role("heading", name="Mantener tu visita en privado").wait_for()
    assert_accessible(phone, "cover your tracks in Spanish")


def test_a_form_the_page_script_posts_is_answered_with_where_to_go(db):
    """Server side of the replacing navigation: a redirect, asked for by the page script, comes back as 204 and
    the address (fetch would follow a redirect, fetching the next page twice); without the script, a redirect."""
    plain = Client().post(reverse("caller:enter_code"), {"code": "ZZZZZ-ZZZZZ"})
    assert plain.status_code == 404
    caseworker = make_staff("casey@helpline.test", "caseworker")
    code = issue_code(open_case(caseworker), caseworker)
    plain = Client().post(reverse("caller:enter_code"), {"code": code})
    assert plain.status_code == 302
    scripted = Client().post(reverse("caller:enter_code"), {"code": code}, headers={"X-Replace-Entry": "1"})
    assert scripted.status_code == 204 and scripted["X-Replace-Entry-Location"] == plain["Location"]
    assert "no-store" in scripted["Cache-Control"]
