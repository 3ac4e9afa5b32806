"""A lost PIN, or checking paused after wrong PINs: a caseworker who has checked on the call that they are speaking
with the caller sends a one-time new-PIN link; the new PIN is made and shown on the caller's device only, the old
one stops working, the pause ends, and the issuing and the reset are in the audit log and the timeline. (In real
browsers: tests/test_pin_recovery_browser.py.)"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases import actions
from cases.models import Case, CaseEvent, HashingLink
from core.errors import Refusal
from tests.calls import image, issue_code, open_case, submit


def submitted_case(caseworker):
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), [image(1)]).json()["pin"]
    return case, pin


def check(reference, pin, client=None):
    return (client or Client()).post(reverse("caller:status"), {"reference": reference, "pin": pin})


def send_pin_link(client, case, verified=True):
    data = {"purpose": "new_pin", **({"caller_verified": "yes"} if verified else {})}
    return client.post(reverse("case_issue_link", args=[case.reference]), data, follow=True)


def shown_code(page):
    return re.search(r'id="link-code">([0-9A-Z-]+)<', page).group(1).replace("-", "")


def new_pin_from(client, code):
    """The caller opens the link and asks for the new PIN, as the page does: (answer, PIN shown or None)."""
    page = client.get(reverse("caller:hash", args=[code]))
    assert page.status_code == 200
    attempt = re.search(r'name="attempt" value="([0-9a-f]+)"', page.content.decode()).group(1)
    answer = client.post(reverse("caller:new_pin", args=[code]), {"attempt": attempt})
    shown = re.search(r'id="new-pin" dir="ltr">(\d{4} \d{4})<', answer.content.decode())
    return answer, attempt, shown and shown.group(1)


def test_a_new_pin_link_replaces_the_pin_on_the_callers_device_only(login_as, caseworker):
    case, old_pin = submitted_case(caseworker)
    desk = login_as(caseworker)
    sent = send_pin_link(desk, case)
    assert sent.status_code == 200
    code = shown_code(sent.content.decode())
    link = HashingLink.objects.get(case=case, purpose=HashingLink.Purpose.NEW_PIN)
    assert link.code_digest != code and "new PIN" in sent.content.decode()

    phone = Client()
    answer, _attempt, new_pin = new_pin_from(phone, code)
    assert answer.status_code == 200 and new_pin and new_pin != old_pin
    assert case.display_reference in answer.content.decode()
    assert check(case.display_reference, old_pin).status_code == 403  # the old PIN stops working
    assert check(case.display_reference, new_pin)["Location"] == reverse("caller:case")

    case.refresh_from_db()
    assert new_pin.replace(" ", "") not in case.pin_digest  # a digest, never the PIN
    issued = AuditEvent.objects.get(action="link.issued", target_id=str(case.pk), details__purpose="new_pin")
    assert issued.actor == caseworker
    reset = AuditEvent.objects.get(action="case.pin_reset", target_id=str(case.pk))
    assert reset.actor is None and reset.actor_label == "caller" and reset.details["link"] == link.pk
    assert list(case.events.filter(kind__in=["link_sent", "pin_reset"]).values_list("kind", flat=True)) == [
        "link_sent", "link_sent", "pin_reset"]
    # The caseworker's page afterwards: the reset on the timeline, never the PIN.
    page = desk.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert "New PIN set" in page and "for a new PIN" in page
    assert new_pin not in page and new_pin.replace(" ", "") not in page
    assert new_pin.replace(" ", "") not in sent.content.decode()


def test_a_new_pin_ends_the_pause_after_wrong_pins(login_as, caseworker, settings):
    case, pin = submitted_case(caseworker)
    for _ in range(settings.PIN_LOCK_AFTER):
        check(case.display_reference, "0000 0000" if pin != "0000 0000" else "1111 1111")
    assert check(case.display_reference, pin).status_code == 403  # paused, even with the right PIN
    page = login_as(caseworker).get(reverse("case_detail", args=[case.reference])).content.decode()
    assert 'id="pin-paused"' in page
    code = shown_code(send_pin_link(login_as(caseworker), case).content.decode())
    _answer, _attempt, new_pin = new_pin_from(Client(), code)
    assert check(case.display_reference, new_pin).status_code == 302
    case.refresh_from_db()
    assert not case.is_locked() and case.pin_failures == 0


def test_a_new_pin_link_needs_the_callers_identity_checked_and_a_pin_to_replace(login_as, caseworker):
    case, _pin = submitted_case(caseworker)
    desk = login_as(caseworker)
    unchecked = send_pin_link(desk, case, verified=False)
    assert unchecked.status_code == 400 and "speaking with the person this case is for" in unchecked.content.decode()
    assert not HashingLink.objects.filter(purpose=HashingLink.Purpose.NEW_PIN).exists()
    fresh = open_case(caseworker)  # nothing sent yet: no PIN to replace
    assert send_pin_link(desk, fresh).status_code == 409
    odd = desk.post(reverse("case_issue_link", args=[case.reference]), {"purpose": "admin"})
    assert odd.status_code == 400
    with pytest.raises(Refusal):  # self-service never sends one: only a person on a call can check who it is
        actions.issue_link(case, by=None, purpose=HashingLink.Purpose.NEW_PIN, caller_verified=True)
    actions.withdraw_case(case)
    assert send_pin_link(desk, case).status_code == 409
    assert not HashingLink.objects.filter(purpose=HashingLink.Purpose.NEW_PIN).exists()


def test_each_link_does_only_its_own_job(login_as, caseworker):
    case, pin = submitted_case(caseworker)
    pin_code = shown_code(send_pin_link(login_as(caseworker), case).content.decode())
    assert submit(pin_code, [image(2)]).status_code == 404  # no fingerprints through a new-PIN link
    hashing_code = issue_code(case, caseworker)
    refused = Client().post(reverse("caller:new_pin", args=[hashing_code]), {"attempt": "a" * 32})
    assert refused.status_code == 404  # and no PIN through a hashing link
    assert check(case.display_reference, pin).status_code == 302
    hashing_page = Client().get(reverse("caller:hash", args=[hashing_code])).content.decode()
    assert 'name="attempt"' not in hashing_page and 'id="hashing"' in hashing_page


def test_a_new_pin_link_works_once_and_a_retry_of_that_try_gets_a_fresh_pin(login_as, caseworker):
    case, _pin = submitted_case(caseworker)
    code = shown_code(send_pin_link(login_as(caseworker), case).content.decode())
    phone = Client()
    _answer, attempt, first = new_pin_from(phone, code)
    # The answer was lost: the same try again (same page, same attempt) gets a new PIN; the unseen one is dead.
    again = phone.post(reverse("caller:new_pin", args=[code]), {"attempt": attempt})
    second = re.search(r'id="new-pin" dir="ltr">(\d{4} \d{4})<', again.content.decode()).group(1)
    assert check(case.display_reference, first).status_code == 403
    assert check(case.display_reference, second).status_code == 302
    # Anyone else with the code (another try, another page) is refused: the link is used.
    used = Client().post(reverse("caller:new_pin", args=[code]), {"attempt": "b" * 32})
    assert used.status_code == 410 and "already been used" in used.content.decode()
    assert Client().get(reverse("caller:hash", args=[code])).status_code == 410
    assert check(case.display_reference, second).status_code == 302
    assert AuditEvent.objects.filter(action="case.pin_reset").count() == 2
    assert Client().post(reverse("caller:new_pin", args=[code]), {"attempt": ""}).status_code == 400


def test_after_a_failure_the_caller_is_told_checking_pauses_and_the_helpline_can_help(caseworker, settings):
    case, pin = submitted_case(caseworker)
    wrong = check(case.display_reference, "0000 0000" if pin != "0000 0000" else "1111 1111").content.decode()
    unknown = check("ZZZZ-ZZZZ-ZZZZ", pin).content.decode()
    alert = re.compile(r'role="alert">(.*?)</div>', re.S)
    assert alert.search(wrong).group(1) == alert.search(unknown).group(1)  # the same answer for a stranger
    said = alert.search(wrong).group(1)
    assert f"After {settings.PIN_LOCK_AFTER} wrong tries" in said and "paused" in said
    assert "helpline" in said and "new PIN" in said
    spanish = Client()
    spanish.get(reverse("caller:status"), {"lang": "es"})
    assert "pausa" in check("ZZZZ-ZZZZ-ZZZZ", pin, client=spanish).content.decode()


def test_the_timeline_says_which_links_were_for_a_new_pin(caseworker):
    case, _pin = submitted_case(caseworker)
    link, _code = actions.issue_link(case, by=caseworker, purpose=HashingLink.Purpose.NEW_PIN, caller_verified=True)
    actions.revoke_link(link, by=caseworker)
    summaries = {event.kind: event.summary() for event in Case.objects.get(pk=case.pk).events.all()
                 if event.details.get("link") == link.pk}
    assert summaries == {CaseEvent.Kind.LINK_SENT: "for a new PIN", CaseEvent.Kind.LINK_CANCELLED: "for a new PIN"}
