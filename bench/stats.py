"""Benchmark: the supervisors' statistics dashboard and its per-partner table over two years of partner reports,
next to a baseline in the same run (the naive GROUP BY over the raw outcomes).

    .venv/bin/python bench/stats.py [--outcomes 1000000] [--partners 50] [--hashes 200000] [--repeat 30]
                                    [--handover-hours 1] [--profile] [--keep]

Builds a scratch database (ncii_bench_stats on the test PostgreSQL, dropped at the end, even on failure, unless
--keep) and
bulk-seeds it (COPY and INSERT ... SELECT, never row by row), all dated over the two years up to now:
- --partners live partners (every fifth takes PDQ only), their sizes spread unevenly (weights 1/rank^0.8);
- --hashes bank hashes created evenly over the two years (90 % PDQ, 2 % of those of low quality; 10 % video
  MD5s), one BankChange each (txid from pg_current_xact_id(), as bench/feed.py), held four to a case;
- each partner's native-feed Handovers, one every --handover-hours (offset per partner), each reaching the last
  change made by then: so a hash reaches a partner within that interval of its creation (a feed logs a handover
  only for a page that carried changes; hourly, a partner polling every few minutes of a bank that grows every
  few minutes would log more, and rebuild() walks them all: stats.sharing);
- --outcomes Outcome rows (COPY) on (partner, hash) pairs drawn at random: the first report a few hours after
  the hash reached the partner (lognormal; reports on hashes a PDQ-only partner never received date from the
  hash's creation; 2 % a little before sharing, a partner's clock ahead), then for 30 % PendingReview and a
  verdict later, 55 % one verdict (Blocked 45 %, Removed 25 %, NotBlocked 30 %), 14 % two reports on the same
  hash (Blocked then Removed, NotBlocked then Removed), 1 % None (StopNCII tags only). Nothing after now.

Then stats.keeping.rebuild() once, timed (reported, not the goal; --profile: under cProfile, the top functions
printed), and VACUUM ANALYZE (as autovacuum would after such a load). Then, --repeat times, interleaved so noise
falls on every case alike, after one untimed warm-up of each:
- the dashboard (GET reverse("stats_dashboard") with Django's test Client, in this process, signed in as a
  supervisor with an authenticator: the whole request through every middleware, template rendered): all
  partners over the last 12 weeks (the default, no query string), all partners over the last full calendar
  month, the largest partner over that month, all partners over two years by month;
- the per-partner table alone, stats.reading.partner_numbers(Period, partners): all partners over that month,
  the largest partner over that month, all partners over two years;
- the baseline for each table: one SQL statement over partners_outcome that finds each pair's first match,
  review and action (min(acted_at) FILTER ...) and counts per partner those in the period (GROUP BY). It gives
  only three of the table's columns (no sharing, no times), so it is a floor for the naive approach; its counts
  are checked against the rollups' before timing.
Prints p50 and p95 in ms (nearest rank) of each, the table's ratio to its baseline, and whether p95 is under the
goal, 300 ms. DEBUG=1 as the other benchmarks (Django logs each query: a few tens of queries a page).

Last, keeping.update() once, timed (reported, not the goal: beat runs it every minute), after a busy minute: a
new handover to every partner and one outcome from each.

rebuild() is one transaction of several minutes, which holds back the snapshot xmin of the whole PostgreSQL
server: every feed on it (BankChange.settled()), the test suite's included, waits until it ends. Do not run this
next to the tests on the same server; BENCH_DATABASE_SERVER=postgres://postgres@127.0.0.1:5433 points it at
another (a throwaway cluster: initdb, then pg_ctl -o "-p 5433" start).
"""

import argparse
import cProfile
import io
import math
import pstats
import random
import statistics
import time
from datetime import timedelta

import django
import psycopg
from common import ScratchDatabase, load_average, percentile

DATABASE = ScratchDatabase("ncii_bench_stats", ALLOWED_HOSTS="testserver")
DB_NAME, DB_URL = DATABASE.name, DATABASE.url

GOAL_MS = 300
YEARS = timedelta(days=730)
VERDICTS = (("Blocked", 0.45), ("Removed", 0.25), ("NotBlocked", 0.30))


# --- Seeding --------------------------------------------------------------------------------------------------

def seed_bank(conn, count, start, now):
    """count bank hashes created evenly over [start, now), one change each at its creation, four to a case.
    Returns [(id, signal type, created)] in id (= creation) order."""
    step = (now - start) / count
    with conn.cursor().copy("COPY hashing_bankhash (signal_type, value, full_value, status, review, quality, video,"
                            " other_file, created, changed) FROM STDIN") as copy:
        for n in range(count):
            created = start + step * n
            if n % 10:
                quality = 40 if n % 50 == 1 else 90  # 2 % of PDQs below quality 50: never shared
                copy.write_row(("pdq", f"{n:064x}", "", "active", "", quality, False, False, created, created))
            else:
                copy.write_row(("md5", f"{n:032x}", "", "active", "", None, True, False, created, created))
    conn.execute("""INSERT INTO hashing_bankchange (bank_hash_id, status, review, quality, video, other_file,
                                                           txid, at)
                    SELECT id, status, review, quality, video, other_file, pg_current_xact_id()::text::bigint, created
                    FROM hashing_bankhash ORDER BY id""")
    abuse_types = ["shared", "threatened", "sextortion", "synthetic", "voyeurism", "other"]
    conn.execute("""INSERT INTO cases_case (reference, status, abuse_type, language, pin_digest, pin_failures,
                                            consent_version, created)
                    SELECT lpad(((h.id - 1) / 4)::text, 12, '0'), 'active', (%s::text[])[1 + (h.id / 4) %% 6],
                           'en-gb', '', 0, '1', h.created
                    FROM hashing_bankhash h WHERE (h.id - 1) %% 4 = 0""", [abuse_types])
    conn.execute("""INSERT INTO cases_item (case_id, kind, md5, unreadable, created)
                    SELECT c.id, CASE WHEN h.video THEN 'video' ELSE 'image' END, md5(h.value), false, h.created
                    FROM hashing_bankhash h JOIN cases_case c ON c.reference = lpad(((h.id - 1) / 4)::text, 12, '0')
                    ORDER BY h.id""")
    conn.execute("""INSERT INTO cases_item_bank_hashes (item_id, bankhash_id)
                    SELECT i.id, h.id FROM cases_item i JOIN hashing_bankhash h ON md5(h.value) = i.md5""")
    return conn.execute("SELECT id, signal_type, created FROM hashing_bankhash ORDER BY id").fetchall()


def seed_partners(conn, count):
    """count live partners (every fifth takes PDQ only); returns [(id, slug, PDQ only)] in name order."""
    conn.execute("""INSERT INTO partners_partner (name, slug, state, signal_types, delivery, agreement_signed,
                                                  security_review, notes, created)
                    SELECT format('Partner %%s', lpad(n::text, 2, '0')), format('partner-%%s', n), 'live',
                           CASE WHEN n %% 5 = 0 THEN '["pdq"]'::jsonb ELSE '[]'::jsonb END, 'pull',
                           true, true, '', now() - interval '731 days'
                    FROM generate_series(1, %s) n""", [count])
    return [(pk, slug, types == ["pdq"]) for pk, slug, types in conn.execute(
        "SELECT id, slug, signal_types FROM partners_partner ORDER BY name").fetchall()]


def seed_handovers(conn, partners, start, now, interval):
    """Each partner's native-feed handovers, one every interval from its offset, reaching the last change made
    by then. Returns {partner id: its offset}."""
    offsets = {pk: interval * n / len(partners) for n, (pk, _slug, _pdq) in enumerate(partners)}
    conn.execute("""INSERT INTO partners_handover (partner_id, route, at, txid, change_id)
                    SELECT p.id, 'native', t, c.txid, c.id
                    FROM unnest(%s::bigint[], %s::interval[]) p (id, offset_by),
                         generate_series(%s::timestamptz + p.offset_by, %s::timestamptz, %s::interval) t,
                         LATERAL (SELECT txid, id FROM hashing_bankchange WHERE at <= t ORDER BY at DESC, id DESC
                                  LIMIT 1) c
                    ORDER BY t, p.id""", [list(offsets), list(offsets.values()), start, now, interval])
    return offsets


def lognormal(rng, median, sigma):
    return timedelta(seconds=median.total_seconds() * math.exp(rng.gauss(0, sigma)))


def reports(rng, count, partners, bank, offsets, start, now, interval, seen):
    """count Outcome rows for COPY (see the module's docstring); the pairs they cover are added to seen."""
    weights = [1 / (n + 1) ** 0.8 for n in range(len(partners))]
    written = 0
    match_delay, verdict_delay = timedelta(hours=3), timedelta(hours=10)
    while written < count:
        for pk, _slug, pdq_only in rng.choices(partners, weights, k=10_000):
            hash_id, signal_type, created = bank[rng.randrange(len(bank))]
            if (pk, hash_id) in seen:
                continue
            if pdq_only and signal_type != "pdq":
                base = created  # never sent to it: it found the content itself
            else:  # the partner's first handover at or after the hash's creation
                base = start + offsets[pk] + interval * math.ceil((created - start - offsets[pk]) / interval)
            first = (base - timedelta(seconds=rng.uniform(0, 600)) if rng.random() < 0.02
                     else base + lognormal(rng, match_delay, 1.5))
            later = first + lognormal(rng, verdict_delay, 1.2)
            verdict = rng.choices([v for v, _w in VERDICTS], [w for _v, w in VERDICTS])[0]
            kind = rng.random()
            if kind < 0.30:
                rows = [("PendingReview", first), (verdict, later)]
            elif kind < 0.85:
                rows = [(verdict, first)]
            elif kind < 0.95:
                rows = [("Blocked", first), ("Removed", later)]
            elif kind < 0.99:
                rows = [("NotBlocked", first), ("Removed", later)]
            else:
                rows = [("None", first)]
            rows = [(value, at) for value, at in rows if at < now][:count - written]
            if not rows:
                continue
            seen.add((pk, hash_id))
            for value, at in rows:
                received = min(now, at + timedelta(seconds=rng.uniform(1, 120)))
                yield (pk, hash_id, signal_type, value, "[]", at, received,
                       "stopncii" if value == "None" else "native")
            written += len(rows)
            if written >= count:
                break


def seed(args, now):
    start = now - YEARS
    interval = timedelta(hours=args.handover_hours)
    rng, pairs = random.Random(20261127), set()
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        bank = seed_bank(conn, args.hashes, start, now)
        partners = seed_partners(conn, args.partners)
        offsets = seed_handovers(conn, partners, start, now, interval)
        with conn.cursor().copy("COPY partners_outcome (partner_id, bank_hash_id, signal_type, value, tags,"
                                " acted_at, received, via) FROM STDIN") as copy:
            for row in reports(rng, args.outcomes, partners, bank, offsets, start, now, interval, pairs):
                copy.write_row(row)
        conn.execute("VACUUM ANALYZE")
        handovers = conn.execute("SELECT count(*) FROM partners_handover").fetchone()[0]
    return partners, handovers, len(pairs)


# --- What is timed --------------------------------------------------------------------------------------------

BASELINE = """
    SELECT partner_id,
           count(*) FILTER (WHERE matched >= %(start)s AND matched < %(end)s),
           count(*) FILTER (WHERE reviewed >= %(start)s AND reviewed < %(end)s),
           count(*) FILTER (WHERE actioned >= %(start)s AND actioned < %(end)s)
    FROM (SELECT partner_id, bank_hash_id,
                 min(acted_at) FILTER (WHERE value = ANY(%(matched)s)) AS matched,
                 min(acted_at) FILTER (WHERE value = ANY(%(reviewed)s)) AS reviewed,
                 min(acted_at) FILTER (WHERE value = ANY(%(actioned)s)) AS actioned
          FROM partners_outcome WHERE partner_id = ANY(%(partners)s) AND bank_hash_id IS NOT NULL
          GROUP BY partner_id, bank_hash_id) pairs
    GROUP BY partner_id"""


def baseline(period, partners):
    """{partner id: (matched, reviewed, actioned)} in the period, from the raw outcomes."""
    from django.db import connection

    from partners.models import Outcome

    with connection.cursor() as cursor:
        cursor.execute(BASELINE, {"start": period.start, "end": period.end, "partners": [p.pk for p in partners],
                                  "matched": list(Outcome.MATCHED), "reviewed": list(Outcome.REVIEWED),
                                  "actioned": list(Outcome.ACTIONED)})
        return {pk: counts for pk, *counts in cursor.fetchall()}


def check(period, partners):
    """The rollups' matched, reviewed and actioned equal the baseline's, for each partner."""
    from stats import reading

    table, raw = reading.partner_numbers(period, partners), baseline(period, partners)
    for partner in partners:
        mine = tuple(table[partner.name][k] for k in ("matched", "reviewed", "actioned"))
        theirs = tuple(raw.get(partner.pk, (0, 0, 0)))
        if mine != theirs:
            raise RuntimeError(f"{partner.name} {period.first}..{period.last}: rollups {mine}, baseline {theirs}")


def a_minute(partners):
    """What a busy minute brings: a handover to every partner (a feed page reaching the newest change) and one
    outcome from each (Blocked, on one of the newest hashes). Returns how many outcomes."""
    from django.utils import timezone

    from hashing.models import BankChange, BankHash
    from partners.models import Handover, Outcome

    now, last = timezone.now(), BankChange.objects.order_by("-txid", "-id").first()
    Handover.objects.bulk_create(Handover(partner=p, route="native", at=now, txid=last.txid, change_id=last.id)
                                 for p in partners)
    newest = list(BankHash.objects.order_by("-id").values_list("id", "signal_type")[:len(partners)])
    Outcome.objects.bulk_create(Outcome(partner=p, bank_hash_id=pk, signal_type=signal_type, value="Blocked",
                                        acted_at=now, received=now)
                                for p, (pk, signal_type) in zip(partners, newest, strict=True))
    return len(partners)


def profiled(function):
    profile = cProfile.Profile()
    profile.enable()
    try:
        function()
    finally:
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outcomes", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--hashes", type=int, default=200_000)
    parser.add_argument("--handover-hours", type=float, default=1, help="hours between a partner's handovers")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="run the rebuild under cProfile")
    parser.add_argument("--keep", action="store_true", help=f"leave the database ({DB_NAME}) for a closer look")
    args = parser.parse_args()
    began = time.perf_counter()
    print(load_average())
    DATABASE.create()
    try:
        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import reverse
        from django.utils import timezone

        from core.periods import DAY, Period, month_start, today
        from partners.models import Partner
        from staff import roles
        from stats import keeping, reading
        from stats.models import DailyCount, DailyHistogram, HandoverShare, PairState
        from tests.conftest import make_staff

        call_command("migrate", verbosity=0)
        now = timezone.now()
        started = time.perf_counter()
        _partners, handovers, pairs = seed(args, now)
        print(f"seeded {args.partners} partners, {args.hashes:,} hashes ({(args.hashes + 3) // 4:,} cases), "
              f"{handovers:,} handovers (one every {args.handover_hours:g} h a partner), {args.outcomes:,} outcomes "
              f"on {pairs:,} pairs over two years in {time.perf_counter() - started:.1f} s", flush=True)

        started = time.perf_counter()
        profiled(keeping.rebuild) if args.profile else keeping.rebuild()
        seconds = time.perf_counter() - started
        print(f"keeping.rebuild(): {seconds:.1f} s{' (under cProfile)' if args.profile else ''}: "
              f"{PairState.objects.count():,} pairs, {HandoverShare.objects.count():,} handover shares, "
              f"{DailyCount.objects.count():,} daily counts, {DailyHistogram.objects.count():,} histogram rows",
              flush=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        supervisor = make_staff("sam@bench.invalid", roles.SUPERVISOR)
        client = Client()
        client.force_login(supervisor, backend="django.contrib.auth.backends.ModelBackend")
        url = reverse("stats_dashboard")
        partners = list(Partner.objects.order_by("name"))
        largest = partners[0]  # the heaviest weight (see reports)
        last_day = today()
        month = Period.month(month_start(month_start(last_day) - DAY))  # the last full calendar month
        month_first, month_last = month.first, month.last
        two_years = last_day - YEARS + DAY
        whole = Period(two_years, last_day)
        label = f"{month_first:%Y-%m}"
        span = f"{two_years:%Y-%m}..{last_day:%Y-%m}"

        def page(params):
            def get():
                response = client.get(url, params)
                if response.status_code != 200:
                    raise RuntimeError(f"dashboard {params}: {response.status_code}")
            return get

        cases = {
            "dashboard, all partners, last 12 weeks (default)": page({}),
            f"dashboard, all partners, {label}": page(
                {"first": month_first, "last": month_last, "partner": "", "bucket": "week"}),
            f"dashboard, {largest.name}, {label}": page(
                {"first": month_first, "last": month_last, "partner": largest.slug, "bucket": "week"}),
            f"dashboard, all partners, {span} by month": page(
                {"first": two_years, "last": last_day, "partner": "", "bucket": "month"}),
        }
        tables = {f"all partners, {label}": (month, partners), f"{largest.name}, {label}": (month, [largest]),
                  f"all partners, {span}": (whole, partners)}
        for name, (period, chosen) in tables.items():
            check(period, chosen)
            cases[f"table {name}"] = lambda period=period, chosen=chosen: reading.partner_numbers(period, chosen)
            cases[f"baseline {name}"] = lambda period=period, chosen=chosen: baseline(period, chosen)
        print(f"check: the rollups' matched, reviewed and actioned equal the baseline's for every partner in "
              f"{len(tables)} tables", flush=True)

        times = {name: [] for name in cases}
        for function in cases.values():  # warm-up: templates compiled, connections and caches filled
            function()
        for _ in range(args.repeat):
            for name, function in cases.items():
                started = time.perf_counter()
                function()
                times[name].append((time.perf_counter() - started) * 1000)

        print(f"{args.repeat} runs of each, ms{'p50':>52s}{'p95':>8s}   p95 < {GOAL_MS} ms")
        met = []
        for name, measured in times.items():
            p50, p95 = statistics.median(measured), percentile(measured, 0.95)
            line = f"  {name:58s}{p50:8.1f}{p95:8.1f}"
            if not name.startswith("baseline"):
                met.append(p95 < GOAL_MS)
                line += f"   {'met' if met[-1] else 'NOT met'}"
            if name.startswith("table"):
                floor = times["baseline" + name.removeprefix("table")]
                line += (f"{'':7s}baseline / table: {statistics.median(floor) / p50:.1f} at p50, "
                         f"{percentile(floor, 0.95) / p95:.1f} at p95")
            print(line)
        print(f"goal p95 under {GOAL_MS} ms: {'met' if all(met) else 'NOT met'} ({sum(met)} of {len(met)} under it)")

        arrived = a_minute(partners)
        started = time.perf_counter()
        keeping.update()
        print(f"keeping.update() after a minute in which every partner fetched a page and {arrived} outcomes "
              f"arrived: {time.perf_counter() - started:.1f} s (reported, not the goal; beat runs it every minute)")
    finally:
        if not args.keep:
            DATABASE.drop()
        print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
