"""The audit log is append-only in the database itself, records staff events, and can be read and filtered."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.actions import record
from audit.models import AuditEvent, AuditNote
from audit.purge import purge_expired_events
from tests.helpers import beat_schedule


@pytest.fixture
def event(db, supervisor):
    return record("case.viewed", actor=supervisor, target_type="Case", target_id="42", details={"tab": "items"})


@pytest.mark.parametrize("sql", [
    "UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s",
    "UPDATE audit_auditevent SET at = now() - interval '10 years' WHERE id = %s",
    "DELETE FROM audit_auditevent WHERE id = %s",
])
def test_database_refuses_changes(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.action == "case.viewed"


def test_orm_refuses_changes(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(ValueError):
        event.save()
    assert AuditEvent.objects.filter(pk=event.pk, action="case.viewed").exists()


def test_retention_purge_removes_only_expired_rows_and_their_notes(db, settings):
    limit = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    # Backdate rows the only way possible: insert them old (inserts are allowed).
    old_note = AuditNote.objects.create(text="reason given long ago")
    expired = AuditEvent.objects.create(action="old.event", at=limit - timedelta(days=1), note=old_note)
    kept_note = AuditNote.objects.create(text="reason inside retention")
    almost = AuditEvent.objects.create(action="almost.old", at=limit + timedelta(days=1), note=kept_note)
    recent = record("staff.login", actor_label="system", note="today's reason")

    assert purge_expired_events() == 1
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {almost.pk, recent.pk}
    assert not AuditEvent.objects.filter(pk=expired.pk).exists()
    assert set(AuditNote.objects.values_list("pk", flat=True)) == {kept_note.pk, recent.note_id}
    # The purge switch lasts only for its own transaction.
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=almost.pk).delete()


def test_free_text_lives_in_a_purgeable_note(db, supervisor):
    event = record("case.reassigned", actor=supervisor, target_type="Case", target_id="7", note="caller asked")
    assert AuditNote.objects.get(pk=event.note_id).text == "caller asked"
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(e)::text FROM audit_auditevent e WHERE id = %s", [event.pk])
        (row,) = cursor.fetchone()
    assert "caller asked" not in row and f'"note_id":{event.note_id}' in row
    AuditNote.objects.filter(pk=event.note_id).delete()  # purging a note leaves the audit row intact
    event.refresh_from_db()
    assert event.action == "case.reassigned"


def test_request_context_is_recorded(login_as, administrator, newcomer):
    client = login_as(administrator)
    client.post(reverse("staff_deactivate", args=[newcomer.pk]), HTTP_X_REQUEST_ID="req-123",
                REMOTE_ADDR="203.0.113.9")
    event = AuditEvent.objects.get(action="staff.deactivated")
    assert event.actor == administrator
    assert (event.target_type, event.target_id) == ("User", str(newcomer.pk))
    assert event.request_id == "req-123"
    assert event.ip == "203.0.113.9"


def test_audit_page_lists_and_filters(login_as, supervisor, event):
    record("staff.login", actor=supervisor, target=supervisor)
    client = login_as(supervisor)
    page = client.get(reverse("audit_log")).content.decode()
    assert "case.viewed" in page and "staff.login" in page
    filtered = client.get(reverse("audit_log"), {"action": "case.viewed"}).content.decode()
    assert "case.viewed" in filtered and "<code>staff.login</code>" not in filtered
    by_target = client.get(reverse("audit_log"), {"target_type": "case", "target_id": "42"}).content.decode()
    assert "case.viewed" in by_target
    bad = client.get(reverse("audit_log"), {"since": "2025-02-01", "until": "2025-01-01"})
    assert bad.status_code == 200
    assert "must be on or before" in bad.content.decode()


def test_beat_purges_audit_rows_only_where_it_may_delete_them():
    # Production: the runtime role has no DELETE on audit rows; the owner's scheduled purge_audit does it.
    assert "purge-expired-audit-events" not in beat_schedule(DEBUG="0")
    assert "purge-expired-audit-events" in beat_schedule(DEBUG="1")
    assert "purge-expired-audit-events" in beat_schedule(DEBUG="0", AUDIT_PURGE_IN_BEAT="1")
