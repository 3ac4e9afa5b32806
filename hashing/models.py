from django.db import models
from django.utils import timezone

from hashing import signals

CHANGE_SEQUENCE = "hashing_bankhash_change_seq"


class NextChange(models.Func):
    """The next value of the bank's change sequence (a PostgreSQL sequence created by migration 0001)."""

    template = f"nextval('{CHANGE_SEQUENCE}')"
    output_field = models.BigIntegerField()

    def __init__(self):
        super().__init__()


class BankHashQuerySet(models.QuerySet):
    def changed_after(self, change_seq):
        return self.filter(change_seq__gt=change_seq).order_by("change_seq")

    def active(self):
        return self.filter(status=BankHash.Status.ACTIVE)

    def shareable(self):
        """What may go to partners: active, and for PDQ of reliable quality (design: privacy rule 9)."""
        reliable = models.Q(signal_type=signals.PDQ.code, quality__gte=signals.PDQ_MIN_QUALITY)
        return self.active().filter(reliable | ~models.Q(signal_type=signals.PDQ.code))


class BankHash(models.Model):
    """One distinct (signal type, value) across all cases.

    Its status is the aggregate of the cases that hold it: active while any active case does. Every change
    takes a new value from one PostgreSQL sequence (`change_seq`), which the partner feed pages on.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        WITHDRAWN = "withdrawn", "Withdrawn"
        PAUSED = "paused", "Paused for review"

    signal_type = models.CharField(max_length=10, choices=signals.CHOICES)
    value = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # PDQ only: the best quality any item gave this hash.
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    change_seq = models.BigIntegerField(unique=True, db_default=NextChange())
    created = models.DateTimeField(default=timezone.now)
    changed = models.DateTimeField(default=timezone.now)

    objects = BankHashQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["signal_type", "value"], name="bankhash_unique_signal"),
            models.CheckConstraint(condition=models.Q(signal_type__in=list(signals.BY_CODE)),
                                   name="bankhash_known_type"),
        ]

    def __str__(self):
        return f"{self.signal_type}:{self.value[:12]}…"

    @property
    def type(self):
        return signals.get(self.signal_type)

    @property
    def is_low_quality(self):
        return self.signal_type == signals.PDQ.code and signals.is_low_quality(self.quality)
