"""The embedded PostgreSQL that development uses when DATABASE_URL is unset (pgserver, data under DATA_DIR/pg).

It outlives the process that starts it, so web, worker and beat share one server; `bin/run` stops it on exit:
`python -m ncii_portal.embedded_db stop`.
"""

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def data_dir():
    return Path(os.environ.get("DATA_DIR", BASE_DIR / ".data")) / "pg"


def start():
    """Start the server if it is not running; returns its URL."""
    import pgserver  # only when no DATABASE_URL: settings import this module, and pgserver is slow to load

    data_dir().parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so web, worker and beat share it.
    return pgserver.get_server(data_dir(), cleanup_mode=None).get_uri()


def stop():
    """Stop the server if it runs (a fast shutdown: open sessions are ended)."""
    import pgserver

    if (data_dir() / "postmaster.pid").exists():
        # As root, pgserver runs PostgreSQL as its own system user; pg_ctl refuses to run as root.
        user = "pgserver" if os.geteuid() == 0 else None
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir(), user=user)


if __name__ == "__main__":
    if sys.argv[1:] != ["stop"]:
        sys.exit("usage: python -m ncii_portal.embedded_db stop")
    stop()
