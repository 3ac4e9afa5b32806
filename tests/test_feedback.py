"""Outcomes: partners report on hashes through either API; every report is kept, shown to staff and (as counts)
to the caller; a hash two partners call NotBlocked is paused for review; one partner never sees another's."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from threatexchange.exchanges.clients.stopncii.api import (
    StopNCIIAPI,
    StopNCIICSPFeedbackValue,
    StopNCIIEndpoint,
    StopNCIISignalType,
)

from cases.models import CaseEvent, Notification
from hashing.models import BankChange, BankHash
from partners import handovers, onboarding, outcomes
from partners.models import FeedPosition, Handover, Outcome
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import make_staff
from tests.helpers import ACTOR, fetch_all, live_partner, wait_for_the_stopncii_horizon
from tests.stats_reference import shared_times

PDQ = image(1)["pdq"]
HOUR_AHEAD = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


@pytest.fixture
def shared(transactional_db):
    """A case holding one good image and a video, and two live partners with keys."""
    caseworker = make_staff("casey@helpline.test", "caseworker")
    case = open_case(caseworker)
    code = issue_code(case, caseworker)
    pin = submit(code, [image(1), image(2, quality=10), video(3)]).json()["pin"]
    keys = {}
    for slug in ("tiktak", "photogram"):
        key, secret = onboarding.issue_key(live_partner(slug), scopes=["fetch", "feedback"], **ACTOR)
        keys[slug] = (key, secret)
    return case, pin, keys


def report(keys, slug, reports):
    key, secret = keys[slug]
    return Client().post(reverse("api:feedback"), json.dumps({"feedback": reports}), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")


def test_native_feedback_is_kept_idempotent_and_reaches_case_and_caller(shared):
    case, pin, keys = shared
    acted = datetime.now(UTC)  # after the hash was shared: a time before it would be clamped (below)
    blocked = {"signal_type": "pdq", "value": PDQ.upper(), "outcome": "Blocked", "tags": ["nudity"],
               "acted_at": acted.isoformat().replace("+00:00", "Z")}
    first = report(keys, "tiktak", [blocked, {"signal_type": "md5", "value": video(3)["md5"], "outcome": "Removed"}])
    assert first.status_code == 200 and first.json() == {"recorded": 2, "duplicates": 0}
    again = report(keys, "tiktak", [blocked])
    assert again.json() == {"recorded": 0, "duplicates": 1}
    assert Outcome.objects.count() == 2
    outcome = Outcome.objects.get(value="Blocked")
    assert outcome.acted_at == acted and outcome.tags == ["nudity"] and outcome.reported_acted_at is None

    assert CaseEvent.objects.filter(case=case, kind="feedback").count() == 2
    assert Notification.objects.filter(case=case, kind="outcome").count() == 2
    staff = make_staff("sam@helpline.test", "supervisor")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert "Tiktak</td><td>Blocked" in page and "Partner feedback" in page

    caller = Client()
    caller.post(reverse("caller:status"), {"reference": case.display_reference, "pin": pin})
    status = caller.get(reverse("caller:case")).content.decode()
    assert 'data-field="matched">1<' in status and 'data-field="removed">1<' in status


@pytest.mark.parametrize(("reports", "status", "field"), [
    ([{"signal_type": "pdq", "value": image(2)["pdq"], "outcome": "Blocked"}], 404, "[1].value"),  # never sent
    ([{"signal_type": "pdq", "value": "ab" * 32, "outcome": "Blocked"}], 404, "[1].value"),  # not ours at all
    ([{"signal_type": "pdq", "value": "abc", "outcome": "Blocked"}], 400, "feedback[1].value"),
    ([{"signal_type": "tmk", "value": PDQ, "outcome": "Blocked"}], 400, "feedback[1].value"),
    ([{"signal_type": "pdq", "value": PDQ, "outcome": "Liked"}], 400, "feedback[1].outcome"),
    ([{"signal_type": "pdq", "value": PDQ, "outcome": "Blocked", "acted_at": "yesterday"}], 400,
     "feedback[1].acted_at"),
    ([{"signal_type": "pdq", "value": PDQ, "outcome": "Blocked", "acted_at": HOUR_AHEAD}], 400,
     "feedback[1].acted_at"),  # a time still to come is refused, not clamped: the partner's clock is wrong
    ([{"signal_type": "pdq", "value": PDQ, "outcome": "Blocked", "tags": "one"}], 400, "feedback[1].tags"),
    ([], 400, "feedback"),
])
def test_bad_feedback_is_refused_and_nothing_recorded(shared, reports, status, field):
    _case, _pin, keys = shared
    good = {"signal_type": "pdq", "value": PDQ, "outcome": "PendingReview"}
    response = report(keys, "tiktak", [good, *reports] if reports else [])
    assert response.status_code == status
    assert response.json()["field"].endswith(field) and response.json()["error"]
    assert not Outcome.objects.exists()


def test_feedback_needs_its_scope(shared):
    _case, _pin, keys = shared
    key, secret = onboarding.issue_key(keys["tiktak"][0].partner, scopes=["fetch"], **ACTOR)
    response = Client().post(reverse("api:feedback"), "{}", content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
    assert response.status_code == 403


def test_two_partners_saying_not_blocked_pause_the_hash(shared):
    _case, _pin, keys = shared
    not_ncii = [{"signal_type": "pdq", "value": PDQ, "outcome": "NotBlocked"}]
    report(keys, "tiktak", not_ncii)
    assert BankHash.objects.get(value=PDQ).review == ""  # one partner is not a consensus
    report(keys, "photogram", not_ncii)
    row = BankHash.objects.get(value=PDQ)
    assert row.review == "paused" and row not in BankHash.objects.shareable()


def stopncii_client(live_server, key, secret):
    base = live_server.url + reverse("api:stopncii_fetch_hashes").rsplit("/", 1)[0]
    return StopNCIIAPI(key.public_id, secret, base_url_override=base,
                       additional_function_keys={StopNCIIEndpoint.SubmitFeedback: secret})


def test_the_threatexchange_client_submits_feedback_and_sees_only_its_own(live_server, shared):
    _case, _pin, keys = shared
    tiktak = stopncii_client(live_server, *keys["tiktak"])
    photogram = stopncii_client(live_server, *keys["photogram"])
    tiktak.submit_feedback(StopNCIISignalType.ImagePDQ, PDQ, StopNCIICSPFeedbackValue.Blocked, {"csam-free"})
    photogram.submit_feedback(StopNCIISignalType.VideoMD5, video(3)["md5"], StopNCIICSPFeedbackValue.PendingReview)
    assert set(Outcome.objects.values_list("partner__slug", "value", "via")) == {
        ("tiktak", "Blocked", "stopncii"), ("photogram", "PendingReview", "stopncii")}
    wait_for_the_stopncii_horizon()
    records = {(r.signalType.value, r.hashValue): r for page in tiktak.fetch_hashes_iter() for r in page.hashRecords}
    (own,) = records[("ImagePDQ", PDQ)].CSPFeedbacks
    assert own.feedbackValue.value == "Blocked" and own.tags == {"csam-free"} and own.source == "Tiktak"
    assert records[("VideoMD5", video(3)["md5"])].CSPFeedbacks == []  # the other partner's report stays theirs


def test_retries_without_a_time_of_their_own_change_nothing(live_server, shared):
    _case, _pin, keys = shared
    no_time = [{"signal_type": "pdq", "value": PDQ, "outcome": "PendingReview"}]
    assert report(keys, "tiktak", no_time).json() == {"recorded": 1, "duplicates": 0}
    assert report(keys, "tiktak", no_time).json() == {"recorded": 0, "duplicates": 1}
    tiktak = stopncii_client(live_server, *keys["tiktak"])
    for _ in range(2):
        tiktak.submit_feedback(StopNCIISignalType.ImagePDQ, PDQ, StopNCIICSPFeedbackValue.Blocked)
    assert list(Outcome.objects.order_by("id").values_list("value", flat=True)) == ["PendingReview", "Blocked"]
    assert CaseEvent.objects.filter(kind="feedback").count() == 2


def test_an_image_md5_is_unknown_through_stopncii(live_server, shared):
    """StopNCII carries MD5 only as VideoMD5: an image's MD5 was never sent that way."""
    _case, _pin, keys = shared
    key, secret = keys["tiktak"]
    import requests

    response = requests.post(live_server.url + reverse("api:stopncii_submit_feedback"), timeout=10, json={
        "count": 1, "hashFeedbacks": [{"hashValue": image(1)["md5"], "feedbackValue": "Blocked", "tags": []}]},
        headers={"Ocp-Apim-Subscription-Key": key.public_id, "x-functions-key": secret})
    assert response.status_code == 404 and not Outcome.objects.exists()


# --- A report is never dated before its hash reached the partner ----------------------------------------------


def test_a_report_dated_before_its_hash_reached_the_partner_is_clamped_and_says_so(shared):
    case, _pin, keys = shared
    fetch_all(*keys["tiktak"], limit=100)  # one page: one handover
    delivered = Handover.objects.get(partner=keys["tiktak"][0].partner).at
    long_ago = timezone.now() - timedelta(days=30)  # before the bank had the hash
    blocked = {"signal_type": "pdq", "value": PDQ, "outcome": "Blocked", "acted_at": long_ago.isoformat()}
    assert report(keys, "tiktak", [blocked]).json() == {"recorded": 1, "duplicates": 0}
    outcome = Outcome.objects.get()
    assert (outcome.acted_at, outcome.reported_acted_at) == (delivered, long_ago)
    assert report(keys, "tiktak", [blocked]).json() == {"recorded": 0, "duplicates": 1}  # a retry lands on it

    later = timezone.now()  # after the delivery: its own time, untouched
    report(keys, "tiktak", [{**blocked, "outcome": "Removed", "acted_at": later.isoformat()}])
    removed = Outcome.objects.get(value="Removed")
    assert (removed.acted_at, removed.reported_acted_at) == (later, None)

    # Never handed over (photogram never fetched): not before the hash was first shareable.
    report(keys, "photogram", [{**blocked, "acted_at": long_ago.isoformat()}])
    first = BankChange.objects.filter(bank_hash__value=PDQ).order_by("txid", "id").first()
    clamped = Outcome.objects.get(partner__slug="photogram")
    assert (clamped.acted_at, clamped.reported_acted_at) == (first.at, long_ago)

    manager = make_staff("pat@helpline.test", "partner_manager")
    client = Client()
    client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("partner_detail", args=["tiktak"])).content.decode()
    assert page.count('data-field="reported_acted_at"') == 1 and f"{long_ago:%-d %b %Y %H:%M}" in page


def test_the_first_delivery_is_the_time_statistics_call_shared(shared):
    """partners may not import stats: its own reading of "first delivery" is held to the statistics' reference
    over native pages, StopNCII pages (one skipping ahead, one ending just short of a change) and both."""
    case, _pin, _keys = shared
    caseworker = case.caseworker or make_staff("other@helpline.test", "caseworker")
    for n in (5, 6):
        submit(issue_code(open_case(caseworker), caseworker), [image(n), video(n)])
    changes = list(BankChange.objects.order_by("txid", "id"))
    middle = changes[len(changes) // 2]
    by_time = sorted(changes, key=lambda c: (c.at, c.id))
    native, stopncii, both = live_partner("native"), live_partner("stopncii"), live_partner("both")
    for partner in (native, both):
        handovers.note_fetch(partner, FeedPosition.Route.NATIVE, moved=True, txid=middle.txid, change_id=middle.id)
    for partner in (stopncii, both):
        one = by_time[3]
        handovers.note_fetch(partner, FeedPosition.Route.STOPNCII, start=None, last=(one.at, one.id - 1))
        handovers.note_fetch(partner, FeedPosition.Route.STOPNCII, start=by_time[-2].at + timedelta(microseconds=1),
                             last=(by_time[-1].at, by_time[-1].id))  # skipped ahead: covers the last change only
        handovers.note_fetch(partner, FeedPosition.Route.STOPNCII, start=one.at, last=(by_time[-3].at, by_time[-3].id))
    last = changes[-1]
    handovers.note_fetch(native, FeedPosition.Route.NATIVE, moved=True, txid=last.txid, change_id=last.id)

    reference = shared_times([native, stopncii, both])
    compared = 0
    for partner in (native, stopncii, both):
        for bank_hash in BankHash.objects.all():
            first = outcomes.first_shared(bank_hash)
            ours = outcomes.first_delivery(partner, first) if first else None
            assert ours == reference.get((partner.pk, bank_hash.pk)), (partner, bank_hash)
            compared += ours is not None
    assert compared > 10 and len({t for t in reference.values()}) >= 4  # several distinct handovers give hashes
