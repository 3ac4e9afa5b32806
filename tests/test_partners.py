"""Partners: onboarding moves and the checklist that gates "live", API keys (digests only, scopes, expiry,
revocation, rotation, server-secret rotation), the partner_key command, and the native feed."""

import io
import json
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cases import actions as cases
from core.errors import Refusal
from hashing import actions as bank
from hashing.models import BankHash
from partners import handovers, onboarding, sandbox, webhooks
from partners.models import ApiKey, Partner
from tests.calls import image, issue_code, open_case, submit, video
from tests.helpers import ACTOR, fetch_all, live_partner

# --- Onboarding ---------------------------------------------------------------------------------------------


def test_onboarding_moves_follow_their_rules(db):
    partner = onboarding.create_partner(name="Pixshare", slug="pixshare", **ACTOR)
    with pytest.raises(Refusal, match="cannot go live"):
        onboarding.move_partner(partner, "go_live", **ACTOR)
    for move in ("start_vetting", "sign_agreement", "start_integration"):
        onboarding.move_partner(partner, move, **ACTOR)
    with pytest.raises(Refusal) as refused:
        onboarding.move_partner(partner, "go_live", **ACTOR)
    assert refused.value.status == 409 and refused.value.message == (
        "Not live until the onboarding checklist is complete: Agreement and data-processing terms signed; Security "
        "review passed; A contact named; Sandbox reports on all 12 photos (0 so far); A working API key.")
    # Ticks for what only a person can confirm; the rest is read from the records.
    onboarding.set_checklist(partner, agreement_signed=True, security_review=True, **ACTOR)
    onboarding.add_contact(partner, name="Ada", email="ada@pixshare.example", **ACTOR)
    key, _secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    reports = [{"signal_type": "pdq", "value": photo["pdq"], "outcome": "Blocked", "tags": []}
               for photo in sandbox.photos()]
    sandbox.record_feedback(partner, reports[:11] + reports[:3], via="native")  # repeats count once
    with pytest.raises(Refusal, match=r"complete: Sandbox reports on all 12 photos \(11 so far\)\.$"):
        onboarding.move_partner(partner, "go_live", **ACTOR)
    sandbox.record_feedback(partner, reports[11:], via="stopncii")
    assert onboarding.move_partner(partner, "go_live", **ACTOR).state == "live"
    assert onboarding.move_partner(partner, "suspend", **ACTOR).state == "suspended"
    # Coming back needs the ticks again, not a first go-live's tests.
    onboarding.revoke_key(key, **ACTOR)
    onboarding.set_checklist(partner, security_review=False, **ACTOR)
    with pytest.raises(Refusal, match="complete: Security review passed.$"):
        onboarding.move_partner(partner, "resume", **ACTOR)
    onboarding.set_checklist(partner, security_review=True, **ACTOR)
    assert onboarding.move_partner(partner, "resume", **ACTOR).state == "live"
    assert onboarding.move_partner(partner, "offboard", **ACTOR).state == "offboarded"
    with pytest.raises(Refusal):
        onboarding.move_partner(partner, "resume", **ACTOR)
    with pytest.raises(Refusal, match="Unknown checklist item"):
        onboarding.set_checklist(partner, technical_contact=True, **ACTOR)  # a record now, not a tick
    moves = list(AuditEvent.objects.filter(target_type="Partner").values_list("action", flat=True))
    assert moves.count("partner.checklist") == 3 and "partner.go_live" in moves and "partner.offboard" in moves
    assert "overridden" not in AuditEvent.objects.get(action="partner.go_live").details


def test_a_push_partner_goes_live_once_its_webhook_answered_a_test_event(db, push_settings, receiver,
                                                                        partner_manager):
    partner = onboarding.create_partner(name="Pushy", slug="pushy", delivery="push", **ACTOR)
    for move in ("start_vetting", "sign_agreement", "start_integration"):
        partner = onboarding.move_partner(partner, move, **ACTOR)
    onboarding.set_checklist(partner, agreement_signed=True, security_review=True, **ACTOR)
    onboarding.add_contact(partner, name="Ada", email="ada@pushy.example", **ACTOR)
    onboarding.issue_key(partner, scopes=["feedback"], **ACTOR)
    sandbox.record_feedback(partner, [{"signal_type": "md5", "value": photo["md5"], "outcome": "Blocked",
                                       "tags": []} for photo in sandbox.photos()], via="native")
    with pytest.raises(Refusal, match="complete: A test event delivered to its webhook.$"):
        onboarding.move_partner(partner, "go_live", **ACTOR)
    server = receiver(answers=[500, 200])
    webhooks.set_webhook(partner, server.url, **ACTOR)  # in integration: test events only
    assert not partner.feed_positions.exists()  # not a reader of the bank yet: retention waits for no one
    assert webhooks.send_test_event(partner, by=partner_manager).status_code == 500
    with pytest.raises(Refusal, match="A test event delivered to its webhook"):
        onboarding.move_partner(partner, "go_live", **ACTOR)
    assert webhooks.send_test_event(partner, by=partner_manager).status_code == 200
    assert onboarding.move_partner(partner, "go_live", **ACTOR).state == "live"
    assert list(partner.feed_positions.values_list("route", "txid")) == [("push", 0)]  # pushed from the start


# --- Keys ---------------------------------------------------------------------------------------------------


def test_keys_are_stored_as_digests_only(db):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert secret not in json.dumps(stored, default=str)
    assert key.matches(secret) and not key.matches(secret + "x")
    with pytest.raises(Refusal, match="Scopes must be among"):
        onboarding.issue_key(partner, scopes=["admin"], **ACTOR)


def authenticate(key, secret, scope="fetch"):
    return onboarding.authenticate(key.public_id, secret, scope=scope)


@pytest.mark.parametrize(("case", "status"), [
    ("wrong secret", 401), ("unknown key", 401), ("revoked", 403), ("expired", 403), ("out of scope", 403),
    ("suspended partner", 403), ("offboarded partner", 403),
])
def test_keys_that_must_not_work(db, case, status):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    public_id, scope = key.public_id, "fetch"
    if case == "wrong secret":
        secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    elif case == "unknown key":
        public_id = "pk" + "0" * 20
    elif case == "revoked":
        onboarding.revoke_key(key, **ACTOR)
    elif case == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now())
    elif case == "out of scope":
        scope = "feedback"
    elif case == "suspended partner":
        onboarding.move_partner(partner, "suspend", **ACTOR)
    else:
        onboarding.move_partner(partner, "offboard", **ACTOR)
    with pytest.raises(Refusal) as refused:
        onboarding.authenticate(public_id, secret, scope=scope)
    assert refused.value.status == status


def test_rotation_keeps_the_old_key_for_the_overlap(db):
    partner = live_partner()
    old, old_secret = onboarding.issue_key(partner, scopes=["fetch", "feedback"], **ACTOR)
    new, new_secret = onboarding.rotate_key(old, overlap_hours=2, **ACTOR)
    assert new.scopes == ["feedback", "fetch"] and authenticate(new, new_secret)
    assert authenticate(old, old_secret)  # still, during the overlap
    old.refresh_from_db()
    assert old.replaced_by == new and timezone.now() < old.expires_at <= timezone.now() + timezone.timedelta(hours=2)
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now())
    with pytest.raises(Refusal):
        authenticate(old, old_secret)


def test_the_server_secret_can_be_rotated(db, settings):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    settings.API_KEY_SECRETS = ["a brand new server secret", *settings.API_KEY_SECRETS]
    assert authenticate(key, secret)  # made under the old one, still listed
    newer, newer_secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    assert newer.server_secret_id != key.server_secret_id
    settings.API_KEY_SECRETS = settings.API_KEY_SECRETS[:1]  # the old one retired: its keys stop
    with pytest.raises(Refusal):
        authenticate(key, secret)
    assert authenticate(newer, newer_secret)


def test_last_use_is_recorded(db):
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch"], **ACTOR)
    Client(REMOTE_ADDR="198.51.100.30").get(reverse("api:hashes"),
                                            HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_ip == "198.51.100.30"


def test_an_unknown_key_id_costs_what_a_wrong_secret_costs(db, monkeypatch):
    """No clock in the test: the work is counted. An unknown id that skipped the digest would answer faster than
    a wrong secret, telling a guesser which ids exist."""
    from partners import models

    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch"], **ACTOR)
    calls = []

    def counted(name, real):
        return lambda *args: calls.append(name) or real(*args)

    monkeypatch.setattr(models, "key_digest", counted("digest", models.key_digest))
    monkeypatch.setattr(models, "hmac", SimpleNamespace(
        new=models.hmac.new, compare_digest=counted("comparison", models.hmac.compare_digest)))

    def work(public_id, presented):
        calls.clear()
        with pytest.raises(Refusal) as refused:
            onboarding.authenticate(public_id, presented, scope="fetch")
        assert refused.value.status == 401
        return sorted(calls)

    wrong_secret = work(key.public_id, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    unknown_id = work("pk" + "0" * 20, secret)
    assert wrong_secret == ["comparison", "digest"]
    assert unknown_id == wrong_secret


def native_key(public_id, secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {public_id}.{secret}"}


def stopncii_key(public_id, secret):
    return {"HTTP_OCP_APIM_SUBSCRIPTION_KEY": public_id, "HTTP_X_FUNCTIONS_KEY": secret}


FLAVOURS = {"native": ("api:hashes", native_key), "stopncii": ("api:stopncii_fetch_hashes", stopncii_key)}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_failed_authentications_are_limited_per_address(db, settings, flavour):
    settings.PARTNER_API_AUTH_FAILURES_PER_IP_PER_HOUR = 3
    settings.TRUSTED_CLIENT_IP_HEADER = ""
    url, headers = FLAVOURS[flavour]
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch"], **ACTOR)
    revoked, revoked_secret = onboarding.issue_key(key.partner, scopes=["fetch"], **ACTOR)
    onboarding.revoke_key(revoked, **ACTOR)

    def get(ip, public_id, presented):
        return Client(REMOTE_ADDR=ip).get(reverse(url), **headers(public_id, presented))

    guesser = "198.51.100.9"
    # Neither a request without a key nor a right secret refused with 403 is a failed guess.
    assert Client(REMOTE_ADDR=guesser).get(reverse(url)).status_code == 401
    assert [get(guesser, revoked.public_id, revoked_secret).status_code for _ in range(4)] == [403] * 4
    assert get(guesser, key.public_id, secret).status_code == 200
    # Wrong secrets and unknown ids are: the third uses up the hour.
    assert [get(guesser, key.public_id, "wrong").status_code, get(guesser, "pk" + "0" * 20, secret).status_code,
            get(guesser, key.public_id, "wrong again").status_code] == [401, 401, 401]
    for presented in ("wrong", secret):  # locked before the key is looked at: even the right one waits
        locked = get(guesser, key.public_id, presented)
        assert locked.status_code == 429 and "failed authentications" in locked.json()["error"]
        assert 1 <= int(locked["Retry-After"]) <= 3600
    assert get("198.51.100.10", key.public_id, secret).status_code == 200  # per address: no one else waits


def test_an_ipv6_client_is_counted_by_its_64(db, settings):
    settings.PARTNER_API_AUTH_FAILURES_PER_IP_PER_HOUR = 2
    settings.TRUSTED_CLIENT_IP_HEADER = ""
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch"], **ACTOR)

    def get(ip, presented):
        return Client(REMOTE_ADDR=ip).get(reverse("api:hashes"), **native_key(key.public_id, presented))

    assert get("2001:db8:1:2::a", "wrong").status_code == 401
    assert get("2001:db8:1:2:ffff:ffff:ffff:b", "wrong").status_code == 401  # the same /64, another address
    assert get("2001:db8:1:2::c", secret).status_code == 429
    assert get("2001:db8:1:3::a", secret).status_code == 200  # the next /64
    # An IPv4 address written as IPv6 is that IPv4 address, not the /64 every such address shares.
    assert get("::ffff:198.51.100.20", "wrong").status_code == 401
    assert get("198.51.100.20", "wrong").status_code == 401
    assert get("198.51.100.20", secret).status_code == 429
    assert get("::ffff:198.51.100.21", secret).status_code == 200


# --- The partner_key command --------------------------------------------------------------------------------


def test_partner_key_command_creates_a_live_partner_and_prints_the_contract(db):
    out = io.StringIO()
    call_command("partner_key", "bingo-search", "--scopes", "fetch,feedback", "--create", stdout=out)
    printed = json.loads(out.getvalue())
    assert set(printed) == {"partner", "key", "stopncii"} and printed["partner"] == "bingo-search"
    assert set(printed["stopncii"]) == {"subscription_key", "function_key"}
    partner = Partner.objects.get(slug="bingo-search")
    assert partner.state == "live"
    key = ApiKey.objects.get(public_id=printed["stopncii"]["subscription_key"])
    assert key.matches(printed["stopncii"]["function_key"]) and key.scopes == ["feedback", "fetch"]
    assert printed["key"] == f"{key.public_id}.{printed['stopncii']['function_key']}"
    steps = list(AuditEvent.objects.filter(actor_label="command:partner_key").order_by("id")
                 .values_list("action", "details"))
    assert [action for action, _details in steps] == [
        "partner.created", "partner.start_vetting", "partner.sign_agreement", "partner.start_integration",
        "partner.go_live", "partner.key_issued"]
    # An operator's explicit override of the onboarding gates: nothing is ticked in anyone's name, and the
    # audit row says what was missing.
    assert steps[4][1]["overridden"] == [
        "Agreement and data-processing terms signed", "Security review passed", "A contact named",
        "Sandbox reports on all 12 photos (0 so far)", "A working API key"]
    assert not partner.agreement_signed and not partner.security_review
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="add --create"):
        call_command("partner_key", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Scopes must be among"):
        call_command("partner_key", "bingo-search", "--scopes", "everything", stdout=io.StringIO())


# --- The native feed ----------------------------------------------------------------------------------------


# Feed tests commit, as requests do: a change is served once no running transaction can slip beneath it, and
# a test inside one open transaction would never see its own changes settle.


@pytest.fixture
def caseworker(transactional_db):
    from tests.conftest import make_staff

    return make_staff("casey@helpline.test", "caseworker")


def test_the_native_feed_serves_what_may_be_shared_and_tells_of_withdrawals(caseworker):
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch"], **ACTOR)
    first = open_case(caseworker)
    submit(issue_code(first, caseworker), [image(1), image(2, quality=20), video(3)])
    records, cursor = fetch_all(key, secret)
    shared = {(r["signal_type"], r["value"]): r for r in records}
    assert ("pdq", image(2)["pdq"]) not in shared  # low quality: never mentioned
    assert shared[("pdq", image(1)["pdq"])]["status"] == "active" and shared[("pdq", image(1)["pdq"])]["quality"] == 80
    assert shared[("md5", video(3)["md5"])]["video"] is True and shared[("md5", image(1)["md5"])]["video"] is False
    assert len(shared) == 6  # image 1: pdq, phash, md5; image 2: phash, md5; the video's md5

    cases.withdraw_case(first)
    response = Client().get(reverse("api:hashes"), {"cursor": cursor},
                            HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
    later = {(r["signal_type"], r["value"]): r["status"] for r in response.json()["records"]}
    assert set(later.values()) == {"withdrawn"} and len(later) == 6
    assert ("pdq", image(2)["pdq"]) not in later  # never shared, so no withdrawal to tell of
    # A partner starting afresh in one page is not told of hashes withdrawn before it arrived.
    newcomer, newcomer_secret = onboarding.issue_key(live_partner("newcomer"), scopes=["fetch"], **ACTOR)
    assert fetch_all(newcomer, newcomer_secret, limit=100)[0] == []


def test_a_paused_hash_is_told_as_withdrawn(caseworker):
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch"], **ACTOR)
    submit(issue_code(open_case(caseworker), caseworker), [video(4)])
    _records, cursor = fetch_all(key, secret)
    row = BankHash.objects.get()
    bank.set_review(row, BankHash.Review.PAUSED)
    body = Client().get(reverse("api:hashes"), {"cursor": cursor},
                        HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}").json()
    assert [r["status"] for r in body["records"]] == ["withdrawn"]


@pytest.mark.parametrize(("params", "auth", "status", "field"), [
    ({}, "", 401, None),
    ({}, "Bearer nonsense", 401, None),
    ({"cursor": "forged"}, "ok", 400, "cursor"),
    ({"limit": "lots"}, "ok", 400, "limit"),
    ({"limit": "0"}, "ok", 400, "limit"),
    ({"limit": "999999"}, "ok", 400, "limit"),
])
def test_feed_errors_are_json_a_partner_can_act_on(db, params, auth, status, field):
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch"], **ACTOR)
    header = f"Bearer {key.public_id}.{secret}" if auth == "ok" else auth
    response = Client().get(reverse("api:hashes"), params, HTTP_AUTHORIZATION=header)
    assert response.status_code == status
    assert response.json()["field"] == field and response.json()["error"]


def test_integration_partners_get_no_real_hashes(db):
    partner = onboarding.create_partner(name="Newbie", slug="newbie", **ACTOR)
    for move in ("start_vetting", "sign_agreement", "start_integration"):
        onboarding.move_partner(partner, move, **ACTOR)
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    response = Client().get(reverse("api:hashes"), HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
    assert response.status_code == 403 and "not live" in response.json()["error"]


def test_each_key_is_rate_limited_with_retry_after(db, settings):
    settings.PARTNER_API_REQUESTS_PER_MINUTE = 3
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch"], **ACTOR)
    other, other_secret = onboarding.issue_key(live_partner("other"), scopes=["fetch"], **ACTOR)
    limited = None
    for _ in range(8):  # 4 requests reach the limit; a minute boundary on the way may reset it once
        response = Client().get(reverse("api:hashes"), HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
        if response.status_code == 429:
            limited = response
            break
    assert limited is not None and 1 <= int(limited["Retry-After"]) <= 60 and "Rate limit" in limited.json()["error"]
    fine = Client().get(reverse("api:hashes"), HTTP_AUTHORIZATION=f"Bearer {other.public_id}.{other_secret}")
    assert fine.status_code == 200  # per key


@pytest.mark.parametrize(("method", "path", "status"), [
    ("post", "/api/v1/hashes", 405),
    ("get", "/api/v1/feedback", 405),
    ("delete", "/api/stopncii/v1/FetchHashes", 405),
    ("get", "/api/v1/nothing-here", 404),
    ("post", "/api/v2/hashes", 404),
    ("get", "/api/", 404),
    ("get", "/api/sandbox/photos/A%0A.jpg", 404),  # a newline in the path (schemathesis found it)
    ("get", "/api/v1/hashes%0A", 404),
])
def test_wrong_methods_and_paths_answer_json(db, method, path, status):
    response = getattr(Client(), method)(path)
    assert response.status_code == status and response["Content-Type"] == "application/json"
    assert response.json()["error"]
    if status == 405:
        assert response["Allow"]


def test_wrong_paths_answer_json_even_with_csrf_enforced_and_pages_get_their_slash(db):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/api/v2/hashes", "{}", content_type="application/json")
    assert response.status_code == 404 and response.json()["error"]
    assert strict.get("/api/docs")["Location"] == "/api/docs/"
    assert Client().head(reverse("api:hashes")).status_code == 405  # a HEAD would move a partner's position


def test_a_stopncii_client_that_skips_ahead_is_not_taken_to_have_heard_what_it_skipped(db):
    from datetime import UTC, datetime

    from partners.models import FeedPosition

    partner = live_partner()
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    handovers.note_fetch(partner, FeedPosition.Route.STOPNCII, start=early, checkpoint=early)
    handovers.note_fetch(partner, FeedPosition.Route.STOPNCII, start=late, checkpoint=late)  # a gap
    assert FeedPosition.objects.get(partner=partner, route="stopncii").checkpoint == early
    handovers.note_fetch(partner, FeedPosition.Route.STOPNCII, start=early, checkpoint=late)  # a whole sync
    assert FeedPosition.objects.get(partner=partner, route="stopncii").checkpoint == late
