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
COUNTS = ("asked", *OUTCOMES, "waiting", "within_48h", "requests")

FIGURES = """
SELECT {group}, grouping({group}) = 1 AS is_total,
       count(*) AS asked,
       {outcomes},
       count(*) FILTER (WHERE a.outcome = 'removed' AND a.removed_at - a.first_asked_at <= %(within)s)
           AS within_48h,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY greatest(a.removed_at - a.first_asked_at, interval '0'))
           FILTER (WHERE a.outcome = 'removed') AS to_removal_median,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY greatest(a.removed_at - a.first_asked_at, interval '0'))
           FILTER (WHERE a.outcome = 'removed') AS to_removal_p90
FROM takedowns_address a {join}
WHERE {where}
GROUP BY GROUPING SETS (({group}), ())
"""


def rows(where, params, by="site"):
    """{group key or "all": figures} of the addresses matching `where` (SQL over alias a), per site (`by`
    "site": key the site id) or per kind of site ("kind": key the kind)."""
    group, join = ("a.site_id", "") if by == "site" else ("s.kind", "JOIN takedowns_site s ON s.id = a.site_id")
    outcomes = ",\n       ".join(f"count(*) FILTER (WHERE a.outcome = '{o}') AS {o}" for o in OUTCOMES)
    sql = FIGURES.format(group=group, join=join, where=where, outcomes=outcomes)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "within": WITHIN})
        names = [column[0] for column in cursor.description]
        found = {}
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            key = "all" if row.pop("is_total") else row[names[0]]
            found[key] = finish(row)
    found.setdefault("all", empty())
    return found


def empty():
    """The figures of a site (or kind) with no address asked for."""
    return finish({"asked": 0, **dict.fromkeys(OUTCOMES, 0), "within_48h": 0, "to_removal_median": None,
                   "to_removal_p90": None})


def finish(row):
    """Derived figures: still waiting (asked, no answer recorded yet), removal rate (removed ÷ asked), share
    removed within 48 hours (of the removed)."""
    row["waiting"] = row["asked"] - sum(row[o] for o in OUTCOMES)
    row["removal_rate"] = row["removed"] / row["asked"] if row["asked"] else None
    row["within_48h_share"] = row["within_48h"] / row["removed"] if row["removed"] else None
    row.setdefault("requests", 0)
    return row


def for_period(start, end, by="site"):
    """{site id (or kind) or "all": figures} for the addresses first asked for in [start, end), with the requests
    sent to each site in that time."""
    found = rows("a.first_asked_at >= %(start)s AND a.first_asked_at < %(end)s", {"start": start, "end": end}, by)
    sent = (TakedownRequest.objects.filter(state=TakedownRequest.State.SENT, sent_at__gte=start, sent_at__lt=end)
            .values("site_id" if by == "site" else "site__kind").annotate(n=Count("id")))
    for entry in sent:
        key = entry["site_id" if by == "site" else "site__kind"]
        found.setdefault(key, empty())["requests"] = entry["n"]
        found["all"]["requests"] += entry["n"]
    return found


def overdue_now(by="site"):
    """{site id (or kind) or "all": requests overdue now}."""
    field = "site_id" if by == "site" else "site__kind"
    counts = dict(TakedownRequest.objects.overdue().values_list(field).annotate(n=Count("id")).values_list(field, "n"))
    return {**counts, "all": sum(counts.values())}


def site_record(site):
    """A site's record, all time: the requests sent to it, its addresses' outcomes and time to removal."""
    record = rows("a.site_id = %(site)s AND a.first_asked_at IS NOT NULL", {"site": site.pk})["all"]
    requests = dict(site.requests.filter(state=TakedownRequest.State.SENT).values_list("kind")
                    .annotate(n=Count("id")).values_list("kind", "n"))
    record["requests"] = requests.get(TakedownRequest.Kind.REQUEST, 0)
    record["follow_ups"] = sum(requests.values()) - record["requests"]
    record["overdue"] = site.requests.overdue().count()
    record["not_asked"] = site.addresses.filter(first_asked_at=None).count()
    return record


def sites_by_asked(figures, limit):
    """The `limit` sites with the most addresses asked for in a period's figures, as (site, figures)."""
    top = sorted((key for key in figures if key != "all"), key=lambda key: -figures[key]["asked"])[:limit]
    names = Site.objects.in_bulk(top)
    return [(names[key], figures[key]) for key in top]


def case_counts(case):
    """For the caller's status page: how many web addresses the helpline holds for the case, how many it asked
    sites to remove and how many are removed. Never a site or an address."""
    return case.web_addresses.aggregate(found=Count("id"), asked=Count("id", filter=Q(first_asked_at__isnull=False)),
                                        removed=Count("id", filter=Q(outcome=Address.Outcome.REMOVED)))
