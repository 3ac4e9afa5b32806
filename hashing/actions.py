"""Operations on the hash bank, called by case actions and the partner API alike.

Every change of a bank row appends a BankChange with the row's new state, in the same transaction. Callers that
change status lock the row first (select_for_update), so concurrent changes serialise and none is lost.
"""

import functools
import threading

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from hashing import signal_types
from hashing.models import BankChange, BankHash


def bank_signal(signal_type, value, *, quality=None, video=False, other_file=None,
                review_if_new=BankHash.Review.NONE):
    """The bank row for this signal, created if new. Validates and normalises; raises InvalidSignal. (A vPDQ's row
    is found by its key, and keeps its text: BankHash.full_value.)

    A better PDQ quality than the bank knew, or a first video holding an MD5, counts as a change (it may make
    the hash shareable, or shareable as VideoMD5). Quality never goes down. `other_file` says what holds an MD5:
    True, only other files (never shared); False, an image or a video, which makes it a shareable MD5 for good;
    None (a partner's contribution) says nothing, and a new row is not an other file's. `review_if_new` puts a
    new row under review from its first logged state (a partner's contribution is never, even for a moment,
    shareable).
    """
    kind = signal_types.get(signal_type)
    value = kind.normalise(value)
    if kind == signal_types.VPDQ:  # its quality is its best frame's, whatever the caller says
        quality = signal_types.best_quality(signal_types.vpdq_frames_of(value))
    if quality is not None:
        signal_types.check_quality(quality)
    key = kind.key(value)
    video = video and kind == signal_types.MD5
    other_file = other_file if kind == signal_types.MD5 else None
    try:
        with transaction.atomic():  # the row and its first log entry commit together, or neither does
            bank_hash, created = BankHash.objects.get_or_create(
                signal_type=kind.code, value=key,
                defaults={"quality": quality, "video": video, "other_file": bool(other_file), "review": review_if_new,
                          "full_value": value if key != value else ""}
            )
            if created:
                log_change(bank_hash)
                return bank_hash
    except IntegrityError:  # another request created it between our read and our insert
        bank_hash = BankHash.objects.get(signal_type=kind.code, value=key)
    better = quality is not None and (bank_hash.quality is None or quality > bank_hash.quality)
    media = other_file is False and bank_hash.other_file
    if better or (video and not bank_hash.video) or media:
        with transaction.atomic():
            bank_hash = BankHash.objects.select_for_update().get(pk=bank_hash.pk)
            fields = {}
            if quality is not None and (bank_hash.quality is None or quality > bank_hash.quality):
                fields["quality"] = quality
            if video and not bank_hash.video:
                fields["video"] = True
            if other_file is False and bank_hash.other_file:
                fields["other_file"] = False
            if fields:
                record_change(bank_hash, **fields)
    return bank_hash


def set_status(bank_hash, status):
    """Move a (locked) bank hash to a new case-derived status; a real change is logged."""
    if bank_hash.status != status:
        record_change(bank_hash, status=status)
    return bank_hash


def set_review(bank_hash, review):
    """Put a (locked) bank hash under review, or take it out; a real change is logged."""
    if bank_hash.review != review:
        record_change(bank_hash, review=review)
    return bank_hash


def record_change(bank_hash, **fields):
    fields["changed"] = timezone.now()
    for name, value in fields.items():
        setattr(bank_hash, name, value)
    bank_hash.save(update_fields=list(fields))
    bank_hash.refresh_from_db()  # the log holds the row as it now is, not as a stale copy had it
    log_change(bank_hash)


# Sent once a transaction that changed the bank has committed: once however many rows it changed. Partners' push
# receives it (PartnersConfig.ready); hashing knows nothing of partners. Receivers only ask for work to be done:
# the change log itself is the record, and beat re-drives whatever a receiver misses.
bank_changed = Signal()


_announced = threading.local()  # the last transaction announced in this thread (callbacks run in the committer's)


def announce_change(txid):
    if getattr(_announced, "txid", None) != txid:
        _announced.txid = txid
        bank_changed.send(sender=BankHash)


def log_change(bank_hash):
    change = BankChange.objects.create(bank_hash=bank_hash, status=bank_hash.status, review=bank_hash.review,
                                       quality=bank_hash.quality, video=bank_hash.video,
                                       other_file=bank_hash.other_file)
    # Every change asks to be announced after commit, and the first ask of its transaction (the database's id of
    # it, which the row holds) announces: once per transaction however many rows changed, none for a rollback,
    # and a change kept after a savepoint rolled back still asks.
    transaction.on_commit(functools.partial(announce_change, change.txid), robust=True)
    return change
