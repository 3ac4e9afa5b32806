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
