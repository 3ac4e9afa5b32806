"""Push delivery's Celery tasks: thin, the work is in partners.push."""

from celery import shared_task
from django.core.cache import cache

from partners import push


@shared_task
def push_due():
    """Beat, and after bank changes commit: a round for every partner with something to send."""
    cache.delete(push.SOON)  # a change committed from now on asks for another round
    for partner_id in push.due_partner_ids():
        push_partner.delay(partner_id)


@shared_task
def push_partner(partner_id):
    wait = push.run(partner_id)
    if wait is not None:  # more to send now, or a retry due: come back then (beat would too, later)
        push_partner.apply_async((partner_id,), countdown=wait)
