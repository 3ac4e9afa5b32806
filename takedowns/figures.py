"""The takedown numbers of docs/statistics.md ("Web addresses"), read from the records: a site's record, a
period's figures per site or per kind of site, a case's counts for its caller. Counts and times only, never an
address. stats/ publishes them (with small-number suppression where they leave the portal).

A period's figures are about the addresses first asked for in it (their first request went in the period), and
what has become of them since: so a month's numbers can still change as late answers come in.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import Count, Q

from takedowns.models import Address, Site, TakedownRequest

WITHIN = timedelta(hours=48)
OUTCOMES = ("removed", "refused", "no_answer", "reinstated")

COUNTS_SQL = """
SELECT a.site_id, s.kind, grouping(a.site_id, s.kind), count(*) AS asked, {outcomes},
       count(*) FILTER (WHERE a.outcome = 'removed' AND a.removed_at - a.first_asked_at <= %(within)s)
           AS within_48h
FROM takedowns_address a JOIN takedowns_site s ON s.id = a.site_id
WHERE {where}
GROUP BY GROUPING SETS ((a.site_id, s.kind), (s.kind), ())
"""
# Medians and 90th percentiles (nearest rank) of the time to removal. Each group's times are sorted apart, so
# they are taken for few groups at once: all sites, each kind, and the sites asked for (SITE_TIMES).
TIMES_SQL = """
SELECT {keys}, percentile_disc(0.5) WITHIN GROUP (ORDER BY removed.t), percentile_disc(0.9) WITHIN GROUP
       (ORDER BY removed.t)
FROM (SELECT a.site_id, s.kind, greatest(a.removed_at - a.first_asked_at, interval '0') AS t
      FROM takedowns_address a JOIN takedowns_site s ON s.id = a.site_id
      WHERE {where} AND a.outcome = 'removed') removed
GROUP BY {groups}
"""
KIND_TIMES = ("removed.kind, grouping(removed.kind)", "GROUPING SETS ((removed.kind), ())")
ALL_TIMES = ("NULL, 1", "()")
SITE_TIMES = ("removed.site_id, 0", "removed.site_id")


def query(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def figures(where, params, top=None, kind_times=True):
    """{"all": figures, "sites": {site id: figures}, "kinds": {kind: figures}} of the addresses matching `where`
    (SQL over alias a). Times to removal for all, each kind (unless not `kind_times`), and the `top` sites with
    the most addresses (None: every site)."""
    params = {**params, "within": WITHIN}
    outcomes = ", ".join(f"count(*) FILTER (WHERE a.outcome = '{o}') AS {o}" for o in OUTCOMES)
    sites, kinds, total = {}, {}, empty()
    for site_id, kind, level, *counts in query(COUNTS_SQL.format(outcomes=outcomes, where=where), params):
        row = dict(zip(("asked", *OUTCOMES, "within_48h"), counts, strict=True))
        if level == 0:
            sites[site_id] = {"kind": kind, **row}
        elif level == 2:  # grouped by kind only (grouping() sets a bit for each column left out)
            kinds[kind] = row
        else:
            total.update(row)
    keys, groups = KIND_TIMES if kind_times else ALL_TIMES
    times = query(TIMES_SQL.format(keys=keys, groups=groups, where=where), params)
    times_for = None if top is None else sorted(sites, key=lambda key: (-sites[key]["asked"], key))[:top]
    if times_for is None or times_for:
        site_where = where if times_for is None else f"{where} AND a.site_id = ANY(%(times_for)s)"
        times += query(TIMES_SQL.format(keys=SITE_TIMES[0], groups=SITE_TIMES[1], where=site_where),
                       {**params, "times_for": list(times_for or ())})
    for key, level, median, p90 in times:
        row = total if level == 1 else kinds.get(key) if isinstance(key, str) else sites.get(key)
        if row is not None:
            row["to_removal_median"], row["to_removal_p90"] = median, p90
    for row in (total, *sites.values(), *kinds.values()):
        row.setdefault("to_removal_median", None)
        row.setdefault("to_removal_p90", None)
        finish(row)  # the requests sent and overdue come later (for_period): finish() again is harmless
    return {"all": total, "sites": sites, "kinds": kinds}


ZERO = {"asked": 0, **dict.fromkeys(OUTCOMES, 0), "within_48h": 0, "requests": 0, "overdue": 0}
NO_TIMES = {"to_removal_median": None, "to_removal_p90": None}


def empty():
    """The figures of a site (or kind) with no address asked for."""
    return dict(ZERO)


def finish(row):
    """Derived figures: still waiting (asked, no answer recorded yet), removal rate (removed ÷ asked), share
    removed within 48 hours (of the removed)."""
    for name, zero in ZERO.items():
        row.setdefault(name, zero)
    row["waiting"] = row["asked"] - sum(row[o] for o in OUTCOMES)
    row["removal_rate"] = row["removed"] / row["asked"] if row["asked"] else None
    row["within_48h_share"] = row["within_48h"] / row["removed"] if row["removed"] else None
    return row


def for_period(start, end, top=None, kind_times=True):
    """The figures of the addresses first asked for in [start, end) (see figures), with the requests sent to
    each site in that time and the requests overdue now. Times per site for the `top` sites with the most
    addresses asked for (None: every site), per kind if `kind_times`."""
    found = figures("a.first_asked_at >= %(start)s AND a.first_asked_at < %(end)s", {"start": start, "end": end},
                    top, kind_times)
    sent = (TakedownRequest.objects.filter(state=TakedownRequest.State.SENT, sent_at__gte=start, sent_at__lt=end)
            .values_list("site_id", "site__kind").annotate(n=Count("id")))
    overdue = TakedownRequest.objects.overdue().values_list("site_id", "site__kind").annotate(n=Count("id"))
    for field, entries in (("requests", sent), ("overdue", overdue)):
        for site_id, kind, n in entries:
            if site_id not in found["sites"]:  # asked for nothing in the period: a hosting provider, say
                found["sites"][site_id] = finish({"kind": kind, **NO_TIMES})
            if kind not in found["kinds"]:
                found["kinds"][kind] = finish(dict(NO_TIMES))
            for row in (found["sites"][site_id], found["kinds"][kind], found["all"]):
                row[field] += n
    return found


def site_record(site):
    """A site's record, all time: the requests sent to it, its addresses' outcomes and time to removal."""
    record = figures("a.site_id = %(site)s AND a.first_asked_at IS NOT NULL", {"site": site.pk}, top=0,
                     kind_times=False)["all"]
    requests = dict(site.requests.filter(state=TakedownRequest.State.SENT).values_list("kind")
                    .annotate(n=Count("id")).values_list("kind", "n"))
    record["requests"] = requests.get(TakedownRequest.Kind.REQUEST, 0)
    record["follow_ups"] = sum(requests.values()) - record["requests"]
    record["overdue"] = site.requests.overdue().count()
    record["not_asked"] = site.addresses.filter(first_asked_at=None).count()
    return record


def sites_by_asked(found, limit):
    """The `limit` sites with the most addresses asked for in a period's figures, as (site, figures)."""
    top = sorted(found["sites"], key=lambda key: (-found["sites"][key]["asked"], key))[:limit]
    names = Site.objects.in_bulk(top)
    return [(names[key], found["sites"][key]) for key in top]


def case_counts(case):
    """For the caller's status page: how many web addresses the helpline holds for the case, how many it asked
    sites to remove and how many are removed. Never a site or an address."""
    return case.web_addresses.aggregate(found=Count("id"), asked=Count("id", filter=Q(first_asked_at__isnull=False)),
                                        removed=Count("id", filter=Q(outcome=Address.Outcome.REMOVED)))
