"""Benchmark: the supervisor's case list with 100 000 cases, against the same pages with 1 000, in one run.

    .venv/bin/python bench/case_list.py [--cases 100000] [--repeat 15]

Builds a scratch database (ncii_bench on the test PostgreSQL, dropped at the end), seeds it in bulk, and times
full requests of /cases/ through Django (first page, a filtered page, a page deep in the list). Prints median
ms for each at both sizes and their ratio: the goal is that the list stays fast (ratio near 1, a few tens of ms).
"""

import argparse
import statistics
import time

import django
from common import ScratchDatabase

DATABASE = ScratchDatabase("ncii_bench", ALLOWED_HOSTS="testserver")

PAGES = {"first page": {}, "filtered": {"status": "active", "abuse_type": "sextortion"}, "deep page": {"page": 1500}}


def seed(total, start, caseworkers):
    """Cases from `start` up to `total`, in bulk: statuses, abuse types and caseworkers spread evenly."""
    from datetime import timedelta

    from django.utils import timezone

    from cases.models import AbuseType, Case, random_code

    statuses, kinds, now = Case.Status.values, AbuseType.values, timezone.now()
    batch = [Case(reference=random_code(12), status=statuses[n % len(statuses)], abuse_type=kinds[n % len(kinds)],
                  caseworker=caseworkers[n % len(caseworkers)] if n % 7 else None,
                  created=now - timedelta(minutes=n)) for n in range(start, total)]
    Case.objects.bulk_create(batch, batch_size=5000)


def timed(client, params, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get("/cases/", params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    DATABASE.create()
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tests.conftest import make_staff

    try:
        call_command("migrate", verbosity=0)
        supervisor = make_staff("sam@bench.invalid", "supervisor")
        caseworkers = [make_staff(f"cw{n}@bench.invalid", "caseworker") for n in range(20)]
        client = Client()
        client.force_login(supervisor, backend="django.contrib.auth.backends.ModelBackend")
        client.get("/cases/")  # the session's first write

        results = {}
        for size in (args.small, args.cases):
            from cases.models import Case

            seed(size, Case.objects.count(), caseworkers)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            results[size] = {name: timed(client, params, args.repeat) for name, params in PAGES.items()}

        print(f"case list, median of {args.repeat} requests (ms), {args.small:,} vs {args.cases:,} cases")
        for name in PAGES:
            small, large = results[args.small][name], results[args.cases][name]
            print(f"  {name:<11} {small:7.1f} ms  {large:7.1f} ms  ratio {large / small:.2f}x")
    finally:
        DATABASE.drop()


if __name__ == "__main__":
    main()
