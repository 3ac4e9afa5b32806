"""What the database benchmarks share: a scratch database of their own on the test PostgreSQL, made fresh and
dropped at the end (also when the run is stopped with SIGTERM), with Django pointed at it; and the figures'
arithmetic. A benchmark makes its ScratchDatabase before it sets Django up:

    database = ScratchDatabase("ncii_bench_x", ALLOWED_HOSTS="testserver")
    database.create()
    try:
        django.setup()
        ...
    finally:
        database.drop()

BENCH_DATABASE_SERVER points the benchmarks at another PostgreSQL (a benchmark's long transaction holds back the
feeds' watermark on its whole server: never beside the tests on the same one).
"""

import math
import os
import signal
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")


class ScratchDatabase:
    def __init__(self, name, **environment):
        self.name, self.url = name, f"{SERVER}/{name}"
        os.environ.update(DATABASE_URL=self.url, DEBUG="1", DJANGO_SETTINGS_MODULE="ncii_portal.settings",
                          **environment)

    def create(self):
        signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit("terminated"))  # `finally` drops it
        self._run(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self._run(f"CREATE DATABASE {self.name}")

    def drop(self):
        self._run(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    @staticmethod
    def _run(sql):
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(sql)


def load_average():
    """A line for the top of a benchmark's figures: the machine is shared and noisy; say how busy it was."""
    return f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())} on {os.cpu_count()} cores"


def percentile(times, fraction):
    """The nearest-rank percentile (0.95: the time 95 % of the runs stayed within)."""
    return sorted(times)[max(1, math.ceil(fraction * len(times))) - 1]
