"""Partners' own addresses (issue 18, item 6; design rule 11): an address on a partner's own site is sent to that
partner alone through its feeds (the native feed and push as records of signal type `url`, StopNCII's
FetchHashes as its URL signal type), and its report comes back as the address's outcome. No other partner's feed,
push or reports ever sees it."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import CaseEvent
from core.errors import Refusal
from partners import onboarding, push, stopncii
from partners.models import Delivery, SharedAddress, Webhook
from partners.openapi import SCHEMA
from takedowns import actions
from takedowns.models import Address
from tests.calls import open_case
from tests.conftest import make_staff
from tests.helpers import ACTOR, live_partner, wait_for_the_stopncii_horizon
from tests.takedown_calls import described, paste

OWN = ["https://photogram.example/p/1", "https://www.photogram.example/p/2"]
ELSEWHERE = "https://forum.example.org/thread/9"


def keys(partner):
    key, secret = onboarding.issue_key(partner, scopes=["fetch", "feedback"], **ACTOR)
    return ({"HTTP_AUTHORIZATION": f"Bearer {key.public_id}.{secret}"},
            {"HTTP_OCP_APIM_SUBSCRIPTION_KEY": key.public_id, "HTTP_X_FUNCTIONS_KEY": secret})


@pytest.fixture
def sent(transactional_db, push_settings, push_by_hand):
    """Photogram (a live partner whose site is photogram.example) was sent two addresses of a case through its
    feed; Other, another live partner, was sent nothing. Both push too. A test that reads StopNCII's feed waits for
    its horizon first (wait_for_the_stopncii_horizon): the others need not wait for the second to pass."""
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    photogram, other = live_partner("photogram"), live_partner("other")
    site = described("photogram.example", name="Photogram", partner=photogram)
    case = open_case(casey)
    paste(case, casey, [*OWN, ELSEWHERE])
    own = list(case.web_addresses.filter(site=site).order_by("url"))
    request = actions.request_takedown(case, site, own, method="partner", basis="site_policy", by=casey)
    for partner in (photogram, other):
        Webhook.objects.create(partner=partner, url="https://partner.example/hook",
                               secret=push.seal(push.new_secret()))
    return {"case": case, "casey": casey, "request": request, "own": own, "photogram": photogram,
            "other": other, "keys": {"photogram": keys(photogram), "other": keys(other)}}


def native_feed(headers):
    return Client().get(reverse("api:hashes"), **headers).json()


def stopncii_feed(headers):
    return Client().get(reverse("api:stopncii_fetch_hashes"), {"startTimestamp": 0}, **headers).json()


def test_only_the_partner_whose_site_it_is_receives_its_addresses(sent):
    wait_for_the_stopncii_horizon()
    native, stop = sent["keys"]["photogram"]
    page = native_feed(native)
    urls = [r for r in page["records"] if r["signal_type"] == "url"]
    assert sorted(r["value"] for r in urls) == sorted(a.url for a in sent["own"])
    assert {r["reference"] for r in urls} == {stopncii.pseudonym(sent["photogram"], sent["case"].pk)}
    assert all(list(r) == list(SCHEMA["components"]["schemas"]["UrlRecord"]["properties"]) for r in urls)
    assert sent["case"].reference not in json.dumps(page)
    # Told once: the cursor moves past them.
    again = Client().get(reverse("api:hashes"), {"cursor": page["cursor"]}, **native).json()
    assert again["records"] == [] and again["has_more"] is False
    fetched = stopncii_feed(stop)
    told = [r for r in fetched["hashRecords"] if r["signalType"] == "URL"]
    assert sorted(r["hashValue"] for r in told) == sorted(a.url for a in sent["own"])
    assert all(list(r) == list(SCHEMA["components"]["schemas"]["StopNCIIRecord"]["properties"]) for r in told)
    push.make_batches(Webhook.objects.get(partner=sent["photogram"]))
    (delivery,) = Delivery.objects.filter(partner=sent["photogram"], event="urls.changed")
    assert sorted(r["value"] for r in json.loads(delivery.body)["data"]["records"]) == sorted(
        a.url for a in sent["own"])

    # The other partner: nothing of them in its native feed, its StopNCII feed or its pushes.
    other_native, other_stop = sent["keys"]["other"]
    push.make_batches(Webhook.objects.get(partner=sent["other"]))
    seen = [json.dumps(native_feed(other_native)), json.dumps(stopncii_feed(other_stop)),
            *Delivery.objects.filter(partner=sent["other"]).values_list("body", flat=True)]
    for body in seen:
        assert "photogram.example" not in body and '"url"' not in body and '"URL"' not in body
    # The address elsewhere went to no partner at all.
    assert not SharedAddress.objects.filter(url=ELSEWHERE).exists()
    assert set(SharedAddress.objects.values_list("partner__slug", flat=True)) == {"photogram"}


def test_the_partners_report_comes_back_as_the_outcome(sent):
    native, stop = sent["keys"]["photogram"]
    removed, refused = sent["own"]
    answer = Client().post(reverse("api:feedback"), json.dumps({"feedback": [
        {"signal_type": "url", "value": removed.url, "outcome": "Removed", "acted_at": "2099-01-01T00:00:00Z"}]}),
        content_type="application/json", **native)
    assert answer.status_code == 400 and answer.json()["field"] == "feedback[0].acted_at"  # in the future
    answer = Client().post(reverse("api:feedback"), json.dumps({"feedback": [
        {"signal_type": "url", "value": removed.url, "outcome": "Removed"}]}), content_type="application/json",
        **native)
    assert answer.status_code == 200 and answer.json()["recorded"] == 1
    removed.refresh_from_db()
    assert removed.outcome == Address.Outcome.REMOVED and removed.removed_at >= removed.first_asked_at
    answer = Client().post(reverse("api:stopncii_submit_feedback"), json.dumps({"count": 1, "hashFeedbacks": [
        {"hashValue": refused.url, "feedbackValue": "NotBlocked", "tags": []}]}), content_type="application/json",
        **stop)
    assert answer.status_code == 200 and answer.json()["count"] == 1
    refused.refresh_from_db()
    assert refused.outcome == Address.Outcome.REFUSED
    assert refused.outcomes.last().reason.startswith("The partner judged it not")
    steps = [e.summary() for e in sent["case"].events.filter(kind=CaseEvent.Kind.TAKEDOWN)]
    assert steps[-2:] == ["1 address recorded as removed, reported by Photogram",
                          "1 address recorded as refused, reported by Photogram"]
    # The same report again changes nothing.
    Client().post(reverse("api:feedback"), json.dumps({"feedback": [
        {"signal_type": "url", "value": removed.url, "outcome": "Blocked"}]}), content_type="application/json",
        **native)
    assert removed.outcomes.count() == 2  # asked, removed


def test_another_partner_cannot_report_on_them(sent):
    native, stop = sent["keys"]["other"]
    target = sent["own"][0]
    answer = Client().post(reverse("api:feedback"), json.dumps({"feedback": [
        {"signal_type": "url", "value": target.url, "outcome": "Removed"}]}), content_type="application/json",
        **native)
    assert answer.status_code == 404 and answer.json()["field"] == "feedback[0].value"
    answer = Client().post(reverse("api:stopncii_submit_feedback"), json.dumps({"count": 1, "hashFeedbacks": [
        {"hashValue": target.url, "feedbackValue": "Blocked", "tags": []}]}), content_type="application/json",
        **stop)
    assert answer.status_code == 404 and answer.json()["field"] == "hashFeedbacks[0].value"
    target.refresh_from_db()
    assert target.outcome == Address.Outcome.ASKED


def test_only_a_partners_own_site_goes_through_a_feed(sent):
    forum = described("example.org", name="Forum")
    (elsewhere,) = sent["case"].web_addresses.filter(site=forum)
    with pytest.raises(Refusal, match="not a partner's site"):
        actions.request_takedown(sent["case"], forum, [elsewhere], method="partner", basis="site_policy",
                                 by=sent["casey"])
    with pytest.raises(Refusal, match="not this case's on this site"):  # the partner's site, another site's address
        actions.request_takedown(sent["case"], sent["request"].site, [elsewhere], method="partner",
                                 basis="site_policy", by=sent["casey"])
    assert not SharedAddress.objects.filter(url=elsewhere.url).exists()


def test_retention_takes_them_out_of_the_feed(sent):
    wait_for_the_stopncii_horizon()
    Address.objects.filter(case=sent["case"]).purge()
    assert set(SharedAddress.objects.values_list("url", flat=True)) == {""}
    native, stop = sent["keys"]["photogram"]
    assert not [r for r in native_feed(native)["records"] if r["signal_type"] == "url"]
    assert not [r for r in stopncii_feed(stop)["hashRecords"] if r["signalType"] == "URL"]


def test_the_feed_is_offered_only_on_a_partners_site(login_as, caseworker):
    photogram = live_partner("photogram")
    site = described("photogram.example", name="Photogram", partner=photogram)
    described("example.org", name="Forum")
    case = open_case(caseworker)
    paste(case, caseworker, [*OWN, ELSEWHERE])
    client = login_as(caseworker)
    page = client.get(reverse("case_web_addresses", args=[case.reference])).content.decode()
    forms = {chunk.split('"', 1)[0]: chunk for chunk in page.split('data-site="')[1:]}
    assert 'value="partner"' in forms["photogram.example"] and 'value="partner"' not in forms["example.org"]
    answer = client.post(reverse("takedown_request_new", args=[case.reference]), {
        "site": site.pk, "address": [a.pk for a in case.web_addresses.filter(site=site)], "method": "partner",
        "basis": "site_policy"}, follow=True)
    assert "sent to the partner alone, through its feed" in answer.content.decode()
    assert SharedAddress.objects.filter(partner=photogram).count() == 2
    request = case.takedown_requests.get()
    page = client.get(reverse("takedown_request", args=[case.reference, request.pk])).content.decode()
    assert "The addresses went to Photogram alone, through its own feed" in page and 'id="mail-body"' not in page


def test_the_threatexchange_client_reads_and_reports_them(sent, live_server):
    """StopNCII's own client (`threatexchange`'s StopNCIIAPI) parses the URL records and sends feedback on one."""
    from threatexchange.exchanges.clients.stopncii.api import (
        StopNCIIAPI,
        StopNCIICSPFeedbackValue,
        StopNCIIEndpoint,
        StopNCIISignalType,
    )

    key, secret = onboarding.issue_key(sent["photogram"], scopes=["fetch", "feedback"], **ACTOR)
    wait_for_the_stopncii_horizon()
    base = live_server.url + reverse("api:stopncii_fetch_hashes").rsplit("/", 1)[0]
    api = StopNCIIAPI(key.public_id, secret, {StopNCIIEndpoint.SubmitFeedback: secret}, base_url_override=base)
    records = [r for page in api.fetch_hashes_iter(0) for r in page.hashRecords]
    urls = [r for r in records if r.signalType == StopNCIISignalType.URL]
    assert sorted(r.hashValue for r in urls) == sorted(a.url for a in sent["own"])
    assert all(list(r.caseNumbers) == [stopncii.pseudonym(sent["photogram"], sent["case"].pk)] for r in urls)
    api.submit_feedback(StopNCIISignalType.URL, sent["own"][0].url, StopNCIICSPFeedbackValue.Blocked)
    assert Address.objects.get(pk=sent["own"][0].pk).outcome == Address.Outcome.REMOVED
