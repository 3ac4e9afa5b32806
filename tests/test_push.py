"""Push: the caller's hashes reach a partner's webhook through the real worker, signed per Standard Webhooks (checked
with the `standardwebhooks` package, as a partner would), and the partner's feedback comes back to the case.
Also: signatures during a secret's rotation, where a webhook may point, and the partner_webhook command."""

import io
import json
import re
import socket
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from standardwebhooks.webhooks import Webhook as Verifier

from core.errors import Refusal
from partners import onboarding, push, webhooks
from partners.models import Delivery, Partner, Webhook
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import signed_in_client, wait_for
from tests.helpers import ACTOR, live_partner


def test_signatures_verify_with_standard_webhooks_also_during_a_rotation(db, push_settings):
    partner = live_partner()
    webhook = Webhook.objects.create(partner=partner, url="https://partner.example/hook",
                                     secret=push.seal(old := push.new_secret()))
    body = b'{"type":"webhook.test"}'
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time()))}
    headers["webhook-signature"] = push.signatures(webhook, "msg_1", int(headers["webhook-timestamp"]), body)
    assert Verifier(old).verify(body, headers) == {"type": "webhook.test"}
    new = webhooks.rotate_webhook_secret(partner, by=None)
    webhook.refresh_from_db()
    headers["webhook-signature"] = push.signatures(webhook, "msg_1", int(headers["webhook-timestamp"]), body)
    assert len(headers["webhook-signature"].split(" ")) == 2  # both, during the overlap
    assert Verifier(new).verify(body, headers) and Verifier(old).verify(body, headers)
    assert old not in webhook.secret and new not in webhook.secret  # kept encrypted, never in plain text


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:9/hook", "non-public"),
    ("https://10.1.2.3/hook", "non-public"),
    ("https://169.254.169.254/latest/meta-data/", "non-public"),
    ("https://[::1]/hook", "non-public"),
    ("https://[::ffff:192.168.0.1]/hook", "non-public"),
    ("https://[64:ff9b::a9fe:a9fe]/hook", "non-public"),  # NAT64 of 169.254.169.254
    ("https://[2002:a9fe:a9fe::1]/hook", "non-public"),  # 6to4
    ("https://[::127.0.0.1]/hook", "non-public"),  # IPv4-compatible
    ("https://[::ffff:0:a9fe:a9fe]/hook", "non-public"),  # SIIT of 169.254.169.254
    ("https://[::ffff:0:7f00:1]/hook", "non-public"),  # SIIT of 127.0.0.1
    ("https://[fec0::1]/hook", "non-public"),  # site-local
    ("https://[feff:ffff::1]/hook", "non-public"),  # site-local, the top of the range
    ("https://intranet.partner.example/hook", "non-public"),  # a name that resolves to a private address
    ("http://partner.example/hook", "https://"),
    ("ftp://partner.example/hook", "https://"),
    ("https://user:pw@partner.example/hook", "user name"),
    ("https://no-such-name.invalid/hook", "does not resolve"),
])
def test_webhooks_only_go_to_public_https_addresses(db, settings, monkeypatch, url, why):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    real = socket.getaddrinfo

    def dns(host, port, *args, **kwargs):  # the outer edge: no name here may reach the network
        answers = {"intranet.partner.example": "10.9.8.7", "partner.example": "93.184.215.14"}
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        if host.endswith(".invalid"):
            raise socket.gaierror("no such name")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    with pytest.raises(Refusal, match=why):
        webhooks.set_webhook(live_partner(), url, **ACTOR)
    assert not Webhook.objects.exists()
    assert push.post(url, b"{}", {})[0] is None  # and at send, should it have changed since


def test_a_redirect_is_never_followed(db, push_settings, receiver):
    partner_server = receiver(answers=[302])
    partner = live_partner()
    webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    attempt = webhooks.send_test_event(partner, by=None)
    assert attempt.status_code == 302 and "not followed" in attempt.error and len(partner_server.calls) == 1


def test_the_partner_webhook_command_prints_the_contract(db, push_settings, receiver):
    partner = live_partner()
    out = io.StringIO()
    call_command("partner_webhook", partner.slug, "--url", receiver().url, stdout=out)
    printed = json.loads(out.getvalue())
    assert set(printed) == {"partner", "url", "secret"} and printed["secret"].startswith("whsec_")
    assert Partner.objects.get(pk=partner.pk).delivery == "both"
    with pytest.raises(Exception, match="public"):
        push_settings.WEBHOOK_ALLOW_LOOPBACK = False
        call_command("partner_webhook", partner.slug, "--url", "http://127.0.0.1:1/x", stdout=io.StringIO())


@pytest.mark.worker
def test_a_callers_hashes_reach_the_partner_signed_and_its_feedback_comes_back(
        transactional_db, celery_worker, push_settings, receiver, caseworker):
    partner_server = receiver()
    partner = live_partner()
    secret = webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    key, key_secret = onboarding.issue_key(partner, scopes=["feedback"], **ACTOR)
    case = open_case(caseworker)
    assert submit(issue_code(case, caseworker), [image(1), image(2), video(3)]).status_code == 200

    expected = {("pdq", image(1)["pdq"]), ("pdq", image(2)["pdq"]), ("md5", video(3)["md5"]),
                ("md5", image(1)["md5"]), ("phash", image(1)["phash"])}
    assert wait_for(lambda: expected <= set(partner_server.records(secret)), timeout=30)
    assert set(partner_server.records(secret).values()) == {"active"}
    # recorded delivered once the partner has answered: a moment after it holds them
    assert wait_for(lambda: not Delivery.objects.exclude(state="delivered").exists(), timeout=15)
    from partners.models import Handover

    delivered = Delivery.objects.filter(partner=partner).order_by("id").last()
    assert Handover.objects.filter(partner=partner, route="push", txid=delivered.txid).exists()

    answer = Client().post(reverse("api:feedback"), json.dumps({"feedback": [
        {"signal_type": "pdq", "value": image(1)["pdq"], "outcome": "Removed"}]}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{key_secret}")
    assert answer.status_code == 200
    page = signed_in_client(caseworker).get(reverse("case_detail", args=[case.reference])).content.decode()
    assert "Tiktak" in page and "Removed" in page


@pytest.mark.worker
def test_a_withdrawal_reaches_every_live_partner_and_the_case_shows_it(
        transactional_db, celery_worker, push_settings, receiver, caseworker):
    from cases import actions as cases
    from partners.models import FeedPosition
    from tests.calls import ensure_checklist

    ensure_checklist()
    pushed_to = receiver()
    pushed = live_partner("pushed")
    secret = webhooks.set_webhook(pushed, pushed_to.url, ack_on_2xx=True, **ACTOR)
    fetcher, _idle = live_partner("fetcher"), live_partner("idle")
    key, key_secret = onboarding.issue_key(fetcher, scopes=["fetch", "feedback"], **ACTOR)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key.public_id}.{key_secret}"}
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), [video(7)]).json()["pin"]
    cursor = Client().get(reverse("api:hashes"), **auth).json()["cursor"]  # the fetcher has the hash now
    assert wait_for(lambda: pushed_to.records(secret).get(("md5", video(7)["md5"])) == "active", timeout=30)

    cases.withdraw_case(case)
    assert wait_for(lambda: pushed_to.records(secret)[("md5", video(7)["md5"])] == "withdrawn", timeout=30)
    assert wait_for(lambda: FeedPosition.objects.filter(partner=pushed, route="push").exists()
                    and not Delivery.objects.exclude(state="delivered").exists(), timeout=30)
    page = signed_in_client(caseworker).get(reverse("case_detail", args=[case.reference])).content.decode()
    reach = page[page.index('id="withdrawal-reach"'):]
    assert 'data-partner="Pushed"><td>Pushed</td><td>1</td>\n      <td data-field="told">1 of 1</td>' \
           '<td data-field="acknowledged">1 of 1</td>' in reach  # a 2xx counts, for this partner
    assert '<td data-field="told">0 of 1</td>' in reach  # the fetcher has not fetched since
    assert "Never received hashes" in reach  # the idle partner

    from partners import withdrawals

    told = withdrawals.summary(case)  # what the caller sees
    assert (told["partners"], told["told"], told["acknowledged"]) == (2, 1, 1)
    assert told["rows"] == [{"partner": "Fetcher", "told": False, "acknowledged": False, "pushed": False,
                             "wait": None},  # fetched once: nobody knows its rhythm yet
                            {"partner": "Pushed", "told": True, "acknowledged": True}]
    caller = Client()
    caller.post(reverse("caller:status"), {"reference": case.display_reference, "pin": pin})
    status = caller.get(reverse("caller:case")).content.decode()
    assert 'data-field="had">2<' in status and 'data-field="told">1<' in status

    def partner(name):
        block = status[status.index(f'<li data-partner="{name}">'):]
        return " ".join(re.sub("<[^>]+>", " ", block[:block.index("</li>")]).split())

    assert partner("Pushed") == "Pushed Told to stop using them Yes Confirmed they stopped Yes"
    assert partner("Fetcher") == ("Fetcher Told to stop using them Not yet: when this website next collects "
                                  "updates from us. Confirmed they stopped Not yet")

    body = Client().get(reverse("api:hashes"), {"cursor": cursor}, **auth).json()
    assert [r["status"] for r in body["records"]] == ["withdrawn"]
    assert [withdrawals.summary(case)[k] for k in ("partners", "told", "acknowledged")] == [2, 2, 1]
    Client().post(reverse("api:acknowledgements"), json.dumps({"acknowledgements": [
        {"signal_type": "md5", "value": video(7)["md5"]}]}), content_type="application/json", **auth)
    page = signed_in_client(caseworker).get(reverse("case_detail", args=[case.reference])).content.decode()
    assert page.count('<td data-field="acknowledged">1 of 1</td>') == 2
    assert [withdrawals.summary(case)[k] for k in ("partners", "told", "acknowledged")] == [2, 2, 2]


def rounds_until_quiet(partner, limit=20):
    """Push rounds in this process, as the worker would run them, until nothing is due now."""
    for _ in range(limit):
        if push.run_round(partner.pk) != 0:
            return


def test_an_unstorable_answer_or_an_unreadable_secret_is_a_failed_attempt_not_a_loop(
        transactional_db, push_settings, push_by_hand, receiver, caseworker):
    from partners.models import DeliveryAttempt

    partner_server = receiver(answers=["nul"])
    partner = live_partner()
    webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    submit(issue_code(open_case(caseworker), caseworker), [image(1)])
    Webhook.objects.filter(partner=partner).update(secret="not-a-sealed-secret")  # its key was lost
    rounds_until_quiet(partner)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "secret" in attempt.error and not partner_server.calls
    delivery = Delivery.objects.get(partner=partner)
    assert delivery.attempts == 1 and delivery.state == "pending" and delivery.due_at > attempt.at  # backs off

    new_secret = webhooks.rotate_webhook_secret(partner, by=None)  # the unreadable one is dropped, not kept
    assert Webhook.objects.get(partner=partner).previous_secret == ""
    Delivery.objects.filter(pk=delivery.pk).update(due_at=attempt.at)
    rounds_until_quiet(partner)
    assert Delivery.objects.get(pk=delivery.pk).state == "delivered"
    assert Verifier(new_secret).verify(*reversed(partner_server.calls[-1]))


def test_a_failing_test_event_never_holds_up_batches(transactional_db, push_settings, push_by_hand, receiver,
                                                     caseworker):
    partner_server = receiver(answers=[400, 200])
    partner = live_partner()
    secret = webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    assert webhooks.send_test_event(partner, by=None).status_code == 400
    submit(issue_code(open_case(caseworker), caseworker), [image(1)])
    rounds_until_quiet(partner)
    assert ("pdq", image(1)["pdq"]) in partner_server.records(secret)
    assert push.health(partner)["failure_streak"] == 0 and push.health(partner)["backlog"] == 0


def test_retention_waits_for_a_push_partner_whose_batches_are_parked(
        transactional_db, push_settings, push_by_hand, receiver, caseworker, settings):
    from datetime import timedelta

    from django.utils import timezone

    from cases import actions as cases
    from hashing.models import BankHash
    from ncii_portal import retention

    partner_server = receiver(answers=[503])
    partner = live_partner()
    webhooks.set_webhook(partner, partner_server.url, **ACTOR)
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [video(1)])
    rounds_until_quiet(partner)
    cases.withdraw_case(case)
    long_ago = timezone.now() - timedelta(days=settings.RETENTION_WITHDRAWN_DAYS + 1)
    case.__class__.objects.filter(pk=case.pk).update(withdrawn_at=long_ago, ended_at=long_ago)
    BankHash.objects.update(changed=long_ago)
    assert retention.apply()["bank_hashes"] == 0  # the partner never got it at all: it must hear of both
