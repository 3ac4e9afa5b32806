import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ncii_portal.settings")

app = Celery("ncii_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs):
    # Celery would otherwise replace the root handlers with its own, which bypass RedactSecrets: a connected
    # receiver tells it to leave logging alone, and the settings' LOGGING applies to the worker and beat too.
    logging.config.dictConfig(settings.LOGGING)
