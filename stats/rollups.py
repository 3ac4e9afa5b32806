"""Keeping docs/statistics.md's numbers as daily rollups, and reading them back.

`update` (every minute, from beat) finds what happened in a window reaching back OVERLAP before its last run
(so a transaction that commits a little late is still seen; a nightly run reaching two days back catches
anything later) and recomputes the days and pairs it touched; `rebuild` recomputes everything. Both write the
same rows, and `partner_numbers`/`intake` read them to give what stats.metrics computes from the records.
"""

from collections import Counter
from datetime import datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import Case, Contact, Item, Referral
from hashing.models import BankHash
from partners.models import Handover, Outcome, Partner
from stats import bins, sharing, suppression
from stats.metrics import ACTIONED, MATCHED, REVIEWED, WITHIN, Period
from stats.models import (
    DailyCount,
    DailyHistogram,
    HandoverShare,
    HistogramToDate,
    MonthlyCount,
    PairState,
    Watermark,
)
from stats.sharing import local_day

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


def bounds(day):
    return (datetime.combine(day, time.min, zone()),
            datetime.combine(day + timedelta(days=1), time.min, zone()))


# --- Refreshing pairs and handovers ---------------------------------------------------------------------------

def copy_in(model, objects):
    """Insert model instances with COPY: bulk_create prepares every value in Python, which is most of a
    rebuild's time (an array of bin counts is a value per bin)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(
            f"COPY {model._meta.db_table} ({', '.join(f.column for f in fields)}) FROM STDIN") as copy:
        for obj in objects:
            copy.write_row([getattr(obj, f.attname) for f in fields])


def refresh_pairs(keys, shared=None):
    """Recompute the pairs' first events from every report and the stored shares (or `shared`: {partner id:
    {hash id: when shared}}, known to hold every pair's), in bulk; returns the (partner, day) pairs whose numbers
    this may have changed (the days of their old and new events)."""
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
        shared_with = shared[partner.pk] if shared is not None else sharing.shared_at(partner, hash_ids)
        old = {row[0]: row[1:] for row in PairState.objects.filter(partner=partner, hash_id__any=hash_ids)
               .values_list("hash_id", *fields)}
        states = []
        for hash_id in hash_ids:
            first = firsts.get(hash_id, {})
            new = (shared_with.get(hash_id), first.get("matched"), first.get("reviewed"), first.get("actioned"))
            if old.get(hash_id) == new:
                continue
            touched |= {(partner.pk, local_day(moment)) for moment in (*old.get(hash_id, ()), *new) if moment}
            states.append(PairState(partner=partner, hash_id=hash_id, **dict(zip(fields, new, strict=True))))
        if old:
            PairState.objects.bulk_create(states, batch_size=5000, update_conflicts=True,
                                          unique_fields=["partner", "hash_id"], update_fields=list(fields))
        else:  # none of them kept yet (a rebuild)
            copy_in(PairState, states)
    return touched


def refresh_shares(partner, handovers, candidates, given):
    """Walk the partner's handovers (stats.sharing), storing the shares they made; returns the (partner, day)
    pairs touched and {hash id: handover} for the hashes the handovers gave the partner first."""
    shares, gave = sharing.walk(partner, handovers, candidates, given)
    copy_in(HandoverShare, shares)
    return {(partner.pk, share.day) for share in shares}, gave


# --- Recounting days ------------------------------------------------------------------------------------------

def runs(days):
    """[(first, last)] of the consecutive days among these."""
    found = []
    for day in sorted(days):
        if found and found[-1][1] + timedelta(days=1) == day:
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return found


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
        within = Q()
        for first, last in runs(days):
            start, end = bounds(first)[0], bounds(last)[1]
            within |= (Q(matched_at__gte=start, matched_at__lt=end) | Q(reviewed_at__gte=start, reviewed_at__lt=end)
                       | Q(actioned_at__gte=start, actioned_at__lt=end))
        pairs = PairState.objects.filter(within, partner_id=partner_id)
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
        copy_in(DailyCount, (DailyCount(day=day, number=number, partner_id=partner_id, count=count)
                             for day, counter in counts.items() for number, count in counter.items() if count))
        copy_in(DailyHistogram, (DailyHistogram(day=day, measure=measure, partner_id=partner_id, bin=index,
                                                count=count)
                                 for day, measures in histograms.items() for measure, counter in measures.items()
                                 for index, count in counter.items()))


def recount_intake_days(days):
    """Recompute the helpline's own numbers of these days: one grouped query per number and run of days."""
    rows = []
    for first, last in runs(days):
        start, end = bounds(first)[0], bounds(last)[1]
        for number, model, field, breakdown in INTAKE:
            found = model.objects.filter(**{f"{field}__gte": start, f"{field}__lt": end}).annotate(
                day=TruncDate(field, tzinfo=zone()))
            for row in found.values("day", *[breakdown] if breakdown else []).annotate(n=Count("id")).order_by():
                rows.append(DailyCount(day=row["day"], number=number, breakdown=row.get(breakdown, ""),
                                       count=row["n"]))
    DailyCount.objects.filter(day__in=days, partner=None).delete()
    copy_in(DailyCount, rows)


def intake_days(since=None):
    days = set()
    for _number, model, field, _breakdown in INTAKE:
        rows = model.objects.exclude(**{field: None})
        if since is not None:
            rows = rows.filter(**{f"{field}__gte": since})
        days |= set(rows.annotate(day=TruncDate(field, tzinfo=zone())).values_list("day", flat=True).distinct())
    return days


def remonth(days):
    """Sum the daily counts of these days' months into the monthly ones."""
    with connection.cursor() as cursor:
        for month in sorted({day.replace(day=1) for day in days}):
            end = (month + timedelta(days=31)).replace(day=1)
            cursor.execute("DELETE FROM stats_monthlycount WHERE day = %s", [month])
            cursor.execute("""INSERT INTO stats_monthlycount (day, number, partner_id, breakdown, count)
                              SELECT %s, number, partner_id, breakdown, sum(count) FROM stats_dailycount
                              WHERE day >= %s AND day < %s GROUP BY number, partner_id, breakdown""",
                           [month, month, end])


def recumulate(keys):
    """Rewrite the partners' HistogramToDate rows from the earliest of these (partner, day) pairs on."""
    earliest = {}
    for partner_id, day in keys:
        earliest[partner_id] = min(day, earliest.get(partner_id, day))
    for partner_id, start in earliest.items():
        totals = {measure: [0] * (bins.LONGER + 1) for measure in MEASURES}
        for measure, counts in (HistogramToDate.objects.filter(partner_id=partner_id, day__lt=start)
                                .order_by("measure", "-day").distinct("measure").values_list("measure", "counts")):
            totals[measure] = list(counts)
        rows = []
        for (day, measure), found in groupby(DailyHistogram.objects.filter(partner_id=partner_id, day__gte=start)
                                             .order_by("day", "measure").values_list("day", "measure", "bin", "count")
                                             .iterator(chunk_size=5000), key=lambda r: (r[0], r[1])):
            for _day, _measure, index, count in found:
                totals[measure][index] += count
            rows.append(HistogramToDate(partner_id=partner_id, measure=measure, day=day, counts=totals[measure][:]))
        HistogramToDate.objects.filter(partner_id=partner_id, day__gte=start).delete()
        copy_in(HistogramToDate, rows)


def histograms_to(day, partners):
    """{(partner id, measure): [count per bin]} of durations ended on or before the day."""
    sql = """SELECT p.id, m.measure, h.counts
             FROM unnest(%s::bigint[]) p (id) CROSS JOIN unnest(%s::text[]) m (measure)
             JOIN LATERAL (SELECT counts FROM stats_histogramtodate WHERE partner_id = p.id AND measure = m.measure
                           AND day <= %s ORDER BY day DESC LIMIT 1) h ON TRUE"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [[p.pk for p in partners], list(MEASURES), day])
        return {(partner_id, measure): counts for partner_id, measure, counts in cursor.fetchall()}


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
    keys = set(Outcome.objects.filter(received__gte=since).exclude(bank_hash=None)
               .values_list("partner_id", "bank_hash_id"))
    # Handovers since then are walked again, from what those before had given.
    redone = HandoverShare.objects.filter(at__gte=since)
    touched = set(redone.values_list("partner_id", "day").distinct())
    redone.delete()
    handovers = {}
    for handover in Handover.objects.filter(at__gte=since).order_by("at", "id"):
        handovers.setdefault(handover.partner_id, []).append(handover)
    for partner in Partner.objects.filter(pk__in=handovers):
        position = sharing.prior_position(partner.pk, since)
        candidates = sharing.candidates_for(handovers[partner.pk], position)
        windows = sharing.prior_windows(partner.pk, since, min(f.key for f in candidates)) if candidates else []
        days, gave = refresh_shares(partner, handovers[partner.pk], candidates, sharing.Given(position, windows))
        touched |= days
        # A handover may also be the first to give a hash the partner already reported on.
        keys |= {(partner.pk, h) for h in PairState.objects.filter(
            Q(hash_id__any=list(gave)) | Q(shared_at__gte=since), partner=partner).values_list("hash_id", flat=True)}
    touched |= refresh_pairs(keys)
    recount_partner_days(touched)
    recumulate(touched)
    days = intake_days(since)
    recount_intake_days(days)
    remonth(days | {day for _partner, day in touched})
    mark.at, mark.active = now, BankHash.objects.shareable().count()
    mark.save(update_fields=["at", "active"])


@transaction.atomic
def rebuild(now=None):
    """Everything again from the records."""
    for model in (DailyCount, DailyHistogram, MonthlyCount, HistogramToDate, HandoverShare, PairState, Watermark):
        model.objects.all().delete()
    touched, shared = set(), {}
    keys = set(Outcome.objects.exclude(bank_hash=None).values_list("partner_id", "bank_hash_id"))
    reported = {}
    for partner_id, hash_id in keys:
        reported.setdefault(partner_id, set()).add(hash_id)
    firsts = sharing.firsts()
    for partner in Partner.objects.all():
        handovers = Handover.objects.filter(partner=partner).order_by("at", "id")
        days, gave = refresh_shares(partner, handovers.iterator(chunk_size=5000), firsts, sharing.Given())
        touched |= days
        shared[partner.pk] = {h: gave[h].at for h in reported.get(partner.pk, ()) if h in gave}
    touched |= refresh_pairs(keys, shared)
    recount_partner_days(touched)
    recumulate(touched)
    days = intake_days()
    recount_intake_days(days)
    remonth(days | {day for _partner, day in touched})
    Watermark.objects.create(name="update", at=now or timezone.now(), active=BankHash.objects.shareable().count())


# --- Reading --------------------------------------------------------------------------------------------------

def spans(period, daily, monthly, **filters):
    """Querysets whose rows together cover the period once: its whole calendar months from the monthly rollup,
    the days around them from the daily one."""
    first_month = (period.first if period.first.day == 1
                   else (period.first.replace(day=1) + timedelta(days=32)).replace(day=1))
    after = period.last + timedelta(days=1)
    end_month = after.replace(day=1)
    if first_month >= end_month:
        return [daily.objects.filter(day__gte=period.first, day__lte=period.last, **filters)]
    return [daily.objects.filter(Q(day__gte=period.first, day__lt=first_month) | Q(day__gte=end_month,
                                                                                  day__lte=period.last), **filters),
            monthly.objects.filter(day__gte=first_month, day__lt=end_month, **filters)]


def summed(period, daily, monthly, fields, **filters):
    """[{field: value, ..., "n": count}] summed over the period (rows from both rollups: a key may repeat)."""
    return [row for rows in spans(period, daily, monthly, **filters)
            for row in rows.values(*fields).annotate(n=Sum("count")).order_by()]


def partner_numbers(period, partners=None):
    """As stats.metrics.partner_numbers, from the rollups."""
    partners = list(partners if partners is not None else Partner.objects.order_by("name"))
    counts = Counter()
    for r in summed(period, DailyCount, MonthlyCount, ("partner_id", "number"), partner__in=partners):
        counts[(r["partner_id"], r["number"])] += r["n"]
    to_last, before = histograms_to(period.last, partners), histograms_to(period.first - timedelta(days=1), partners)
    histograms = {key: [n - e for n, e in zip(upto, before[key], strict=True)] if key in before else upto
                  for key, upto in to_last.items()}
    nothing = [0] * (bins.LONGER + 1)
    table = {}
    for partner in [*partners, None]:
        ids = [partner.pk] if partner else [p.pk for p in partners]

        def total(number, ids=ids):
            return sum(counts.get((i, number), 0) for i in ids)

        row = {k: total(k) for k in ("shared", "matched", "reviewed", "actioned")}
        row["removal_rate"] = row["actioned"] / row["reviewed"] if row["reviewed"] else None
        after = row["actioned_after_sharing"] = total("actioned_after_sharing")
        within = row["actioned_within_48h"] = total("actioned_within_48h")
        row["within_48h"] = within / after if after else None
        for measure in MEASURES:
            merged = dict(enumerate(map(sum, zip(*(histograms.get((i, measure), nothing) for i in ids), strict=True))))
            row[f"{measure}_median"] = bins.percentile(merged, 0.5)
            row[f"{measure}_p90"] = bins.percentile(merged, 0.9)
        table[partner.name if partner else "all"] = row
    return table


TYPICAL_WEEKS = 12  # the dashboard's default period


def typical_match_to_action():
    """What a caller is told partners usually take to block or remove a copy they found: the median time from first
    match to action, over every partner in the last TYPICAL_WEEKS weeks (a timedelta, or bins.OVER). None when it
    would be taken over a handful of actions (a time published to the public follows design rule 10) or none.
    Kept for ten minutes: every hashing page shows it."""

    def compute():
        today = timezone.localdate()
        row = partner_numbers(Period(today - timedelta(weeks=TYPICAL_WEEKS), today))["all"]
        shown = row["actioned"] and not suppression.is_small(row["actioned"])
        return (row["match_to_action_median"] if shown else None,)

    return cache.get_or_set("stats:typical-match-to-action", compute, 600)[0]


def intake(period):
    """As stats.metrics.intake, from the rollups (active is a state: as the last update found it)."""
    found = {}
    for r in summed(period, DailyCount, MonthlyCount, ("number", "breakdown"), partner=None):
        breakdowns = found.setdefault(r["number"], {})
        breakdowns[r["breakdown"]] = breakdowns.get(r["breakdown"], 0) + r["n"]

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
        "active": Watermark.objects.filter(name="update").values_list("active", flat=True).first() or 0,
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
    if bucket == "month":  # a month's row is dated its first day
        rows = summed(period, DailyCount, MonthlyCount, ("day", "number"), partner__in=partners, number__in=numbers)
    else:
        rows = DailyCount.objects.filter(day__gte=period.first, day__lte=period.last, partner__in=partners,
                                         number__in=numbers).values("day", "number").annotate(n=Sum("count"))
    for row in rows:
        values[bucket_of(row["day"], bucket)][row["number"]] += row["n"]
    return [(label, values[label]) for label in labels]


def cases_behind(period, partner, number):
    """The cases holding the hashes a partner's number counts in the period (matched, reviewed or actioned)."""
    start, end = bounds(period.first)[0], bounds(period.last)[1]
    hash_ids = PairState.objects.filter(partner=partner, **{f"{number}_at__gte": start, f"{number}_at__lt": end}
                                        ).values_list("hash_id", flat=True)
    return Case.objects.filter(items__bank_hashes__in=list(hash_ids)).distinct().order_by("created")
