"""A transaction that changes the bank asks push for one round after it commits, however many rows it changed
(hashing.actions.bank_changed is sent once per transaction), and one rolled back asks for none."""

import pytest
from django.db import transaction

from hashing import actions as bank
from hashing.models import BankChange
from partners import tasks
from tests.calls import image, issue_code, open_case, submit
from tests.conftest import make_staff

# Committed for real (transactional_db): what is counted runs after commit.


@pytest.fixture
def rounds_queued(transactional_db, monkeypatch):
    """Each time push is asked for a round (partners.tasks.on_bank_changed), as it is asked; nothing reaches the
    broker."""
    asked = []
    monkeypatch.setattr(tasks, "queue_push_round", lambda: asked.append(transaction.get_connection().in_atomic_block))
    return asked


def test_a_submission_of_many_hashes_asks_for_one_round_after_it_commits(rounds_queued):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    code = issue_code(open_case(caseworker), caseworker)
    assert rounds_queued == []
    assert submit(code, [image(n) for n in range(1, 11)]).status_code == 200
    assert BankChange.objects.count() == 30  # ten photos, three signals each: thirty changes in one transaction
    assert rounds_queued == [False]  # once, and after the commit


def test_a_transaction_rolled_back_asks_for_nothing(rounds_queued):
    with pytest.raises(RuntimeError), transaction.atomic():
        for n in range(5):
            bank.bank_signal("md5", f"{n:032x}")
        raise RuntimeError("rolled back")
    assert BankChange.objects.count() == 0 and rounds_queued == []


def test_a_change_kept_after_a_savepoint_rolled_back_still_asks_once(rounds_queued):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint: its change is undone
            bank.bank_signal("md5", f"{1:032x}")
            raise RuntimeError("rolled back to the savepoint")
        bank.bank_signal("md5", f"{2:032x}")
        bank.bank_signal("md5", f"{3:032x}")
        assert rounds_queued == []  # nothing before the commit
    assert BankChange.objects.count() == 2 and rounds_queued == [False]
