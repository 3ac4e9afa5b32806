"""The hash feed as a partner sees it: the bank's settled changes after a cursor, as records that partner may
have. Reads hashing; hashing knows nothing of partners."""

from django.core import signing
from django.db.models import CharField, F, Func, Q

from hashing import signals
from hashing.models import BankChange, BankHash
from partners.models import Partner

CURSOR_SALT = "partners.feed.cursor"
# A change's time as ISO 8601 in UTC, e.g. 2026-11-27T10:00:00.123456+00:00.
ISO_UTC = Func(F("at"), output_field=CharField(),
               template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')""")
START = (0, 0)


def encode_cursor(position):
    return signing.dumps(list(position), salt=CURSOR_SALT)


def decode_cursor(cursor):
    """(txid, change id) from an opaque cursor; ValueError for anything we did not hand out."""
    if not cursor:
        return START
    try:
        txid, change_id = signing.loads(cursor, salt=CURSOR_SALT)
        return int(txid), int(change_id)
    except (signing.BadSignature, TypeError, ValueError):
        raise ValueError("This cursor was not issued by this feed; start again without one.") from None


def was_shared():
    """A change that left the hash shareable (checked on the change's own columns)."""
    reliable = Q(bank_hash__signal_type=signals.PDQ.code, quality__gte=signals.PDQ_MIN_QUALITY) | Q(
        bank_hash__signal_type=signals.PDQ.code, quality=None)  # a partner's, approved by a person
    return (Q(status=BankHash.Status.ACTIVE, review=BankHash.Review.NONE)
            & (reliable | ~Q(bank_hash__signal_type=signals.PDQ.code)))


def page(partner, position=START, limit=1000, seen=START):
    """(records, next position, has_more) for `partner` after `position`.

    Each record is the hash as it is now: active while it may be shared, withdrawn once it may not (paused,
    withdrawn by its cases). A withdrawal is told only to a reader that could have received the hash, i.e. it
    was shareable before this page's starting position, or before `seen` (how far the reader may have been sent
    before, when it starts again from further back); a hash never shareable (e.g. a PDQ of low quality) is never
    mentioned, and a partner starting fresh is not told of hashes withdrawn before it arrived.
    """
    changes = BankChange.objects.settled().after(*position)
    if partner.signal_types:
        changes = changes.filter(bank_hash__signal_type__in=partner.signal_types)
    # Plain tuples, not model instances, and times as ISO text from the database: a full sync reads every change
    # once, and objects and datetimes cost most of it.
    rows = list(changes.annotate(updated=ISO_UTC).values_list(
        "txid", "id", "updated", "bank_hash_id", *(f"bank_hash__{f}" for f in FIELDS))[:limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    flags = [shareable(*row[4:]) for row in rows]
    unshareable = {row[3] for row, shared in zip(rows, flags, strict=True) if not shared}
    once_shared = set(BankChange.objects.filter(was_shared(), bank_hash_id__any=unshareable)
                      .extra(where=["(hashing_bankchange.txid, hashing_bankchange.id) <= (%s, %s)"],  # noqa: S610
                             params=list(max(position, tuple(seen))))
                      .values_list("bank_hash_id", flat=True).distinct()) if unshareable else set()
    latest = {}
    for (_txid, _id, updated, hash_id, signal_type, value, _status, _review, quality, video), shared in zip(
            rows, flags, strict=True):
        if shared:
            told = "active"
        elif hash_id in once_shared:
            told = "withdrawn"
        else:
            continue
        latest.pop(hash_id, None)  # a hash changed twice in one page is told once, as it is now
        latest[hash_id] = {
            "signal_type": signal_type,
            "value": value,
            "status": told,
            "quality": quality if signal_type == signals.PDQ.code else None,
            "video": video if signal_type == signals.MD5.code else None,
            "updated": updated,
        }
    next_position = (rows[-1][0], rows[-1][1]) if rows else position
    return list(latest.values()), next_position, has_more


FIELDS = ("signal_type", "value", "status", "review", "quality", "video")


def shareable(signal_type, _value, status, review, quality, _video):
    """BankHash.is_shareable, on the row's values."""
    low = signal_type == signals.PDQ.code and quality is not None and signals.is_low_quality(quality)
    return status == BankHash.Status.ACTIVE and review == BankHash.Review.NONE and not low


def behind(partner, position):
    """How many settled changes of the types this partner takes lie after `position`: its records still to fetch
    (a hash changed twice counts twice)."""
    changes = BankChange.objects.settled().after(*position)
    if partner.signal_types:
        changes = changes.filter(bank_hash__signal_type__in=partner.signal_types)
    return changes.count()


# A bank hash some partner owed withdrawals (not offboarded: Partner.objects.owed_withdrawals; a suspended one
# counts) has not been told of as it is now: a change of it lies beyond that partner's stored position (native
# cursor or what push delivered; StopNCII checkpoint, for hashes that feed carries), of a type the partner takes,
# and the partner has not acknowledged this withdrawal (an earlier one's acknowledgement predates the row's last
# change). A partner that never fetched was never sent it; one set to push is counted from its webhook's creation.
# (Tables: partners.FeedPosition, Partner, Outcome; BankChange.)
UNHEARD = f"""EXISTS (
    SELECT 1 FROM partners_feedposition p JOIN partners_partner pa ON pa.id = p.partner_id
      AND pa.state <> '{Partner.State.OFFBOARDED}'
    WHERE (pa.signal_types = '[]'::jsonb OR jsonb_exists(pa.signal_types, hashing_bankhash.signal_type))
      AND (p.feed IN ('native', 'push')
           OR (p.feed = 'stopncii' AND (hashing_bankhash.signal_type = 'pdq' OR hashing_bankhash.video)))
      AND EXISTS (SELECT 1 FROM hashing_bankchange c WHERE c.bank_hash_id = hashing_bankhash.id
                  AND CASE WHEN p.feed IN ('native', 'push')
                           THEN p.txid IS NULL OR (c.txid, c.id) > (p.txid, p.change_id)
                           ELSE p.checkpoint IS NULL OR c.at >= p.checkpoint END)
      AND NOT EXISTS (SELECT 1 FROM partners_outcome o WHERE o.partner_id = p.partner_id
                      AND o.bank_hash_id = hashing_bankhash.id AND o.value IN ('Withdrawn', 'Deleted')
                      AND o.acted_at >= hashing_bankhash.changed))"""  # noqa: S608 (a constant)


def heard_by_every_partner(bank_hashes):
    """The bank hashes (a BankHash queryset) every partner owed withdrawals has been told of as they are now, so
    that retention may remove them: a withdrawn hash removed before a partner heard would stay blocked there."""
    return bank_hashes.extra(where=[f"NOT {UNHEARD}"])  # noqa: S610 (constant SQL, no parameters)
