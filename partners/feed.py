"""The hash feed as a partner sees it: the bank's settled changes after a cursor, as records that partner may
have. Reads hashing; hashing knows nothing of partners."""

from django.core import signing
from django.db import connection

from core import lookups
from hashing import signal_types
from hashing.models import BankChange, shareable
from partners import records
from partners.models import FeedPosition, Outcome, Partner

CURSOR_SALT = "partners.feed.cursor"
START = (0, 0)


def encode_cursor(position, addresses=START):
    """The hash feed's position (txid, change id), then its own web addresses' (partners.addresses)."""
    return signing.dumps([*position, *addresses], salt=CURSOR_SALT)


def decode_cursor(cursor):
    """(txid, change id) from an opaque cursor; ValueError for anything we did not hand out."""
    return decode_cursors(cursor)[0]


def decode_cursors(cursor):
    """((txid, change id), the web addresses' position) from an opaque cursor (one handed out before web
    addresses carries theirs as START); ValueError for anything we did not hand out."""
    if not cursor:
        return START, START
    try:
        numbers = [int(n) for n in signing.loads(cursor, salt=CURSOR_SALT)]
        if len(numbers) not in (2, 4):
            raise ValueError
        return tuple(numbers[:2]), tuple(numbers[2:]) or START
    except (signing.BadSignature, TypeError, ValueError):
        raise ValueError("This cursor was not issued by this feed; start again without one.") from None


def page(partner, position=START, limit=1000, seen=START):
    """(records, next position, has_more) for `partner` after `position`.

    Each record is the hash as it is now: active while it may be shared, withdrawn once it may not (paused,
    withdrawn by its cases). A withdrawal is told only to a reader that could have received the hash, i.e. it
    was shareable before this page's starting position, or before `seen` (how far the reader may have been sent
    before, when it starts again from further back); a hash never shareable (e.g. a PDQ of low quality) is never
    mentioned, and a partner starting fresh is not told of hashes withdrawn before it arrived.
    """
    changes = BankChange.objects.settled().after(*position)
    changes = changes.filter(partner.wants_q("bank_hash__"))
    # Plain tuples, not model instances, and times as ISO text from the database: a full sync reads every change
    # once, and objects and datetimes cost most of it.
    rows = list(changes.annotate(updated=records.ISO_UTC).values_list(
        "txid", "id", "updated", "bank_hash_id", *(f"bank_hash__{f}" for f in FIELDS),
        "bank_hash__full_value")[:limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    flags = [shareable(*row[4:9]) for row in rows]
    unshareable = {row[3] for row, shared in zip(rows, flags, strict=True) if not shared}
    once_shared = set(BankChange.objects.shareable().filter(bank_hash_id__any=unshareable)
                      .filter(lookups.up_to(("txid", "id"), max(position, tuple(seen))))
                      .values_list("bank_hash_id", flat=True).distinct()) if unshareable else set()
    latest = {}
    for (_txid, _id, updated, hash_id, signal_type, _status, _review, quality, _other, value, video,
         full_value), shared in zip(rows, flags, strict=True):
        if not shared and hash_id not in once_shared:
            continue
        latest.pop(hash_id, None)  # a hash changed twice in one page is told once, as it is now
        latest[hash_id] = records.native(signal_type, full_value or value, shared=shared, quality=quality,
                                         video=video, updated=updated)
    next_position = (rows[-1][0], rows[-1][1]) if rows else position
    return list(latest.values()), next_position, has_more


# A bank row's fields as the feeds read them: the first five are hashing.models.shareable's arguments.
FIELDS = ("signal_type", "status", "review", "quality", "other_file", "value", "video")


def behind(partner, position):
    """How many settled changes of the types this partner takes lie after `position`: its records still to fetch
    (a hash changed twice counts twice)."""
    changes = BankChange.objects.settled().after(*position)
    changes = changes.filter(partner.wants_q("bank_hash__"))
    return changes.count()


# --- Told of a withdrawal: the one definition, as SQL on a hashing_bankhash row ----------------------------------
#
# A partner (a partners_partner row under `pa`) has been told of a bank hash as it is now unless it takes the
# hash's type, one of its routes that carries the hash stands before the hash's last change (native cursor or what
# push delivered, in (transaction, change) order; StopNCII checkpoint, in time), and it has not acknowledged this
# withdrawal (an earlier one's acknowledgement predates the row's last change). A partner that never fetched was
# never sent it; one set to push is counted from its webhook's creation. Retention waits on it for every partner
# owed withdrawals; the case page and the caller's status page show it per partner.


def acknowledged_sql(partner):
    """`partner` (an SQL expression for its id) acknowledged this withdrawal of the hash."""
    values = ", ".join(f"'{value}'" for value in Outcome.ACKNOWLEDGED)
    return f"""EXISTS (SELECT 1 FROM partners_outcome o WHERE o.partner_id = {partner}
        AND o.bank_hash_id = hashing_bankhash.id AND o.value IN ({values})
        AND o.acted_at >= hashing_bankhash.changed)"""  # noqa: S608 (constants)


_CARRIED_BY_STOPNCII = signal_types.carried_by_stopncii_sql("hashing_bankhash")
UNTOLD = f"""{Partner.wants_sql("pa")}
    AND EXISTS (SELECT 1 FROM partners_feedposition p WHERE p.partner_id = pa.id
        AND (p.route IN ('{FeedPosition.Route.NATIVE}', '{FeedPosition.Route.PUSH}')
             OR (p.route = '{FeedPosition.Route.STOPNCII}' AND {_CARRIED_BY_STOPNCII}))
        AND EXISTS (SELECT 1 FROM hashing_bankchange c WHERE c.bank_hash_id = hashing_bankhash.id
                    AND CASE WHEN p.route = '{FeedPosition.Route.STOPNCII}'
                             THEN p.checkpoint IS NULL OR c.at >= p.checkpoint
                             ELSE p.txid IS NULL OR (c.txid, c.id) > (p.txid, p.change_id) END))
    AND NOT {acknowledged_sql("pa.id")}"""  # noqa: S608 (constants)
# Some partner owed withdrawals (not offboarded: Partner.objects.owed_withdrawals) has not been told.
UNHEARD = f"""EXISTS (SELECT 1 FROM partners_partner pa
    WHERE pa.state <> '{Partner.State.OFFBOARDED}' AND {UNTOLD})"""  # noqa: S608 (constants)
# Per partner owed withdrawals, of the given bank hashes: how many it takes, has been told of, has acknowledged.
REACH = f"""SELECT pa.id, count(*), count(*) FILTER (WHERE NOT ({UNTOLD})),
        count(*) FILTER (WHERE {acknowledged_sql("pa.id")})
    FROM partners_partner pa JOIN hashing_bankhash ON {Partner.wants_sql("pa")}
    WHERE pa.state <> '{Partner.State.OFFBOARDED}' AND hashing_bankhash.id = ANY(%s)
    GROUP BY pa.id"""  # noqa: S608 (constants)


def reach(bank_hash_ids):
    """{partner id: (hashes it takes, told of, acknowledged)} for these bank hashes, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(REACH, [list(bank_hash_ids)])
        return {partner_id: counts for partner_id, *counts in cursor.fetchall()}


def heard_by_every_partner(bank_hashes):
    """The bank hashes (a BankHash queryset) every partner owed withdrawals has been told of as they are now, so
    that retention may remove them: a withdrawn hash removed before a partner heard would stay blocked there."""
    return bank_hashes.extra(where=[f"NOT {UNHEARD}"])  # noqa: S610 (constant SQL, no parameters)
