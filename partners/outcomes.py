"""What partners report back and what staff decide on it: feedback on hashes (with the NotBlocked consensus pause),
acknowledgements of withdrawals, hashes partners contribute, and the review queue's decisions."""

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from audit.actions import record
from cases.actions import lock_cases_holding, note_partner_report
from core.errors import Refusal
from hashing import actions as bank
from hashing import signal_types
from hashing.models import BankChange, BankHash
from partners.models import Handover, Outcome

NOT_BLOCKED_CONSENSUS = 2  # partners independently reporting NotBlocked pause a hash for review (design rule 9)


def find_served_hash(partner, signal_type, value, *, stopncii=False):
    """The bank row a partner may report on: one of the types it takes, once shared (through StopNCII, an MD5
    only if a video holds it). Anything else reads as unknown, so a partner learns nothing about hashes it was
    never sent."""
    if not partner.wants(signal_type):
        return None
    bank_hash = BankHash.objects.signal(signal_type, value).first()
    if bank_hash is None or (stopncii and not signal_types.carried_by_stopncii(signal_type, bank_hash.video)):
        return None
    if not BankChange.objects.shareable().filter(bank_hash=bank_hash).exists():
        return None
    return bank_hash


def first_shared(bank_hash):
    """The change that first made `bank_hash` shareable (in feed order), or None."""
    return BankChange.objects.shareable().filter(bank_hash=bank_hash).order_by("txid", "id").first()


def first_delivery(partner, first):
    """When the hash of `first` (its first_shared change) first reached `partner`, or None: the earliest handover
    that covered that change. Statistics date "shared" the same way, for every pair at once (stats/sharing.py; a
    test holds the two to the same answer)."""
    handovers = Handover.objects.filter(partner=partner)
    times = [handovers.covering_position(first.txid, first.id).aggregate(at=Min("at"))["at"]]
    if signal_types.carried_by_stopncii(first.bank_hash.signal_type, first.bank_hash.video):
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
            outcome, created = acknowledge_withdrawal(partner, bank_hash, via=via, value=report["outcome"],
                                                      tags=report["tags"])
        else:
            if report.get("acted_at") is None:
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
        note_partner_report(bank_hash, partner=partner.name, value=outcome.value)
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


def acknowledge_withdrawal(partner, bank_hash, *, via, value=Outcome.Value.WITHDRAWN, tags=()):
    """The partner applied the withdrawal of `bank_hash`: one acknowledgement per withdrawal, however it came (a
    Withdrawn or Deleted report, the acknowledgements endpoint, a pushed batch its 2xx applies), dated at the
    withdrawal, so a repeat finds the same row. Returns (outcome, created)."""
    return Outcome.objects.get_or_create(
        partner=partner, bank_hash=bank_hash, value=value, acted_at=bank_hash.changed,
        defaults={"signal_type": bank_hash.signal_type, "tags": sorted(tags), "via": via})


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
        _outcome, created = acknowledge_withdrawal(partner, bank_hash, via="native")
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
        exists = BankHash.objects.signal(item["signal_type"], item["value"]).exists()
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
