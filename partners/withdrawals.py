"""Whether a case's withdrawal has reached each partner that must hear of it (live, or suspended after it
received hashes): for the case page and the caller's status page.

"Told": the partner has had every withdrawn hash of the case as it is now, by push (delivered) or by a fetch
(native cursor, or StopNCII checkpoint for the hashes that feed carries) past the withdrawal, or it acknowledged.
"Acknowledged": it confirmed applying the withdrawal (native acknowledgement, StopNCII Withdrawn/Deleted
feedback, or a 2xx to a withdrawal webhook where it counts so). A partner that never fetched nor was pushed to
never had the hashes, so has nothing to drop.
"""

from hashing.models import BankChange, BankHash
from partners.models import FeedPosition, Outcome, Partner


def carried_by_stopncii(bank_hash):
    return bank_hash.signal_type == "pdq" or (bank_hash.signal_type == "md5" and bank_hash.video)


def told(bank_hash, last, positions):
    for feed in (FeedPosition.Feed.NATIVE, FeedPosition.Feed.PUSH):
        position = positions.get(feed)
        if position and position.txid is not None and (position.txid, position.change_id) >= (last.txid, last.id):
            return True
    position = positions.get(FeedPosition.Feed.STOPNCII)
    return bool(position and position.checkpoint and carried_by_stopncii(bank_hash) and position.checkpoint > last.at)


def reach(case):
    """[{"partner", "state", "hashes", "told", "acknowledged", "receives"}] per partner owed withdrawals that is
    live or received hashes, for the case's hashes that are withdrawn now (a hash another case still holds stays
    shared: there is nothing to tell of it). A suspended partner is told when it comes back."""
    withdrawn = [h for h in BankHash.objects.filter(items__case=case).distinct() if not h.is_shareable]
    if not withdrawn:
        return []
    last = {}
    for change in BankChange.objects.filter(bank_hash__in=withdrawn).order_by("bank_hash_id", "txid", "id"):
        last[change.bank_hash_id] = change
    changed = {h.pk: h.changed for h in withdrawn}  # an acknowledgement of this withdrawal, not an earlier one
    acknowledged = {(partner_id, hash_id) for partner_id, hash_id, acted_at in Outcome.objects.filter(
        bank_hash__in=withdrawn, value__in=Outcome.ACKNOWLEDGED).values_list("partner_id", "bank_hash_id", "acted_at")
        if acted_at >= changed[hash_id]}
    rows = []
    for partner in Partner.objects.owed_withdrawals().prefetch_related("feed_positions").order_by("name"):
        positions = {p.feed: p for p in partner.feed_positions.all() if p.feed != FeedPosition.Feed.SANDBOX}
        if not positions and partner.state != Partner.State.LIVE:
            continue  # never received anything, and is not live: not a partner of this helpline's hashes yet
        hashes = [h for h in withdrawn if partner.wants(h.signal_type)]
        acks = [h for h in hashes if (partner.pk, h.pk) in acknowledged]
        rows.append({
            "partner": partner.name,
            "state": partner.get_state_display(),
            "hashes": len(hashes),
            "told": sum(1 for h in hashes if (partner.pk, h.pk) in acknowledged or told(h, last[h.pk], positions)),
            "acknowledged": len(acks),
            "receives": bool(positions),
        })
    return rows


def summary(case):
    """For the caller: each partner website that had the case's fingerprints, whether it was told of the
    withdrawal and whether it confirmed it, and the totals."""
    had = [row for row in reach(case) if row["receives"] and row["hashes"]]
    rows = [{"partner": row["partner"], "told": row["told"] == row["hashes"],
             "acknowledged": row["acknowledged"] == row["hashes"]} for row in had]
    return {"partners": len(rows), "told": sum(r["told"] for r in rows),
            "acknowledged": sum(r["acknowledged"] for r in rows), "rows": rows}
