from django.db import connection, transaction

from audit.models import AuditEvent


def purge_expired_events():
    """Delete audit rows past the retention period. The trigger allows DELETE only inside this function.

    In production the runtime role has no DELETE grant, so this runs as the table owner
    (`manage.py purge_audit` from the owner's environment; see docs/operations.md).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ncii.audit_purge = 'on'")
        deleted, _ = AuditEvent.objects.expired().delete()
        # Switch it off again at once: when called inside an outer transaction, SET LOCAL would outlive us.
        cursor.execute("SET LOCAL ncii.audit_purge = 'off'")
    return deleted
