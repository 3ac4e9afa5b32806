"""Keeping docs/statistics.md's numbers as rollups (stats.reading reads them back).

`update` (every minute, from beat) finds what happened in a window reaching back OVERLAP before its last run
(so a transaction that commits a little late is still seen; a nightly run reaching two days back catches
anything later) and recomputes the days and pairs it touched; `rebuild` recomputes everything. Both write the
same rows, from which stats.reading gives what the reference computation of the tests (tests/stats_reference.py)
gives from the records.
"""

from collections import Counter
from datetime import timedelta
from itertools import groupby

from django.db import connection, transaction
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import Case, Contact, Item, Referral
from core.periods import DAY, days_q, local_day, month_start, next_month, start_of, zone
from hashing.models import BankHash
from partners.models import Handover, Outcome, Partner
from stats import bins, sharing
from stats.models import (
    DailyCount,
    DailyHistogram,
    HandoverShare,
    HistogramToDate,
    MonthlyCount,
    PairState,
    RemovalHistogram,
    SiteDay,
    SiteMonth,
    SiteOverdue,
    Watermark,
)
from takedowns.models import Address, AddressOutcome, TakedownRequest, time_to_removal

OVERLAP = timedelta(minutes=10)
# "Actioned within 48 hours" of sharing, and "removed within 48 hours" of the first request: real elapsed time.
WITHIN = timedelta(hours=48)
PARTNER_NUMBERS = ("shared", "matched", "reviewed", "actioned", "actioned_after_sharing", "actioned_within_48h")
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
                      matched=Min("acted_at", filter=Q(value__in=Outcome.MATCHED)),
                      reviewed=Min("acted_at", filter=Q(value__in=Outcome.REVIEWED)),
                      actioned=Min("acted_at", filter=Q(value__in=Outcome.ACTIONED)))}
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


def refresh_shares(partner, handovers, candidates, covered):
    """Store the shares the partner's handovers made (stats.sharing.new_shares); returns the (partner, day) pairs
    touched and {hash id: handover} for the hashes the handovers gave the partner first."""
    shares, gave = sharing.new_shares(partner, handovers, candidates, covered)
    copy_in(HandoverShare, shares)
    return {(partner.pk, share.day) for share in shares}, gave


# --- Recounting days ------------------------------------------------------------------------------------------

def runs(days):
    """[(first, last)] of the consecutive days among these."""
    found = []
    for day in sorted(days):
        if found and found[-1][1] + DAY == day:
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
        histograms = {day: {measure: Counter() for measure in DailyHistogram.MEASURES} for day in days}
        for day, hashes in HandoverShare.objects.filter(partner_id=partner_id, day__in=days).values_list(
                "day").annotate(n=Sum("hashes")):
            counts[day]["shared"] = hashes
        within = Q()
        for first, last in runs(days):
            start, end = start_of(first), start_of(last + DAY)
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
        start, end = start_of(first), start_of(last + DAY)
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
        for month in sorted({month_start(day) for day in days}):
            cursor.execute("DELETE FROM stats_monthlycount WHERE day = %s", [month])
            cursor.execute("""INSERT INTO stats_monthlycount (day, number, partner_id, breakdown, count)
                              SELECT %s, number, partner_id, breakdown, sum(count) FROM stats_dailycount
                              WHERE day >= %s AND day < %s GROUP BY number, partner_id, breakdown""",
                           [month, month, next_month(month)])


def recumulate(keys):
    """Rewrite the partners' HistogramToDate rows from the earliest of these (partner, day) pairs on."""
    earliest = {}
    for partner_id, day in keys:
        earliest[partner_id] = min(day, earliest.get(partner_id, day))
    for partner_id, start in earliest.items():
        totals = {measure: [0] * (bins.LONGER + 1) for measure in DailyHistogram.MEASURES}
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


# --- Web addresses: per site and local day of first request ---------------------------------------------------

def count_address(counts, histogram, first_asked_at, outcome, removed_at):
    """Count an address asked for in its day's row (docs/statistics.md, "Web addresses"): by its outcome now,
    and, removed, its time to removal."""
    counts["asked"] += 1
    if outcome in Address.RECORDED:
        counts[outcome] += 1
    if outcome == Address.Outcome.REMOVED:
        taken = time_to_removal(first_asked_at, removed_at)
        histogram[bins.bin_of(taken)] += 1
        counts["within_48h"] += taken <= WITHIN


def site_days(since):
    """The (site, day) rows what happened since then may have changed: the days of first request of the
    addresses with a new step (a request naming them went, an outcome was recorded), the days requests went."""
    keys = {(site_id, local_day(first)) for site_id, first in AddressOutcome.objects.filter(
        recorded__gte=since, address__first_asked_at__isnull=False).values_list(
        "address__site_id", "address__first_asked_at").distinct()}
    keys |= {(site_id, local_day(sent)) for site_id, sent in TakedownRequest.objects.filter(
        state=TakedownRequest.State.SENT, sent_at__gte=since).values_list("site_id", "sent_at")}
    return keys


def on_days(field, days):
    """A Q: the field's moment falls on one of these local days."""
    q = Q()
    for first, last in runs(days):
        q |= days_q(field, first, last)
    return q


def recount_site_days(keys=None):
    """Recompute the web address rows of these (site, day) pairs (None: every one) from the records, and the
    all-sites histograms of their days."""
    addresses = Address.objects.exclude(first_asked_at=None)
    sent = TakedownRequest.objects.filter(state=TakedownRequest.State.SENT)
    if keys is not None:
        if not keys:
            return
        days, sites = {day for _site, day in keys}, list({site for site, _day in keys})
        addresses = addresses.filter(on_days("first_asked_at", days), site_id__in=sites)
        sent = sent.filter(on_days("sent_at", days), site_id__in=sites)
    counts, histograms = {}, {}
    for site_id, first, outcome, removed_at in addresses.values_list(
            "site_id", "first_asked_at", "outcome", "removed_at").order_by().iterator(chunk_size=5000):
        key = (site_id, local_day(first))
        if keys is None or key in keys:
            count_address(counts.setdefault(key, Counter()), histograms.setdefault(key, Counter()), first, outcome,
                          removed_at)
    for site_id, at, kind in sent.values_list("site_id", "sent_at", "kind").order_by().iterator(chunk_size=5000):
        key = (site_id, local_day(at))
        if keys is None or key in keys:
            counts.setdefault(key, Counter())["requests" if kind == TakedownRequest.Kind.REQUEST else "follow_ups"] += 1
    if keys is None:
        SiteDay.objects.all().delete()
        SiteMonth.objects.all().delete()
        RemovalHistogram.objects.all().delete()
        days = {day for _site, day in counts}
    else:
        with connection.cursor() as cursor:
            for table in ("stats_siteday", "stats_removalhistogram"):
                cursor.execute(f"""DELETE FROM {table} t USING unnest(%s::bigint[], %s::date[]) k (site_id, day)
                                   WHERE t.site_id = k.site_id AND t.day = k.day""",  # noqa: S608 (constants)
                               [[site for site, _day in keys], [day for _site, day in keys]])
    copy_in(SiteDay, (SiteDay(site_id=site_id, day=day, **counter) for (site_id, day), counter in counts.items()))
    copy_in(RemovalHistogram, (RemovalHistogram(site_id=site_id, day=day, bin=index, count=count)
                               for (site_id, day), histogram in histograms.items()
                               for index, count in histogram.items()))
    # The months of those rows, again from their days.
    sums = ", ".join(f"sum({name})" for name in SiteDay.COUNTS)
    insert = f"""INSERT INTO stats_sitemonth (site_id, day, {", ".join(SiteDay.COUNTS)})
                 SELECT d.site_id, date_trunc('month', d.day)::date, {sums} FROM stats_siteday d {{join}}
                 GROUP BY 1, 2"""  # noqa: S608 (constants)
    with connection.cursor() as cursor:
        if keys is None:
            cursor.execute(insert.format(join=""))
        else:
            months = {(site, month_start(day)) for site, day in keys}
            pairs = [[site for site, _day in months], [day for _site, day in months]]
            cursor.execute("""DELETE FROM stats_sitemonth t USING unnest(%s::bigint[], %s::date[]) k (site_id, day)
                              WHERE t.site_id = k.site_id AND t.day = k.day""", pairs)
            cursor.execute(insert.format(join="""JOIN unnest(%s::bigint[], %s::date[]) k (site_id, day)
                ON d.site_id = k.site_id AND d.day >= k.day AND d.day < k.day + interval '1 month'"""), pairs)
    # All sites' histogram of each day: the sum of its sites'.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM stats_removalhistogram WHERE site_id IS NULL AND day = ANY(%s)", [list(days)])
        cursor.execute("""INSERT INTO stats_removalhistogram (site_id, day, bin, count)
                          SELECT NULL, day, bin, sum(count) FROM stats_removalhistogram
                          WHERE site_id IS NOT NULL AND day = ANY(%s) GROUP BY day, bin""", [list(days)])


def recount_overdue(now):
    """The requests overdue now, per site: a state (counting them takes longer than the rest of a dashboard)."""
    SiteOverdue.objects.all().delete()
    SiteOverdue.objects.bulk_create(SiteOverdue(site_id=site_id, requests=n) for site_id, n in (
        TakedownRequest.objects.overdue(now).values_list("site_id").annotate(n=Count("id")).order_by()))


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
    # Handovers since then are taken again, from what those before had covered.
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
        days, gave = refresh_shares(partner, handovers[partner.pk], candidates, sharing.Covered(position, windows))
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
    recount_site_days(site_days(since))
    recount_overdue(now)
    mark.at, mark.shareable_hashes = now, BankHash.objects.shareable().count()
    mark.save(update_fields=["at", "shareable_hashes"])


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
        days, gave = refresh_shares(partner, handovers.iterator(chunk_size=5000), firsts, sharing.Covered())
        touched |= days
        shared[partner.pk] = {h: gave[h].at for h in reported.get(partner.pk, ()) if h in gave}
    touched |= refresh_pairs(keys, shared)
    recount_partner_days(touched)
    recumulate(touched)
    days = intake_days()
    recount_intake_days(days)
    remonth(days | {day for _partner, day in touched})
    recount_site_days()
    recount_overdue(now or timezone.now())
    Watermark.objects.create(name="update", at=now or timezone.now(),
                             shareable_hashes=BankHash.objects.shareable().count())
