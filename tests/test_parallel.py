"""The suite's processes keep out of each other's way (tests/parallel.py): each its own PostgreSQL server, whose
settled horizon no other process's open transaction holds back, and its own Redis databases."""

import os

import psycopg
import pytest

from tests.parallel import ThrowawayServer, own_redis_database, with_path


def test_each_process_takes_the_two_redis_databases_below_the_last_ones():
    assert own_redis_database("redis://127.0.0.1:6379/14", 1) == "redis://127.0.0.1:6379/12"
    assert own_redis_database("redis://127.0.0.1:6379/15", 3) == "redis://127.0.0.1:6379/9"
    with pytest.raises(RuntimeError, match="16 databases"):
        own_redis_database("redis://127.0.0.1:6379/15", 8)


SNAPSHOT_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


@pytest.mark.slow  # starts a PostgreSQL server
def test_a_throwaway_server_has_its_own_horizon_and_the_same_version_and_locale():
    given = os.environ["DATABASE_URL"]
    server = ThrowawayServer(given)
    try:
        with psycopg.connect(with_path(given, "/postgres"), autocommit=True) as here, \
                psycopg.connect(with_path(server.url, "/postgres"), autocommit=True) as there:
            asked = ("SELECT current_setting('server_version_num'), datcollate, datctype FROM pg_database "
                     "WHERE datname = 'template1'")
            assert there.execute(asked).fetchone() == here.execute(asked).fetchone()
            assert server.port != here.info.port

            with there.transaction():  # a transaction left open there, holding a transaction id
                there.execute("SELECT pg_current_xact_id()")
                before = here.execute(SNAPSHOT_XMIN).fetchone()[0]
                with here.transaction():
                    here.execute("SELECT pg_current_xact_id()")  # committed here: the horizon passes it
                assert here.execute(SNAPSHOT_XMIN).fetchone()[0] > before
    finally:
        server.stop()
    assert not server.folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(with_path(server.url, "/postgres"), connect_timeout=2)
