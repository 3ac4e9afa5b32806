from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEventQuerySet(models.QuerySet):
    def expired(self):
        return self.filter(at__lt=timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS))


class AuditNote(models.Model):
    """Free text a person gave for an audited act (a reason, a note). Purgeable, unlike the audit row."""

    text = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"note {self.pk}"


class AuditClientIP(models.Model):
    """The client address of an audited request. Kept apart from the append-only row, which points here, so that
    addresses can be purged after AUDIT_IP_RETENTION_DAYS while the audit row stays as it is."""

    ip = models.GenericIPAddressField()
    created = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return self.ip


class AuditEvent(models.Model):
    """One thing a person or the system did. Append-only: PostgreSQL refuses UPDATE and DELETE.

    Holds no free text and no caller data; `details` is structured (ids, counts, flags).
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # When there is no signed-in actor: "system", "anonymous", "partner:<slug>", "command:<name>".
    actor_label = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    # Like `note`: no constraint, so the address can be purged while this row stays as it is.
    client_ip = models.ForeignKey(
        AuditClientIP, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Points at an AuditNote without a constraint, so the note can be purged while this row stays as it is.
    note = models.ForeignKey(
        AuditNote, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    @property
    def ip(self):
        """The client address, or None (none recorded, or purged)."""
        try:
            return self.client_ip.ip if self.client_ip_id else None
        except AuditClientIP.DoesNotExist:
            return None

    @property
    def who(self):
        return str(self.actor) if self.actor_id else (self.actor_label or "system")
