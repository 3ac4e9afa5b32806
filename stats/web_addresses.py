"""The takedown figures of docs/statistics.md ("Web addresses") as the statistics pages show them: exact on the
dashboard, with small numbers suppressed (design rule 10, stats.suppression) in the CSV and the monthly report.
The numbers come from the rollups (stats.reading.address_figures); no address is ever read here."""

from core.formats import duration, percent
from stats import reading, suppression
from takedowns.models import Site

TOP_SITES = 20
# The counts a row publishes: the addresses asked for in the period, what has become of them (these five add up
# to the addresses asked for), and the requests sent.
PARTS = ("removed", "refused", "no_answer", "reinstated", "waiting")
COUNTS = ("asked", *PARTS, "requests", "overdue")
HEADINGS = ["addresses asked for", "removed", "refused", "no answer", "back up", "still waiting",
            "requests sent", "requests overdue now", "removal rate", "median time to removal",
            "90th percentile time to removal", "removed within 48 hours"]


def shown(row):
    """A row's figures for a staff screen: counts as they are, rates and times in words."""
    return {**row, "removal": percent(row["removal_rate"]), "within": percent(row["within_48h_share"]),
            "to_removal": duration(row["to_removal_median"]), "to_removal_p90": duration(row["to_removal_p90"])}


def dashboard(period):
    """The dashboard's section: the headline for all sites, each kind of site, and the sites with the most
    addresses asked for. Times to removal for all and those sites only: each group's times are sorted apart."""
    found = reading.address_figures(period, top=TOP_SITES, kind_times=False)
    labels = dict(Site.Kind.choices)
    top = reading.sites_by_asked(found, TOP_SITES)
    names = Site.objects.in_bulk([key for key, _row in top])
    return {
        "total": shown(found["all"]),
        "kinds": [(labels.get(kind, kind), shown(row)) for kind, row in sorted(
            found["kinds"].items(), key=lambda item: (-item[1]["asked"], item[0]))],
        "sites": [(names[key], shown(row)) for key, row in top],
        "site_count": found["site_count"],
    }


def published(table):
    """{key: {field: text}} of a table of figures ({site id or kind or "all": row}) as it may leave the portal:
    each count is suppressed where small, and where it could be worked back out from the sums the table holds
    (the rows adding up to "all" in each count, each row's outcomes adding up to its addresses asked for)."""
    counts = {(key, k): row[k] for key, row in table.items() for k in (*COUNTS, "within_48h")}
    rows = [key for key in table if key != "all"]
    sums = [(("all", k), [(key, k) for key in rows]) for k in COUNTS]
    sums += [((key, "asked"), [(key, part) for part in PARTS]) for key in table]
    shown_ = suppression.suppress(counts, sums, unpublished={(key, "within_48h") for key in table})
    return {key: {
        **{k: shown_.count((key, k)) for k in COUNTS},
        "removal": shown_.rate((key, "removed"), (key, "asked"), percent(row["removal_rate"])),
        "to_removal": shown_.over((key, "removed"), duration(row["to_removal_median"])),
        "to_removal_p90": shown_.over((key, "removed"), duration(row["to_removal_p90"])),
        "within": shown_.rate((key, "within_48h"), (key, "removed"), percent(row["within_48h_share"])),
    } for key, row in table.items()}


def csv_rows(period):
    """The per-site CSV: a row for each site with addresses asked for, requests sent or requests overdue, then
    "all"; small numbers suppressed."""
    found = reading.address_figures(period)
    table = {**found["sites"], "all": found["all"]}
    names = Site.objects.in_bulk(list(found["sites"]))
    out = published(table)
    ordered = sorted((key for key in out if key != "all"), key=lambda key: (names[key].name.lower(), key))
    for key in [*ordered, "all"]:
        site = names.get(key)
        row = out[key]
        yield [site.name if site else "all sites", site.domain if site else "", site.get_kind_display() if site
               else "", *(row[k] for k in COUNTS), row["removal"], row["to_removal"], row["to_removal_p90"],
               row["within"]]


def report_rows(period):
    """The monthly report's table: each kind of site, then all sites; small numbers suppressed."""
    found = reading.address_figures(period, top=0)
    out = published({**found["kinds"], "all": found["all"]})
    labels = dict(Site.Kind.choices)
    kinds = sorted((key for key in out if key != "all"), key=lambda key: labels.get(key, key))
    return [[labels.get(key, key) if key != "all" else "All sites", *(out[key][k] for k in ("asked", "removed")),
             out[key]["removal"], out[key]["to_removal"], out[key]["within"], out[key]["requests"]]
            for key in [*kinds, "all"]]
