"""Migration audit 0003 carries each existing client address into the purgeable side table, and leaves the
append-only trigger on."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from audit.models import AuditEvent

BEFORE, AFTER = ("audit", "0002_append_only"), ("audit", "0003_client_ip_apart")


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


@pytest.mark.django_db(transaction=True)
def test_addresses_move_to_the_side_table():
    migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute("""INSERT INTO audit_auditevent (at, actor_label, action, target_type, target_id, ip,
                          request_id, details) VALUES (now(), 'system', 'staff.login', '', '', '203.0.113.5', '',
                          '{}'), (now(), 'system', 'staff.login', '', '', NULL, '', '{}') RETURNING id""")
        with_ip, without_ip = (row[0] for row in cursor.fetchall())
    migrate(AFTER)
    moved = AuditEvent.objects.select_related("client_ip").get(pk=with_ip)
    assert moved.ip == "203.0.113.5" and moved.client_ip.created == moved.at  # retention counts from the event
    assert AuditEvent.objects.get(pk=without_ip).ip is None
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=with_ip).update(action="tampered")

    migrate(BEFORE)  # and back: the address returns to its row
    with connection.cursor() as cursor:
        cursor.execute("SELECT host(ip) FROM audit_auditevent WHERE id = %s", [with_ip])
        assert cursor.fetchone() == ("203.0.113.5",)
    migrate(AFTER)
