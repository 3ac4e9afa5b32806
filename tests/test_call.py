"""The call, server side: intake and referrals, cases, the one-time link, the caller's submission, PIN and
withdrawal. (The whole flow in two real browsers is tests/test_call_browser.py.)"""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cases import actions
from cases.models import ALPHABET, SPOKEN, Case, Contact, HashingLink, Item, Notification, Referral, spoken
from core.errors import Refusal
from hashing.models import BankHash
from tests.calls import image, issue_code, open_case, payload, submit, video

# --- Intake -------------------------------------------------------------------------------------------------


def intake(client, **answers):
    data = {"channel": "phone", "language": "en-gb", "caller": "subject", "in_content": "yes",
            "adult_in_content": "yes", "intimate": "yes", "has_files": "yes", "abuse_type": "shared", **answers}
    return client.post(reverse("contact_new"), {k: v for k, v in data.items() if v is not None})


def test_under_18_is_referred_and_no_case_is_opened(login_as, caseworker):
    client = login_as(caseworker)
    response = intake(client, adult_in_content="no", intimate=None, has_files=None)
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.outcome == Contact.Outcome.UNDER_18 and contact.case is None
    assert set(contact.referrals.values_list("to", flat=True)) == {Referral.To.TAKE_IT_DOWN,
                                                                   Referral.To.CHILDLINE_IWF}
    page = client.get(response["Location"]).content.decode()
    assert "Take It Down" in page and "Report Remove" in page and "Open a case" not in page
    refused = client.post(reverse("contact_open_case", args=[contact.pk]))
    assert refused.status_code == 302 and not Case.objects.exists()


def test_intake_asks_until_the_first_no(login_as, caseworker):
    client = login_as(caseworker)
    missing = intake(client, intimate=None)
    assert missing.status_code == 400 and "Please answer this question." in missing.content.decode()
    assert not Contact.objects.exists()
    assert intake(client, intimate="no", has_files=None).status_code == 302
    assert Contact.objects.get().outcome == Contact.Outcome.NOT_ELIGIBLE


def test_risk_flags_prompt_referrals_and_the_emergency_banner(login_as, caseworker):
    client = login_as(caseworker)
    response = intake(client, immediate_danger="on", self_harm_risk="on")
    page = client.get(response["Location"]).content.decode()
    assert "Immediate danger: escalate now" in page and "999" in page
    contact = Contact.objects.get()
    assert set(contact.referrals.values_list("to", flat=True)) == {Referral.To.EMERGENCY, Referral.To.CRISIS_LINE}


def test_an_eligible_contact_opens_a_case_with_an_unguessable_reference(login_as, caseworker):
    client = login_as(caseworker)
    contact_url = intake(client, abuser_contact="on")["Location"]
    contact = Contact.objects.get()
    response = client.post(reverse("contact_open_case", args=[contact.pk]))
    case = Case.objects.get()
    assert response["Location"] == reverse("case_detail", args=[case.reference])
    assert len(case.reference) == 12 and set(case.reference) <= set(ALPHABET)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", case.display_reference)
    assert case.caseworker == caseworker and case.status == Case.Status.OPEN
    assert list(case.referrals.values_list("to", flat=True)) == [Referral.To.DOMESTIC_ABUSE]
    assert client.post(reverse("contact_open_case", args=[contact.pk])).status_code == 302
    assert Case.objects.count() == 1  # a contact opens one case
    assert "Case:" in client.get(contact_url).content.decode()


def test_an_eligible_intake_can_open_its_case_at_once(login_as, caseworker):
    client = login_as(caseworker)
    response = intake(client, open_case="yes")
    case = Case.objects.get()
    assert response["Location"] == reverse("case_detail", args=[case.reference])
    assert Contact.objects.get().case == case and case.caseworker == caseworker


def test_the_next_intake_starts_at_the_channel_this_caseworker_last_recorded(login_as, caseworker):
    def chosen():
        page = client.get(reverse("contact_new")).content.decode()
        return re.findall(r'<input type="radio" name="channel" value="(\w+)"[^>]*\bchecked', page)

    client = login_as(caseworker)
    assert chosen() == ["phone"]
    intake(client, channel="chat", intimate="no", has_files=None)
    assert chosen() == ["chat"]


def test_an_intake_that_cannot_open_a_case_or_flags_danger_shows_the_contact_first(login_as, caseworker):
    client = login_as(caseworker)
    under_18 = intake(client, adult_in_content="no", intimate=None, has_files=None, open_case="yes")
    contact = Contact.objects.get()
    assert under_18["Location"] == reverse("contact_detail", args=[contact.pk]) and not Case.objects.exists()
    danger = intake(client, immediate_danger="on", open_case="yes")
    case = Case.objects.get()  # opened, but the escalation comes first
    assert danger["Location"] == reverse("contact_detail", args=[case.contacts.get().pk])
    page = client.get(danger["Location"]).content.decode()
    assert "Immediate danger: escalate now" in page and case.display_reference in page


# --- The link -----------------------------------------------------------------------------------------------


@pytest.fixture
def case(caseworker):
    return open_case(caseworker)


def test_link_page_shows_code_url_and_qr_once(login_as, caseworker, case):
    client = login_as(caseworker)
    issued = client.post(reverse("case_issue_link", args=[case.reference]), follow=True)
    assert issued.redirect_chain == [(reverse("case_detail", args=[case.reference]) + "#new-link", 302)]
    assert issued["Cache-Control"] == "no-store" and "staff_shown_once" not in client.session  # nowhere else
    page = issued.content.decode()
    code = re.search(r'id="link-code">([0-9A-Z-]+)<', page).group(1)
    url = re.search(r'id="link-url">(http[^<]+)<', page).group(1)
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code) and url.endswith(f"/h/{code.replace('-', '')}/")
    assert 'src="data:image/svg+xml;base64,' in page
    link = HashingLink.objects.get()
    assert code.replace("-", "") not in link.code_digest  # stored as a digest only
    assert code not in client.get(reverse("case_detail", args=[case.reference])).content.decode()
    # The code the caseworker reads out leads to the same page, typed in any case with spaces.
    typed = Client().post(reverse("caller:enter_code"), {"code": code.lower().replace("-", " ")})
    assert typed["Location"] == reverse("caller:hash", args=[code.replace("-", "")])


def test_a_code_is_spelt_out_for_reading_aloud():
    assert spoken("K7QD3-MXP2A") == [["Kilo", "seven", "Quebec", "Delta", "three"],
                                     ["Mike", "X-ray", "Papa", "two", "Alfa"]]
    assert set(ALPHABET) <= set(SPOKEN)


def test_link_expires(case, caseworker, settings):
    code = issue_code(case, caseworker)
    assert Client().get(reverse("caller:hash", args=[code])).status_code == 200
    HashingLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get(reverse("caller:hash", args=[code]))
    assert response.status_code == 410 and "expired" in response.content.decode()
    refused = submit(code, [image(1)])
    assert refused.status_code == 410 and "expired" in refused.json()["error"]
    assert not Item.objects.exists()


def test_link_works_once(case, caseworker):
    code = issue_code(case, caseworker)
    assert submit(code, [image(1)]).status_code == 200
    again = submit(code, [image(2)])  # another submission on the same link
    assert again.status_code == 410 and "already been used" in again.json()["error"]
    assert Client().get(reverse("caller:hash", args=[code])).status_code == 410
    assert Item.objects.count() == 1


def test_link_can_be_revoked(login_as, case, caseworker):
    code = issue_code(case, caseworker)
    link = HashingLink.objects.get()
    login_as(caseworker).post(reverse("link_revoke", args=[case.reference, link.pk]))
    response = Client().get(reverse("caller:hash", args=[code]))
    assert response.status_code == 410 and "cancelled" in response.content.decode()
    assert submit(code, [image(1)]).status_code == 410
    assert AuditEvent.objects.filter(action="link.revoked", actor=caseworker).exists()


def test_unknown_code(db):
    assert Client().get(reverse("caller:hash", args=["ZZZZZZZZZZ"])).status_code == 404
    assert submit("ZZZZZZZZZZ", [image(1)]).status_code == 404


# --- The submission -----------------------------------------------------------------------------------------


def test_submission_feeds_items_and_the_bank_and_returns_a_pin(case, caseworker):
    code = issue_code(case, caseworker)
    response = submit(code, [image(1), image(2, quality=30), video(3),
                             {"kind": "image", "md5": "f" * 32, "unreadable": True}])
    assert response.status_code == 200
    answer = response.json()
    assert answer["reference"] == case.display_reference and re.fullmatch(r"\d{4} \d{4}", answer["pin"])
    case.refresh_from_db()
    assert case.status == Case.Status.HASHES_SUBMITTED and case.consent_version and case.consented_at
    assert answer["pin"].replace(" ", "") not in case.pin_digest
    assert case.item_counts() == {"image": 3, "video": 1, "file": 0}
    # One bank row per distinct signal: 2 readable images × 3, a video's MD5, an unreadable image's MD5.
    assert BankHash.objects.count() == 8
    shareable = set(BankHash.objects.shareable().values_list("signal_type", "value"))
    assert ("pdq", f"{1:064x}") in shareable and ("pdq", f"{2:064x}") not in shareable  # quality 30 is never shared
    low = Item.objects.get(pdq_quality=30)
    assert low.is_low_quality
    event = AuditEvent.objects.get(action="items.submitted")
    assert event.details["new_items"] == 4 and event.actor_label == "caller"


def test_a_repeated_submission_adds_nothing_twice(case, caseworker):
    code = issue_code(case, caseworker)
    body = payload([image(1), video(2), image(1)])  # the same file chosen twice, too
    first = Client().post(reverse("caller:submit", args=[code]), json.dumps(body), content_type="application/json")
    retry = Client().post(reverse("caller:submit", args=[code]), json.dumps(body), content_type="application/json")
    assert first.status_code == retry.status_code == 200
    assert Item.objects.count() == 2 and BankHash.objects.count() == 4
    # The retry answered with a fresh PIN (the first answer may have been lost): only the newest one works.
    case.refresh_from_db()
    assert actions.unlock_case(case.reference, retry.json()["pin"]) == case
    with pytest.raises(Refusal):
        actions.unlock_case(case.reference, first.json()["pin"])


@pytest.mark.parametrize(("items", "message"), [
    ([{"kind": "image", "md5": "a" * 32, "pdq": "abc", "pdq_quality": 80, "phash": "a" * 16}],
     "File 1: PDQ hash must be 64 hex characters"),
    ([image(1), {"kind": "image", "md5": "g" * 32, "pdq": "a" * 64, "pdq_quality": 80, "phash": "a" * 16}],
     "File 2: MD5 may contain only the hex digits"),
    ([{"kind": "audio", "md5": "a" * 32}], "File 1: kind must be image, video or file"),
    ([{"kind": "image", "md5": "a" * 32, "pdq": "a" * 64, "pdq_quality": 101, "phash": "a" * 16}],
     "File 1: PDQ quality must be a whole number from 0 to 100"),
    ([{"kind": "image", "md5": "a" * 32, "pdq": "a" * 64, "pdq_quality": "80", "phash": "a" * 16}],
     "File 1: PDQ quality must be a whole number"),
    ([{"kind": "video", "md5": "a" * 32, "pdq": "a" * 64}], "File 1: only a readable image carries PDQ"),
    ([{"kind": "image", "md5": "a" * 32, "name": "IMG_0001.jpg", "unreadable": True}],
     "File 1: unexpected fields: name"),
    ([], "Please choose at least one file"),
    ("not a list", "Please choose at least one file"),
])
def test_bad_items_are_refused_and_nothing_is_stored(case, caseworker, items, message):
    code = issue_code(case, caseworker)
    response = submit(code, items)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Item.objects.exists() and not BankHash.objects.exists()
    assert HashingLink.objects.get().used_at is None  # the caller can correct it and send again
    assert submit(code, [image(1)]).status_code == 200


def fake(md5=1, pdq=f"{1:064x}", quality=100, phash=f"{1:016x}"):
    return {"kind": "image", "md5": f"{md5:032x}", "pdq": pdq, "pdq_quality": quality, "phash": phash}


@pytest.mark.parametrize(("items", "message"), [
    ([fake(pdq="0" * 64)], "File 1: a blank picture's fingerprints always have quality 0"),
    ([fake(pdq="f" * 64)], "File 1: these fingerprints have more bits set than any image gives"),
    ([fake(pdq="ff" * 16 + "01" + "00" * 15)], "more bits set than any image gives"),  # 129 of 256
    ([fake(phash="0" * 16)], "File 1: a blank picture's fingerprints always have quality 0"),
    ([fake(phash="ffffffff80000000")], "more bits set than any image gives"),  # 33 of 64
    ([fake(quality=-1)], "PDQ quality must be a whole number from 0 to 100"),
    ([fake(quality=100.0)], "PDQ quality must be a whole number from 0 to 100"),
    ([image(1), image(2), fake(md5=1, pdq=f"{3:064x}")], "Files 1 and 3 are the same file with different"),
    ([image(1), {**image(1), "pdq_quality": 100}], "Files 1 and 2 are the same file with different"),
])
def test_fingerprints_no_real_image_gives_are_refused(case, caseworker, items, message):
    """Issue 15: a made-up PDQ with quality 100 went to every partner. What no image can give is refused; what
    passes is still a claim, which quotas and the flood quarantine limit (tests/test_quarantine.py)."""
    code = issue_code(case, caseworker)
    response = submit(code, items)
    assert response.status_code == 400 and message in response.json()["error"]
    assert not BankHash.objects.exists()
    # What real images give is taken: a tiny or blank picture's all-zero PDQ comes with quality 0 (never shared),
    # and the fullest real PDQ has exactly half its bits set.
    real = [fake(md5=7, pdq="0" * 64, quality=0, phash="8" + "0" * 15), fake(md5=8, pdq="f" * 32 + "0" * 32,
                                                                           phash="ffffffff00000000")]
    assert submit(code, real).status_code == 200
    assert list(BankHash.objects.shareable().filter(signal_type="pdq").values_list("value", flat=True)) == [
        "f" * 32 + "0" * 32]


def test_consent_must_be_current_and_complete(case, caseworker):
    code = issue_code(case, caseworker)
    stale = submit(code, [image(1)], consent={"version": "2020-01-01", "confirmed": []})
    assert stale.status_code == 400 and "consent text has changed" in stale.json()["error"]
    partial = submit(code, [image(1)], consent={"version": payload([])["consent"]["version"],
                                                "confirmed": ["adult"]})
    assert partial.status_code == 400 and "confirm each statement" in partial.json()["error"]
    assert not Item.objects.exists()


def test_malformed_json_oversized_bodies_and_uploads_are_refused(case, caseworker, settings):
    code = issue_code(case, caseworker)
    url = reverse("caller:submit", args=[code])
    client = Client()
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, "[1, 2]", content_type="application/json").status_code == 400
    big = json.dumps(payload([image(1)])) + " " * settings.CALLER_SUBMIT_MAX_BYTES
    oversized = client.post(url, big, content_type="application/json")
    assert oversized.status_code == 413 and "fewer files" in oversized.json()["error"]

    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = client.post(url, {"file": SimpleUploadedFile("me.jpg", b"\xff\xd8\xff" + b"x" * 5000, "image/jpeg"),
                               "items": json.dumps([image(1)])})
    assert upload.status_code == 415 and "never uploaded" in upload.json()["error"]
    assert client.get(url).status_code == 405
    assert not Item.objects.exists() and HashingLink.objects.get().used_at is None


def test_quotas_per_link_per_case_and_per_ip(case, caseworker, settings):
    settings.CALLER_MAX_ITEMS_PER_SUBMISSION = 3
    settings.CALLER_MAX_ITEMS_PER_CASE = 4
    code = issue_code(case, caseworker)
    too_many = submit(code, [image(n) for n in range(1, 5)])
    assert too_many.status_code == 413 and "at most 3 files" in too_many.json()["error"]
    assert submit(code, [image(n) for n in range(1, 4)]).status_code == 200
    full = submit(issue_code(case, caseworker), [image(n) for n in range(10, 12)])
    assert full.status_code == 429 and "cannot take more files" in full.json()["error"]
    assert Item.objects.count() == 3

    settings.CALLER_SUBMISSIONS_PER_IP_PER_HOUR = 5  # 3 used above
    other = open_case(caseworker)
    assert submit(issue_code(other, caseworker), [video(1)]).status_code == 200
    assert submit(issue_code(other, caseworker), [video(2)]).status_code == 200
    limited = submit(issue_code(other, caseworker), [video(3)])
    assert limited.status_code == 429 and "Too many submissions" in limited.json()["error"]
    from_elsewhere = submit(issue_code(other, caseworker), [video(3)], client=Client(REMOTE_ADDR="198.51.100.4"))
    assert from_elsewhere.status_code == 200


# --- Status, PIN and withdrawal -----------------------------------------------------------------------------


def submitted_case(caseworker, items):
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), items).json()["pin"]
    return case, pin


def check(client, reference, pin):
    return client.post(reverse("caller:status"), {"reference": reference, "pin": pin})


def test_five_wrong_pins_lock_the_reference_for_an_hour(caseworker):
    case, pin = submitted_case(caseworker, [image(1)])
    wrong = "0000 0000" if pin != "0000 0000" else "1111 1111"
    unknown = check(Client(), "ZZZZ-ZZZZ-ZZZZ", pin)
    messages = set()
    for attempt in range(5):
        response = check(Client(REMOTE_ADDR=f"198.51.100.{attempt}"), case.display_reference, wrong)
        assert response.status_code == 403
        messages.add(re.search(r'role="alert"><p>(.*?)</p>', response.content.decode()).group(1))
    assert messages == {re.search(r'role="alert"><p>(.*?)</p>', unknown.content.decode()).group(1)}
    locked = check(Client(), case.display_reference.lower(), pin)  # even the right PIN, while locked
    assert locked.status_code == 403
    case.refresh_from_db()
    assert case.is_locked() and case.locked_until > timezone.now() + timedelta(minutes=59)
    assert AuditEvent.objects.filter(action="case.pin_locked", target_id=str(case.pk)).count() == 1
    Case.objects.filter(pk=case.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    opened = check(Client(), case.display_reference.lower(), pin)
    assert opened.status_code == 302 and opened["Location"] == reverse("caller:case")


def test_status_checks_are_limited_per_ip(db, settings):
    settings.CALLER_STATUS_CHECKS_PER_IP_PER_HOUR = 3
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(3):
        assert check(client, "ABCD-ABCD-ABCD", "12345678").status_code == 403
    limited = check(client, "ABCD-ABCD-ABCD", "12345678")
    assert limited.status_code == 429 and "Too many tries" in limited.content.decode()
    assert check(Client(REMOTE_ADDR="203.0.113.6"), "ABCD-ABCD-ABCD", "12345678").status_code == 403


def test_status_shows_only_the_callers_items(caseworker):
    mine, pin = submitted_case(caseworker, [image(1), video(2)])
    submitted_case(caseworker, [image(3), image(4), image(5)])
    client = Client()
    check(client, mine.display_reference, pin)
    page = client.get(reverse("caller:case")).content.decode()
    assert page.count('<tr data-kind="image">') == 1 and page.count('<tr data-kind="video">') == 1
    assert f"{1:064x}" not in page  # no raw hashes, even the caller's own


def test_withdrawing_a_hash_held_by_two_cases(caseworker):
    shared = image(7)
    first, first_pin = submitted_case(caseworker, [shared, video(1)])
    second, second_pin = submitted_case(caseworker, [shared])
    pdq = BankHash.objects.get(signal_type="pdq", value=shared["pdq"])
    video_md5 = BankHash.objects.get(signal_type="md5", value=video(1)["md5"])

    client = Client()
    check(client, first.display_reference, first_pin)
    confirm = client.get(reverse("caller:withdraw"))
    assert "Yes, withdraw my case" in confirm.content.decode()
    client.post(reverse("caller:withdraw"), {"confirm": "yes"})
    first.refresh_from_db()
    pdq.refresh_from_db()
    video_md5.refresh_from_db()
    assert first.status == Case.Status.WITHDRAWN
    assert pdq.status == BankHash.Status.ACTIVE  # the second case still holds it
    assert video_md5.status == BankHash.Status.WITHDRAWN
    assert Notification.objects.filter(recipient=caseworker, case=first).count() == 1

    before = pdq.changes.count()
    actions.withdraw_case(second)
    pdq.refresh_from_db()
    assert pdq.status == BankHash.Status.WITHDRAWN and pdq.changes.count() == before + 1
    assert pdq.changes.latest("id").status == BankHash.Status.WITHDRAWN
    # A new case holding it makes it active again.
    submitted_case(caseworker, [shared])
    pdq.refresh_from_db()
    assert pdq.status == BankHash.Status.ACTIVE


def test_withdrawal_without_confirmation_changes_nothing(caseworker):
    case, pin = submitted_case(caseworker, [image(1)])
    client = Client()
    check(client, case.display_reference, pin)
    client.post(reverse("caller:withdraw"), {})
    case.refresh_from_db()
    assert case.status == Case.Status.HASHES_SUBMITTED
    assert Client().get(reverse("caller:withdraw"))["Location"] == reverse("caller:status")  # not unlocked


# --- Self-service -------------------------------------------------------------------------------------------


def test_self_service_start_opens_a_case_and_a_link_for_this_device(db):
    client = Client()
    answers = {"in_content": "yes", "adult_in_content": "yes", "intimate": "yes", "has_files": "yes",
               "abuse_type": "sextortion"}
    response = client.post(reverse("caller:start"), answers)
    assert response.status_code == 302 and response["Location"].startswith("/h/")
    contact = Contact.objects.get()
    assert contact.channel == Contact.Channel.SELF_SERVICE and contact.taken_by is None
    assert contact.case.abuse_type == "sextortion" and contact.case.caseworker is None
    assert client.get(response["Location"]).status_code == 200


def test_self_service_under_18_is_shown_where_to_go(db):
    response = Client().post(reverse("caller:start"), {"in_content": "yes", "adult_in_content": "no"})
    page = response.content.decode()
    assert response.status_code == 200 and "Take It Down" in page and "Report Remove" in page
    assert not Case.objects.exists()
    assert Contact.objects.get().referrals.count() == 2


def test_self_service_cases_are_limited_per_ip(db, settings):
    settings.CALLER_CASES_PER_IP_PER_DAY = 2
    answers = {**{k: "yes" for k in ("in_content", "adult_in_content", "intimate", "has_files")}}
    client = Client()
    assert client.post(reverse("caller:start"), answers).status_code == 302
    assert client.post(reverse("caller:start"), answers).status_code == 302
    limited = client.post(reverse("caller:start"), answers)
    assert limited.status_code == 429 and "Too many new cases" in limited.content.decode()
    assert Case.objects.count() == 2


# --- Staff side: live view and audit ------------------------------------------------------------------------


def test_live_view_counts_items_and_is_neither_audited_nor_activity(login_as, caseworker, case):
    from staff.middleware import SEEN

    client = login_as(caseworker)
    client.get(reverse("case_detail", args=[case.reference]))
    assert AuditEvent.objects.filter(action="case.viewed", target_id=str(case.pk)).count() == 1
    submit(issue_code(case, caseworker), [image(1), image(2, quality=20), video(3)])

    session = client.session
    session[SEEN] -= 600
    session.save()
    seen = client.session[SEEN]
    live = client.get(reverse("case_live", args=[case.reference])).json()
    assert live["counts"] == {"image": 2, "video": 1, "file": 0} and live["low_quality"] == 1
    assert "pin" not in json.dumps(live).lower() and f"{1:064x}" not in json.dumps(live)
    assert client.session[SEEN] == seen  # polling did not count as activity
    assert AuditEvent.objects.filter(action="case.viewed", target_id=str(case.pk)).count() == 1


def test_idle_session_still_ends_while_polling(login_as, caseworker, case, settings):
    from staff.middleware import SEEN

    client = login_as(caseworker)
    client.get(reverse("dashboard"))
    session = client.session
    session[SEEN] -= settings.SESSION_IDLE_TIMEOUT + 1
    session.save()
    response = client.get(reverse("case_live", args=[case.reference]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_withdrawal_reaches_the_caseworkers_dashboard(login_as, caseworker):
    case, _pin = submitted_case(caseworker, [image(1)])
    actions.withdraw_case(case)
    client = login_as(caseworker)
    page = client.get(reverse("dashboard")).content.decode()
    assert "The case was withdrawn" in page and case.display_reference in page
    client.get(reverse("case_detail", args=[case.reference]))
    assert Notification.objects.get().read_at is not None



# --- Caller safety (design rule 8) and access ---------------------------------------------------------------


def caller_pages(caseworker):
    """A GET of every caller page, in the state a caller reaches it."""
    case, pin = submitted_case(caseworker, [image(1)])
    code = issue_code(open_case(caseworker), caseworker)
    _link, pin_code = actions.issue_link(case, by=caseworker, purpose=HashingLink.Purpose.NEW_PIN,
                                         caller_verified=True)
    unlocked = Client()
    check(unlocked, case.display_reference, pin)
    return [
        (Client(), reverse("caller:start")),
        (Client(), reverse("caller:enter_code")),
        (Client(), reverse("caller:hash", args=[code])),
        (Client(), reverse("caller:hash", args=["ZZZZZZZZZZ"])),  # refused: still a caller page
        (Client(), reverse("caller:hash", args=[pin_code])),  # a new-PIN link's page
        (Client(), reverse("caller:status")),
        (unlocked, reverse("caller:case")),
        (unlocked, reverse("caller:withdraw")),
        (Client(), reverse("caller:cover_tracks")),
    ]


def test_every_caller_page_is_safe_on_a_shared_device(caseworker, settings):
    from django.urls import get_resolver

    names = {f"caller:{name}" for name in get_resolver().namespace_dict["caller"][1].reverse_dict
             if isinstance(name, str)}
    pages = caller_pages(caseworker)
    covered = {f"caller:{resolve_name(url)}" for _client, url in pages}
    assert names - {"caller:submit", "caller:leave", "caller:new_pin"} <= covered, names - covered  # add pages here
    for client, url in pages:
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code in (200, 404, 410), url
        assert "no-store" in response["Cache-Control"], url
        assert response["X-Robots-Tag"] == "noindex, nofollow" and '<meta name="robots" content="noindex' in page
        assert response["Referrer-Policy"] == "same-origin", url
        assert "<title>Online form</title>" in page, url  # neutral, whatever the page
        assert f'id="quick-exit" href="{settings.QUICK_EXIT_URL}" rel="noreferrer"' in page, url
        assert "localStorage" not in page and "sessionStorage" not in page
        csp = response["Content-Security-Policy"]
        is_hashing_page = 'id="hashing"' in page  # not the refusal, nor a new-PIN link's page, at the same URL
        # Local thumbnails need blob: images and media on the hashing page, and nothing wider anywhere.
        assert ("img-src 'self' data: blob:" in csp and "media-src blob:" in csp) == is_hashing_page, (url, csp)
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp


def test_caller_posts_carry_the_same_headers(caseworker):
    code = issue_code(open_case(caseworker), caseworker)
    responses = [
        Client().post(reverse("caller:status"), {"reference": "ABCD-ABCD-ABCD", "pin": "12345678"}),
        submit(code, [image(1)]),
        submit(code, [image(2)]),  # refused: used
        Client().post(reverse("caller:start"), {}),
        Client().post(reverse("caller:leave")),
    ]
    for response in responses:
        assert "no-store" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex, nofollow"
        assert response["Referrer-Policy"] == "same-origin"


def test_quick_exit_forgets_an_unlocked_case(caseworker):
    case, pin = submitted_case(caseworker, [image(1)])
    client = Client()
    check(client, case.display_reference, pin)
    assert client.get(reverse("caller:case")).status_code == 200
    beacon = Client(enforce_csrf_checks=True)  # as sendBeacon sends it: the cookie, no CSRF token
    beacon.cookies = client.cookies
    assert beacon.post(reverse("caller:leave")).status_code == 204
    assert client.get(reverse("caller:case"))["Location"] == reverse("caller:status")


def resolve_name(url):
    from django.urls import resolve

    return resolve(url).url_name


def test_page_scripts_never_use_browser_storage():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for script in [*root.glob("cases/static/cases/*.js"), *root.glob("hashing/static/hashing/*.js")]:
        text = script.read_text()
        assert "localStorage" not in text and "sessionStorage" not in text and "indexedDB" not in text, script


def test_caller_page_in_the_second_language(db):
    client = Client()
    page = client.get(reverse("caller:start"), {"lang": "es"}).content.decode()
    assert '<html lang="es" dir="ltr">' in page and "Evita que se compartan imágenes íntimas" in page
    assert "Salir rápido de esta web" in page
    again = client.get(reverse("caller:status")).content.decode()  # the choice holds for the visit
    assert "Consulta tu caso" in again
    refused = client.post(reverse("caller:status"), {"reference": "ABCD-ABCD-ABCD", "pin": "12345678"})
    assert "No hemos encontrado ningún caso" in refused.content.decode()
    assert "Stop intimate images being shared" in Client().get(reverse("caller:start")).content.decode()


@pytest.mark.parametrize("role", ["partner_manager", "administrator"])
def test_only_caseworkers_and_supervisors_see_cases(personas, login_as, role, caseworker):
    case = open_case(caseworker)
    client = login_as(personas[role])
    for url in (reverse("case_detail", args=[case.reference]), reverse("case_live", args=[case.reference]),
                reverse("contact_detail", args=[case.contacts.get().pk])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("case_issue_link", args=[case.reference])).status_code == 403
    assert not HashingLink.objects.exists()
    assert login_as(personas["supervisor"]).get(reverse("case_detail", args=[case.reference])).status_code == 200


# --- Retries, second links, and the review's edge cases ----------------------------------------------------


def test_a_second_link_adds_to_the_case_and_keeps_the_pin(caseworker):
    case, pin = submitted_case(caseworker, [image(1)])
    more = submit(issue_code(case, caseworker), [image(2), video(3)])
    assert more.status_code == 200 and more.json()["pin"] is None  # nobody who issues a link gets a PIN
    assert actions.unlock_case(case.reference, pin) == case  # the caller's PIN still works
    assert case.items.count() == 3


def test_a_retry_must_be_the_same_submission(caseworker):
    case = open_case(caseworker)
    code = issue_code(case, caseworker)
    body = payload([image(1)])
    url = reverse("caller:submit", args=[code])
    assert Client().post(url, json.dumps(body), content_type="application/json").status_code == 200
    changed = {**body, "items": [image(1), image(2)]}  # same id, more items: not a retry
    refused = Client().post(url, json.dumps(changed), content_type="application/json")
    assert refused.status_code == 410 and "already been used" in refused.json()["error"]
    assert case.items.count() == 1

    HashingLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    late = Client().post(url, json.dumps(body), content_type="application/json")
    assert late.status_code == 410 and "expired" in late.json()["error"]


def test_no_submission_reaches_a_withdrawn_case(caseworker):
    case = open_case(caseworker)
    code = issue_code(case, caseworker)
    body = payload([image(1)])
    url = reverse("caller:submit", args=[code])
    assert Client().post(url, json.dumps(body), content_type="application/json").status_code == 200
    unused = issue_code(case, caseworker)
    actions.withdraw_case(case)
    retry = Client().post(url, json.dumps(body), content_type="application/json")
    assert retry.status_code == 410
    assert submit(unused, [image(5)]).status_code == 410
    assert not BankHash.objects.filter(status=BankHash.Status.ACTIVE).exists()
    assert case.items.count() == 1


def test_withdrawal_also_withdraws_a_paused_hash_no_case_holds(caseworker):
    from hashing import actions as bank

    case, _pin = submitted_case(caseworker, [image(1)])
    paused = BankHash.objects.get(signal_type="pdq")
    bank.set_review(paused, BankHash.Review.PAUSED)
    actions.withdraw_case(case)
    paused.refresh_from_db()
    assert (paused.status, paused.review) == (BankHash.Status.WITHDRAWN, BankHash.Review.PAUSED)
    # A new case holding it makes it active again, still paused: only a person un-pauses.
    submitted_case(caseworker, [image(1)])
    paused.refresh_from_db()
    assert (paused.status, paused.review) == (BankHash.Status.ACTIVE, BankHash.Review.PAUSED)
    assert paused not in BankHash.objects.shareable()


def test_callers_addresses_never_enter_the_audit_log(caseworker):
    case, pin = submitted_case(caseworker, [image(1)])
    client = Client(REMOTE_ADDR="198.51.100.77")
    check(client, case.display_reference, "0000 0000" if pin != "0000 0000" else "1111 1111")
    check(client, case.display_reference, pin)
    client.post(reverse("caller:withdraw"), {"confirm": "yes"})
    Client(REMOTE_ADDR="198.51.100.78").post(reverse("caller:start"), {"in_content": "yes",
                                                                      "adult_in_content": "no"})
    caller_rows = AuditEvent.objects.filter(actor_label="caller")
    assert set(caller_rows.values_list("action", flat=True)) >= {"items.submitted", "case.withdrawn",
                                                                  "contact.recorded"}
    assert list(caller_rows.exclude(client_ip=None)) == []


@pytest.mark.parametrize("body", [
    json.dumps({**payload([image(1)]), "consent": {"version": payload([])["consent"]["version"],
                                                    "confirmed": [{}]}}),
    "[" * 30_000 + "]" * 30_000,
])
def test_odd_json_is_a_clear_400(case, caseworker, body):
    code = issue_code(case, caseworker)
    response = Client().post(reverse("caller:submit", args=[code]), body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]
    assert not Item.objects.exists()


def test_self_service_in_danger_sees_the_emergency_route_first(db):
    response = Client().post(reverse("caller:start"), {"in_content": "yes", "adult_in_content": "yes",
                                                       "intimate": "yes", "has_files": "yes",
                                                       "immediate_danger": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and "999" in page and 'role="alert"' in page
    link = re.search(r'href="(/h/[0-9A-Z]+/)"', page).group(1)
    assert Client().get(link).status_code == 200
    assert Contact.objects.get().referrals.filter(to=Referral.To.EMERGENCY).exists()


def test_hash_messages_reach_spanish_callers_in_spanish(case, caseworker):
    code = issue_code(case, caseworker)
    client = Client()
    client.get(reverse("caller:start"), {"lang": "es"})
    response = submit(code, [{"kind": "image", "md5": "a" * 32, "pdq": "abc", "pdq_quality": 80,
                              "phash": "a" * 16}], client=client)
    assert response.json()["error"] == "Archivo 1: PDQ hash debe tener 64 caracteres hexadecimales; tiene 3."
