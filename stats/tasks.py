from celery import shared_task

from stats import rollups


@shared_task
def update_statistics():
    rollups.update()


@shared_task
def rebuild_statistics():
    rollups.rebuild()
