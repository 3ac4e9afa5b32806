"""The bank's change log as a feed reads it: gap-free under concurrency.

Writers commit many bank changes in deliberately long, interleaved transactions (one holds an early change
open while later ones commit), while a reader pages the settled log from a cursor. Paging by change id alone
skips the late committer (shown first, so the test proves it can fail); paging the settled log by
(transaction, id), serving each changed row as it is when read, ends with exactly the final state of every hash.
(Serving each change's own snapshot instead fails too: two transactions changing one row commit in lock order,
which transaction-id order need not follow.)
"""

import random
import threading
import time

import pytest
from django.db import connection, transaction

from hashing import actions
from hashing.models import BankChange, BankHash

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target):
    def body():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_paging_by_id_alone_skips_a_late_commit():
    started, release = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            actions.bank_signal("md5", "1" * 32)  # takes the first id, stays open
            started.set()
            release.wait(10)

    writer = in_thread(slow_writer)
    started.wait(10)
    actions.bank_signal("md5", "2" * 32)  # a later id, committed at once
    naive_cursor = max(BankChange.objects.values_list("id", flat=True))  # a reader pages past it
    settled = list(BankChange.objects.settled().values_list("id", flat=True))
    release.set()
    writer.join(10)
    missed = BankChange.objects.filter(id__lte=naive_cursor).exclude(bank_hash__value="2" * 32)
    assert missed.exists(), "the early change committed below the naive cursor: never delivered"
    assert settled == []  # the settled log handed out nothing while the early transaction ran


def test_a_row_changed_by_two_transactions_is_served_as_the_last_commit_left_it():
    """The older transaction (lower id) changes the row last: transaction-id order is not commit order."""
    target = actions.bank_signal("md5", "3" * 32)
    older_started, younger_done = threading.Event(), threading.Event()

    def older():
        with transaction.atomic():
            actions.bank_signal("md5", "4" * 32)  # takes its transaction id now, the lower one
            older_started.set()
            younger_done.wait(10)
            row = BankHash.objects.select_for_update().get(pk=target.pk)
            actions.set_status(row, BankHash.Status.WITHDRAWN)

    def younger():
        with transaction.atomic():
            row = BankHash.objects.select_for_update().get(pk=target.pk)
            actions.set_status(row, BankHash.Status.WITHDRAWN)
            actions.set_status(row, BankHash.Status.ACTIVE)
        younger_done.set()

    first = in_thread(older)
    older_started.wait(10)
    second = in_thread(younger)
    first.join(10)
    second.join(10)
    state = {}
    page_to_end(state, (0, 0))
    assert BankHash.objects.get(pk=target.pk).status == "withdrawn"
    assert state[("md5", "3" * 32)] == ("withdrawn", None)


def page_to_end(state, cursor, limit=50):
    while True:
        page = list(BankChange.objects.settled().after(*cursor).select_related("bank_hash")[:limit])
        for change in page:  # the row's state as read now (see BankChange)
            bank_hash = change.bank_hash
            state[(bank_hash.signal_type, bank_hash.value)] = (bank_hash.status, bank_hash.quality)
        if page:
            cursor = (page[-1].txid, page[-1].id)
        if len(page) < limit:
            return cursor


def test_a_reader_paging_the_settled_log_ends_with_the_final_state():
    rng = random.Random(7)
    values = [f"{n:032x}" for n in range(30)]  # few enough that transactions often meet on a row
    done = threading.Event()

    def writer(seed):
        local = random.Random(seed)
        for _ in range(40):
            with transaction.atomic():
                for value in sorted(local.sample(values, 4)):  # one lock order, as the portal's actions keep
                    bank_hash = actions.bank_signal("md5", value)
                    bank_hash = BankHash.objects.select_for_update().get(pk=bank_hash.pk)
                    actions.set_status(bank_hash, local.choice(BankHash.Status.values))
                    time.sleep(local.random() * 0.01)  # long, interleaved transactions

    state, cursor = {}, (0, 0)

    def reader():
        nonlocal cursor
        while not done.is_set():
            cursor = page_to_end(state, cursor, limit=rng.randint(5, 60))

    writers = [in_thread(lambda seed=seed: writer(seed)) for seed in range(4)]
    follower = in_thread(reader)
    for thread in writers:
        thread.join(120)
    done.set()
    follower.join(30)
    cursor = page_to_end(state, cursor)  # everyone has committed: the reader catches up

    final = {(h.signal_type, h.value): (h.status, h.quality) for h in BankHash.objects.all()}
    assert BankChange.objects.count() > 250
    assert state == final


@pytest.mark.slow  # thousands of random changes: a stress test, as the fuzzing
def test_both_partner_feeds_end_with_the_final_set_under_concurrent_writers():
    """Thousands of changes from four writers in long, interleaved transactions, while one partner pages the
    native feed and another syncs FetchHashes from its stored checkpoints, sometimes stopping mid-sync and
    starting again from the checkpoint it had (as the threatexchange client does). Each ends holding exactly
    the hashes it may use: every one that ends shareable, as active, and nothing else as active."""
    from partners import feed, stopncii
    from tests.helpers import live_partner, wait_for_the_stopncii_horizon

    native_partner, stopncii_partner = live_partner("native"), live_partner("stop")
    pdqs = [f"{n:064x}" for n in range(1, 25)]
    videos = [f"{n:032x}" for n in range(1, 25)]
    done = threading.Event()

    def writer(seed):
        local = random.Random(seed)
        for _ in range(180):
            with transaction.atomic():
                chosen = sorted([("pdq", v) for v in local.sample(pdqs, 3)] + [("md5", v) for v in
                                                                              local.sample(videos, 3)])
                for signal_type, value in chosen:  # one lock order, as the portal's actions keep
                    quality = local.choice([30, 80, 90]) if signal_type == "pdq" else None
                    row = actions.bank_signal(signal_type, value, quality=quality, video=signal_type == "md5")
                    row = BankHash.objects.select_for_update().get(pk=row.pk)
                    actions.set_status(row, local.choice(BankHash.Status.values))
                    time.sleep(local.random() * 0.004)  # long, interleaved transactions

    native_state, native_position = {}, feed.START

    def native_reader():
        nonlocal native_position
        while True:
            finished = done.is_set()
            while True:
                records, native_position, has_more = feed.page(native_partner, native_position, limit=37)
                native_state.update({(r["signal_type"], r["value"]): r["status"] for r in records})
                if not has_more:
                    break
            if finished:
                return

    stop_state, checkpoint, rng = {}, 10, random.Random(3)

    def stopncii_reader():
        nonlocal checkpoint
        while True:
            finished = done.is_set()
            if finished:
                wait_for_the_stopncii_horizon()  # the last second written must have passed before a sync hands it out
            token = ""
            while True:
                body = stopncii.fetch(stopncii_partner, start=checkpoint, page_size=29, token=token)[0]
                stop_state.update({(r["signalType"], r["hashValue"]): r["hashStatus"] for r in body["hashRecords"]})
                checkpoint = body["nextSetTimestamp"]  # the client stores each page's checkpoint
                if not body["hasMoreRecords"]:
                    break
                if not finished and rng.random() < 0.3:
                    break  # the sync stops here; the next starts from the stored checkpoint
                token = body["nextPageToken"]
            if finished and not body["hasMoreRecords"]:
                return

    writers = [in_thread(lambda seed=seed: writer(seed)) for seed in range(4)]
    readers = [in_thread(native_reader), in_thread(stopncii_reader)]
    for thread in writers:
        thread.join(300)
    done.set()
    for thread in readers:
        thread.join(120)

    assert BankChange.objects.count() > 2000
    final = {(h.signal_type, h.value): h.is_shareable for h in BankHash.objects.all()}
    assert any(final.values()) and not all(final.values())
    native_active = {key for key, status in native_state.items() if status == "active"}
    assert native_active == {key for key, shareable in final.items() if shareable}
    named = {"pdq": "ImagePDQ", "md5": "VideoMD5"}
    stop_active = {key for key, status in stop_state.items() if status == "Active"}
    assert stop_active == {(named[t], v) for (t, v), shareable in final.items() if shareable}
