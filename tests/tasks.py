"""Tasks only the test worker loads (conftest's celery_worker passes --include tests.tasks)."""

from celery import shared_task
from celery.utils.log import get_task_logger

logger = get_task_logger(__name__)


@shared_task
def log_visit(path):
    """Logs a path as a task might, then fails with it in the message: both must reach the log redacted."""
    logger.warning("visited %s", path)
    raise ValueError(f"could not follow {path}")
