"""Takedowns' Celery tasks: thin, the work is in takedowns.actions and takedowns.checks. The request rows are the
outbox: a mail request waits in the database as queued until it is sent, so a lost broker message or a dead
worker delays it (beat's send_due finds it within a minute) but never loses it."""

import logging

from celery import shared_task
from django.conf import settings

from takedowns import actions, checks
from takedowns.models import TakedownRequest

logger = logging.getLogger(__name__)


@shared_task
def send_request(request_id):
    wait = actions.deliver(request_id)
    if wait is not None:  # the mail failed: try again then (beat would, too)
        ask_to_send(request_id, countdown=wait)


@shared_task
def send_due():
    """Beat: mail requests whose time has come that no message is carrying (lost, or never queued)."""
    for request_id in TakedownRequest.objects.due_to_send().values_list("pk", flat=True):
        send_request.delay(request_id)


@shared_task
def mark_overdue():
    return actions.mark_overdue()


@shared_task
def check_addresses():
    """Beat, when TAKEDOWN_CHECK_ADDRESSES is on: ask the open addresses due a check for their HTTP status."""
    if settings.TAKEDOWN_CHECK_ADDRESSES:
        return checks.check_due()
    return 0


def on_mail_queued(sender, request_id, **kwargs):
    """takedowns.actions.mail_queued: a mail request was committed, queued to go."""
    ask_to_send(request_id)


def ask_to_send(request_id, countdown=0):
    """Queue the sending after commit; a broker that is down fails at once (beat's send_due covers it)."""
    try:
        send_request.apply_async((request_id,), countdown=countdown, retry=False)
    except Exception:  # noqa: BLE001 (any broker failure)
        logger.warning("could not queue takedown request %s (broker unreachable?); beat will send it", request_id)
