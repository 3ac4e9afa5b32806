"""Operations on the hash bank, called by case actions and the partner API alike."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from hashing import signals
from hashing.models import BankHash, NextChange


def bank_signal(signal_type, value, *, quality=None):
    """The bank row for this signal, created if new. Validates and normalises; raises InvalidSignal.

    A better PDQ quality than the bank knew counts as a change (it may make the hash shareable).
    """
    kind = signals.get(signal_type)
    value = kind.normalise(value)
    if quality is not None:
        signals.check_quality(quality)
    try:
        with transaction.atomic():
            bank_hash, created = BankHash.objects.get_or_create(
                signal_type=kind.code, value=value, defaults={"quality": quality}
            )
    except IntegrityError:  # another request created it between our read and our insert
        bank_hash, created = BankHash.objects.get(signal_type=kind.code, value=value), False
    if not created and quality is not None and (bank_hash.quality is None or quality > bank_hash.quality):
        record_change(bank_hash, quality=quality)
    if created:
        bank_hash.refresh_from_db(fields=["change_seq"])
    return bank_hash


def set_status(bank_hash, status):
    """Move a bank hash to a new aggregate status; a real change takes a new change sequence value."""
    if bank_hash.status != status:
        record_change(bank_hash, status=status)
    return bank_hash


def record_change(bank_hash, **fields):
    fields["changed"] = timezone.now()
    BankHash.objects.filter(pk=bank_hash.pk).update(change_seq=NextChange(), **fields)
    bank_hash.refresh_from_db()
