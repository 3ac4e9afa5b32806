"""The suite on several processes (pytest-xdist's `-n`, as `make test` runs it): each process gets a PostgreSQL server
and Redis databases of its own, set in its environment before Django reads its settings (this module is a plugin,
`-p tests.parallel` in pyproject.toml, imported before pytest-django sets Django up).

A database of its own would not do. The feeds hand a partner only what is settled: committed below the oldest
transaction still running on the server (hashing.models.SNAPSHOT_XMIN). That horizon is the server's, across all its
databases, so a test holding a transaction open in one process would hold back what another process's feed tests
see (DEVELOPERS.md: never two suites on one PostgreSQL). The first process keeps the server it was given; each other
one starts a throwaway server, made with the same PostgreSQL programs, version and locale, and stopped when it ends.
Redis's databases are numbered: the first process keeps the broker's and the cache's, each other one takes the two
below them (a cache cleared by one test must not be another process's).
"""

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, …; unset in a run on one process


def with_path(url, path):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=path))


def own_redis_database(url, worker):
    """The Redis URL `url` (…/N) with the database N - 2 × worker."""
    database = int(urlsplit(url).path.strip("/") or 0) - 2 * worker
    if database < 0:
        raise RuntimeError(f"too many test processes for Redis's 16 databases ({url}, process {worker})")
    return with_path(url, f"/{database}")


class ThrowawayServer:
    """A PostgreSQL server in a temporary folder, from the same programs as the server at `url`."""

    def __init__(self, url):
        import psycopg

        with psycopg.connect(with_path(url, "/postgres"), autocommit=True) as connection:
            major = connection.execute("SHOW server_version_num").fetchone()[0][:-4]
            collate, ctype = connection.execute(
                "SELECT datcollate, datctype FROM pg_database WHERE datname = 'template1'").fetchone()
            connections = connection.execute("SHOW max_connections").fetchone()[0]
        bin_dir = Path(f"/usr/lib/postgresql/{major}/bin")  # Debian's layout; else the programs on PATH
        self.initdb, self.pg_ctl = (str(bin_dir / name) if (bin_dir / name).exists() else shutil.which(name)
                                    for name in ("initdb", "pg_ctl"))
        if not (self.initdb and self.pg_ctl):
            raise RuntimeError(f"tests on several processes need PostgreSQL {major}'s initdb and pg_ctl; "
                               "run them on one process with -n 0")
        # PostgreSQL refuses to run as root: as root, run it as the server's own user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.folder = Path(tempfile.mkdtemp(prefix=f"ncii-tests-{WORKER}-"))
        if self.as_user:
            os.chown(self.folder, pwd.getpwnam("postgres").pw_uid, -1)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        data = self.folder / "data"
        self.run(self.initdb, "--auth=trust", "--username=postgres", "--encoding=UTF8", f"--lc-collate={collate}",
                 f"--lc-ctype={ctype}", "--no-sync", "-D", data)
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections={connections}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self.run(self.pg_ctl, "-D", data, "-o", options, "-l", self.folder / "log", "-w", "start")
        atexit.register(self.stop)
        self.url = urlunsplit(urlsplit(url)._replace(netloc=f"postgres@127.0.0.1:{self.port}"))

    def run(self, *command):
        subprocess.run([*self.as_user, *map(str, command)], check=True, capture_output=True)

    def stop(self):
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "-w",
                        "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


if WORKER and WORKER != "gw0":
    number = int(WORKER.removeprefix("gw"))
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        if os.environ.get(name, "").startswith("redis"):
            os.environ[name] = own_redis_database(os.environ[name], number)
    if os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = ThrowawayServer(os.environ["DATABASE_URL"]).url
