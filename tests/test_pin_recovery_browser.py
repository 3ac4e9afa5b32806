"""On the caller's phone (390×844): a failure on the status page says that wrong tries pause checking and that the
helpline can help, and the PIN can be shown; a caseworker who checked who is on the call sends a new-PIN link, the
caller opens it on the phone and sees the new PIN there, which the caseworker's browser never receives."""

import re

import pytest

from cases.models import Case
from tests.calls import image, issue_code, open_case, submit
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.helpers import PHONE, capture_bodies, choose_language

pytestmark = pytest.mark.browser


def assert_accessible(page, state):
    assert axe_violations(page) == [], f"axe on {state}"


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def submitted(transactional_db):
    caseworker = make_staff("casey@helpline.test", "caseworker", name="Casey")
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), [image(1)]).json()["pin"]
    return caseworker, case, pin


def wrong(pin):
    return "0000 0000" if pin != "0000 0000" else "1111 1111"


def try_pin(phone, case, pin):
    phone.get_by_label("Case reference").fill(case.display_reference)
    phone.get_by_label("PIN", exact=True).fill(pin)
    phone.get_by_role("button", name="Show my case").click()


def test_a_failed_check_says_what_happens_next_and_the_pin_can_be_shown(phone, live_server, submitted):
    _caseworker, case, pin = submitted
    phone.goto(live_server.url + "/status/?lang=en-gb")
    field = phone.get_by_label("PIN", exact=True)
    assert field.get_attribute("type") == "password"
    field.fill("1234 5678")
    phone.get_by_label("Show PIN").check()
    assert field.get_attribute("type") == "text" and field.input_value() == "1234 5678"
    phone.get_by_label("Show PIN").uncheck()
    assert field.get_attribute("type") == "password"
    assert_accessible(phone, "status")

    try_pin(phone, case, wrong(pin))
    alert = phone.get_by_role("alert")
    alert.wait_for()
    said = alert.inner_text()
    assert "After 5 wrong tries" in said and "paused" in said and "helpline" in said and "new PIN" in said
    assert_accessible(phone, "status after a wrong PIN")
    phone.get_by_label("Show PIN").check()  # still there after the failure
    assert phone.get_by_label("PIN", exact=True).get_attribute("type") == "text"

    choose_language(phone, "Español")
    phone.get_by_label("Referencia del caso").fill(case.display_reference)
    phone.get_by_label("PIN", exact=True).fill(wrong(pin))
    phone.get_by_label("Mostrar el PIN").check()
    phone.get_by_role("button", name="Ver mi caso").click()
    phone.get_by_role("alert").get_by_text(re.compile("pausa")).wait_for()
    assert_accessible(phone, "status after a wrong PIN, in Spanish")




def test_a_caller_who_lost_their_pin_gets_a_new_one_on_their_phone(browser, phone, live_server, submitted):
    caseworker, case, old_pin = submitted
    for _ in range(5):  # and checking is paused
        phone.goto(live_server.url + "/status/?lang=en-gb")
        try_pin(phone, case, wrong(old_pin))
        phone.get_by_role("alert").wait_for()

    staff = signed_in_context(browser, live_server, caseworker)
    staff_bodies = capture_bodies(staff)
    desk = staff.new_page()
    desk.goto(f"{live_server.url}/cases/{case.reference}/")
    assert desk.locator("#pin-paused").is_visible()
    desk.get_by_label("I have checked on this call that I am speaking with the person this case is for").check()
    desk.get_by_role("button", name="Send a new-PIN link").click()
    code = desk.locator("#link-code").inner_text()
    assert desk.get_by_role("heading", name="New-PIN link for the caller").is_visible()
    assert axe_violations(desk) == []

    phone.goto(live_server.url + "/h/")
    phone.get_by_label("Code").fill(code)
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("heading", name="Get a new PIN").wait_for()
    assert_accessible(phone, "new PIN, before")
    phone.get_by_role("button", name="Show my new PIN").click()
    phone.get_by_role("heading", name="Your new PIN").wait_for()
    assert_accessible(phone, "new PIN, shown")
    assert phone.locator("#new-reference").inner_text() == case.display_reference
    new_pin = phone.locator("#new-pin").inner_text()
    assert re.fullmatch(r"\d{4} \d{4}", new_pin) and new_pin != old_pin

    phone.get_by_role("link", name="Check your case").click()
    try_pin(phone, case, old_pin)  # the old PIN no longer works
    phone.get_by_role("alert").wait_for()
    try_pin(phone, case, new_pin)  # the new one does, and the pause is over
    phone.wait_for_url("**/status/case/")
    assert phone.get_by_role("heading", name="Your case").is_visible()

    desk.reload()
    assert desk.locator("#timeline [data-kind=pin_reset]").is_visible()
    assert staff_bodies, "the caseworker's responses were captured"
    for url, body in staff_bodies:
        for shown in (new_pin, new_pin.replace(" ", "")):
            assert shown.encode() not in body, f"the new PIN reached the caseworker: {url}"
    assert Case.objects.get(pk=case.pk).locked_until is None
    staff.close()
