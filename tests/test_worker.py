"""A real Celery worker, on the real broker, runs the audit retention job against the database."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.tasks import purge_expired_events
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def test_worker_purges_expired_audit_events(transactional_db, celery_worker, settings):
    old = AuditEvent.objects.create(action="old.event",
                                    at=timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS + 5))
    fresh = AuditEvent.objects.create(action="fresh.event")
    purge_expired_events.delay()
    assert wait_for(lambda: not AuditEvent.objects.filter(pk=old.pk).exists())
    assert AuditEvent.objects.filter(pk=fresh.pk).exists()
