"""A video's vPDQ from the caller's device to partners: checked at the door, one bank row keyed by its text's
SHA-256 beside the video's MD5, shared under rule 9 (not when every frame is under quality 50), carried by the
native feed and partners' reports, never by the StopNCII-compatible API; staff screens count it, never show it."""

import hashlib
import json

import pytest
from django.test import Client
from django.urls import reverse

from hashing import signal_types
from hashing.models import BankHash
from partners import onboarding
from partners.models import Outcome
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import signed_in_client
from tests.helpers import ACTOR, fetch_all, live_partner, wait_for_the_stopncii_horizon


def frames(n, count=5, quality=90):
    """A plausible video's frames: distinct PDQs with under half their bits set, one a second."""
    pdqs = [hashlib.sha256(f"{n}:{k}".encode()).hexdigest()[:32] + "0" * 32 for k in range(count)]
    return [f"{pdq},{quality},{float(k):.3}" for k, pdq in enumerate(pdqs)]


def vpdq(n, **kwargs):
    return json.dumps(frames(n, **kwargs))


def with_vpdq(n, **kwargs):
    return {**video(n), "vpdq": vpdq(n, **kwargs)}


def test_a_video_s_vpdq_is_one_bank_row_beside_its_md5(caseworker):
    case = open_case(caseworker)
    sent = with_vpdq(1, count=7)
    sent["vpdq"] = json.dumps(json.loads(sent["vpdq"]), indent=2)  # any JSON spacing: the bank keeps one form
    assert submit(issue_code(case, caseworker), [sent, image(2)]).status_code == 200

    item = case.items.get(kind="video")
    assert item.frames == 7
    kinds = sorted(item.bank_hashes.values_list("signal_type", flat=True))
    assert kinds == ["md5", "vpdq"]
    row = item.bank_hashes.get(signal_type="vpdq")
    assert row.full_value == vpdq(1, count=7)  # python-threatexchange's own spacing
    assert row.value == hashlib.sha256(row.full_value.encode()).hexdigest()
    assert row.quality == 90 and row.is_shareable

    # The same video sent again in another case is the same row.
    other = open_case(caseworker)
    submit(issue_code(other, caseworker), [with_vpdq(1, count=7)])
    assert BankHash.objects.filter(signal_type="vpdq").count() == 1


def test_staff_screens_count_the_fingerprint_and_never_show_its_frames(caseworker):
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [with_vpdq(1), with_vpdq(2), video(3)])
    staff = signed_in_client(caseworker)
    page = staff.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert '<td data-count="video">3</td><td data-count="vpdq">2</td>' in page
    live = staff.get(reverse("case_live", args=[case.reference])).json()
    assert live["vpdq"] == 2 and sorted(i["frames"] or 0 for i in live["items"]) == [0, 5, 5]
    for n in (1, 2):
        for frame in frames(n):
            assert frame.split(",")[0] not in page and frame.split(",")[0] not in json.dumps(live)


@pytest.mark.parametrize(("item", "says"), [
    ({**video(1), "vpdq": "not json"}, "not valid JSON"),
    ({**video(1), "vpdq": "[]"}, "no frames"),
    ({**video(1), "vpdq": json.dumps(["ab" * 32 + ",100,0.0"] * (signal_types.VPDQ_MAX_FRAMES + 1))},
     "at most 7200"),
    ({**video(1), "vpdq": json.dumps(["zz" * 32 + ",100,0.0"])}, "frame 0 must be"),
    ({**video(1), "vpdq": json.dumps(["f" * 64 + ",100,0.0"])}, "not a fingerprint any picture gives"),
    ({**video(1), "vpdq": json.dumps(["ab" * 32 + ",100,3.0", "ab" * 32 + ",100,1.0"])}, "no earlier than"),
    ({**video(1), "vpdq": 12}, "JSON array"),
    ({**image(1), "vpdq": vpdq(1)}, "only a video carries vPDQ"),
])
def test_a_bad_vpdq_is_refused_with_a_reason(caseworker, item, says):
    response = submit(issue_code(open_case(caseworker), caseworker), [item])
    assert response.status_code == 400
    assert says in response.json()["error"] and response.json()["error"].startswith("File 1:")
    assert not BankHash.objects.exists()


def test_a_video_whose_frames_are_all_weak_is_kept_but_not_shared(transactional_db, caseworker):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    case = open_case(caseworker)
    weak = {**video(1), "vpdq": json.dumps(frames(1, quality=49))}
    mixed = {**video(2), "vpdq": json.dumps(frames(2, quality=20)[:4] + [frames(3, count=5, quality=50)[4]])}
    submit(issue_code(case, caseworker), [weak, mixed])

    rows = {row.full_value: row for row in BankHash.objects.filter(signal_type="vpdq")}
    assert rows[weak["vpdq"]].quality == 49 and not rows[weak["vpdq"]].is_shareable
    assert rows[mixed["vpdq"]].quality == 50 and rows[mixed["vpdq"]].is_shareable
    told = {record["value"] for record in fetch_all(key, secret, limit=1000)[0]}
    assert mixed["vpdq"] in told and weak["vpdq"] not in told
    assert video(1)["md5"] in told  # the video still blocks as an identical file


def test_the_native_feed_carries_it_and_partners_report_on_it(transactional_db, caseworker):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch", "feedback"], **ACTOR)
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [with_vpdq(1)])

    (record,) = [r for r in fetch_all(key, secret)[0] if r["signal_type"] == "vpdq"]
    assert record["value"] == vpdq(1) and record["status"] == "active" and record["quality"] == 90
    assert record["video"] is None

    def report(value, outcome="Blocked"):
        return Client().post(reverse("api:feedback"), json.dumps({"feedback": [
            {"signal_type": "vpdq", "value": value, "outcome": outcome}]}), content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")

    # The text as received, whatever JSON spacing the partner's library writes it back in.
    assert report(json.dumps(json.loads(record["value"]), separators=(",", ":"))).json() == {
        "recorded": 1, "duplicates": 0}
    outcome = Outcome.objects.get()
    assert outcome.bank_hash.signal_type == "vpdq" and outcome.value == "Blocked"
    assert report(vpdq(99)).status_code == 404  # never sent: unknown
    bad = report("[1, 2]")
    assert bad.status_code == 400 and bad.json()["field"] == "feedback[0].value"


def test_the_stopncii_api_cannot_carry_it(transactional_db, caseworker):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    submit(issue_code(open_case(caseworker), caseworker), [with_vpdq(1)])
    wait_for_the_stopncii_horizon()
    body = Client().get(reverse("api:stopncii_fetch_hashes"), {"startTimestamp": 0},
                        HTTP_OCP_APIM_SUBSCRIPTION_KEY=key.public_id, HTTP_X_FUNCTIONS_KEY=secret).json()
    assert [(r["signalType"], r["hashValue"]) for r in body["hashRecords"]] == [("VideoMD5", video(1)["md5"])]


def test_a_withdrawal_tells_it_and_the_partner_acknowledges_it(transactional_db, caseworker):
    from cases import actions as cases

    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch", "feedback"], **ACTOR)
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [with_vpdq(1)])
    records, cursor = fetch_all(key, secret)
    cases.withdraw_case(case, by=caseworker, reason="caller_asked")
    response = Client().get(reverse("api:hashes"), {"cursor": cursor},
                            HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
    withdrawn = [r for r in response.json()["records"] if r["signal_type"] == "vpdq"]
    assert [(r["value"], r["status"]) for r in withdrawn] == [(vpdq(1), "withdrawn")]
    acknowledged = Client().post(reverse("api:acknowledgements"), json.dumps({"acknowledgements": [
        {"signal_type": "vpdq", "value": vpdq(1)}]}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
    assert acknowledged.json() == {"recorded": 1, "duplicates": 0}


def test_push_carries_it_and_a_partner_s_ok_to_its_withdrawal_acknowledges_it(
        transactional_db, push_settings, push_by_hand, receiver, caseworker):
    from cases import actions as cases
    from partners import push, webhooks

    partner_server = receiver()
    partner = live_partner()
    secret = webhooks.set_webhook(partner, partner_server.url, ack_on_2xx=True, **ACTOR)
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [with_vpdq(1)])
    rounds_until_quiet(push, partner)
    assert partner_server.records(secret)[("vpdq", vpdq(1))] == "active"

    cases.withdraw_case(case, by=caseworker, reason="caller_asked")
    rounds_until_quiet(push, partner)
    assert partner_server.records(secret)[("vpdq", vpdq(1))] == "withdrawn"
    assert Outcome.objects.filter(partner=partner, bank_hash__signal_type="vpdq", via="push").exists()


def rounds_until_quiet(push, partner, limit=20):
    """Push rounds in this process, as the worker would run them, until nothing is due now."""
    for _ in range(limit):
        if push.run_round(partner.pk) != 0:
            return
