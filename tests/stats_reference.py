"""The numbers of docs/statistics.md, computed from the records themselves, for a period (core.periods.Period).

This is the tests' reference: what stats.reading reads from the rollups stats.keeping keeps must equal it, and
tests/test_stats.py checks it on a hand-built scenario with every number written out. It reads every record, so
it is for tests only: the portal's pages read the rollups.
"""

from collections import Counter

from django.db.models import Count, Min, Q

from cases.models import Case, Contact, Item, Referral
from hashing.models import BankChange, BankHash
from partners.models import FeedPosition, Handover, Outcome, Partner
from stats import bins
from stats.keeping import WITHIN


def counted(queryset, field):
    return dict(queryset.values_list(field).annotate(n=Count("id")).order_by(field))


def intake(period):
    """Contacts by channel and outcome, referrals by service and status, cases by abuse type, items by kind,
    hashes new to the bank, withdrawals."""
    contacts = Contact.objects.filter(period.q("created"))
    referrals = Referral.objects.filter(period.q("created"))
    return {
        "contacts": contacts.count(),
        "contacts_by_channel": counted(contacts, "channel"),
        "contacts_by_outcome": counted(contacts, "outcome"),
        "referrals_by_service": counted(referrals, "to"),
        "referrals_by_status": counted(referrals, "status"),
        "cases": Case.objects.filter(period.q("created")).count(),
        "cases_by_abuse_type": counted(Case.objects.filter(period.q("created")), "abuse_type"),
        "items_by_kind": counted(Item.objects.filter(period.q("created")), "kind"),
        "hashes_received": BankHash.objects.filter(period.q("created")).count(),
        "withdrawals": Case.objects.filter(period.q("withdrawn_at")).count(),
        "active": BankHash.objects.shareable().count(),
    }


# --- Pairs: one partner, one bank hash ------------------------------------------------------------------------

def first_reports(partner_ids):
    """{(partner, bank hash): {"matched", "reviewed", "actioned"}}: each pair's first report of each kind, by the
    partner's own action time."""
    rows = (Outcome.objects.filter(partner_id__in=partner_ids).exclude(bank_hash=None)
            .values("partner_id", "bank_hash_id")
            .annotate(matched=Min("acted_at", filter=Q(value__in=Outcome.MATCHED)),
                      reviewed=Min("acted_at", filter=Q(value__in=Outcome.REVIEWED)),
                      actioned=Min("acted_at", filter=Q(value__in=Outcome.ACTIONED))))
    return {(r["partner_id"], r["bank_hash_id"]): r for r in rows}


def first_shareable_changes():
    """{bank hash: its first change that left it shareable} (the change a feed hands over as "active")."""
    first = {}
    for change in BankChange.objects.shareable().select_related("bank_hash").order_by("txid", "id"):
        first.setdefault(change.bank_hash_id, change)
    return first


def carried_by_stopncii(bank_hash):
    return bank_hash.signal_type == "pdq" or (bank_hash.signal_type == "md5" and bank_hash.video)


def shared_times(partners):
    """{(partner, bank hash): when the hash first reached the partner}: the first handover (push, native page,
    StopNCII page) that covered the change that made it shareable, for hashes of types the partner takes."""
    firsts = first_shareable_changes()
    shared = {}
    for partner in partners:
        handovers = list(Handover.objects.filter(partner=partner).order_by("at", "id"))
        for hash_id, change in firsts.items():
            if not partner.wants(change.bank_hash.signal_type):
                continue
            for handover in handovers:  # oldest first: the first that covers the change
                if handover.route == FeedPosition.Route.STOPNCII:
                    covers = (carried_by_stopncii(change.bank_hash)
                              and (handover.change_at, handover.change_id) >= (change.at, change.id)
                              and (handover.change_from is None or change.at >= handover.change_from))
                else:
                    covers = (handover.txid, handover.change_id) >= (change.txid, change.id)
                if covers:
                    shared[(partner.pk, hash_id)] = handover.at
                    break
    return shared


def partner_numbers(period, partners=None):
    """Per partner (and "all"): shared, matched, reviewed, actioned, removal rate, median and 90th percentile of
    the three times, and the share of actions within 48 hours of sharing (with the two counts it divides: the
    actions after sharing, the times are taken over those too, and those within 48 hours)."""
    partners = list(partners if partners is not None else Partner.objects.order_by("name"))
    shared = shared_times(partners)
    reports = first_reports([p.pk for p in partners])
    table = {}
    for partner in [*partners, None]:
        def mine(key, partner=partner):
            return partner is None or key[0] == partner.pk

        counts = Counter()
        hist = {"to_match": Counter(), "to_action": Counter(), "match_to_action": Counter()}
        within = actioned_after_sharing = 0
        counts["shared"] = sum(1 for key, at in shared.items() if mine(key) and at in period)
        for key, first in reports.items():
            if not mine(key):
                continue
            for kind in ("matched", "reviewed", "actioned"):
                counts[kind] += first[kind] in period
            shared_at = shared.get(key)
            if first["matched"] in period and shared_at:
                hist["to_match"][bins.bin_of(first["matched"] - shared_at)] += 1
            if first["actioned"] in period:
                if shared_at:
                    hist["to_action"][bins.bin_of(first["actioned"] - shared_at)] += 1
                    actioned_after_sharing += 1
                    within += first["actioned"] - shared_at <= WITHIN
                if first["matched"]:
                    hist["match_to_action"][bins.bin_of(first["actioned"] - first["matched"])] += 1
        row = {**{k: counts[k] for k in ("shared", "matched", "reviewed", "actioned")},
               "removal_rate": counts["actioned"] / counts["reviewed"] if counts["reviewed"] else None,
               "within_48h": within / actioned_after_sharing if actioned_after_sharing else None,
               "actioned_after_sharing": actioned_after_sharing, "actioned_within_48h": within}
        for measure, counter in hist.items():
            row[f"{measure}_median"] = bins.percentile(counter, 0.5)
            row[f"{measure}_p90"] = bins.percentile(counter, 0.9)
        table[partner.name if partner else "all"] = row
    return table
