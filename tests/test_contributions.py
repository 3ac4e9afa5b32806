"""Hashes partners contribute wait for a person; acknowledgements of withdrawals are recorded once each."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from threatexchange.exchanges.clients.stopncii.api import (
    StopNCIIAPI,
    StopNCIICSPFeedbackValue,
    StopNCIIEndpoint,
    StopNCIISignalType,
)

from cases import actions as cases
from hashing.models import BankHash
from partners import onboarding
from partners.models import Outcome
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import make_staff, signed_in_client
from tests.helpers import ACTOR, live_partner, wait_for_the_stopncii_horizon

FOUND = "f0" * 32


@pytest.fixture
def partner_client(live_server, transactional_db):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch", "feedback", "submit"], **ACTOR)
    base = live_server.url + reverse("api:stopncii_fetch_hashes").rsplit("/", 1)[0]
    api = StopNCIIAPI(key.public_id, secret, base_url_override=base, additional_function_keys={
        StopNCIIEndpoint.SubmitHashes: secret, StopNCIIEndpoint.SubmitFeedback: secret})
    return partner, api, key, secret


def test_contributed_hashes_wait_for_a_person(partner_client):
    partner, api, _key, _secret = partner_client
    api.submit_hash(StopNCIISignalType.ImagePDQ, FOUND, {"found-by-us"}, StopNCIICSPFeedbackValue.Blocked)
    row = BankHash.objects.get(value=FOUND)
    assert row.review == "held" and row not in BankHash.objects.shareable()
    assert Outcome.objects.get(bank_hash=row).value == "Blocked"
    wait_for_the_stopncii_horizon()
    fetched = {r.hashValue for page in api.fetch_hashes_iter() for r in page.hashRecords}
    assert FOUND not in fetched  # not redistributed, not even back to its contributor

    manager = make_staff("pat@helpline.test", "partner_manager")
    client = signed_in_client(manager)
    queue = client.get(reverse("review_queue")).content.decode()
    assert "Held: contributed by a partner" in queue and "Tiktak: Blocked" in queue
    client.post(reverse("review_decide", args=[row.pk]), {"decision": "approve"})
    row.refresh_from_db()
    assert row.review == "" and row in BankHash.objects.shareable()
    wait_for_the_stopncii_horizon()
    assert FOUND in {r.hashValue for page in api.fetch_hashes_iter() for r in page.hashRecords}


def test_a_rejected_contribution_is_never_shared(partner_client):
    partner, api, _key, _secret = partner_client
    api.submit_hash(StopNCIISignalType.VideoMD5, "e" * 32)
    row = BankHash.objects.get(value="e" * 32)
    manager = make_staff("pat@helpline.test", "partner_manager")
    signed_in_client(manager).post(reverse("review_decide", args=[row.pk]), {"decision": "reject"})
    row.refresh_from_db()
    assert row.status == "withdrawn" and row not in BankHash.objects.shareable()


def test_contributing_a_hash_the_bank_has_changes_nothing_but_the_report(partner_client):
    partner, api, _key, _secret = partner_client
    caseworker = make_staff("casey@helpline.test", "caseworker")
    submit(issue_code(open_case(caseworker), caseworker), [image(1)])
    api.submit_hash(StopNCIISignalType.ImagePDQ, image(1)["pdq"])
    row = BankHash.objects.get(value=image(1)["pdq"])
    assert row.review == "" and row in BankHash.objects.shareable()


def test_acknowledgements_are_recorded_once_per_withdrawal(partner_client):
    partner, _api, key, secret = partner_client
    caseworker = make_staff("casey@helpline.test", "caseworker")
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [video(1)])
    ack = {"acknowledgements": [{"signal_type": "md5", "value": video(1)["md5"]}]}

    def send(body):
        return Client().post(reverse("api:acknowledgements"), json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")

    early = send(ack)
    assert early.status_code == 409 and "active" in early.json()["error"]
    cases.withdraw_case(case)
    assert send(ack).json() == {"recorded": 1, "duplicates": 0}
    assert send(ack).json() == {"recorded": 0, "duplicates": 1}
    assert send({"acknowledgements": [{"signal_type": "md5", "value": "9" * 32}]}).status_code == 404
    assert Outcome.objects.get(value="Withdrawn").partner == partner


def test_the_native_api_takes_contributions_for_review_too(partner_client):
    partner, _api, key, secret = partner_client

    def send(body):
        return Client().post(reverse("api:contributions"), json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")

    found = {"contributions": [{"signal_type": "md5", "value": "D" * 32, "video": True, "outcome": "Removed",
                                "tags": ["found-by-us"]}, {"signal_type": "pdq", "value": FOUND}]}
    assert send(found).json() == {"received": 2}  # the same answer whether or not the bank had them
    assert send(found).json() == {"received": 2}  # a retry
    assert Outcome.objects.filter(partner=partner).count() == 2  # ... records nothing twice
    video_row, photo_row = BankHash.objects.get(value="d" * 32), BankHash.objects.get(value=FOUND)
    assert video_row.video and video_row.review == photo_row.review == "held"
    assert Outcome.objects.get(bank_hash=video_row).value == "Removed"
    assert not BankHash.objects.shareable().exists()
    for bad, field in [({"signal_type": "phash", "value": "a" * 16}, "contributions[0].signal_type"),
                       ({"signal_type": "pdq", "value": FOUND, "video": True}, "contributions[0].video"),
                       ({"signal_type": "md5", "value": "xyz"}, "contributions[0].value"),
                       ({"signal_type": "md5", "value": "a" * 32, "outcome": "Deleted"}, "contributions[0].outcome")]:
        response = send({"contributions": [bad]})
        assert response.status_code == 400 and response.json()["field"] == field
    without_scope, other_secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    refused = Client().post(reverse("api:contributions"), json.dumps(found), content_type="application/json",
                            HTTP_AUTHORIZATION=f"Bearer {without_scope.public_id}.{other_secret}")
    assert refused.status_code == 403
