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
from takedowns.models import Address, TakedownRequest


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


# --- Web addresses: per site, per kind of site, all ------------------------------------------------------------

ADDRESS_COUNTS = ("asked", "removed", "refused", "no_answer", "reinstated", "within_48h", "requests", "overdue")


def address_figures(period):
    """{"all", "sites": {site id: figures}, "kinds": {kind: figures}} of the web addresses first asked for in the
    period (their outcome now) and the requests sent in it, with the requests overdue now; times to removal for
    every row. Read address by address and request by request."""
    table, times = {}, {}

    def rows(site):
        return [("site", site.pk), ("kind", site.kind), ("all", None)]

    def row(key):
        return table.setdefault(key, dict.fromkeys(ADDRESS_COUNTS, 0))

    row(("all", None))
    for address in Address.objects.exclude(first_asked_at=None).select_related("site"):
        if address.first_asked_at not in period:
            continue
        for key in rows(address.site):
            found = row(key)
            found["asked"] += 1
            if address.outcome in Address.RECORDED:
                found[address.outcome] += 1
            if address.outcome == Address.Outcome.REMOVED:
                taken = address.time_to_removal
                found["within_48h"] += taken <= WITHIN
                times.setdefault(key, Counter())[bins.bin_of(taken)] += 1
    for request in TakedownRequest.objects.filter(state="sent").select_related("site"):
        for key in rows(request.site):
            row(key)["requests"] += request.sent_at in period
    for request in TakedownRequest.objects.overdue().select_related("site"):
        for key in rows(request.site):
            row(key)["overdue"] += 1
    for key, found in table.items():
        found["waiting"] = found["asked"] - sum(found[o] for o in Address.RECORDED)
        found["removal_rate"] = found["removed"] / found["asked"] if found["asked"] else None
        found["within_48h_share"] = found["within_48h"] / found["removed"] if found["removed"] else None
        found["to_removal_median"] = bins.percentile(times.get(key, {}), 0.5)
        found["to_removal_p90"] = bins.percentile(times.get(key, {}), 0.9)
    # A site or kind with nothing in the period has no row (a request sent before it, say).
    shown = {key: found for key, found in table.items()
             if key[0] == "all" or any(found[k] for k in ("asked", "requests", "overdue"))}
    return {"all": table["all", None],
            "sites": {key[1]: found for key, found in shown.items() if key[0] == "site"},
            "kinds": {key[1]: found for key, found in shown.items() if key[0] == "kind"}}
