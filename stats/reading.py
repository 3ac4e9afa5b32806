"""Reading docs/statistics.md's numbers for a period from the rollups stats.keeping keeps: the dashboard's, the
exports' and the monthly report's (the reference computation of the tests, tests/stats_reference.py, gives the
same from the records)."""

from collections import Counter

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, Sum

from cases.models import Case
from core.periods import DAY, Period, bucket_of, month_start, next_month
from partners.models import Partner
from stats import bins, suppression
from stats.models import (
    DailyCount,
    DailyHistogram,
    MonthlyCount,
    PairState,
    RemovalHistogram,
    SiteDay,
    SiteMonth,
    SiteOverdue,
    Watermark,
)
from takedowns.models import Address


def spans(period, daily, monthly, **filters):
    """Querysets whose rows together cover the period once: its whole calendar months from the monthly rollup,
    the days around them from the daily one."""
    first_month = period.first if period.first.day == 1 else next_month(period.first)
    end_month = month_start(period.last + DAY)
    if first_month >= end_month:
        return [daily.objects.filter(day__gte=period.first, day__lte=period.last, **filters)]
    return [daily.objects.filter(Q(day__gte=period.first, day__lt=first_month) | Q(day__gte=end_month,
                                                                                  day__lte=period.last), **filters),
            monthly.objects.filter(day__gte=first_month, day__lt=end_month, **filters)]


def summed(period, daily, monthly, fields, **filters):
    """[{field: value, ..., "n": count}] summed over the period (rows from both rollups: a key may repeat)."""
    return [row for rows in spans(period, daily, monthly, **filters)
            for row in rows.values(*fields).annotate(n=Sum("count")).order_by()]


def histograms_to(day, partners):
    """{(partner id, measure): [count per bin]} of durations ended on or before the day."""
    sql = """SELECT p.id, m.measure, h.counts
             FROM unnest(%s::bigint[]) p (id) CROSS JOIN unnest(%s::text[]) m (measure)
             JOIN LATERAL (SELECT counts FROM stats_histogramtodate WHERE partner_id = p.id AND measure = m.measure
                           AND day <= %s ORDER BY day DESC LIMIT 1) h ON TRUE"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [[p.pk for p in partners], list(DailyHistogram.MEASURES), day])
        return {(partner_id, measure): counts for partner_id, measure, counts in cursor.fetchall()}


def partner_numbers(period, partners=None):
    """Per partner (and "all"): shared, matched, reviewed, actioned, removal rate, median and 90th percentile of
    the three times, and the share of actions within 48 hours of sharing (with the two counts it divides: the
    actions after sharing, the times are taken over those too, and those within 48 hours)."""
    partners = list(partners if partners is not None else Partner.objects.order_by("name"))
    counts = Counter()
    for r in summed(period, DailyCount, MonthlyCount, ("partner_id", "number"), partner__in=partners):
        counts[(r["partner_id"], r["number"])] += r["n"]
    to_last, before = histograms_to(period.last, partners), histograms_to(period.first - DAY, partners)
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
        for measure in DailyHistogram.MEASURES:
            merged = dict(enumerate(map(sum, zip(*(histograms.get((i, measure), nothing) for i in ids), strict=True))))
            row[f"{measure}_median"] = bins.percentile(merged, 0.5)
            row[f"{measure}_p90"] = bins.percentile(merged, 0.9)
        table[partner.name if partner else "all"] = row
    return table


DEFAULT_WEEKS = 12  # the dashboard's period unless one is chosen, and the window of the caller's typical time


def typical_match_to_action():
    """What a caller is told partners usually take to block or remove a copy they found: the median time from first
    match to action, over every partner in the last DEFAULT_WEEKS weeks (a timedelta, or bins.OVER). None when it
    would be taken over a handful of actions (a time published to the public follows design rule 10) or none.
    Kept for ten minutes: every hashing page shows it."""

    def compute():
        row = partner_numbers(Period.weeks_to_today(DEFAULT_WEEKS))["all"]
        shown = row["actioned"] and not suppression.is_small(row["actioned"])
        return (row["match_to_action_median"] if shown else None,)

    return cache.get_or_set("stats:typical-match-to-action", compute, 600)[0]


def intake(period):
    """Contacts by channel and outcome, referrals by service and status, cases by abuse type, items by kind,
    hashes new to the bank, withdrawals; and the hashes active (a state: as the last update found it)."""
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
        "active": Watermark.objects.filter(name="update").values_list("shareable_hashes", flat=True).first() or 0,
    }


def series(period, partners, bucket="week", numbers=("shared", "matched", "reviewed", "actioned")):
    """[(bucket label, {number: count})] over the period, every bucket present (zeros included), in order."""
    labels = []
    day = period.first
    while day <= period.last:
        label = bucket_of(day, bucket)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += DAY
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
    hash_ids = PairState.objects.filter(period.q(f"{number}_at"), partner=partner).values_list("hash_id", flat=True)
    return Case.objects.filter(items__bank_hashes__in=list(hash_ids)).distinct().order_by("created")


# --- Web addresses (docs/statistics.md): per site and local day of first request ----------------------------------

OUTCOMES = tuple(Address.RECORDED)  # with "still waiting" they add up to the addresses asked for
NUMBERS = (*SiteDay.COUNTS, "overdue")
# Each site's sums over the period (its whole months' rows, the days' around them, and its requests overdue now),
# once; from them, in one round
# trip: each kind's and all sites' (level "kind": grouping() is 1 for all), how many sites there are, and the
# sites with the most addresses asked for (all of them without a limit).
ADDRESS_SQL = """
WITH per_site AS MATERIALIZED (
    SELECT site_id, {sums} FROM (
        SELECT site_id, {columns}, 0 AS overdue FROM stats_siteday
        WHERE day >= %(first)s AND day < %(first_month)s OR day >= %(end_month)s AND day <= %(last)s
        UNION ALL
        SELECT site_id, {columns}, 0 FROM stats_sitemonth WHERE day >= %(first_month)s AND day < %(end_month)s
        UNION ALL
        SELECT site_id, {zeros}, requests FROM stats_siteoverdue) rows
    GROUP BY site_id)
SELECT 'kind', s.kind, grouping(s.kind), {sums} FROM per_site p JOIN takedowns_site s ON s.id = p.site_id
GROUP BY ROLLUP (s.kind)
UNION ALL
SELECT 'count', NULL, count(*), {zeros}, 0 FROM per_site
UNION ALL
SELECT 'site', s.kind, p.site_id, {plain}
FROM (SELECT * FROM per_site ORDER BY asked DESC, site_id LIMIT %(top)s) p JOIN takedowns_site s ON s.id = p.site_id
"""
HISTOGRAM_SQL = """
SELECT {key}, h.bin, sum(h.count) FROM stats_removalhistogram h {join}
WHERE h.day >= %(first)s AND h.day <= %(last)s AND {where}
GROUP BY 1, h.bin
"""


def finish(row):
    """A row's derived figures: still waiting (asked for, no answer recorded yet), URL removal rate (removed ÷
    asked for), share removed within 48 hours (of the removed)."""
    for name in NUMBERS:
        row.setdefault(name, 0)
    row["requests"] += row.pop("follow_ups")  # "requests sent" counts every kind
    row["waiting"] = row["asked"] - sum(row[o] for o in OUTCOMES)
    row["removal_rate"] = row["removed"] / row["asked"] if row["asked"] else None
    row["within_48h_share"] = row["within_48h"] / row["removed"] if row["removed"] else None
    return row


def removal_times(row, histogram):
    row["to_removal_median"] = bins.percentile(histogram, 0.5)
    row["to_removal_p90"] = bins.percentile(histogram, 0.9)


def histograms(period, key, join="", where="TRUE", **params):
    """{key: {bin: count}} of the times to removal of the addresses first asked for in the period."""
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(HISTOGRAM_SQL.format(key=key, join=join, where=where),
                       {"first": period.first, "last": period.last, **params})
        for group, index, count in cursor.fetchall():
            found.setdefault(group, {})[index] = count
    return found


def whole_months(period):
    """The period's whole calendar months, [first_month, end_month) (empty: both the day after the period)."""
    first_month = period.first if period.first.day == 1 else next_month(period.first)
    end_month = month_start(period.last + DAY)
    if first_month >= end_month:
        first_month = end_month = period.last + DAY
    return {"first_month": first_month, "end_month": end_month}


def address_figures(period, top=None, kind_times=True):
    """{"all": figures, "kinds": {kind: figures}, "sites": {site id: figures}, "site_count"} of the web addresses
    first asked for in the period, the requests sent in it and the requests overdue now (as the last minute's
    update counted them); a site with any of these is a site of the period (site_count). "sites" holds the `top`
    sites with the most addresses asked for (None: every site), with their times to removal; times also for all
    and, if `kind_times`, each kind."""
    sql = ADDRESS_SQL.format(sums=", ".join(f"coalesce(sum({n}), 0)::bigint AS {n}" for n in NUMBERS),
                             columns=", ".join(SiteDay.COUNTS), zeros=", ".join("0" for _n in SiteDay.COUNTS),
                             plain=", ".join(f"p.{n}" for n in NUMBERS))
    total, kinds, sites, site_count = {}, {}, {}, 0
    with connection.cursor() as cursor:
        cursor.execute(sql, {"first": period.first, "last": period.last, "top": top, **whole_months(period)})
        for level, kind, key, *numbers in cursor.fetchall():
            row = dict(zip(NUMBERS, numbers, strict=True))
            if level == "count":
                site_count = key
            elif level == "site":
                sites[key] = finish({"kind": kind, **row})
            elif key:  # grouping(): all sites
                total = row
            else:
                kinds[kind] = row
    for row in (total, *kinds.values()):
        finish(row)
    for row in (total, *kinds.values(), *sites.values()):
        removal_times(row, {})
    removal_times(total, histograms(period, "h.site_id", where="h.site_id IS NULL").get(None, {}))
    if sites:
        for site_id, histogram in histograms(period, "h.site_id", where="h.site_id = ANY(%(sites)s)",
                                             sites=list(sites)).items():
            removal_times(sites[site_id], histogram)
    if kind_times:
        for kind, histogram in histograms(period, "s.kind", join="JOIN takedowns_site s ON s.id = h.site_id",
                                          where="h.site_id IS NOT NULL").items():
            removal_times(kinds[kind], histogram)
    return {"all": total, "kinds": kinds, "sites": sites, "site_count": site_count}


def sites_by_asked(found, limit):
    """The `limit` sites with the most addresses asked for in address_figures' figures, as [(site id, figures)]."""
    top = sorted(found["sites"], key=lambda key: (-found["sites"][key]["asked"], key))[:limit]
    return [(key, found["sites"][key]) for key in top]


def site_record(site):
    """A site's record, all time: the requests sent to it (requests, and reminders and escalations apart), its
    addresses' outcomes and time to removal, its requests overdue now and its addresses not asked for yet."""
    rows = SiteMonth.objects.filter(site=site)  # every month's days, summed
    record = {name: value or 0 for name, value in rows.aggregate(**{name: Sum(name) for name in SiteDay.COUNTS})
              .items()}
    follow_ups = record["follow_ups"]
    finish(record)
    record["requests"], record["follow_ups"] = record["requests"] - follow_ups, follow_ups
    removal_times(record, dict(RemovalHistogram.objects.filter(site=site).values_list("bin").annotate(
        n=Sum("count")).order_by()))
    record["overdue"] = SiteOverdue.objects.filter(site=site).values_list("requests", flat=True).first() or 0
    record["not_asked"] = site.addresses.filter(first_asked_at=None).count()
    return record
