"""Benchmark: takedowns at a big helpline's size, against the same pages at a small one, in one run.

    .venv/bin/python bench/takedowns.py [--sites 10000] [--addresses 1000000] [--cases 200000] [--repeat 30]
                                        [--keep]

Builds a scratch database (ncii_bench_takedowns on the test PostgreSQL, dropped at the end, even on failure,
unless --keep; BENCH_DATABASE_SERVER points it elsewhere) and seeds it with COPY and INSERT ... SELECT, never row
by row, all dated over the two years up to now:
- --cases cases, and --sites sites (kinds spread evenly; each site's share of the addresses weighted 1/rank^0.8,
  so the largest holds a few per cent of them);
- --addresses web addresses over those cases: each case's on one to three sites; 85 % of (case, site) groups
  asked for, by one request each, a few hours after the addresses were added; of the addresses asked for, 60 %
  removed (time to removal lognormal around 20 hours), 10 % refused, 8 % no answer, 2 % back up, the rest still
  waiting (only within the last two weeks: older ones have no answer); an outcome row for each answer; requests
  older than a week with addresses still waiting are followed up, so a realistic few are overdue now;
- then the statistics' rollups, rebuilt from those records (stats.keeping.rebuild, timed), as beat's minute
  update keeps them.

Timed, after one untimed warm-up of each, --repeat times interleaved so noise falls on every case alike, with
Django's test Client in this process signed in as a supervisor (whole requests, every middleware, the audit
row each page view writes):
- the case page of a typical case (the takedown section is a template tag on it) and its web addresses page;
- the site page (its record) of the largest site, and of a middling one;
- the dashboard's web address figures, stats.web_addresses.dashboard(period): the last 12 weeks (the
  dashboard's default), the last full month, and two years; and the whole statistics dashboard by default.
The baseline is the same cases measured in the same run before the bulk load, when the tables hold the small
size (--sites 10, 1,000 addresses over 200 cases). Prints p50 and p95 in ms (nearest rank) of each at both sizes
and whether p95 is under the goal, 100 ms. DEBUG=1 as the other benchmarks.
"""

import argparse
import math
import random
import statistics
import time
from datetime import timedelta

import django
import psycopg
from common import ScratchDatabase, load_average, percentile

DATABASE = ScratchDatabase("ncii_bench_takedowns", ALLOWED_HOSTS="testserver")
DB_NAME, DB_URL = DATABASE.name, DATABASE.url

GOAL_MS = 100
YEARS = timedelta(days=730)
KINDS = ["adult", "forum", "file_host", "search_engine", "hosting", "social", "partner", "other"]
OUTCOMES = (("removed", 0.60), ("refused", 0.10), ("no_answer", 0.08), ("reinstated", 0.02), ("asked", 0.20))


# --- Seeding --------------------------------------------------------------------------------------------------

def seed_cases(conn, count, start, now, offset):
    conn.execute("""INSERT INTO cases_case (reference, status, abuse_type, language, pin_digest, pin_failures,
                                            consent_version, created)
                    SELECT lpad(n::text, 12, '0'), 'active', 'shared', 'en-gb', '', 0, '1',
                           %s::timestamptz + (%s::interval * (n - %s::int)) / %s::int
                    FROM generate_series(%s::int, %s::int) n""",
                 [start, now - start, offset, count, offset, offset + count - 1])
    return conn.execute("SELECT id, created FROM cases_case WHERE reference >= %s ORDER BY id",
                        [f"{offset:012d}"]).fetchall()


def seed_sites(conn, count, offset):
    conn.execute("""INSERT INTO takedowns_site (domain, name, kind, abuse_email, web_form_url, language, notes,
                                                created)
                    SELECT format('site%%s.example', n), format('Site %%s', n), (%s::text[])[1 + n %% 8],
                           format('abuse@site%%s.example', n), '', 'en', '', now()
                    FROM generate_series(%s::int, %s::int) n""", [KINDS, offset, offset + count - 1])
    return [pk for (pk,) in conn.execute("SELECT id FROM takedowns_site WHERE domain LIKE 'site%%' ORDER BY id "
                                         "OFFSET %s", [offset]).fetchall()]


def addresses(rng, count, cases, sites, now):
    """Rows for COPY into takedowns_address, case by case (see the module's docstring)."""
    weights = [1 / (n + 1) ** 0.8 for n in range(len(sites))]
    cumulative = [0.0]
    for w in weights:
        cumulative.append(cumulative[-1] + w)
    per_case = count / len(cases)
    written = 0
    for index, (case_id, created) in enumerate(cases):
        due = round(per_case * (index + 1)) - written
        if due <= 0:
            continue
        groups = rng.choice((1, 1, 2, 3))
        chosen = list({sites[min(len(sites) - 1, bisect(cumulative, rng.random() * cumulative[-1]))]
                       for _ in range(groups)})
        for g, site in enumerate(chosen):
            n = due // len(chosen) + (1 if g < due % len(chosen) else 0)
            added = min(now - timedelta(minutes=5), created + timedelta(hours=rng.uniform(0, 48)))
            asked = rng.random() < 0.85
            first = min(now - timedelta(minutes=1), added + timedelta(hours=rng.uniform(0.5, 6))) if asked else None
            for k in range(n):
                url = f"https://site{site}.example/{case_id}/{g}/{k}.jpg"
                if first is None:
                    yield (case_id, site, url, added, "new", None, None, None)
                    continue
                outcome = rng.choices([o for o, _w in OUTCOMES], [w for _o, w in OUTCOMES])[0]
                if outcome == "asked" and now - first > timedelta(days=14):
                    outcome = "no_answer"
                at = min(now, first + timedelta(hours=20 * math.exp(rng.gauss(0, 1.2))))
                if outcome == "asked":
                    yield (case_id, site, url, added, "asked", first, first, None)
                else:
                    yield (case_id, site, url, added, outcome, at, first, at if outcome == "removed" else None)
            written += n


def bisect(cumulative, value):
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid + 1] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def seed_takedowns(conn, rng, count, cases, sites, now):
    with conn.cursor().copy("COPY takedowns_address (case_id, site_id, url, added, outcome, outcome_at, "
                            "first_asked_at, removed_at) FROM STDIN") as copy:
        for row in addresses(rng, count, cases, sites, now):
            copy.write_row(row)
    case_ids = [pk for pk, _created in cases]
    low, high = min(case_ids), max(case_ids)
    conn.execute("""INSERT INTO takedowns_takedownrequest (case_id, site_id, kind, method, basis, statement,
                        to_email, created, state, attempts, last_error, sent_at, due_at, followed_up_at)
                    SELECT a.case_id, a.site_id, 'request', 'mail', 'site_policy', '', s.abuse_email,
                           min(a.first_asked_at), 'sent', 0, '', min(a.first_asked_at),
                           min(a.first_asked_at) + interval '48 hours',
                           CASE WHEN min(a.first_asked_at) < now() - interval '7 days'
                                THEN min(a.first_asked_at) + interval '3 days' END
                    FROM takedowns_address a JOIN takedowns_site s ON s.id = a.site_id
                    WHERE a.first_asked_at IS NOT NULL AND a.case_id BETWEEN %s AND %s
                    GROUP BY a.case_id, a.site_id, s.abuse_email""", [low, high])
    conn.execute("""INSERT INTO takedowns_takedownrequest_addresses (takedownrequest_id, address_id)
                    SELECT r.id, a.id FROM takedowns_address a
                    JOIN takedowns_takedownrequest r ON r.case_id = a.case_id AND r.site_id = a.site_id
                    WHERE a.first_asked_at IS NOT NULL AND a.case_id BETWEEN %s AND %s""", [low, high])
    conn.execute("""INSERT INTO takedowns_addressoutcome (address_id, request_id, outcome, reason, at, recorded)
                    SELECT a.id, r.id, a.outcome, CASE WHEN a.outcome = 'refused' THEN 'Not against our rules'
                           ELSE '' END, a.outcome_at, a.outcome_at
                    FROM takedowns_address a
                    JOIN takedowns_takedownrequest r ON r.case_id = a.case_id AND r.site_id = a.site_id
                    WHERE a.outcome NOT IN ('new', 'asked') AND a.case_id BETWEEN %s AND %s""", [low, high])


def seed(args, now, small):
    """The small size first (the baseline), or the rest up to the full size."""
    from stats import keeping

    start = now - YEARS
    rng = random.Random(20261206 + small)
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        n_cases, n_sites, n_addresses = (200, 10, 1_000) if small else (args.cases, args.sites, args.addresses)
        offset = 0 if small else 1_000
        cases = seed_cases(conn, n_cases, start, now, offset)
        sites = seed_sites(conn, n_sites, 0 if small else 10)
        seed_takedowns(conn, rng, n_addresses, cases, sites, now)
        conn.execute("VACUUM ANALYZE")
        started = time.perf_counter()
        keeping.rebuild()  # the statistics' rollups, as `manage.py rebuild_statistics` builds them
        print(f"rollups rebuilt in {time.perf_counter() - started:.1f} s", flush=True)
        conn.execute("VACUUM ANALYZE")
        return {name: conn.execute(f"SELECT count(*) FROM takedowns_{name}").fetchone()[0]
                for name in ("site", "address", "takedownrequest", "addressoutcome")}


# --- What is timed --------------------------------------------------------------------------------------------

def cases_to_time(client):
    """{name: function} of what is timed, on the data as it is now: the typical case is one with the median
    number of addresses among the newest thousand; the largest site is the one with the most addresses."""
    from django.db.models import Count
    from django.urls import reverse
    from django.utils import timezone

    from cases.models import Case
    from core.periods import Period
    from stats import web_addresses
    from takedowns.models import Site

    recent = list(Case.objects.filter(web_addresses__isnull=False).annotate(n=Count("web_addresses"))
                  .order_by("-created")[:1000])
    typical = sorted(recent, key=lambda c: c.n)[len(recent) // 2]
    by_size = list(Site.objects.annotate(n=Count("addresses")).filter(n__gt=0).order_by("-n"))
    largest, middling = by_size[0], by_size[len(by_size) // 2]
    today = timezone.localdate()
    month_last = today.replace(day=1) - timedelta(days=1)
    periods = {"last 12 weeks": Period.weeks_to_today(12),
               f"{month_last:%Y-%m}": Period(month_last.replace(day=1), month_last),
               "two years": Period(today - YEARS + timedelta(days=1), today)}

    def get(url):
        def fetch():
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")
        return fetch

    cases = {
        f"case page ({typical.n} addresses)": get(reverse("case_detail", args=[typical.reference])),
        f"case's web addresses page ({typical.n})": get(reverse("case_web_addresses", args=[typical.reference])),
        f"site page, largest site ({largest.n:,} addresses)": get(reverse("site_detail", args=[largest.pk])),
        f"site page, middling site ({middling.n:,})": get(reverse("site_detail", args=[middling.pk])),
    }
    for name, chosen in periods.items():
        cases[f"dashboard URL figures, {name}"] = lambda chosen=chosen: web_addresses.dashboard(chosen)
    cases["whole statistics dashboard (default)"] = get(reverse("stats_dashboard"))
    return cases


def measure(cases, repeat):
    times = {name: [] for name in cases}
    for function in cases.values():  # warm-up: templates compiled, connections and caches filled
        function()
    for _ in range(repeat):
        for name, function in cases.items():
            started = time.perf_counter()
            function()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help=f"leave the database ({DB_NAME}) for a closer look")
    args = parser.parse_args()
    began = time.perf_counter()
    print(load_average())
    DATABASE.create()
    try:
        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.utils import timezone

        from staff import roles
        from tests.conftest import make_staff

        call_command("migrate", verbosity=0)
        supervisor = make_staff("sam@bench.invalid", roles.SUPERVISOR)
        client = Client()
        client.force_login(supervisor, backend="django.contrib.auth.backends.ModelBackend")
        now = timezone.now()

        sizes = seed(args, now, small=True)
        print(f"small: {sizes}", flush=True)
        small = cases_to_time(client)
        small_times = measure(small, args.repeat)

        started = time.perf_counter()
        sizes = seed(args, now, small=False)
        print(f"full: {sizes} (seeded in {time.perf_counter() - started:.0f} s)", flush=True)
        full = cases_to_time(client)
        full_times = measure(full, args.repeat)

        print(f"{args.repeat} runs of each, ms: small (p50 p95), full (p50 p95), p95 < {GOAL_MS} ms at full size")
        met = []
        for (_small_name, small_measured), (name, measured) in zip(small_times.items(), full_times.items(),
                                                                  strict=True):
            p95 = percentile(measured, 0.95)
            goal = not name.startswith(("whole", "dashboard URL figures, two years"))
            if goal:
                met.append(p95 < GOAL_MS)
            print(f"  {name:52s} {statistics.median(small_measured):7.1f} {percentile(small_measured, 0.95):7.1f}"
                  f"   {statistics.median(measured):7.1f} {p95:7.1f}   "
                  f"{('met' if met[-1] else 'NOT met') if goal else '(reported)'}")
        print(f"goal p95 under {GOAL_MS} ms: {'met' if all(met) else 'NOT met'} ({sum(met)} of {len(met)})")
    finally:
        if not args.keep:
            DATABASE.drop()
        print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
