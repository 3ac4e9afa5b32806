"""Partners' own addresses (issue 18, item 6; design rule 11): an address on a partner's own site is sent to that
partner alone through its feeds (the native feed and push as records of signal type `url`, StopNCII's
FetchHashes as its URL signal type), and its report comes back as the address's outcome. No other partner's feed,
push or reports ever sees it. When the case is withdrawn, the partner that had an address reads it withdrawn
through each of those routes, after its cursor, and its reports on it are taken but not acted on."""

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import actions as cases
from cases.models import Case, CaseEvent
from core.errors import Refusal
from ncii_portal import retention
from partners import onboarding, push, stopncii, tasks, webhooks, withdrawals
from partners.models import Delivery, Partner, SharedAddress, Webhook
from partners.openapi import SCHEMA
from takedowns import actions
from takedowns.models import Address
from tests.calls import issue_code, open_case, submit, video
from tests.conftest import make_staff, signed_in_client, wait_for
from tests.helpers import ACTOR, database_second, live_partner, wait_for_the_stopncii_horizon
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


def stopncii_feed(headers, start=0):
    return Client().get(reverse("api:stopncii_fetch_hashes"), {"startTimestamp": start}, **headers).json()


def urls_in(page):
    return [r for r in page["records"] if r["signal_type"] == "url"]


def withdraw(case):
    """The caller withdraws the case; returns once the feeds may hand out what the withdrawal wrote (settled, and
    past StopNCII's horizon)."""
    cases.withdraw_case(case)
    wait_for_the_stopncii_horizon()


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


def test_a_withdrawal_reaches_the_partner_after_its_cursor(sent):
    wait_for_the_stopncii_horizon()
    native, stop = sent["keys"]["photogram"]
    before = native_feed(native)
    had = {r["value"]: r for r in urls_in(before)}
    checkpoint = stopncii_feed(stop)["nextSetTimestamp"]
    other_native, other_stop = sent["keys"]["other"]
    other_cursor = native_feed(other_native)["cursor"]
    withdraw(sent["case"])

    page = Client().get(reverse("api:hashes"), {"cursor": before["cursor"]}, **native).json()
    told = urls_in(page)
    assert sorted(r["value"] for r in told) == sorted(had) and {r["status"] for r in told} == {"withdrawn"}
    assert all(r["reference"] == had[r["value"]]["reference"] and r["updated"] > had[r["value"]]["updated"]
               for r in told)
    schema = SCHEMA["components"]["schemas"]["UrlRecord"]["properties"]
    assert all(list(r) == list(schema) for r in told) and "withdrawn" in schema["status"]["enum"]
    # Told once: its cursor moves past the withdrawal.
    assert Client().get(reverse("api:hashes"), {"cursor": page["cursor"]}, **native).json()["records"] == []
    # A reader starting from before the addresses were sent never had them: it is told nothing of them.
    assert urls_in(native_feed(native)) == []

    fetched = [r for r in stopncii_feed(stop, checkpoint)["hashRecords"] if r["signalType"] == "URL"]
    pseudonym = stopncii.pseudonym(sent["photogram"], sent["case"].pk)
    assert sorted(r["hashValue"] for r in fetched) == sorted(had)
    assert all(r["hashStatus"] == "Withdrawn" and r["caseNumbers"] == {pseudonym: "Withdrawn"} for r in fetched)
    assert not [r for r in stopncii_feed(stop)["hashRecords"] if r["signalType"] == "URL"]

    # The other partner: nothing, by any route, before or after its cursor.
    push.make_batches(Webhook.objects.get(partner=sent["other"]))
    seen = [json.dumps(native_feed(other_native)), json.dumps(stopncii_feed(other_stop)),
            json.dumps(Client().get(reverse("api:hashes"), {"cursor": other_cursor}, **other_native).json()),
            *Delivery.objects.filter(partner=sent["other"]).values_list("body", flat=True)]
    for body in seen:
        assert "photogram.example" not in body and '"url"' not in body and '"URL"' not in body


def test_push_delivers_the_withdrawal(sent, receiver):
    server = receiver()
    secret = webhooks.set_webhook(sent["photogram"], server.url, **ACTOR)
    push.run_round(sent["photogram"].pk)

    def told():
        return {r["value"]: r["status"] for message in server.messages(secret).values()
                if message["type"] == "urls.changed" for r in message["data"]["records"]}

    assert told() == {a.url: "active" for a in sent["own"]}
    cache.delete(tasks.ROUND_QUEUED)
    withdraw(sent["case"])
    assert cache.get(tasks.ROUND_QUEUED)  # the withdrawal asked for a push round, after it committed
    assert sent["photogram"].pk in push.due_partner_ids()  # and beat's re-drive would find it, were that lost
    push.run_round(sent["photogram"].pk)
    assert told() == {a.url: "withdrawn" for a in sent["own"]}
    (withdrawal,) = [m for m in server.messages(secret).values()
                     if {r["status"] for r in m["data"]["records"]} == {"withdrawn"}]
    assert withdrawal["type"] == "urls.changed" and len(withdrawal["data"]["records"]) == len(sent["own"])
    # Told once.
    assert sent["photogram"].pk not in push.due_partner_ids()
    push.make_batches(Webhook.objects.get(partner=sent["other"]))
    assert not Delivery.objects.filter(partner=sent["other"]).exists()


def test_a_report_after_the_withdrawal_is_taken_but_not_acted_on(sent):
    native, stop = sent["keys"]["photogram"]
    first, second = sent["own"]
    events = sent["case"].events.filter(kind=CaseEvent.Kind.TAKEDOWN).count()
    withdraw(sent["case"])
    answer = Client().post(reverse("api:feedback"), json.dumps({"feedback": [
        {"signal_type": "url", "value": first.url, "outcome": "Removed"}]}), content_type="application/json",
        **native)
    assert answer.status_code == 200 and answer.json()["recorded"] == 0
    answer = Client().post(reverse("api:stopncii_submit_feedback"), json.dumps({"count": 1, "hashFeedbacks": [
        {"hashValue": second.url, "feedbackValue": "NotBlocked", "tags": []}]}), content_type="application/json",
        **stop)
    assert answer.status_code == 200 and answer.json()["count"] == 0
    assert set(Address.objects.filter(pk__in=[first.pk, second.pk]).values_list("outcome", flat=True)) == {
        Address.Outcome.ASKED}
    assert sent["case"].events.filter(kind=CaseEvent.Kind.TAKEDOWN).count() == events
    # Still unknown to anyone it was not sent to.
    other_native, _other_stop = sent["keys"]["other"]
    answer = Client().post(reverse("api:feedback"), json.dumps({"feedback": [
        {"signal_type": "url", "value": first.url, "outcome": "Removed"}]}), content_type="application/json",
        **other_native)
    assert answer.status_code == 404


def test_the_threatexchange_client_reads_the_withdrawal(sent, live_server):
    from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI, StopNCIICaseStatus, StopNCIISignalType

    wait_for_the_stopncii_horizon()
    key, secret = onboarding.issue_key(sent["photogram"], scopes=["fetch"], **ACTOR)
    base = live_server.url + reverse("api:stopncii_fetch_hashes").rsplit("/", 1)[0]
    api = StopNCIIAPI(key.public_id, secret, {}, base_url_override=base)
    pages = list(api.fetch_hashes_iter(0))
    assert {r.hashStatus for page in pages for r in page.hashRecords if r.signalType == StopNCIISignalType.URL} \
        == {StopNCIICaseStatus.Active}
    withdraw(sent["case"])
    urls = [r for page in api.fetch_hashes_iter(pages[-1].nextSetTimestamp) for r in page.hashRecords
            if r.signalType == StopNCIISignalType.URL]
    assert sorted(r.hashValue for r in urls) == sorted(a.url for a in sent["own"])
    assert all(r.hashStatus == StopNCIICaseStatus.Withdrawn
               and list(r.caseNumbers.values()) == [StopNCIICaseStatus.Withdrawn] for r in urls)


# --- Retention waits until the partner has read the withdrawal (docs/caller.md, "Partners' own addresses") -------

def purge_due(case):
    """Retention, the case withdrawn long enough ago: how many of its web addresses it purged."""
    long_ago = timezone.now() - timedelta(days=settings.RETENTION_WITHDRAWN_DAYS + 1)
    Case.objects.filter(pk=case.pk).update(withdrawn_at=long_ago, ended_at=long_ago)
    return retention.apply()["web_addresses"]


def state(partner, value):
    Partner.objects.filter(pk=partner.pk).update(state=value)


def still_kept(case):
    return (Address.objects.filter(case=case, purged_at=None).count(),
            SharedAddress.objects.filter(case=case, purged_at=None).exclude(url="").count())


def test_a_suspended_partner_holds_the_purge_until_its_feed_reads_the_withdrawal(sent):
    native, _stop = sent["keys"]["photogram"]
    before = native_feed(native)
    assert len(urls_in(before)) == len(OWN)
    native_feed(sent["keys"]["other"][0])  # the other partner reads too, and is never sent the addresses
    withdraw(sent["case"])
    state(sent["photogram"], Partner.State.SUSPENDED)
    assert purge_due(sent["case"]) == 0  # suspended, it has not read the withdrawal: it still has them "asked"
    assert still_kept(sent["case"]) == (len(OWN) + 1, len(OWN))

    state(sent["photogram"], Partner.State.LIVE)
    page = Client().get(reverse("api:hashes"), {"cursor": before["cursor"], "limit": 1}, **native).json()
    assert {r["status"] for r in urls_in(page)} == {"withdrawn"} and page["has_more"]
    assert purge_due(sent["case"]) == 0  # one of the two read so far
    Client().get(reverse("api:hashes"), {"cursor": page["cursor"]}, **native)
    assert purge_due(sent["case"]) == len(OWN) + 1  # read: the case's addresses go, its other one with them
    assert still_kept(sent["case"]) == (0, 0)


def test_an_offboarded_partner_does_not_hold_the_purge(sent):
    native_feed(sent["keys"]["photogram"][0])
    withdraw(sent["case"])
    state(sent["photogram"], Partner.State.SUSPENDED)
    assert purge_due(sent["case"]) == 0
    state(sent["photogram"], Partner.State.OFFBOARDED)
    assert purge_due(sent["case"]) == len(OWN) + 1


def test_push_holds_the_purge_until_the_withdrawal_is_delivered(sent, receiver):
    server = receiver(answers=(200, 500, 200))
    secret = webhooks.set_webhook(sent["photogram"], server.url, **ACTOR)
    push.run_round(sent["photogram"].pk)
    assert len(server.messages(secret)) == 1  # the addresses, delivered
    withdraw(sent["case"])
    push.run_round(sent["photogram"].pk)  # the withdrawal is cut, and answered 500: not delivered
    assert server.statuses == [200, 500]
    assert Webhook.objects.get(partner=sent["photogram"]).address_txid == SharedAddress.objects.aggregate(
        Max("txid"))["txid__max"]
    assert purge_due(sent["case"]) == 0
    Delivery.objects.filter(partner=sent["photogram"]).update(due_at=timezone.now())
    push.run_round(sent["photogram"].pk)
    assert server.statuses == [200, 500, 200]
    assert purge_due(sent["case"]) == len(OWN) + 1


def test_a_stopncii_sync_past_the_withdrawal_lets_the_purge_happen(sent):
    wait_for_the_stopncii_horizon()
    _native, stop = sent["keys"]["photogram"]
    checkpoint = stopncii_feed(stop)["nextSetTimestamp"]
    withdraw(sent["case"])
    state(sent["photogram"], Partner.State.SUSPENDED)
    assert purge_due(sent["case"]) == 0
    state(sent["photogram"], Partner.State.LIVE)
    told = stopncii_feed(stop, checkpoint)
    assert {r["hashStatus"] for r in told["hashRecords"] if r["signalType"] == "URL"} == {"Withdrawn"}
    assert purge_due(sent["case"]) == len(OWN) + 1


def test_a_partner_never_sent_the_addresses_does_not_hold_the_purge(sent):
    native, _stop = sent["keys"]["photogram"]
    before = native_feed(native)
    for reads in sent["keys"]["other"]:  # Other reads both feeds, then stops reading: it was never sent them
        Client().get(reverse("api:hashes"), **reads) if "HTTP_AUTHORIZATION" in reads else stopncii_feed(reads)
    withdraw(sent["case"])
    state(sent["other"], Partner.State.SUSPENDED)
    assert purge_due(sent["case"]) == 0  # Photogram has not read the withdrawal yet
    Client().get(reverse("api:hashes"), {"cursor": before["cursor"]}, **native)
    assert purge_due(sent["case"]) == len(OWN) + 1


def test_a_withdrawal_in_a_dropped_batch_is_cut_again_and_holds_the_purge_until_delivered(sent, receiver):
    server = receiver(answers=(200, 500, 200))
    secret = webhooks.set_webhook(sent["photogram"], server.url, **ACTOR)
    push.run_round(sent["photogram"].pk)
    withdraw(sent["case"])
    push.run_round(sent["photogram"].pk)  # answered 500
    state(sent["photogram"], Partner.State.SUSPENDED)
    long_ago = timezone.now() - timedelta(days=settings.RETENTION_DELIVERY_DAYS + 1)
    Delivery.objects.filter(partner=sent["photogram"]).update(created=long_ago)
    assert purge_due(sent["case"]) == 0  # its undelivered batch, the withdrawal, is dropped; the purge waits
    assert not Delivery.objects.filter(partner=sent["photogram"]).undelivered().exists()

    state(sent["photogram"], Partner.State.LIVE)
    push.run_round(sent["photogram"].pk)  # the withdrawal is cut again, and delivered
    assert server.statuses == [200, 500, 200]
    assert [{r["status"] for r in m["data"]["records"]} for m in server.messages(secret).values()] == [
        {"active"}, {"withdrawn"}, {"withdrawn"}]
    assert purge_due(sent["case"]) == len(OWN) + 1


# --- The case page and the caller's status page count the addresses' withdrawal (partners.withdrawals) ----------

def caller_page(case, pin):
    caller = Client()
    caller.post(reverse("caller:status"), {"reference": case.display_reference, "pin": pin})
    return caller.get(reverse("caller:case")).content.decode()


def partner_on(status, name):
    """What the caller's status page says of one partner, as text."""
    block = status[status.index(f'<li data-partner="{name}">'):]
    return " ".join(re.sub("<[^>]+>", " ", block[:block.index("</li>")]).split())


def staff_row(casey, case, name):
    page = signed_in_client(casey).get(reverse("case_detail", args=[case.reference])).content.decode()
    row = page[page.index(f'<tr data-partner="{name}">'):]
    return " ".join(re.sub("<[^>]+>", " ", row[:row.index("</tr>")]).split())


def test_a_partner_sent_only_addresses_is_told_once_its_feed_reads_their_withdrawal(sent):
    # The case's one fingerprint is another case's too: it stays shared, so the withdrawal tells of addresses only.
    submit(issue_code(open_case(sent["casey"]), sent["casey"]), [video(7)])
    pin = submit(issue_code(sent["case"], sent["casey"]), [video(7)]).json()["pin"]
    native, _stop = sent["keys"]["photogram"]
    before = native_feed(native)
    assert len(urls_in(before)) == len(OWN)
    withdraw(sent["case"])

    assert withdrawals.summary(sent["case"]) == {"partners": 1, "told": 0, "acknowledged": 0, "rows": [
        {"partner": "Photogram", "told": False, "acknowledged": None, "pushed": False, "wait": None}]}
    assert staff_row(sent["casey"], sent["case"], "Photogram") == "Photogram 0 — — 0 of 2 Not yet"
    status = caller_page(sent["case"], pin)
    assert 'data-field="had">1<' in status and 'data-field="told">0<' in status
    assert partner_on(status, "Photogram") == ("Photogram Told to stop using them Not yet: when this website next "
                                               "collects updates from us.")  # nothing to confirm of addresses

    Client().get(reverse("api:hashes"), {"cursor": before["cursor"]}, **native)  # reads the withdrawal
    assert withdrawals.summary(sent["case"]) == {"partners": 1, "told": 1, "acknowledged": 0, "rows": [
        {"partner": "Photogram", "told": True, "acknowledged": None}]}
    assert staff_row(sent["casey"], sent["case"], "Photogram") == "Photogram 0 — — 2 of 2 Yes"
    status = caller_page(sent["case"], pin)
    assert 'data-field="had">1<' in status and 'data-field="told">1<' in status
    assert partner_on(status, "Photogram") == "Photogram Told to stop using them Yes"


def test_a_partner_told_of_the_hashes_is_not_told_until_it_reads_the_addresses_withdrawal(sent):
    pin = submit(issue_code(sent["case"], sent["casey"]), [video(7)]).json()["pin"]
    native, _stop = sent["keys"]["photogram"]
    before = native_feed(native)
    assert {r["signal_type"] for r in before["records"]} == {"md5", "url"}  # it had the hash and the addresses
    withdraw(sent["case"])
    page = Client().get(reverse("api:hashes"), {"cursor": before["cursor"], "limit": 1}, **native).json()
    assert [(r["signal_type"], r["status"]) for r in page["records"]] == [("md5", "withdrawn")] and page["has_more"]

    (row,) = [r for r in withdrawals.reach(sent["case"]) if r["partner"] == "Photogram"]
    assert (row["hashes"], row["told"], row["addresses"], row["addresses_told"], row["told_all"]) == (1, 1, 2, 0,
                                                                                                    False)
    assert staff_row(sent["casey"], sent["case"], "Photogram") == "Photogram 1 1 of 1 0 of 1 0 of 2 Not yet"
    assert [r for r in withdrawals.summary(sent["case"])["rows"] if r["partner"] == "Photogram"] == [
        {"partner": "Photogram", "told": False, "acknowledged": False, "pushed": False, "wait": None}]
    assert partner_on(caller_page(sent["case"], pin), "Photogram") == (
        "Photogram Told to stop using them Not yet: when this website next collects updates from us. "
        "Confirmed they stopped Not yet")

    Client().get(reverse("api:hashes"), {"cursor": page["cursor"]}, **native)  # the addresses' withdrawal
    assert staff_row(sent["casey"], sent["case"], "Photogram") == "Photogram 1 1 of 1 0 of 1 2 of 2 Yes"
    assert partner_on(caller_page(sent["case"], pin), "Photogram") == (
        "Photogram Told to stop using them Yes Confirmed they stopped Not yet")


# --- A StopNCII sync cut off midway (docs/api.md, "Web addresses on the partner's own platform") ------------------
#
# A sync's addresses come on its last page. A client whose sync stops midway keeps the checkpoint of the last page
# it got (threatexchange stores every page's nextSetTimestamp) and restarts from there, later than where the sync
# began: the restart still carries every address change the partner has not had.

def stopncii_page(headers, start, token="", page_size=1000):
    answer = Client().get(reverse("api:stopncii_fetch_hashes"),
                          {"startTimestamp": start, "pageSize": page_size, "nextPageToken": token}, **headers)
    assert answer.status_code == 200, answer.content
    return answer.json()


def stopncii_urls(page):
    return {r["hashValue"]: r["hashStatus"] for r in page["hashRecords"] if r["signalType"] == "URL"}


def two_hashes_later(sent, after=0):
    """Two hashes of another case banked in a second after the addresses' last change and after the unix second
    `after` (so a sync cut off after the first restarts from a checkpoint past both), once StopNCII may hand them
    out."""
    newest = max(SharedAddress.objects.aggregate(newest=Max("at"))["newest"].timestamp(), after)
    assert wait_for(lambda: database_second() > newest, interval=0.02)
    later = open_case(sent["casey"])
    submit(issue_code(later, sent["casey"]), [video(1), video(2)])
    wait_for_the_stopncii_horizon()


def cut_off(headers, start):
    """A sync's first page (one record), after which it stops: the checkpoint its client keeps."""
    page = stopncii_page(headers, start, page_size=1)
    assert page["hasMoreRecords"] and len(page["hashRecords"]) == 1 and not stopncii_urls(page)
    assert page["nextSetTimestamp"] > start
    return page["nextSetTimestamp"]


def test_a_stopncii_sync_cut_off_midway_still_carries_the_addresses_sent_before_its_restart(sent, live_server):
    """As threatexchange's client does it: a first page, a stop, then a sync from that page's nextSetTimestamp."""
    from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI, StopNCIICaseStatus, StopNCIISignalType

    two_hashes_later(sent)
    key, secret = onboarding.issue_key(sent["photogram"], scopes=["fetch"], **ACTOR)
    base = live_server.url + reverse("api:stopncii_fetch_hashes").rsplit("/", 1)[0]
    api = StopNCIIAPI(key.public_id, secret, {}, base_url_override=base)
    first = api.fetch_hashes(page_size=1, start_timestamp=0)
    assert first.hasMoreRecords and first.nextSetTimestamp > max(a.at.timestamp() for a in
                                                                  SharedAddress.objects.all())
    restarted = [r for page in api.fetch_hashes_iter(first.nextSetTimestamp) for r in page.hashRecords]
    urls = {r.hashValue: r.hashStatus for r in restarted if r.signalType == StopNCIISignalType.URL}
    assert urls == {a.url: StopNCIICaseStatus.Active for a in sent["own"]}
    assert {r.hashValue for r in restarted} >= {video(2)["md5"]}


def test_a_withdrawal_before_a_cut_off_syncs_restart_still_reaches_it_and_then_the_purge_happens(sent):
    wait_for_the_stopncii_horizon()
    _native, stop = sent["keys"]["photogram"]
    had = stopncii_page(stop, 0)  # a whole sync: the addresses, active
    assert stopncii_urls(had) == {a.url: "Active" for a in sent["own"]}
    withdraw(sent["case"])
    two_hashes_later(sent)
    checkpoint = cut_off(stop, had["nextSetTimestamp"])
    assert purge_due(sent["case"]) == 0  # not yet told of the withdrawal

    told = stopncii_page(stop, checkpoint)
    assert not told["hasMoreRecords"]
    assert stopncii_urls(told) == {a.url: "Withdrawn" for a in sent["own"]}
    assert purge_due(sent["case"]) == len(OWN) + 1


def test_a_sync_that_finished_is_not_carried_the_same_addresses_again(sent):
    wait_for_the_stopncii_horizon()
    _native, stop = sent["keys"]["photogram"]
    whole = stopncii_page(stop, 0)
    assert stopncii_urls(whole) == {a.url: "Active" for a in sent["own"]}
    two_hashes_later(sent, after=whole["nextSetTimestamp"])
    # The next sync from where the last one ended, cut off and restarted: nothing of the addresses again.
    checkpoint = cut_off(stop, whole["nextSetTimestamp"])
    rest = stopncii_page(stop, checkpoint)
    assert not rest["hasMoreRecords"] and rest["hashRecords"] and not stopncii_urls(rest)
    assert not stopncii_urls(stopncii_page(stop, rest["nextSetTimestamp"]))
    # A partner starting afresh from 0 is carried them again, as it asks.
    assert stopncii_urls(stopncii_page(stop, 0)) == {a.url: "Active" for a in sent["own"]}
