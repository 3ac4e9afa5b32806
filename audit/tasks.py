from celery import shared_task

from audit.purge import purge_expired_events as purge


@shared_task
def purge_expired_events():
    return purge()
