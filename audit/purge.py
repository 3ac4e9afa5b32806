from django.db import connection, transaction

from audit.models import AuditClientIP, AuditEvent, AuditNote


def purge_expired_events():
    """Delete audit rows past the retention period, and the notes they point to.

    The trigger allows DELETE only inside this function. In production the runtime role has no DELETE grant,
    so this runs as the table owner (`manage.py purge_audit`, scheduled by the operator; docs/operations.md).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ncii.audit_purge = 'on'")
        expired = AuditEvent.objects.expired()
        note_ids = list(expired.exclude(note=None).values_list("note_id", flat=True))
        ip_ids = list(expired.exclude(client_ip=None).values_list("client_ip_id", flat=True))
        deleted, _ = expired.delete()
        AuditNote.objects.filter(pk__in=note_ids).delete()
        AuditClientIP.objects.filter(pk__in=ip_ids).delete()
        # Switch it off again at once: when called inside an outer transaction, SET LOCAL would outlive us.
        cursor.execute("SET LOCAL ncii.audit_purge = 'off'")
    return deleted
