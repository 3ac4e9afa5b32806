"""The hash bank keeps one row per distinct signal, and every change takes a new change sequence value."""

import json
import threading

import pytest
from django.db import IntegrityError, transaction

from hashing import actions
from hashing.models import BankHash
from hashing.signal_types import InvalidSignal

PDQ = "ab" * 32


def test_one_row_per_distinct_signal(db):
    first = actions.bank_signal("pdq", PDQ.upper(), quality=80)
    again = actions.bank_signal("pdq", PDQ, quality=70)
    assert first.pk == again.pk
    assert BankHash.objects.count() == 1
    assert again.quality == 80  # a worse quality does not replace a better one
    other_type = actions.bank_signal("phash", "ab" * 8)
    assert other_type.pk != first.pk


def test_database_refuses_duplicates_and_unknown_types(db):
    actions.bank_signal("md5", "a" * 32)
    with pytest.raises(IntegrityError), transaction.atomic():
        BankHash.objects.create(signal_type="md5", value="a" * 32)
    with pytest.raises(IntegrityError), transaction.atomic():
        BankHash.objects.create(signal_type="sha1", value="a" * 40)


def test_invalid_signals_are_refused(db):
    with pytest.raises(InvalidSignal, match="64 hex characters"):
        actions.bank_signal("pdq", "abc")
    with pytest.raises(InvalidSignal, match="Unknown signal type"):
        actions.bank_signal("tmk", "a" * 32)
    assert not BankHash.objects.exists()


def history(bank_hash):
    return list(bank_hash.changes.order_by("txid", "id").values_list("status", "review", "quality", "video"))


def test_every_change_is_logged_with_the_rows_new_state(db):
    a = actions.bank_signal("pdq", PDQ, quality=40)
    actions.set_status(a, BankHash.Status.WITHDRAWN)
    actions.set_status(a, BankHash.Status.WITHDRAWN)  # no real change: nothing logged
    actions.bank_signal("pdq", PDQ, quality=30)  # worse quality: no change, and quality never goes down
    actions.bank_signal("pdq", PDQ, quality=90)
    actions.set_review(a, BankHash.Review.PAUSED)
    assert history(a) == [("active", "", 40, False), ("withdrawn", "", 40, False), ("withdrawn", "", 90, False),
                          ("withdrawn", "paused", 90, False)]
    md5 = actions.bank_signal("md5", "a" * 32)
    actions.bank_signal("md5", "a" * 32, video=True)  # a video now holds it: it may go out as VideoMD5
    actions.bank_signal("phash", "ab" * 8, video=True)  # only an MD5 is ever a video's
    assert history(md5) == [("active", "", None, False), ("active", "", None, True)]
    assert not BankHash.objects.get(signal_type="phash").video


def test_the_change_log_refuses_nothing_but_keeps_the_transaction_id(db):
    from django.db import connection

    change = actions.bank_signal("md5", "b" * 32).changes.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        assert change.txid == cursor.fetchone()[0]  # written by this (test) transaction


def test_low_quality_pdq_is_never_shareable(db):
    low = actions.bank_signal("pdq", PDQ, quality=49)
    good = actions.bank_signal("pdq", "cd" * 32, quality=50)
    md5 = actions.bank_signal("md5", "c" * 32)
    withdrawn = actions.set_status(actions.bank_signal("md5", "d" * 32), BankHash.Status.WITHDRAWN)
    paused = actions.set_review(actions.bank_signal("md5", "e" * 32), BankHash.Review.PAUSED)
    shareable = set(BankHash.objects.shareable())
    assert shareable == {good, md5}
    assert low not in shareable and withdrawn not in shareable and paused not in shareable
    assert [h.is_shareable for h in (low, good, md5, withdrawn, paused)] == [False, True, True, False, False]


def test_the_shareable_rule_gives_one_answer_in_each_of_its_forms(db):
    """hashing.models.shareable: the predicate, the filter (on bank rows and on changes) and the SQL."""
    from django.db import connection

    from hashing.models import BankChange, shareable, shareable_sql

    rows = [actions.bank_signal("pdq", f"{n:064x}", quality=quality) for n, quality in
            enumerate((None, 0, 49, 50, 100), start=1)]
    rows += [actions.bank_signal("md5", "c" * 32), actions.bank_signal("phash", "d" * 16)]
    rows.append(actions.set_status(actions.bank_signal("md5", "e" * 32), BankHash.Status.WITHDRAWN))
    for review in BankHash.Review.values[1:]:
        rows.append(actions.set_review(actions.bank_signal("md5", f"{len(rows):032x}"), review))
    rows.append(actions.bank_signal("md5", "f" * 32, other_file=True))  # only a PDF holds it
    actions.bank_signal("md5", "9" * 32, other_file=True)
    rows.append(actions.bank_signal("md5", "9" * 32, other_file=False))  # then an image held it too
    for n, qualities in enumerate(((49, 0, 12), (3, 50))):  # a video's frames all weak; one of another's not
        rows.append(actions.bank_signal("vpdq", json.dumps([f"{k + 16 * n:064x},{q},{float(k):.3}"
                                                            for k, q in enumerate(qualities)])))
    predicate = {h.pk for h in rows if shareable(h.signal_type, h.status, h.review, h.quality, h.other_file)}
    assert {h.pk for h in rows if h.quality is not None and h.quality < 50} & predicate == set()
    assert set(BankHash.objects.shareable().values_list("pk", flat=True)) == predicate
    latest = {c.bank_hash_id: c.pk for c in BankChange.objects.order_by("txid", "id")}
    assert {c.bank_hash_id for c in BankChange.objects.shareable() if latest[c.bank_hash_id] == c.pk} == predicate
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT h.id FROM hashing_bankhash h WHERE {shareable_sql('h', 'h')}")  # noqa: S608
        assert {pk for (pk,) in cursor.fetchall()} == predicate
    # PDQ of quality unknown, 50, 100; an MD5, a pHash, the MD5 an image held after a PDF; the vPDQ with a good frame
    assert len(predicate) == 7 and rows[-1].pk in predicate and rows[-2].pk not in predicate


def test_an_md5_only_other_files_hold_is_never_shareable_until_an_image_or_video_holds_it(db):
    """A file that is neither an image nor a video (a PDF) is kept with its case, its MD5 never shared (StopNCII
    shares images and videos only); once an image or video holds the same MD5 it is shareable, for good."""
    document = actions.bank_signal("md5", "f" * 32, other_file=True)
    assert document.other_file and not document.is_shareable
    assert document not in BankHash.objects.shareable()
    actions.bank_signal("md5", "f" * 32)  # a partner's contribution says nothing of what holds it
    actions.bank_signal("md5", "f" * 32, other_file=True)
    assert list(document.changes.values_list("other_file", flat=True)) == [True]
    actions.bank_signal("md5", "f" * 32, other_file=False)  # an image or a video holds it now
    actions.bank_signal("md5", "f" * 32, other_file=True)  # another PDF does not take that back
    document.refresh_from_db()
    assert not document.other_file and document.is_shareable
    assert list(document.changes.order_by("id").values_list("other_file", flat=True)) == [True, False]
    assert not actions.bank_signal("pdq", PDQ, quality=80, other_file=True).other_file  # an MD5's mark only


def run_in_thread(target):
    """Run `target` on its own thread, hence its own database connection; returns (thread, done event, result)."""
    from django.db import connection

    done, result = threading.Event(), {}

    def body():
        try:
            result["value"] = target()
        except Exception as exc:  # handed to the test, which asserts on it
            result["error"] = exc
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, done, result


@pytest.mark.parametrize("first_commits", [True, False])
def test_concurrent_writes_of_one_signal_meet_in_one_row(transactional_db, first_commits):
    """Two connections bank the same hash at once: the second waits on the first, then uses its row or its own."""
    inserted, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            bank_hash = actions.bank_signal("pdq", PDQ, quality=60)
            inserted.set()
            assert release.wait(10)
            if not first_commits:
                transaction.set_rollback(True)
        return bank_hash

    a_thread, a_done, a = run_in_thread(first)
    assert inserted.wait(10)
    b_thread, b_done, b = run_in_thread(lambda: actions.bank_signal("pdq", PDQ, quality=80))
    assert not b_done.wait(0.5), "the second write must wait for the first transaction"
    release.set()
    a_thread.join(10)
    b_thread.join(10)
    assert "error" not in a and "error" not in b, (a, b)

    (row,) = BankHash.objects.all()
    assert row.pk == b["value"].pk and row.quality == 80
    if first_commits:
        assert row.pk == a["value"].pk
        assert history(row)[-1] == ("active", "", 80, False)  # the better quality was a change
    else:
        assert row.pk != a["value"].pk
