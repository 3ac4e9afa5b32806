from django.db import models
from django.utils import timezone

from core import lookups
from hashing import signal_types


class TransactionId(models.Func):
    """This transaction's id (PostgreSQL's xid8, as a bigint): which transaction wrote a change."""

    template = "pg_current_xact_id()::text::bigint"
    output_field = models.BigIntegerField()

    def __init__(self):
        super().__init__()


class ClockTime(models.Func):
    """The database's clock at this statement (not the transaction's start, which now() gives)."""

    template = "clock_timestamp()"
    output_field = models.DateTimeField()

    def __init__(self):
        super().__init__()


# --- Shareable (design rule 9): the one definition, in the three forms the code needs ---------------------------
#
# A bank hash, or a change of it, is shareable with partners when it is active (a case holds it), not under
# review, not a PDQ of known low quality nor a vPDQ whose frames all are (signal_types.GRADED), and not an MD5 only
# "other files" hold (files that are neither images
# nor videos: kept with their cases, never shared, as StopNCII shares only images and videos). A PDQ with no
# quality came from a partner (callers' items always carry one) and is shared only after a person approved it,
# which the review field already requires.


def shareable(signal_type, status, review, quality, other_file):
    """The rule on plain values: a bank row's, or a change's own (its signal type is its hash's)."""
    low = signal_type in signal_types.GRADED and quality is not None and signal_types.is_low_quality(quality)
    return status == BankHash.Status.ACTIVE and review == BankHash.Review.NONE and not low and not other_file


def shareable_q(state="", kind=""):
    """The rule as a filter: `state` prefixes the status, review, quality and other_file fields, `kind` the signal
    type (a BankChange's is its bank_hash's)."""
    reliable = (~models.Q(**{f"{kind}signal_type__in": signal_types.GRADED})
                | models.Q(**{f"{state}quality__gte": signal_types.PDQ_MIN_QUALITY})
                | models.Q(**{f"{state}quality": None}))
    return models.Q(**{f"{state}status": BankHash.Status.ACTIVE, f"{state}review": BankHash.Review.NONE,
                       f"{state}other_file": False}) & reliable


def shareable_sql(state, kind):
    """The rule as SQL, for queries that must be raw (statistics' walk): `state` is the alias of the row holding
    status, review, quality and other_file (hashing_bankhash or hashing_bankchange), `kind` of the one holding
    signal_type."""
    return (f"{state}.status = '{BankHash.Status.ACTIVE}' AND {state}.review = '{BankHash.Review.NONE}' "
            f"AND NOT {state}.other_file "
            f"AND ({kind}.signal_type NOT IN ({', '.join(repr(code) for code in signal_types.GRADED)}) "
            f"OR {state}.quality IS NULL "
            f"OR {state}.quality >= {signal_types.PDQ_MIN_QUALITY:d})")


class BankHashQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=BankHash.Status.ACTIVE)

    def quarantined(self):
        """Held by the self-service flood quarantine, waiting for a supervisor (cases/flood.py)."""
        return self.filter(review=BankHash.Review.QUARANTINED)

    def shareable(self):
        """What may go to partners now (shareable_q)."""
        return self.filter(shareable_q())

    def signal(self, signal_type, value):
        """The row of a normalised value of this type, by its key (a vPDQ's is its text's SHA-256)."""
        return self.filter(signal_type=signal_type, value=signal_types.get(signal_type).key(value))


class BankHash(models.Model):
    """One distinct (signal type, value) across all cases.

    Two things decide whether it is shared, kept apart so neither overrides the other: `status`, derived from
    the cases that hold it (active while any case holds it), and `review`, set by staff or by partners' reports
    (paused after NotBlocked consensus, held when a partner contributed it, quarantined when a self-service
    flood brought it, rejected by staff for good). A new case holding a hash under review makes it active, never
    takes it out of review. Every change appends a BankChange, which feeds read.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Review(models.TextChoices):
        NONE = "", "Not under review"
        PAUSED = "paused", "Paused: partners reported it is not NCII"
        HELD = "held", "Held: contributed by a partner, awaiting review"
        QUARANTINED = "quarantine", "Held: self-service flood, awaiting review"
        REJECTED = "rejected", "Rejected by staff: never shared"

    signal_type = models.CharField(max_length=10, choices=signal_types.CHOICES)
    # The value, or for a vPDQ (kilobytes: too long for a btree key) its key, the SHA-256 of full_value.
    value = models.CharField(max_length=64)
    # A vPDQ's text, as partners receive it; empty for the others, whose value is the whole of it.
    full_value = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.NONE, blank=True)
    # PDQ: the best quality any item gave this hash (never goes down); vPDQ: its best frame's.
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    # MD5 only: a video item holds it (StopNCII carries MD5 as VideoMD5; an image's MD5 stays in our own feed).
    video = models.BooleanField(default=False)
    # MD5 only: no image or video item holds it, only other files (a PDF, a document): never shared.
    other_file = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    changed = models.DateTimeField(default=timezone.now)

    objects = BankHashQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["signal_type", "value"], name="bankhash_unique_signal"),
            models.CheckConstraint(condition=models.Q(signal_type__in=list(signal_types.BY_CODE)),
                                   name="bankhash_known_type"),
            # A vPDQ keeps its text beside its key; no other type has one.
            models.CheckConstraint(condition=(models.Q(signal_type=signal_types.VPDQ.code) & ~models.Q(full_value=""))
                                   | (~models.Q(signal_type=signal_types.VPDQ.code) & models.Q(full_value="")),
                                   name="bankhash_full_value_vpdq_only"),
        ]
        # The review queue and the dashboard's quarantine count read the few rows under review, not the bank.
        indexes = [models.Index(fields=["review", "changed"], condition=~models.Q(review=""),
                                name="bankhash_under_review")]

    def __str__(self):
        return f"{self.signal_type}:{self.value[:12]}…"

    @property
    def type(self):
        return signal_types.get(self.signal_type)

    @property
    def exchanged_value(self):
        """The value partners receive and report back: a vPDQ's text, any other's hex."""
        return self.full_value or self.value

    @property
    def is_shareable(self):
        return shareable(self.signal_type, self.status, self.review, self.quality, self.other_file)


# The oldest transaction still running (PostgreSQL's snapshot xmin): rows with a txid below it are settled, no
# running transaction can still slip a row beneath them. The bank's changes (BankChange.objects.settled()) and a
# partner's own web addresses (partners.addresses) are handed out below it.
SNAPSHOT_XMIN = models.Func(template="pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                            output_field=models.BigIntegerField())


class BankChangeQuerySet(models.QuerySet):
    def shareable(self):
        """Changes that left their hash shareable (shareable_q, on the change's own state)."""
        return self.filter(shareable_q(kind="bank_hash__"))

    def settled(self):
        """Changes no running transaction can still slip beneath: written by transactions older than the oldest
        one still running (PostgreSQL's snapshot xmin). Read the watermark, then the rows: every transaction
        below it had finished before the rows are read, so the reading statement sees all of their changes."""
        return self.filter(txid__lt=SNAPSHOT_XMIN)

    def after(self, txid, change_id):
        """In feed order, (transaction id, change id), after a cursor position. A row comparison, so the
        (txid, id) index serves each page from the cursor on (an OR of the two would rescan from the start)."""
        return self.filter(lookups.after(("txid", "id"), (txid, change_id))).order_by("txid", "id")

    def after_time(self, at, change_id):
        """In history order, (database time, change id), after a position; served by the (at, id) index."""
        return self.filter(lookups.after(("at", "id"), (at, change_id))).order_by("at", "id")


class BankChange(models.Model):
    """The bank's history, append-only: one row per change of a bank hash, with its state after the change.

    The partner feeds, push cursors, acknowledgements and statistics read it.
    - Feeds page it in (txid, id) order, only below the snapshot xmin (`settled`): `id` is taken when the
      statement runs, so a transaction that commits late would slip beneath a reader paging by id alone; below
      the xmin, ordered by transaction first, nothing can appear behind a cursor.
    - A feed serves, for each change, the bank row's state as it reads it, not the change's own columns: two
      transactions changing one row commit in lock order, which txid order need not follow, so the newest
      state must come from the row. (The next change of that row is served again later.)
    - History (statistics: what changed when) orders by `at`, the database clock at the write, which for one
      row follows the lock order.
    """

    bank_hash = models.ForeignKey(BankHash, on_delete=models.CASCADE, related_name="changes")
    txid = models.BigIntegerField(db_default=TransactionId())
    at = models.DateTimeField(db_default=ClockTime())
    status = models.CharField(max_length=10, choices=BankHash.Status.choices)
    review = models.CharField(max_length=10, choices=BankHash.Review.choices, blank=True)
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    video = models.BooleanField(default=False)
    other_file = models.BooleanField(default=False)

    objects = BankChangeQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["txid", "id"]), models.Index(fields=["at", "id"])]

    def __str__(self):
        return f"change {self.pk} of {self.bank_hash_id}"
