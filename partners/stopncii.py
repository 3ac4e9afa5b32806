"""The StopNCII-compatible feed: what `threatexchange`'s StopNCIIAPI client fetches (docs in reference-facts).

It carries only what that client can parse: ImagePDQ (PDQ) and VideoMD5 (an MD5 a video item holds); statuses
Active and Withdrawn; case numbers as per-partner pseudonyms. Checkpoints are whole unix seconds: a sync never
hands out a second that may still receive commits (see horizon), and the next one starts from that second.
"""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import BigIntegerField, Exists, F, Func, OuterRef

from cases.models import Case, Item
from core import lookups
from hashing import signal_types
from hashing.models import BankChange, shareable
from partners import feed, records
from partners.models import FeedPosition, Handover, Outcome, SharedAddress

TOKEN_SALT = "partners.stopncii.page"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROS = Func(F("at"), template="(extract(epoch from %(expressions)s) * 1000000)::bigint",
              output_field=BigIntegerField())  # exact: extract gives numeric


def horizon():
    """The first whole second that may still receive changes: every change timed before it is visible now.

    A change is timed by the database clock when written. One not yet committed was written by a transaction
    holding an id, at or after that transaction began; one not yet written will be timed at or after the clock
    read first here. A session whose start this role may not see counts as having begun at the epoch (the
    checkpoint then waits for it), never as absent.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        now = cursor.fetchone()[0]
        cursor.execute("""SELECT min(coalesce(xact_start, 'epoch'::timestamptz)) FROM pg_stat_activity
                          WHERE backend_xid IS NOT NULL AND datname = current_database()""")
        oldest = cursor.fetchone()[0]
    return int(min(now, oldest or now).timestamp())


def pseudonym(partner, case_id):
    """A case number for this partner only: stable, and useless anywhere else (never the case reference)."""
    key = settings.CASE_PSEUDONYM_SECRET.encode()
    return hmac.new(key, f"stopncii-case:{partner.pk}:{case_id}".encode(), hashlib.sha256).hexdigest()[:20]


def encode_token(limit_second, at, change_id):
    return signing.dumps([limit_second, at.isoformat(), change_id], salt=TOKEN_SALT)


def decode_token(token):
    try:
        limit_second, at, change_id = signing.loads(token, salt=TOKEN_SALT)
        return int(limit_second), datetime.fromisoformat(at), int(change_id)
    except (signing.BadSignature, TypeError, ValueError):
        raise ValueError("nextPageToken was not issued by this API; start again from your checkpoint.") from None


def fetch(partner, *, start, page_size, token=""):
    """One FetchHashes page: (the JSON body, the (time, id) of the page's last change or None if empty, and on a
    sync's last page the time up to which it carried the partner's own web addresses, else None)."""
    if token:
        limit_second, after_at, after_id = decode_token(token)
    else:
        limit_second, after_at, after_id = horizon(), None, 0
    start_at = datetime.fromtimestamp(start, UTC)
    end_at = datetime.fromtimestamp(limit_second, UTC)
    changes = BankChange.objects.filter(signal_types.carried_by_stopncii_q("bank_hash__"), at__gte=start_at,
                                        at__lt=end_at).order_by("at", "id")
    changes = changes.filter(partner.wants_q("bank_hash__"))
    if after_at is not None:
        changes = changes.after_time(after_at, after_id)
    # Plain tuples, not model instances, and times as whole microseconds (datetimes cost more to load than the
    # rest of the row): a full sync reads every change once.
    rows = list(changes.annotate(micros=MICROS).values_list(
        "micros", "id", "bank_hash_id", *(f"bank_hash__{f}" for f in feed.FIELDS))[:page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    told = records_for(partner, rows, start_at=start_at, after=(after_at, after_id) if token else None)
    # The client stores each page's checkpoint (and keeps it if the sync stops there): mid-sync it is the second
    # this page ended in, which the next sync re-reads; only the last page moves it to the horizon.
    checkpoint = rows[-1][0] // 1_000_000 if has_more else limit_second
    if not has_more:  # the sync's last page also carries the partner's own web addresses (own_addresses)
        told += own_addresses(partner, start_at, end_at)
    last = (EPOCH + timedelta(microseconds=rows[-1][0]), rows[-1][1]) if rows else None
    body = records.stopncii_page(told, next_token=encode_token(limit_second, *last) if has_more else None,
                                 next_set=max(start, checkpoint), has_more=has_more)
    return body, last, None if has_more else end_at


def addresses_read(partner):
    """How far this partner has been carried its own web addresses by StopNCII: every change to them timed
    before it was on the last page of some sync (FeedPosition.address_checkpoint, which the API records from
    fetch). The epoch if it never finished a sync: it has had none."""
    read = (FeedPosition.objects.filter(partner=partner, route=FeedPosition.Route.STOPNCII)
            .values_list("address_checkpoint", flat=True).first())
    return read or EPOCH


def own_addresses(partner, start_at, end_at):
    """Records of the partner's own web addresses (partners.addresses) sent or withdrawn from the earlier of
    start_at and addresses_read up to end_at: few per partner, so a sync's last page carries them all. Its
    earlier pages carry none, so a sync cut off midway and restarted from the checkpoint of its last page (later
    than where it began) is still carried every change it has not had; one that finished and goes on from its
    nextSetTimestamp is carried none twice; one that starts earlier gets what it asks for. A withdrawal is told
    only to a reader that could have had the address, i.e. one already carried past the moment it was sent (as
    could_have tells a hash's)."""
    since = min(start_at, addresses_read(partner))
    rows = (SharedAddress.objects.filter(partner=partner, purged_at=None, at__gte=since, at__lt=end_at)
            .exclude(withdrawn_at__isnull=False, sent_at__gte=since)
            .order_by("at", "id").values_list("url", "case_id", "at", "withdrawn_at"))
    return [records.stopncii_url(url, second=int(at.timestamp()), case_number=pseudonym(partner, case_id),
                                 withdrawn=withdrawn_at is not None)
            for url, case_id, at, withdrawn_at in rows]


def could_have(partner, hash_ids, *, start_at, after=None):
    """Of these bank hashes, those this partner could have been handed as active before this page: shareable
    before where this page starts (the sync's start time, or the previous page's last change), or handed to it
    by an earlier page. A sync cut off midway restarts from the second of its last record, so a hash it was
    handed in that second, and withdrawn since, is told as withdrawn however the restart's start compares."""
    if not hash_ids:
        return set()
    shared = BankChange.objects.shareable().filter(bank_hash_id__any=hash_ids)
    earlier = shared.filter(at__lt=start_at) if after is None else shared.filter(lookups.up_to(("at", "id"), after))
    handed = shared.filter(Exists(Handover.objects.filter(partner=partner).covering_time(OuterRef("at"),
                                                                                       OuterRef("id"))))
    return {*earlier.values_list("bank_hash_id", flat=True), *handed.values_list("bank_hash_id", flat=True)}


def records_for(partner, rows, *, start_at, after=None):
    """Records for (microseconds, change id, bank hash id, *feed.FIELDS) rows: each hash once, as it is now."""
    hash_ids = {row[2] for row in rows}
    unshareable = {row[2] for row in rows if not shareable(*row[3:8])}
    # A withdrawal is told only to a reader that could have had the hash.
    once_shared = could_have(partner, unshareable, start_at=start_at, after=after)
    own = {}  # the requesting partner's own latest report per hash, and no one else's
    for hash_id, value, tags in (Outcome.objects.filter(partner=partner, bank_hash_id__any=hash_ids)
                                 .order_by("received", "id").values_list("bank_hash_id", "value", "tags")):
        own[hash_id] = [records.stopncii_feedback(partner.name, value, tags)]
    cases = {}
    holders = Item.bank_hashes.through.objects.filter(bankhash_id__any=hash_ids).values_list(
        "bankhash_id", "item__case_id", "item__case__status")
    names = {}
    for hash_id, case_id, status in holders:
        if case_id not in names:
            names[case_id] = pseudonym(partner, case_id)
        cases.setdefault(hash_id, {})[names[case_id]] = records.STOPNCII_STATUS[status in Case.HOLDING]
    latest = {}
    for micros, _id, hash_id, signal_type, status, review, quality, other_file, value, _video in rows:
        shared = shareable(signal_type, status, review, quality, other_file)
        if not shared and hash_id not in once_shared:
            continue  # never shared (e.g. PDQ of low quality): nothing to tell
        latest.pop(hash_id, None)
        latest[hash_id] = records.stopncii(signal_type, value, shared=shared, second=micros // 1_000_000,
                                           case_numbers=cases.get(hash_id, {}), feedbacks=own.get(hash_id, []))
    return list(latest.values())


def behind(partner, checkpoint):
    """How many changes this API carries are timed at or after the partner's stored checkpoint."""
    changes = BankChange.objects.filter(signal_types.carried_by_stopncii_q("bank_hash__"), at__gte=checkpoint)
    changes = changes.filter(partner.wants_q("bank_hash__"))
    return changes.count()
