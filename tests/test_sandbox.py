"""The sandbox: a partner in integration downloads the synthetic photos, hashes them with its own tools, fetches
the sandbox feeds (native, and StopNCII through threatexchange's client), reports back, and the helpline sees
it. Nothing reaches or comes from the real bank."""

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

from hashing.models import BankChange, BankHash
from hashing.reference import hash_file
from partners import onboarding, sandbox
from partners.models import FeedPosition, Outcome, SandboxReport
from tests.helpers import ACTOR, live_partner


def integration_partner(slug="newbie"):
    partner = onboarding.create_partner(name=slug.title(), slug=slug, **ACTOR)
    for move in ("start_vetting", "sign_agreement", "start_integration"):
        onboarding.move_partner(partner, move, **ACTOR)
    return partner


def bearer(partner, scopes=("fetch", "feedback")):
    key, secret = onboarding.issue_key(partner, scopes=list(scopes), **ACTOR)
    return {"HTTP_AUTHORIZATION": f"Bearer {key.public_id}.{secret}"}


def test_the_photos_hash_to_what_the_sandbox_serves(db, tmp_path):
    page = Client().get(reverse("api:sandbox"))  # no key, no login: the photos are synthetic
    assert page.status_code == 200
    for item in sandbox.photos():
        assert item["pdq"] in page.content.decode() and item["md5"] in page.content.decode()
        photo = Client().get(reverse("api:sandbox_photo", args=[item["n"]]))
        assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
        path = tmp_path / f"sandbox-{item['n']}.jpg"
        path.write_bytes(photo.content)
        hashed = hash_file(path)  # as a partner's own tools would
        assert (hashed["md5"], hashed["pdq"]) == (item["md5"], item["pdq"])
        assert hashed["pdq_quality"] >= 50  # good enough that the real feed would share it
    assert Client().get(f"/api/sandbox/photos/{sandbox.PHOTOS + 1}.jpg").status_code == 404


def test_an_integration_partner_is_sent_to_the_sandbox(db):
    auth = bearer(integration_partner())
    real = Client().get(reverse("api:hashes"), **auth)
    assert real.status_code == 403 and "/api/sandbox/" in real.json()["error"]
    assert Client().get(reverse("api:sandbox_hashes"), **auth).status_code == 200


@pytest.mark.parametrize("state", ["prospect", "suspended", "offboarded"])
def test_the_sandbox_refuses_partners_outside_integration_and_live(db, state):
    partner = live_partner() if state != "prospect" else onboarding.create_partner(name="P", slug="p", **ACTOR)
    auth = bearer(partner)
    if state != "prospect":
        onboarding.move_partner(partner, "suspend" if state == "suspended" else "offboard", **ACTOR)
    response = Client().get(reverse("api:sandbox_hashes"), **auth)
    assert response.status_code == 403 and response.json()["error"]


def test_the_native_sandbox_feed_shares_then_withdraws(db):
    partner = integration_partner()
    auth = bearer(partner)
    state, seen_active, cursor = {}, set(), ""
    while True:  # pages of 4 end where the shares do: the partner holds photos 11 and 12 before they are withdrawn
        body = Client().get(reverse("api:sandbox_hashes"), {"cursor": cursor, "limit": 4}, **auth).json()
        for record in body["records"]:
            state[(record["signal_type"], record["value"])] = record["status"]
            if record["status"] == "active":
                seen_active.add(record["value"])
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    expected = {}
    for item in sandbox.photos():
        told = "withdrawn" if item["withdrawn"] else "active"
        expected[("pdq", item["pdq"])] = expected[("md5", item["md5"])] = told
    assert state == expected
    assert {i["pdq"] for i in sandbox.photos() if i["withdrawn"]} <= seen_active  # held, then withdrawn
    again = Client().get(reverse("api:sandbox_hashes"), {"cursor": cursor}, **auth).json()
    assert again["records"] == [] and not again["has_more"]
    assert FeedPosition.objects.get(partner=partner, route="sandbox").fetched_at
    assert not BankHash.objects.exists() and not BankChange.objects.exists()


def test_the_stopncii_client_tests_against_the_sandbox(live_server, transactional_db):
    partner = integration_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch", "feedback"], **ACTOR)
    base = live_server.url + reverse("api:sandbox_fetch_hashes").rsplit("/", 1)[0]
    api = StopNCIIAPI(key.public_id, secret, base_url_override=base,
                      additional_function_keys={StopNCIIEndpoint.SubmitFeedback: secret})
    records, sent = {}, 0
    for page in api.fetch_hashes_iter():
        sent += page.count
        records.update({record.hashValue: record for record in page.hashRecords})
    assert sent >= len(records) == sandbox.PHOTOS  # every record parsed by the client
    for item in sandbox.photos():
        expected = "Withdrawn" if item["withdrawn"] else "Active"
        assert records[item["pdq"]].hashStatus.value == expected

    photo = sandbox.photos()[2]
    api.submit_feedback(StopNCIISignalType.ImagePDQ, photo["pdq"], StopNCIICSPFeedbackValue.Blocked,
                        tags={"sandbox-test"})
    report = SandboxReport.objects.get(partner=partner)
    assert (report.value, report.outcome, report.tags, report.via) == (photo["pdq"], "Blocked", ["sandbox-test"],
                                                                       "stopncii")
    refetched = {r.hashValue: r for page in api.fetch_hashes_iter() for r in page.hashRecords}
    assert [f.feedbackValue.value for f in refetched[photo["pdq"]].CSPFeedbacks] == ["Blocked"]
    assert not Outcome.objects.exists() and not BankHash.objects.exists()  # the real bank never hears of it


def test_sandbox_feedback_on_anything_else_is_refused(db):
    partner = integration_partner()
    auth = bearer(partner)
    good = {"signal_type": "md5", "value": sandbox.photos()[0]["md5"], "outcome": "Removed"}
    bad = {"signal_type": "md5", "value": "ab" * 16, "outcome": "Removed"}
    response = Client().post(reverse("api:sandbox_feedback"), json.dumps({"feedback": [good, bad]}),
                             content_type="application/json", **auth)
    assert response.status_code == 404 and response.json()["field"] == "feedback[1].value"
    assert not SandboxReport.objects.exists()  # all or none
    response = Client().post(reverse("api:sandbox_feedback"), json.dumps({"feedback": [good]}),
                             content_type="application/json", **auth)
    assert response.status_code == 200 and response.json()["recorded"] == 1
    assert SandboxReport.objects.get().outcome == "Removed"


def test_the_partner_page_shows_the_sandbox_test(login_as, partner_manager):
    partner = integration_partner()
    auth = bearer(partner)
    Client().get(reverse("api:sandbox_hashes"), **auth)
    Client().post(reverse("api:sandbox_feedback"), json.dumps({"feedback": [
        {"signal_type": "pdq", "value": sandbox.photos()[0]["pdq"], "outcome": "Blocked"}]}),
        content_type="application/json", **auth)
    page = login_as(partner_manager).get(reverse("partner_detail", args=[partner.slug])).content.decode()
    assert "1 report on 1 of 12 sandbox photos" in page and "Sandbox" in page


def test_a_removed_report_comes_back_as_stopnciis_blocked(live_server, transactional_db):
    partner = integration_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch", "feedback"], **ACTOR)
    photo = sandbox.photos()[0]
    Client().post(reverse("api:sandbox_feedback"), json.dumps({"feedback": [
        {"signal_type": "pdq", "value": photo["pdq"], "outcome": "Removed"}]}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
    base = live_server.url + reverse("api:sandbox_fetch_hashes").rsplit("/", 1)[0]
    records = {r.hashValue: r for page in StopNCIIAPI(key.public_id, secret, base_url_override=base)
               .fetch_hashes_iter() for r in page.hashRecords}
    assert [f.feedbackValue.value for f in records[photo["pdq"]].CSPFeedbacks] == ["Blocked"]  # parsed, not lost
