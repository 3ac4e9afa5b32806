"""What partner managers, commands and the partner API do to partners and keys. Each change is audited in the
same transaction. `actor_label` names a non-person actor (e.g. "command:partner_key")."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from audit.actions import record
from cases.actions import lock_cases_holding, log_event
from cases.models import Case, CaseEvent, Notification
from hashing import actions as bank
from hashing.models import BankChange, BankHash
from ncii_portal.clientip import client_ip
from ncii_portal.errors import Refusal
from partners import sandbox, stopncii
from partners.feed import was_shared
from partners.models import (
    ApiKey,
    Delivery,
    FeedPosition,
    Handover,
    Outcome,
    Partner,
    PartnerContact,
    SandboxReport,
    Webhook,
)

RESERVED_SLUGS = {"review"}  # /partners/review/ is the review queue


@transaction.atomic
def create_partner(*, name, slug, by=None, actor_label="", **fields):
    if slug in RESERVED_SLUGS:
        raise Refusal(f"{slug!r} names a page of the portal; choose another slug.", field="slug")
    if Partner.objects.filter(slug=slug).exists():
        raise Refusal(f"A partner with the slug {slug!r} already exists.", field="slug")
    partner = Partner.objects.create(name=name, slug=slug, **fields)
    record("partner.created", actor=by, actor_label=actor_label, target=partner, details={"slug": slug})
    return partner


@transaction.atomic
def set_checklist(partner, *, by=None, actor_label="", **answers):
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    known = dict(Partner.CHECKLIST)
    changed = {}
    for field, value in answers.items():
        if field not in known:
            raise Refusal(f"Unknown checklist item {field!r}.", field=field)
        if getattr(partner, field) != bool(value):
            setattr(partner, field, bool(value))
            changed[field] = bool(value)
    if changed:
        partner.save(update_fields=list(changed))
        record("partner.checklist", actor=by, actor_label=actor_label, target=partner, details=changed)
    return partner


@transaction.atomic
def move_partner(partner, move, *, by=None, actor_label=""):
    """A named onboarding move within its rule; Refusal (409) otherwise. Suspending or offboarding stops
    the partner's keys at once (authenticate checks the state on every request); offboarding also drops the push
    batches it was never delivered."""
    if move not in Partner.MOVES:
        raise Refusal(f"Unknown move {move!r}.")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    sources, target = Partner.MOVES[move]
    if partner.state not in sources:
        raise Refusal(f"A partner in state {partner.get_state_display()!r} cannot {move.replace('_', ' ')}.",
                           status=409)
    if target == Partner.State.LIVE and not partner.checklist_complete:
        missing = [label for field, label in Partner.CHECKLIST if not getattr(partner, field)]
        raise Refusal("Not live until the onboarding checklist is complete: " + "; ".join(missing) + ".",
                           status=409)
    before, partner.state = partner.state, target
    partner.save(update_fields=["state"])
    details = {"from": before, "to": target}
    if target == Partner.State.OFFBOARDED:
        from partners import push

        details["batches_dropped"] = push.drop_undelivered(partner)  # it will never be sent them
    record(f"partner.{move}", actor=by, actor_label=actor_label, target=partner, details=details)
    return partner


@transaction.atomic
def add_contact(partner, *, by, name, email, role=""):
    contact = PartnerContact.objects.create(partner=partner, name=name, email=email, role=role)
    record("partner.contact_added", actor=by, target=partner, details={"contact": contact.pk, "role": role})
    return contact


@transaction.atomic
def remove_contact(contact, *, by):
    record("partner.contact_removed", actor=by, target=contact.partner, details={"contact": contact.pk})
    contact.delete()


def check_scopes(scopes):
    unknown = set(scopes) - set(ApiKey.Scope.values)
    if not scopes or unknown:
        raise Refusal(f"Scopes must be among {', '.join(ApiKey.Scope.values)}.", field="scopes")
    return sorted(set(scopes))


@transaction.atomic
def issue_key(partner, *, scopes, by=None, actor_label="", label="", expires_at=None):
    """A new key: returns (key, secret). The secret exists only in this return value."""
    scopes = check_scopes(scopes)
    if partner.state == Partner.State.OFFBOARDED:
        raise Refusal("An offboarded partner gets no keys.", status=409)
    public_id, secret = ApiKey.new_credentials()
    key = ApiKey(partner=partner, public_id=public_id, scopes=scopes, label=label, expires_at=expires_at,
                 created_by_label=str(by) if by else actor_label)
    key.set_secret(secret)
    key.save()
    record("partner.key_issued", actor=by, actor_label=actor_label, target=partner,
           details={"key": public_id, "scopes": scopes, "expires": expires_at.isoformat() if expires_at else None})
    return key, secret


@transaction.atomic
def revoke_key(key, *, by=None, actor_label=""):
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        record("partner.key_revoked", actor=by, actor_label=actor_label, target=key.partner,
               details={"key": key.public_id})
    return key


@transaction.atomic
def rotate_key(key, *, overlap_hours=24, by=None, actor_label=""):
    """A new key with the same scopes; the old one keeps working for the overlap, then expires."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if not key.is_working():
        raise Refusal("Only a working key can be rotated; issue a new key instead.", status=409)
    new, secret = issue_key(key.partner, scopes=key.scopes, by=by, actor_label=actor_label, label=key.label)
    ends = timezone.now() + timedelta(hours=overlap_hours)
    key.expires_at = min(key.expires_at, ends) if key.expires_at else ends
    key.replaced_by = new
    key.save(update_fields=["expires_at", "replaced_by"])
    record("partner.key_rotated", actor=by, actor_label=actor_label, target=key.partner,
           details={"key": key.public_id, "new_key": new.public_id, "old_key_until": key.expires_at.isoformat()})
    return new, secret


def authenticate(public_id, secret, *, scope, request=None, sandbox=False):
    """The working key for these credentials, allowed `scope`, of a partner whose state lets it in (live; for the
    sandbox, also in integration); otherwise Refusal: 401 for unknown or wrong credentials, 403 for a key
    that is revoked, expired, out of scope or of a partner whose state keeps it out."""
    if not public_id or not secret:
        raise Refusal("Send your API key (see the API documentation for the headers).", status=401)
    key = ApiKey.objects.select_related("partner").filter(public_id=str(public_id)[:40]).first()
    if not (key or ApiKey.decoy()).matches(str(secret)) or key is None:
        raise Refusal("Unknown API key or wrong secret.", status=401)
    if not key.is_working():
        raise Refusal("This API key was revoked or has expired. Ask the helpline for a new one.", status=403)
    if scope not in key.scopes:
        raise Refusal(f"This API key does not have the {scope!r} scope.", status=403)
    if sandbox and key.partner.state not in (Partner.State.INTEGRATION, Partner.State.LIVE):
        raise Refusal("The sandbox is for partners in integration or live; this partner is neither.",
                           status=403)
    if not sandbox and key.partner.state != Partner.State.LIVE:
        raise Refusal("This partner is not live: its keys do not reach real hashes. Partners in integration "
                           "test against the sandbox (/api/sandbox/).", status=403)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):  # not a write per request
        ApiKey.objects.filter(pk=key.pk).update(
            last_used_at=now, last_used_ip=client_ip(request) if request is not None else None)
    return key


def note_fetch(partner, feed, *, moved=False, last=None, start=None, **position):
    """Remember where this partner's latest fetch of `feed` left it (FeedPosition), and, for a page that carried
    changes, when they reached it (Handover, for statistics): two small writes per page.

    A StopNCII client chooses where it starts: its checkpoint moves only when it starts from where it was (or
    earlier), so one that skips ahead is not taken to have heard what it skipped."""
    now = timezone.now()
    if start is not None:
        known = FeedPosition.objects.filter(partner=partner, feed=feed).first()
        if known is not None and known.checkpoint is not None and start > known.checkpoint:
            position = {}  # a gap: keep the position it really reached
    FeedPosition.objects.update_or_create(partner=partner, feed=feed, defaults={"fetched_at": now, **position})
    if moved:
        Handover.objects.create(partner=partner, feed=feed, at=now, txid=position["txid"],
                                change_id=position["change_id"])
    elif last is not None:
        Handover.objects.create(partner=partner, feed=feed, at=now, change_from=start, change_at=last[0],
                                change_id=last[1])


# --- Outcomes -----------------------------------------------------------------------------------------------

NOT_BLOCKED_CONSENSUS = 2  # partners independently reporting NotBlocked pause a hash for review (design rule 9)


def find_served_hash(partner, signal_type, value, *, stopncii=False):
    """The bank row a partner may report on: one of the types it takes, once shared (through StopNCII, an MD5
    only if a video holds it). Anything else reads as unknown, so a partner learns nothing about hashes it was
    never sent."""
    if not partner.wants(signal_type):
        return None
    bank_hash = BankHash.objects.filter(signal_type=signal_type, value=value).first()
    if bank_hash is None or (stopncii and signal_type == "md5" and not bank_hash.video):
        return None
    if not BankChange.objects.filter(was_shared(), bank_hash=bank_hash).exists():
        return None
    return bank_hash


def first_shared(bank_hash):
    """The change that first made `bank_hash` shareable (in feed order), or None."""
    return BankChange.objects.filter(was_shared(), bank_hash=bank_hash).order_by("txid", "id").first()


def first_delivery(partner, first):
    """When the hash of `first` (its first_shared change) first reached `partner`, or None: the earliest handover
    that covered that change. Statistics date "shared" the same way, for every pair at once (stats/sharing.py; a
    test holds the two to the same answer)."""
    handovers = Handover.objects.filter(partner=partner)
    times = [handovers.covering_position(first.txid, first.id).aggregate(at=Min("at"))["at"]]
    if BankChange.objects.filter(stopncii.carried(), pk=first.pk).exists():
        times.append(handovers.covering_time(first.at, first.id).aggregate(at=Min("at"))["at"])
    return min((t for t in times if t is not None), default=None)


def earliest_action(partner, bank_hash):
    """The earliest a partner's report on a hash may be dated: the hash's first delivery to it, or, for one not
    handed over yet (a partner may report on a hash it found itself), the moment the hash was first shareable;
    never before the bank had the hash."""
    first = first_shared(bank_hash)
    if first is None:
        return bank_hash.created
    return first_delivery(partner, first) or first.at


@transaction.atomic
def record_feedback(partner, reports, *, via):
    """Each report: {"signal_type", "value", "outcome", "tags", "acted_at"}; all recorded, or none.

    Returns (recorded, duplicates). Repeating a report (same hash, outcome and time) changes nothing. Each new
    report goes on the timeline of every case holding the hash and tells their caseworkers; NotBlocked from
    NOT_BLOCKED_CONSENSUS partners pauses the hash for staff review."""
    resolved = []
    for n, report in enumerate(reports):
        bank_hash = find_served_hash(partner, report["signal_type"], report["value"], stopncii=via == "stopncii")
        if bank_hash is None:
            raise Refusal("Unknown hash: it was never sent to you.", status=404, field=f"[{n}].value")
        resolved.append((bank_hash, report))
    lock_cases_holding([bank_hash for bank_hash, _report in resolved])  # before writing outcomes of their hashes
    recorded = duplicates = 0
    for bank_hash, report in resolved:
        if report["outcome"] in Outcome.ACKNOWLEDGED:
            # One acknowledgement per withdrawal, whichever API it came through.
            report = {**report, "acted_at": bank_hash.changed}
        elif report.get("acted_at") is None:
            # No time of its own (StopNCII sends none): a repeat of the partner's latest report is a retry.
            latest = Outcome.objects.filter(partner=partner, bank_hash=bank_hash).order_by("received", "id").last()
            if latest and (latest.value, latest.tags) == (report["outcome"], sorted(report["tags"])):
                duplicates += 1
                continue
            report = {**report, "acted_at": timezone.now()}
        else:
            # Its own time, never before the hash reached it (or a retry of such a report lands on the same one).
            earliest = earliest_action(partner, bank_hash)
            if report["acted_at"] < earliest:
                report = {**report, "acted_at": earliest, "reported_acted_at": report["acted_at"]}
        outcome, created = Outcome.objects.get_or_create(
            partner=partner, bank_hash=bank_hash, value=report["outcome"], acted_at=report["acted_at"],
            defaults={"signal_type": bank_hash.signal_type, "tags": sorted(report["tags"]), "via": via,
                      "reported_acted_at": report.get("reported_acted_at")})
        if not created:
            duplicates += 1
            continue
        recorded += 1
        cases = Case.objects.filter(items__signals=bank_hash).distinct().select_related("caseworker")
        for case in cases:
            log_event(case, CaseEvent.Kind.FEEDBACK, by=None, partner=partner.name, value=outcome.value,
                      signal_type=bank_hash.signal_type)
            if case.caseworker_id:
                Notification.objects.create(recipient_id=case.caseworker_id, case=case,
                                            kind=Notification.Kind.OUTCOME)
        if outcome.value == Outcome.Value.NOT_BLOCKED:
            pause_on_consensus(bank_hash)
    record("partner.feedback", actor_label=f"partner:{partner.slug}", target=partner,
           details={"recorded": recorded, "duplicates": duplicates, "via": via})
    return recorded, duplicates


def pause_on_consensus(bank_hash):
    row = BankHash.objects.select_for_update().get(pk=bank_hash.pk)  # count under the row's lock: no race
    latest = {}
    for partner_id, value in (Outcome.objects.filter(bank_hash=bank_hash).exclude(value__in=Outcome.ACKNOWLEDGED)
                              .order_by("received", "id").values_list("partner_id", "value")):
        latest[partner_id] = value
    consensus = sum(1 for value in latest.values() if value == Outcome.Value.NOT_BLOCKED) >= NOT_BLOCKED_CONSENSUS
    if consensus and row.review == BankHash.Review.NONE:
        bank.set_review(row, BankHash.Review.PAUSED)
        record("bank.paused_by_consensus", actor_label="system", target=row, details={"partners": sorted(latest)})


@transaction.atomic
def acknowledge(partner, hashes):
    """The partner confirms it applied withdrawals: one acknowledgement per withdrawal (repeats change nothing).
    Returns (recorded, duplicates). A hash that is not withdrawn for this partner has nothing to acknowledge."""
    resolved = []
    for n, (signal_type, value) in enumerate(hashes):
        bank_hash = find_served_hash(partner, signal_type, value)
        if bank_hash is None:
            raise Refusal("Unknown hash: it was never sent to you.", status=404, field=f"[{n}].value")
        if bank_hash.is_shareable:
            raise Refusal("This hash is active: there is no withdrawal to acknowledge.", status=409,
                               field=f"[{n}].value")
        resolved.append(bank_hash)
    recorded = duplicates = 0
    for bank_hash in resolved:
        _outcome, created = Outcome.objects.get_or_create(
            partner=partner, bank_hash=bank_hash, value=Outcome.Value.WITHDRAWN, acted_at=bank_hash.changed,
            defaults={"signal_type": bank_hash.signal_type, "via": "native"})
        recorded, duplicates = recorded + created, duplicates + (not created)
    record("partner.acknowledged", actor_label=f"partner:{partner.slug}", target=partner,
           details={"recorded": recorded, "duplicates": duplicates})
    return recorded, duplicates


@transaction.atomic
def contribute(partner, hashes):
    """Hashes a partner found itself ({"signal_type", "value", "quality"?, "outcome", "tags"}): new ones are held
    for staff review and shared with no one until a person approves them; ones the bank already has only get the
    partner's report. Returns the number held for review."""
    held = 0
    for item in hashes:
        exists = BankHash.objects.filter(signal_type=item["signal_type"], value=item["value"]).exists()
        bank_hash = bank.bank_signal(item["signal_type"], item["value"], quality=item.get("quality"),
                                     video=item.get("video", False) and not exists,  # never relabel ours
                                     review_if_new=BankHash.Review.HELD)
        held += not exists
        if not Outcome.objects.filter(partner=partner, bank_hash=bank_hash, value=item["outcome"]).exists():
            # A retry (the same hash and report again) records nothing new.
            Outcome.objects.create(partner=partner, bank_hash=bank_hash, value=item["outcome"],
                                   acted_at=item["acted_at"], signal_type=bank_hash.signal_type,
                                   tags=sorted(item.get("tags", [])), via=item.get("via", "native"))
    record("partner.contributed", actor_label=f"partner:{partner.slug}", target=partner,
           details={"hashes": len(hashes), "held": held})
    return held


WAITING = (BankHash.Review.HELD, BankHash.Review.PAUSED, BankHash.Review.QUARANTINED)  # the review queue's


def decide(row, decision):
    """One (locked) hash under review: approve shares it (again, or for the first time) as the shareable rule
    allows; reject keeps it out: a contributed hash no case holds is withdrawn, a paused one stays paused, a
    quarantined one is rejected for good (no later case or quality claim can share it)."""
    if decision == "approve":
        bank.set_review(row, BankHash.Review.NONE)
    elif decision == "reject":
        if row.review == BankHash.Review.HELD and not row.items.exists():
            bank.set_status(row, BankHash.Status.WITHDRAWN)
        elif row.review == BankHash.Review.QUARANTINED:
            bank.set_review(row, BankHash.Review.REJECTED)
    else:
        raise Refusal("Decide approve or reject.")


@transaction.atomic
def review_hash(bank_hash, decision, *, by):
    """Staff decide on one held, paused or quarantined hash (see decide)."""
    row = BankHash.objects.select_for_update().get(pk=bank_hash.pk)
    if row.review not in WAITING:
        raise Refusal("This hash is not waiting for review.", status=409)
    review = row.review
    decide(row, decision)
    record(f"bank.review_{decision}", actor=by, target=row, details={"review": review})
    return row


@transaction.atomic
def review_quarantined(decision, *, by):
    """A supervisor releases (approve) or rejects the whole batch the flood quarantine holds, in one decision.
    Returns how many hashes it covered."""
    if decision not in ("approve", "reject"):
        raise Refusal("Decide approve or reject.")
    rows = list(BankHash.objects.quarantined().select_for_update().order_by("signal_type", "value"))
    for row in rows:
        decide(row, decision)
    record(f"bank.quarantine_{decision}", actor=by, target_type="BankHash", details={"hashes": len(rows)})
    return len(rows)


@transaction.atomic
def record_sandbox_feedback(partner, reports, *, via):
    """Reports on sandbox hashes, kept as SandboxReports for the partner manager; all recorded, or none."""
    for n, report in enumerate(reports):
        if not sandbox.knows(report["signal_type"], report["value"]):
            raise Refusal("Unknown hash: it is not one of the sandbox's.", status=404, field=f"[{n}].value")
    SandboxReport.objects.bulk_create(
        SandboxReport(partner=partner, signal_type=r["signal_type"], value=r["value"], outcome=r["outcome"],
                      tags=sorted(r["tags"]), via=via) for r in reports)
    record("partner.sandbox_feedback", actor_label=f"partner:{partner.slug}", target=partner,
           details={"recorded": len(reports), "via": via})
    return len(reports)


# --- Push (webhooks) ----------------------------------------------------------------------------------------

@transaction.atomic
def set_webhook(partner, url, *, by=None, actor_label="", ack_on_2xx=False):
    """Point a live partner's push at `url` (checked: public https only) and set it to push. A partner new to
    push gets a signing secret and will first receive every hash it may hold now, then changes; one that had a
    webhook keeps its position, and its secret is rotated (the old one still signs for a day). Returns the new
    secret, shown once."""
    from partners import push

    if partner.state != Partner.State.LIVE:
        raise Refusal("Only a live partner receives pushed hashes.", status=409)
    try:
        push.resolve(url)
    except push.UnsafeURL as refusal:
        raise Refusal(str(refusal), field="url") from None
    if partner.delivery == Partner.Delivery.PULL:
        Partner.objects.filter(pk=partner.pk).update(delivery=Partner.Delivery.BOTH)
        partner.delivery = Partner.Delivery.BOTH
    secret = push.new_secret()
    webhook = Webhook.objects.select_for_update().filter(partner=partner).first()
    if webhook is None:
        Webhook.objects.create(partner=partner, url=url, secret=push.seal(secret), ack_on_2xx=ack_on_2xx)
        # Known to push from now on (at the start of the log): retention waits for it like for any reader.
        FeedPosition.objects.get_or_create(partner=partner, feed=FeedPosition.Feed.PUSH,
                                           defaults={"txid": 0, "change_id": 0})
        record("partner.webhook_set", actor=by, actor_label=actor_label, target=partner, details={"new": True})
    else:
        rotate(webhook, secret, url=url)
        Webhook.objects.filter(pk=webhook.pk).update(ack_on_2xx=ack_on_2xx)
        record("partner.webhook_set", actor=by, actor_label=actor_label, target=partner, details={"new": False})
    return secret


def the_webhook(partner, lock=False):
    webhooks = Webhook.objects.select_for_update() if lock else Webhook.objects
    webhook = webhooks.filter(partner=partner).first()
    if webhook is None:
        raise Refusal("This partner has no webhook yet: set one first.", status=409)
    return webhook


def rotate(webhook, secret, *, url=None, overlap_hours=24):
    """A new signing secret; the old one keeps signing for the overlap, unless it can no longer be read (its
    encryption key is gone), in which case it is dropped."""
    from partners import push

    try:
        push.unseal(webhook.secret)
        previous = webhook.secret
    except ValueError:
        previous = ""
    webhook.previous_secret, webhook.secret = previous, push.seal(secret)
    webhook.previous_until = timezone.now() + timedelta(hours=overlap_hours)
    webhook.url = url or webhook.url
    webhook.save(update_fields=["previous_secret", "secret", "previous_until", "url"])


@transaction.atomic
def rotate_webhook_secret(partner, *, by):
    """A new signing secret; both are sent for 24 hours so the partner can switch without a gap."""
    from partners import push

    secret = push.new_secret()
    rotate(the_webhook(partner, lock=True), secret)
    record("partner.webhook_rotated", actor=by, target=partner)
    return secret


@transaction.atomic
def pause_push(partner, *, by):
    the_webhook(partner, lock=True)
    Webhook.objects.filter(partner=partner).update(paused=True)
    record("partner.push_paused", actor=by, target=partner)


@transaction.atomic
def resume_push(partner, *, by):
    """Unpause, and re-drive parked batches from the start of their schedule; the partner is healthy again."""
    webhook = the_webhook(partner, lock=True)
    parked = partner.deliveries.filter(state=Delivery.State.PARKED).update(
        state=Delivery.State.PENDING, attempts=0, due_at=timezone.now())
    webhook.paused, webhook.degraded_at = False, None
    webhook.save(update_fields=["paused", "degraded_at"])
    record("partner.push_resumed", actor=by, target=partner, details={"parked": parked})
    transaction.on_commit(lambda: _ask_push(partner))
    return parked


def _ask_push(partner):
    from partners import push, tasks

    push.ask(tasks.push_partner, partner.pk)


def send_test_event(partner, *, by):
    """POST a signed test event to the webhook now, out of the batches' order (it carries no hashes), and
    return its attempt for the page to show."""
    from partners import push

    webhook = the_webhook(partner)
    message_id = push.new_message_id()
    delivery = Delivery.objects.create(partner=partner, message_id=message_id, event="webhook.test",
                                       state=Delivery.State.TEST,
                                       body=push.body_of("webhook.test", {"partner": partner.slug}, message_id))
    push.send(delivery, webhook)
    record("partner.webhook_tested", actor=by, target=partner)
    return delivery.attempts_made.first()
