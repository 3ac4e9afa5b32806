"""Push delivery's Celery tasks, and queueing them: thin, the work is in partners.push."""

import logging
import math

from celery import current_app, shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from partners import addresses, push

logger = logging.getLogger(__name__)

ROUND_QUEUED = "partners.push.round_queued"  # set while a round is queued and has not started yet


@shared_task
def push_due():
    """Beat, and after bank changes commit: a round for every partner with something to send."""
    cache.delete(ROUND_QUEUED)  # a change committed from now on queues another round
    for partner_id in push.due_partner_ids():
        push_partner.delay(partner_id)


@shared_task
def push_partner(partner_id):
    wait = push.run_round(partner_id)
    if wait is not None:  # more to send now, or a retry due: come back then (beat would too, later)
        push_partner.apply_async((partner_id,), countdown=wait)


def enqueue(task, *args, countdown=0):
    """Queue a push task now, or say it could not be: a broker that is down fails at once rather than holding a
    caller's request through kombu's retries (beat's re-drive covers what this misses)."""
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0, timeout=2)
            task.apply_async(args, countdown=countdown, retry=False, connection=connection)
        return True
    except Exception:  # noqa: BLE001 (any broker failure)
        logger.warning("could not queue a push task (broker unreachable?); beat will re-drive it")
        return False


def on_bank_changed(sender, **kwargs):
    """hashing.actions.bank_changed: a transaction that changed the bank has committed."""
    queue_push_round()


def on_case_withdrawn(sender, case, **kwargs):
    """cases.actions.case_withdrawn, in the withdrawal's transaction: the addresses partners were sent are
    withdrawn with it, and pushed once it commits (the rows are the record; beat re-drives what this misses)."""
    if addresses.withdraw(case):
        transaction.on_commit(queue_push_round, robust=True)


def queue_push_round():
    """After a bank change commits: queue a push round in PUSH_BATCH_WAIT, once however many changes commit
    meanwhile (the round clears the mark as it starts, so a later commit queues another). The change is safe in
    the log whatever happens here; beat re-drives what this misses."""
    # The mark outlives the wait a little: should the round be lost, a commit a few seconds later queues again.
    queued = cache.add(ROUND_QUEUED, 1, timeout=math.ceil(settings.PUSH_BATCH_WAIT) + 5)
    if queued and not enqueue(push_due, countdown=settings.PUSH_BATCH_WAIT):
        cache.delete(ROUND_QUEUED)
