"""Beat's daily jobs that span every app: thin, the work is in ncii_portal.retention."""

import logging

from celery import shared_task

from ncii_portal import retention

logger = logging.getLogger(__name__)


@shared_task
def apply_retention():
    purged = retention.apply()
    logger.info("retention applied: %s", ", ".join(f"{name} {count}" for name, count in purged.items()))
    return purged


@shared_task
def clear_expired_sessions():
    retention.clear_expired_sessions()
    logger.info("expired sessions cleared")
