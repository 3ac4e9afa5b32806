from datetime import timedelta

from celery import shared_task

from stats import keeping


@shared_task
def update_statistics():
    keeping.update()


@shared_task
def catch_up_statistics():
    """Nightly: the last two days again, for anything committed long after it happened. (Not a rebuild: the
    records of hashes retention removed are gone, and their counts must stay.)"""
    keeping.update(reach=timedelta(days=2))
