"""Rollups of docs/statistics.md: kept up to date by stats.keeping, read by stats.reading. No hash values, no web
addresses and no case data are kept here: pairs are (partner, bank hash id), counts are per day."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from partners.models import Handover, Partner
from takedowns.models import Site


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
        indexes = [models.Index(fields=["partner", field]) for field in ("matched_at", "reviewed_at", "actioned_at")]

    def __str__(self):
        return f"pair {self.partner_id}/{self.hash_id}"


class HandoverShare(models.Model):
    """A piece of the change log a handover was the first to give its partner, and how many hashes it gave the
    partner for the first time (the "shared" number; see stats.sharing). Native pages and pushes give pieces in
    (transaction, change) order, StopNCII pages in (time, change) order; low and high are both included, and a
    StopNCII piece without low_at starts at the beginning."""

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()  # the handover's
    day = models.DateField()  # its local day
    hashes = models.PositiveIntegerField()
    by_time = models.BooleanField()
    low_txid = models.BigIntegerField(null=True)
    low_at = models.DateTimeField(null=True)
    low_id = models.BigIntegerField()
    high_txid = models.BigIntegerField(null=True)
    high_at = models.DateTimeField(null=True)
    high_id = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["partner", "day"]),
            models.Index(fields=["at"]),
            models.Index(fields=["partner", "high_txid", "high_id"], condition=models.Q(by_time=False),
                         name="handovershare_by_position"),
            models.Index(fields=["partner", "high_at", "high_id"], condition=models.Q(by_time=True),
                         name="handovershare_by_time"),
        ]

    def __str__(self):
        return f"{self.hashes} shared by handover {self.handover_id}"


class Count(models.Model):
    """A number for one local day (or month): for one partner, or (partner empty) for the helpline's own numbers;
    with a breakdown (a channel, an abuse type…) or none."""

    day = models.DateField()
    number = models.CharField(max_length=40)
    partner = models.ForeignKey(Partner, null=True, on_delete=models.CASCADE, related_name="+")
    breakdown = models.CharField(max_length=40, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.day} {self.number} {self.breakdown}: {self.count}"


class DailyCount(Count):
    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "number", "partner", "breakdown"],
                                               nulls_distinct=False, name="dailycount_once")]
        indexes = [models.Index(fields=["number", "day"])]


class MonthlyCount(Count):
    """The daily counts of a calendar month, summed (day: the month's first), so long periods read few rows."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "number", "partner", "breakdown"],
                                               nulls_distinct=False, name="monthlycount_once")]


class DailyHistogram(models.Model):
    """Durations ended on one local day, for one partner, counted per fixed bin (stats.bins)."""

    MEASURES = ("to_match", "to_action", "match_to_action")

    day = models.DateField()
    measure = models.CharField(max_length=20)  # one of MEASURES
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    bin = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "measure", "partner", "bin"],
                                               name="dailyhistogram_once")]
        indexes = [models.Index(fields=["measure", "day"])]

    def __str__(self):
        return f"{self.day} {self.measure} bin {self.bin}: {self.count}"


class HistogramToDate(models.Model):
    """A partner's durations of one measure that ended on or before a local day, per bin (index = bin): any
    period's histogram is the difference of two of these, whatever its length. A row exists for each day the
    daily histogram has rows; a day without one reads the latest row before it."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(max_length=20)
    day = models.DateField()
    counts = ArrayField(models.PositiveIntegerField())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "measure", "day"], name="histogramtodate_once")]

    def __str__(self):
        return f"{self.measure} of {self.partner_id} to {self.day}"


class Watermark(models.Model):
    """When the incremental update last started, and how many bank hashes were shareable then (counting them
    takes longer than the rest of a dashboard)."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()
    shareable_hashes = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.name} at {self.at}"


class SiteCounts(models.Model):
    """A site's web addresses first asked for on one local day (or in one month), by what has become of them now
    (docs/statistics.md, "Web addresses"), and the requests sent to the site then: requests, and reminders and
    escalations."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    asked = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    no_answer = models.PositiveIntegerField(default=0)
    reinstated = models.PositiveIntegerField(default=0)
    within_48h = models.PositiveIntegerField(default=0)  # of the removed
    requests = models.PositiveIntegerField(default=0)
    follow_ups = models.PositiveIntegerField(default=0)

    COUNTS = ("asked", "removed", "refused", "no_answer", "reinstated", "within_48h", "requests", "follow_ups")

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.site_id} on {self.day}: {self.asked} asked for"


class SiteDay(SiteCounts):
    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="siteday_once")]
        # A period's rows, read without the table (an index-only scan).
        indexes = [models.Index(fields=["day"], include=["site", *SiteCounts.COUNTS], name="siteday_period")]


class SiteMonth(SiteCounts):
    """A site's days of one calendar month, summed (day: the month's first), so a period reads its whole months
    from here and only the days around them from SiteDay."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="sitemonth_once")]
        indexes = [models.Index(fields=["day"], include=["site", *SiteCounts.COUNTS], name="sitemonth_period")]


class RemovalHistogram(models.Model):
    """Times to removal (stats.bins) of the addresses first asked for on one local day and removed now: for one
    site, or (site empty) for all sites."""

    site = models.ForeignKey(Site, null=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    bin = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day", "bin"], nulls_distinct=False,
                                               name="removalhistogram_once")]
        indexes = [models.Index(fields=["site", "day"], include=["bin", "count"], name="removalhistogram_read"),
                   models.Index(fields=["day"], name="removalhistogram_day")]

    def __str__(self):
        return f"{self.site_id} on {self.day}, bin {self.bin}: {self.count}"


class SiteOverdue(models.Model):
    """A site's requests overdue now (docs/statistics.md: a state, as the last minute's update counted it)."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="+")
    requests = models.PositiveIntegerField()

    def __str__(self):
        return f"{self.site_id}: {self.requests} overdue"
