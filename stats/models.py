"""Rollups of docs/statistics.md: what the dashboard reads, kept up to date by stats.rollups. No hash values and
no case data are kept here: pairs are (partner, bank hash id), counts are per day."""

from django.db import models

from partners.models import Handover, Partner


class PairState(models.Model):
    """One partner and one bank hash it reported on: its first events of each kind (docs/statistics.md)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    hash_id = models.BigIntegerField()  # the bank hash's id, kept when retention removes the hash
    shared_at = models.DateTimeField(null=True)
    matched_at = models.DateTimeField(null=True)
    reviewed_at = models.DateTimeField(null=True)
    actioned_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "hash_id"], name="pairstate_once")]

    def __str__(self):
        return f"pair {self.partner_id}/{self.hash_id}"


class HandoverShare(models.Model):
    """How many hashes a handover gave its partner for the first time (the "shared" number)."""

    handover = models.OneToOneField(Handover, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    hashes = models.PositiveIntegerField()

    def __str__(self):
        return f"{self.hashes} shared by handover {self.handover_id}"


class DailyCount(models.Model):
    """A number for one local day: for one partner, or (partner empty) for the helpline's own numbers; with a
    breakdown (a channel, an abuse type…) or none."""

    day = models.DateField()
    number = models.CharField(max_length=40)
    partner = models.ForeignKey(Partner, null=True, on_delete=models.CASCADE, related_name="+")
    breakdown = models.CharField(max_length=40, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "number", "partner", "breakdown"],
                                               nulls_distinct=False, name="dailycount_once")]
        indexes = [models.Index(fields=["number", "day"])]

    def __str__(self):
        return f"{self.day} {self.number} {self.breakdown}: {self.count}"


class DailyHistogram(models.Model):
    """Durations ended on one local day, for one partner, counted per fixed bin (stats.bins)."""

    day = models.DateField()
    measure = models.CharField(max_length=20)  # to_match, to_action, match_to_action
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    bin = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "measure", "partner", "bin"],
                                               name="dailyhistogram_once")]
        indexes = [models.Index(fields=["measure", "day"])]

    def __str__(self):
        return f"{self.day} {self.measure} bin {self.bin}: {self.count}"


class Watermark(models.Model):
    """When the incremental update last started."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at}"
