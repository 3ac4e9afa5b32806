"""The bank's second promise: every partner that ever received a hash, and is not offboarded, is told of its
withdrawal before the hash leaves the bank (design rule 9), whatever happens meanwhile: a partner suspended for a
while, a StopNCII sync cut off midway, push batches that wait."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import actions as cases
from cases.models import Case
from hashing.models import BankChange, BankHash
from ncii_portal import retention
from partners import onboarding, push, webhooks, withdrawals
from partners.models import Delivery
from tests.calls import image, issue_code, open_case, submit, video
from tests.helpers import ACTOR, live_partner, wait_for_the_stopncii_horizon

pytestmark = pytest.mark.django_db(transaction=True)


def native_reader(partner):
    """A partner fetching the native feed: fetch() reads every page from its cursor, returns {value: status}."""
    _key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    state = {"cursor": "", "auth": f"Bearer {_key.public_id}.{secret}"}

    def fetch():
        seen = {}
        while True:
            response = Client().get(reverse("api:hashes"), {"cursor": state["cursor"], "limit": 2},
                                    HTTP_AUTHORIZATION=state["auth"])
            assert response.status_code == 200, response.content
            body = response.json()
            seen.update({r["value"]: r["status"] for r in body["records"]})
            state["cursor"] = body["cursor"]
            if not body["has_more"]:
                return seen

    return fetch


def stopncii_page(key, secret, start, token="", page_size=1):
    response = Client().get(reverse("api:stopncii_fetch_hashes"),
                            {"startTimestamp": start, "pageSize": page_size, "nextPageToken": token},
                            HTTP_OCP_APIM_SUBSCRIPTION_KEY=key.public_id, HTTP_X_FUNCTIONS_KEY=secret)
    assert response.status_code == 200, response.content
    return response.json()


def past_retention(case, settings):
    long_ago = timezone.now() - timedelta(days=settings.RETENTION_WITHDRAWN_DAYS + 1)
    Case.objects.filter(pk=case.pk).update(withdrawn_at=long_ago, ended_at=long_ago)
    BankHash.objects.filter(status=BankHash.Status.WITHDRAWN).update(changed=long_ago)


def test_a_suspended_partner_keeps_withdrawn_hashes_in_the_bank_until_it_has_heard(caseworker, settings):
    partner = live_partner()
    fetch = native_reader(partner)
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [image(1), video(2)])
    assert fetch() == {image(1)["pdq"]: "active", image(1)["md5"]: "active", image(1)["phash"]: "active",
                       video(2)["md5"]: "active"}

    onboarding.move_partner(partner, "suspend", **ACTOR)
    cases.withdraw_case(case)
    # The caller's status page does not count the suspended partner as told: it still holds the hashes.
    summary = withdrawals.summary(case)
    assert summary["partners"] == 1 and summary["told"] == 0
    onboarding.move_partner(partner, "resume", **ACTOR)
    assert withdrawals.summary(case)["told"] == 0  # back, not yet fetched
    onboarding.move_partner(partner, "suspend", **ACTOR)
    past_retention(case, settings)
    assert retention.apply()["bank_hashes"] == 0  # it still blocks them: they wait for it

    onboarding.move_partner(partner, "resume", **ACTOR)
    assert set(fetch().values()) == {"withdrawn"}
    assert retention.apply()["bank_hashes"] == 4


def test_an_offboarded_partner_is_not_waited_for(caseworker, settings):
    partner = live_partner()
    fetch = native_reader(partner)
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [video(2)])
    fetch()
    onboarding.move_partner(partner, "offboard", **ACTOR)
    cases.withdraw_case(case)
    past_retention(case, settings)
    assert retention.apply()["bank_hashes"] == 1


def test_a_stopncii_sync_cut_off_midway_still_hears_of_a_withdrawal_in_its_last_second(caseworker):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    handed, later = open_case(caseworker), open_case(caseworker)
    submit(issue_code(handed, caseworker), [video(1)])
    submit(issue_code(later, caseworker), [video(2)])
    wait_for_the_stopncii_horizon()  # a second is handed out only once it can receive no more changes

    # The sync's first page (one record), then it stops (a 429, a timeout, a deploy). The client keeps the page's
    # checkpoint: the whole second that record was changed in, which the next sync starts from.
    page = stopncii_page(key, secret, 0)
    assert page["hasMoreRecords"] and [r["hashValue"] for r in page["hashRecords"]] == [video(1)["md5"]]
    checkpoint = page["nextSetTimestamp"]
    assert checkpoint <= BankChange.objects.get(bank_hash__value=video(1)["md5"]).at.timestamp()

    cases.withdraw_case(handed)
    wait_for_the_stopncii_horizon()
    told, token = {}, ""
    while True:
        page = stopncii_page(key, secret, checkpoint, token=token, page_size=10)
        told.update({r["hashValue"]: r["hashStatus"] for r in page["hashRecords"]})
        token = page["nextPageToken"]
        if not page["hasMoreRecords"]:
            break
    assert told == {video(1)["md5"]: "Withdrawn", video(2)["md5"]: "Active"}


def test_undelivered_batches_of_an_offboarded_partner_are_dropped(caseworker, receiver, push_settings, push_by_hand):
    partner_server = receiver(answers=[503])
    partner = live_partner()
    webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    submit(issue_code(open_case(caseworker), caseworker), [image(1)])
    push.run_round(partner.pk)
    assert Delivery.objects.filter(partner=partner, state=Delivery.State.PENDING).exists()
    onboarding.move_partner(partner, "offboard", **ACTOR)
    assert not Delivery.objects.filter(partner=partner).exclude(state=Delivery.State.TEST).exists()


def test_retention_drops_old_undelivered_batches_of_a_suspended_partner_and_it_is_sent_them_again(
        caseworker, receiver, push_settings, push_by_hand):
    partner_server = receiver(answers=[200])
    partner = live_partner()
    secret = webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    had, maybe_had, never_had = open_case(caseworker), open_case(caseworker), open_case(caseworker)
    submit(issue_code(had, caseworker), [video(1)])
    push.run_round(partner.pk)
    assert partner_server.records(secret) == {("md5", video(1)["md5"]): "active"}

    partner_server.answers[:] = [503]  # from now on its endpoint fails (it may still apply what it is sent)
    submit(issue_code(maybe_had, caseworker), [video(2)])
    cases.withdraw_case(had)
    push.run_round(partner.pk)
    waiting = Delivery.objects.get(partner=partner, state=Delivery.State.PENDING)
    assert video(1)["md5"] in waiting.body and video(2)["md5"] in waiting.body and waiting.attempts == 1

    onboarding.move_partner(partner, "suspend", **ACTOR)
    submit(issue_code(never_had, caseworker), [video(3)])  # while it is suspended nothing is cut for it
    days = push_settings.RETENTION_DELIVERY_DAYS
    assert retention.apply()["undelivered_batches"] == 0  # not old enough yet
    Delivery.objects.filter(pk=waiting.pk).update(created=timezone.now() - timedelta(days=days + 1))
    assert retention.apply()["undelivered_batches"] == 1
    assert not Delivery.objects.filter(partner=partner).exclude(state=Delivery.State.DELIVERED).exists()

    # Back: it is sent the bank as it is now, from where its deliveries really reached: the withdrawal of what
    # it had, and of what it was sent in the batch it answered with an error; a hash withdrawn before it was
    # ever sent it is not mentioned.
    cases.withdraw_case(maybe_had)
    cases.withdraw_case(never_had)
    onboarding.move_partner(partner, "resume", **ACTOR)
    partner_server.calls.clear()
    partner_server.answers[:] = [200]
    while push.run_round(partner.pk) == 0:
        pass
    assert partner_server.records(secret) == {("md5", video(1)["md5"]): "withdrawn",
                                              ("md5", video(2)["md5"]): "withdrawn"}
    assert withdrawals.summary(had)["told"] == 1


def test_a_live_partner_keeps_its_parked_batches(caseworker, receiver, push_settings, push_by_hand):
    partner_server = receiver(answers=[503])
    partner = live_partner()
    webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    submit(issue_code(open_case(caseworker), caseworker), [image(1)])
    push.run_round(partner.pk)
    Delivery.objects.update(state=Delivery.State.PARKED, created=datetime(2020, 1, 1, tzinfo=UTC))
    assert retention.apply()["undelivered_batches"] == 0
    assert Delivery.objects.filter(partner=partner, state=Delivery.State.PARKED).count() == 1


def test_a_partner_not_told_yet_says_when_it_should_be():
    """What the caller's status page says of a partner not told yet (withdrawals.usual_wait): its rhythm of syncs,
    a sync's pages counting as one; nothing when that is unknown or it is overdue; minutes for a working webhook."""
    from partners.models import Handover, Partner, Webhook

    now = timezone.now()
    partner = live_partner("fetcher")

    def synced(*hours_ago, pages=1):
        for hours in hours_ago:
            for page in range(pages):  # a full sync: several pages a second apart
                Handover.objects.create(partner=partner, route="native", change_id=0,
                                        at=now - timedelta(hours=hours) + timedelta(seconds=page))

    assert withdrawals.usual_wait(partner, now) == {"pushed": False, "wait": None}  # never synced
    synced(8, 4, pages=3)
    assert withdrawals.usual_wait(partner, now)["wait"] is None  # one gap: no rhythm yet
    synced(0.5, pages=3)
    assert withdrawals.usual_wait(partner, now)["wait"] == timedelta(hours=3.75)  # the median of 3.5 and 4 hours
    synced(12, pages=3)  # gaps of 4, 4 and 3.5 hours
    assert withdrawals.usual_wait(partner, now)["wait"] == timedelta(hours=4)
    assert withdrawals.usual_wait(partner, now + timedelta(hours=5))["wait"] is None  # overdue: nobody can say

    Webhook.objects.create(partner=partner, url="https://partner.example/hook", secret="sealed")
    partner.delivery = Partner.Delivery.BOTH
    partner.save()
    partner = Partner.objects.select_related("webhook").get(pk=partner.pk)
    assert withdrawals.usual_wait(partner, now) == {"pushed": True, "wait": None}
    partner.webhook.degraded_at = now  # retries ran out: minutes would be a promise nobody keeps
    assert withdrawals.usual_wait(partner, now)["wait"] == timedelta(hours=4)
