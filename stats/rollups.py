"""Keeping docs/statistics.md's numbers as daily rollups, and reading them back.

`update` (every minute, from beat) finds what happened in a window reaching back OVERLAP before its last run
(so a transaction that commits a little late is still seen; a nightly run reaching two days back catches
anything later) and recomputes the days and pairs it touched; `rebuild` recomputes everything. Both write the
same rows, and `partner_numbers`/`intake` read them to give what stats.metrics computes from the records.
"""

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import Case, Contact, Item, Referral
from hashing import signals
from hashing.models import BankHash
from partners.models import Handover, Outcome, Partner
from stats import bins
from stats.metrics import ACTIONED, MATCHED, REVIEWED, WITHIN
from stats.models import DailyCount, DailyHistogram, HandoverShare, PairState, Watermark

OVERLAP = timedelta(minutes=10)
PARTNER_NUMBERS = ("shared", "matched", "reviewed", "actioned", "actioned_after_sharing", "actioned_within_48h")
MEASURES = ("to_match", "to_action", "match_to_action")
# Intake numbers: (number, model, date field, breakdown field or None).
INTAKE = [
    ("contacts_by_channel", Contact, "created", "channel"),
    ("contacts_by_outcome", Contact, "created", "outcome"),
    ("referrals_by_service", Referral, "created", "to"),
    ("referrals_by_status", Referral, "created", "status"),
    ("cases_by_abuse_type", Case, "created", "abuse_type"),
    ("items_by_kind", Item, "created", "kind"),
    ("hashes_received", BankHash, "created", None),
    ("withdrawals", Case, "withdrawn_at", None),
]


def zone():
    return ZoneInfo(settings.TIME_ZONE)


def local_day(moment):
    return timezone.localtime(moment, zone()).date()


def bounds(day):
    return (datetime.combine(day, time.min, zone()),
            datetime.combine(day + timedelta(days=1), time.min, zone()))


# --- When each hash first reached each partner (SQL, the same rule as stats.metrics.shared_times) --------------

# Each bank hash's first change that left it shareable, with what the StopNCII feed needs to know of the hash.
FIRST_SHAREABLE = f"""
    SELECT DISTINCT ON (c.bank_hash_id) c.bank_hash_id, c.txid, c.id, c.at, h.signal_type,
           (h.signal_type = 'pdq' OR (h.signal_type = 'md5' AND h.video)) AS carried
    FROM hashing_bankchange c JOIN hashing_bankhash h ON h.id = c.bank_hash_id
    WHERE c.status = 'active' AND c.review = ''
      AND (h.signal_type <> 'pdq' OR c.quality IS NULL OR c.quality >= {signals.PDQ_MIN_QUALITY}) {{only}}
    ORDER BY c.bank_hash_id, c.txid, c.id"""  # noqa: S608 (constants only: values go as parameters)


def covers(handover, first):
    """SQL: handover (alias) carried the change (alias `first`): by position, or for StopNCII by time."""
    return f"""(CASE WHEN {handover}.feed = 'stopncii'
                     THEN {first}.carried AND ({handover}.change_at, {handover}.change_id) >= ({first}.at, {first}.id)
                          AND ({handover}.change_from IS NULL OR {first}.at >= {handover}.change_from)
                     ELSE ({handover}.txid, {handover}.change_id) >= ({first}.txid, {first}.id) END)"""


def wants(partner, first):
    return f"{first}.signal_type = ANY(%s)" if partner.signal_types else "TRUE", (
        [list(partner.signal_types)] if partner.signal_types else [])


def shared_at(partner, hash_ids):
    """{bank hash id: when it first reached the partner} for these hashes."""
    condition, params = wants(partner, "f")
    sql = f"""SELECT f.bank_hash_id, min(e.at)
              FROM ({FIRST_SHAREABLE.format(only="AND c.bank_hash_id = ANY(%s)")}) f
              JOIN partners_handover e ON e.partner_id = %s AND {covers("e", "f")}
              WHERE {condition} GROUP BY f.bank_hash_id"""  # noqa: S608 (constant fragments, parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(hash_ids), partner.pk, *params])
        return dict(cursor.fetchall())


def newly_shared(handover):
    """How many hashes this handover was the first to give its partner."""
    partner = handover.partner
    condition, params = wants(partner, "f")
    sql = f"""SELECT count(*) FROM ({FIRST_SHAREABLE.format(only="")}) f
              JOIN partners_handover h ON h.id = %s AND {covers("h", "f")}
              WHERE {condition} AND NOT EXISTS (
                  SELECT 1 FROM partners_handover e WHERE e.partner_id = h.partner_id
                  AND (e.at, e.id) < (h.at, h.id) AND {covers("e", "f")})"""  # noqa: S608 (as above)
    with connection.cursor() as cursor:
        cursor.execute(sql, [handover.pk, *params])
        return cursor.fetchone()[0]


# --- Refreshing pairs and handovers ---------------------------------------------------------------------------

def refresh_pairs(keys):
    """Recompute the pairs' first events from every report, in bulk; returns the (partner, day) pairs whose
    numbers this may have changed (the days of their old and new events)."""
    touched = set()
    by_partner = {}
    for partner_id, hash_id in keys:
        by_partner.setdefault(partner_id, set()).add(hash_id)
    fields = ("shared_at", "matched_at", "reviewed_at", "actioned_at")
    for partner in Partner.objects.filter(pk__in=by_partner):
        hash_ids = list(by_partner[partner.pk])
        firsts = {r["bank_hash_id"]: r for r in Outcome.objects.filter(partner=partner, bank_hash_id__any=hash_ids)
                  .values("bank_hash_id").annotate(
                      matched=Min("acted_at", filter=Q(value__in=MATCHED)),
                      reviewed=Min("acted_at", filter=Q(value__in=REVIEWED)),
                      actioned=Min("acted_at", filter=Q(value__in=ACTIONED)))}
        shared = shared_at(partner, hash_ids)
        for old in PairState.objects.filter(partner=partner, hash_id__any=hash_ids).values_list(*fields):
            touched |= {(partner.pk, local_day(moment)) for moment in old if moment is not None}
        states = []
        for hash_id in hash_ids:
            first = firsts.get(hash_id, {})
            state = PairState(partner=partner, hash_id=hash_id, shared_at=shared.get(hash_id),
                              matched_at=first.get("matched"), reviewed_at=first.get("reviewed"),
                              actioned_at=first.get("actioned"))
            touched |= {(partner.pk, local_day(getattr(state, f))) for f in fields if getattr(state, f)}
            states.append(state)
        PairState.objects.bulk_create(states, batch_size=5000, update_conflicts=True,
                                      unique_fields=["partner", "hash_id"], update_fields=list(fields))
    return touched


def refresh_handovers(handovers):
    touched = set()
    for handover in handovers:
        day = local_day(handover.at)
        HandoverShare.objects.update_or_create(handover=handover, defaults={
            "partner": handover.partner, "day": day, "hashes": newly_shared(handover)})
        touched.add((handover.partner_id, day))
    return touched


# --- Recounting days ------------------------------------------------------------------------------------------

def recount_partner_days(keys):
    """Recompute the partner numbers of these (partner, day) pairs from PairState and HandoverShare."""
    by_partner = {}
    for partner_id, day in keys:
        by_partner.setdefault(partner_id, set()).add(day)
    for partner_id, days in by_partner.items():
        counts = {day: Counter() for day in days}
        histograms = {day: {measure: Counter() for measure in MEASURES} for day in days}
        for day, hashes in HandoverShare.objects.filter(partner_id=partner_id, day__in=days).values_list(
                "day").annotate(n=Sum("hashes")):
            counts[day]["shared"] = hashes
        start, end = bounds(min(days))[0], bounds(max(days))[1]
        pairs = PairState.objects.filter(partner_id=partner_id).filter(
            Q(matched_at__gte=start, matched_at__lt=end) | Q(reviewed_at__gte=start, reviewed_at__lt=end)
            | Q(actioned_at__gte=start, actioned_at__lt=end))
        for shared, matched, reviewed, actioned in pairs.values_list("shared_at", "matched_at", "reviewed_at",
                                                                     "actioned_at").iterator(chunk_size=5000):
            for kind, moment in (("matched", matched), ("reviewed", reviewed), ("actioned", actioned)):
                if moment is not None and (day := local_day(moment)) in counts:
                    counts[day][kind] += 1
            if matched is not None and shared and (day := local_day(matched)) in counts:
                histograms[day]["to_match"][bins.bin_of(matched - shared)] += 1
            if actioned is not None and (day := local_day(actioned)) in counts:
                if shared:
                    histograms[day]["to_action"][bins.bin_of(actioned - shared)] += 1
                    counts[day]["actioned_after_sharing"] += 1
                    counts[day]["actioned_within_48h"] += actioned - shared <= WITHIN
                if matched:
                    histograms[day]["match_to_action"][bins.bin_of(actioned - matched)] += 1
        DailyCount.objects.filter(partner_id=partner_id, day__in=days, number__in=PARTNER_NUMBERS).delete()
        DailyHistogram.objects.filter(partner_id=partner_id, day__in=days).delete()
        DailyCount.objects.bulk_create(
            (DailyCount(day=day, number=number, partner_id=partner_id, count=count)
             for day, counter in counts.items() for number, count in counter.items() if count), batch_size=5000)
        DailyHistogram.objects.bulk_create(
            (DailyHistogram(day=day, measure=measure, partner_id=partner_id, bin=index, count=count)
             for day, measures in histograms.items() for measure, counter in measures.items()
             for index, count in counter.items()), batch_size=5000)


def recount_intake_days(days):
    for day in days:
        start, end = bounds(day)
        DailyCount.objects.filter(day=day, partner=None).delete()
        rows = []
        for number, model, field, breakdown in INTAKE:
            found = model.objects.filter(**{f"{field}__gte": start, f"{field}__lt": end})
            if breakdown:
                rows += [DailyCount(day=day, number=number, breakdown=value, count=n)
                         for value, n in found.values_list(breakdown).annotate(n=Count("id")).order_by()]
            elif n := found.count():
                rows.append(DailyCount(day=day, number=number, count=n))
        DailyCount.objects.bulk_create(rows)


def intake_days(since=None):
    days = set()
    for _number, model, field, _breakdown in INTAKE:
        rows = model.objects.exclude(**{field: None})
        if since is not None:
            rows = rows.filter(**{f"{field}__gte": since})
        days |= set(rows.annotate(day=TruncDate(field, tzinfo=zone())).values_list("day", flat=True).distinct())
    return days


# --- The two ways in ------------------------------------------------------------------------------------------

@transaction.atomic
def update(now=None, reach=OVERLAP):
    """Add what happened since the last run (reaching `reach` further back), recomputing only the days and pairs
    it touched."""
    now = now or timezone.now()
    mark = Watermark.objects.select_for_update().filter(name="update").first()
    if mark is None:  # never run: everything, from the records
        return rebuild(now)
    since = mark.at - reach
    outcomes = Outcome.objects.filter(received__gte=since).exclude(bank_hash=None)
    keys = set(outcomes.values_list("partner_id", "bank_hash_id"))
    handovers = list(Handover.objects.filter(at__gte=since).select_related("partner"))
    touched = refresh_handovers(handovers)
    # A handover may also be the first to give a hash some partner already reported on.
    for partner_id in {h.partner_id for h in handovers}:
        keys |= {(partner_id, h) for h in PairState.objects.filter(partner_id=partner_id, shared_at=None)
                 .values_list("hash_id", flat=True)}
    touched |= refresh_pairs(keys)
    recount_partner_days(touched)
    recount_intake_days(intake_days(since))
    mark.at = now
    mark.save(update_fields=["at"])


@transaction.atomic
def rebuild(now=None):
    """Everything again from the records."""
    for model in (DailyCount, DailyHistogram, HandoverShare, PairState, Watermark):
        model.objects.all().delete()
    touched = refresh_handovers(Handover.objects.select_related("partner"))
    touched |= refresh_pairs(set(Outcome.objects.exclude(bank_hash=None).values_list("partner_id", "bank_hash_id")))
    recount_partner_days(touched)
    recount_intake_days(intake_days())
    Watermark.objects.create(name="update", at=now or timezone.now())


# --- Reading --------------------------------------------------------------------------------------------------

def partner_numbers(period, partners=None):
    """As stats.metrics.partner_numbers, from the rollups."""
    partners = list(partners if partners is not None else Partner.objects.order_by("name"))
    counts = {(r["partner_id"], r["number"]): r["n"] for r in DailyCount.objects.filter(
        day__gte=period.first, day__lte=period.last, partner__in=partners).values("partner_id", "number")
        .annotate(n=Sum("count"))}
    histograms = {}
    for r in DailyHistogram.objects.filter(day__gte=period.first, day__lte=period.last, partner__in=partners
                                           ).values("partner_id", "measure", "bin").annotate(n=Sum("count")):
        histograms.setdefault((r["partner_id"], r["measure"]), Counter())[r["bin"]] += r["n"]
    table = {}
    for partner in [*partners, None]:
        ids = [partner.pk] if partner else [p.pk for p in partners]

        def total(number, ids=ids):
            return sum(counts.get((i, number), 0) for i in ids)

        row = {k: total(k) for k in ("shared", "matched", "reviewed", "actioned")}
        row["removal_rate"] = row["actioned"] / row["reviewed"] if row["reviewed"] else None
        after = total("actioned_after_sharing")
        row["within_48h"] = total("actioned_within_48h") / after if after else None
        for measure in MEASURES:
            merged = sum((histograms.get((i, measure), Counter()) for i in ids), Counter())
            row[f"{measure}_median"] = bins.percentile(merged, 0.5)
            row[f"{measure}_p90"] = bins.percentile(merged, 0.9)
        table[partner.name if partner else "all"] = row
    return table


def intake(period):
    """As stats.metrics.intake, from the rollups (active is a state: read now)."""
    rows = DailyCount.objects.filter(day__gte=period.first, day__lte=period.last, partner=None).values(
        "number", "breakdown").annotate(n=Sum("count"))
    found = {}
    for r in rows:
        found.setdefault(r["number"], {})[r["breakdown"]] = r["n"]

    def broken(number):
        return dict(sorted(found.get(number, {}).items()))

    return {
        "contacts": sum(broken("contacts_by_channel").values()),
        "contacts_by_channel": broken("contacts_by_channel"),
        "contacts_by_outcome": broken("contacts_by_outcome"),
        "referrals_by_service": broken("referrals_by_service"),
        "referrals_by_status": broken("referrals_by_status"),
        "cases": sum(broken("cases_by_abuse_type").values()),
        "cases_by_abuse_type": broken("cases_by_abuse_type"),
        "items_by_kind": broken("items_by_kind"),
        "hashes_received": found.get("hashes_received", {}).get("", 0),
        "withdrawals": found.get("withdrawals", {}).get("", 0),
        "active": BankHash.objects.shareable().count(),
    }



def bucket_of(day, bucket):
    """A day's week ("2026-W13", ISO) or month ("2026-03")."""
    if bucket == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def series(period, partners, bucket="week", numbers=("shared", "matched", "reviewed", "actioned")):
    """[(bucket label, {number: count})] over the period, every bucket present (zeros included), in order."""
    labels = []
    day = period.first
    while day <= period.last:
        label = bucket_of(day, bucket)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    values = {label: dict.fromkeys(numbers, 0) for label in labels}
    for row in DailyCount.objects.filter(day__gte=period.first, day__lte=period.last, partner__in=partners,
                                         number__in=numbers).values("day", "number").annotate(n=Sum("count")):
        values[bucket_of(row["day"], bucket)][row["number"]] += row["n"]
    return [(label, values[label]) for label in labels]


def cases_behind(period, partner, number):
    """The cases holding the hashes a partner's number counts in the period (matched, reviewed or actioned)."""
    start, end = bounds(period.first)[0], bounds(period.last)[1]
    hash_ids = PairState.objects.filter(partner=partner, **{f"{number}_at__gte": start, f"{number}_at__lt": end}
                                        ).values_list("hash_id", flat=True)
    return Case.objects.filter(items__signals__in=list(hash_ids)).distinct().order_by("created")
