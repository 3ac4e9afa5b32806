"""When each hash first reached each partner, kept as pieces of the change log (docs/statistics.md, "shared").

A hash is shared with a partner by the first handover (in time order) that covered the change that first made
it shareable (its "first"): a native page or a pushed batch covers every change up to its position in
(transaction, change) order; a StopNCII page covers the changes of the carried types from the time its sync
started to its last change, in (time, change) order. Taking a partner's handovers in order, each one adds to
what they have covered of the change log (Covered); what it adds that was not covered before is a piece ([low,
high] in one of the two orders), and the hashes whose first lies in it, and that no handover of the other kind
gave before, are new to the partner. HandoverShare keeps the pieces that gave at least one: their counts are the
"shared" number, and a hash's time of sharing is the earliest of the (at most two) pieces that hold its first.

new_shares reads each first once per partner, so rebuilding is linear in bank size times partners, and updating
after new handovers reads only the firsts in what they added.
"""

from bisect import bisect_left, bisect_right, insort
from collections import namedtuple
from datetime import UTC, datetime

from django.db import connection

from core.periods import local_day
from hashing import signal_types
from hashing.models import shareable_sql
from partners.models import FeedPosition, Handover
from stats.models import HandoverShare

START_OF_POSITIONS = (0, 0)  # before every (transaction, change) position
START_OF_TIME = (datetime.min.replace(tzinfo=UTC), 0)  # before every (time, change) key; stored as NULL

First = namedtuple("First", "hash_id position key signal_type carried")

SHAREABLE = shareable_sql("c", "h")  # noqa: S608 (constant SQL)
FIRSTS = f"""
    SELECT c.bank_hash_id, c.txid, c.id, c.at, h.signal_type,
           {signal_types.carried_by_stopncii_sql("h")}
    FROM hashing_bankchange c JOIN hashing_bankhash h ON h.id = c.bank_hash_id
    WHERE {SHAREABLE} AND {{where}}
      AND NOT EXISTS (SELECT 1 FROM hashing_bankchange e WHERE e.bank_hash_id = c.bank_hash_id
                      AND (e.txid, e.id) < (c.txid, c.id) AND {SHAREABLE.replace("c.", "e.")})"""  # noqa: S608


def firsts(where="TRUE", params=()):
    """Each bank hash's first shareable change, among the changes matching `where` (SQL on alias c)."""
    with connection.cursor() as cursor:
        cursor.execute(FIRSTS.format(where=where), list(params))
        return [First(hash_id, (txid, change_id), (at, change_id), signal_type, carried)
                for hash_id, txid, change_id, at, signal_type, carried in cursor.fetchall()]


def by_time(handover):
    return handover.route == FeedPosition.Route.STOPNCII


def window(handover):
    """A StopNCII page's [low, high] in (time, change) order."""
    low = (handover.change_from, 0) if handover.change_from else START_OF_TIME
    return low, (handover.change_at, handover.change_id)


class Covered:
    """What a partner's handovers have covered of the change log so far: a position up to which native pages and
    pushes reached, and the (time, change) intervals StopNCII pages covered (sorted, disjoint)."""

    def __init__(self, position=None, windows=()):
        self.position = position
        self.windows = []
        for low, high in windows:
            self.add_window(low, high)

    def has_position(self, position):
        return self.position is not None and position <= self.position

    def has_key(self, key):
        i = bisect_right(self.windows, (key, (datetime.max.replace(tzinfo=UTC), 0))) - 1
        return i >= 0 and self.windows[i][0] <= key <= self.windows[i][1]

    def gaps(self, low, high):
        """The parts of [low, high] not yet covered by a window (none if low is past high: a sync that started
        after its last change covered nothing)."""
        if low > high:
            return []
        pieces, start = [], low
        for w_low, w_high in self.windows:
            if w_high < start:
                continue
            if w_low > high:
                break
            if w_low > start:
                pieces.append((start, before(w_low)))
            start = after(w_high)
            if start > high:
                return pieces
        return [*pieces, (start, high)]

    def add_window(self, low, high):
        if low > high:  # covered nothing (see gaps)
            return
        insort(self.windows, (low, high))
        merged = []
        for w_low, w_high in self.windows:
            if merged and w_low <= after(merged[-1][1]):
                merged[-1] = (merged[-1][0], max(merged[-1][1], w_high))
            else:
                merged.append((w_low, w_high))
        self.windows = merged


def after(key):
    return (key[0], key[1] + 1)


def before(key):
    return (key[0], key[1] - 1)


def new_shares(partner, handovers, candidates, covered):
    """The pieces these handovers (in (at, id) order) add to what was `covered` before (a Covered, which they
    extend): the new HandoverShare rows (unsaved), and {hash id: handover} for the hashes they gave the partner
    first. `candidates` must hold every
    first the handovers can add."""
    wanted = [f for f in candidates if partner.wants(f.signal_type)]
    by_position = sorted(wanted, key=lambda f: f.position)
    positions = [f.position for f in by_position]
    by_key = sorted((f for f in wanted if f.carried), key=lambda f: f.key)
    keys = [f.key for f in by_key]
    shares, gave = [], {}

    def share(handover, low, high, new):
        for f in new:
            gave[f.hash_id] = handover
        if not new:
            return
        piece = HandoverShare(handover=handover, partner_id=handover.partner_id, at=handover.at,
                              day=local_day(handover.at), hashes=len(new), by_time=by_time(handover),
                              low_id=low[1], high_id=high[1])
        if piece.by_time:
            piece.low_at, piece.high_at = (None if low == START_OF_TIME else low[0]), high[0]
        else:
            piece.low_txid, piece.high_txid = low[0], high[0]
        shares.append(piece)

    for handover in handovers:
        if by_time(handover):
            low, high = window(handover)
            for gap_low, gap_high in covered.gaps(low, high):
                chosen = by_key[bisect_left(keys, gap_low):bisect_right(keys, gap_high)]
                share(handover, gap_low, gap_high, [f for f in chosen if not covered.has_position(f.position)])
            covered.add_window(low, high)
        elif handover.txid is not None:
            position = (handover.txid, handover.change_id)
            if covered.has_position(position):
                continue
            low = after(covered.position) if covered.position else START_OF_POSITIONS
            chosen = by_position[bisect_left(positions, low):bisect_right(positions, position)]
            share(handover, low, position, [f for f in chosen if not (f.carried and covered.has_key(f.key))])
            covered.position = position
    return shares, gave


def prior_position(partner_id, moment):
    """How far the partner's native pages and pushes before `moment` reached, or None."""
    position = None
    for route in set(FeedPosition.Route) - {FeedPosition.Route.STOPNCII}:
        furthest = (Handover.objects.filter(partner_id=partner_id, route=route, at__lt=moment)
                    .exclude(txid=None).order_by("-txid", "-change_id").values_list("txid", "change_id").first())
        if furthest and (position is None or furthest > position):
            position = furthest
    return position


def prior_windows(partner_id, moment, from_key):
    """The partner's StopNCII windows before `moment` that reach `from_key` or later."""
    return [window(h) for h in Handover.objects.filter(
        partner_id=partner_id, route=FeedPosition.Route.STOPNCII, at__lt=moment, change_at__gte=from_key[0],
    ).only("change_from", "change_at", "change_id")]


def candidates_for(handovers, position):
    """The firsts that these handovers (all one partner's) could add, past the position covered before."""
    found = {}
    positions = [(h.txid, h.change_id) for h in handovers if not by_time(h) and h.txid is not None]
    if positions and (position is None or max(positions) > position):
        low = position or START_OF_POSITIONS
        found.update((f.hash_id, f) for f in firsts(
            "(c.txid, c.id) > (%s, %s) AND (c.txid, c.id) <= (%s, %s)", [*low, *max(positions)]))
    windows = [window(h) for h in handovers if by_time(h)]
    if windows:
        low, high = min(w[0] for w in windows), max(w[1] for w in windows)
        where, params = "(c.at, c.id) <= (%s, %s)", list(high)
        if low != START_OF_TIME:
            where, params = f"{where} AND (c.at, c.id) >= (%s, %s)", [*params, *low]
        found.update((f.hash_id, f) for f in firsts(where, params))
    return list(found.values())


def shared_at(partner, hash_ids):
    """{bank hash id: when it first reached the partner}, from the stored pieces, for these hashes."""
    wanted = [f for f in firsts("c.bank_hash_id = ANY(%s)", [list(hash_ids)]) if partner.wants(f.signal_type)]
    if not wanted:
        return {}
    sql = """
        SELECT f.hash_id, LEAST(p.at, t.at)
        FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::boolean[])
             f (hash_id, txid, change_id, at, carried)
        LEFT JOIN LATERAL (
            SELECT s.at, s.low_txid, s.low_id FROM stats_handovershare s
            WHERE s.partner_id = %s AND NOT s.by_time AND (s.high_txid, s.high_id) >= (f.txid, f.change_id)
            ORDER BY s.high_txid, s.high_id LIMIT 1) p ON (p.low_txid, p.low_id) <= (f.txid, f.change_id)
        LEFT JOIN LATERAL (
            SELECT s.at, s.low_at, s.low_id FROM stats_handovershare s
            WHERE f.carried AND s.partner_id = %s AND s.by_time AND (s.high_at, s.high_id) >= (f.at, f.change_id)
            ORDER BY s.high_at, s.high_id LIMIT 1) t
            ON t.low_at IS NULL OR (t.low_at, t.low_id) <= (f.at, f.change_id)
        WHERE p.at IS NOT NULL OR t.at IS NOT NULL"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [[f.hash_id for f in wanted], [f.position[0] for f in wanted],
                             [f.position[1] for f in wanted], [f.key[0] for f in wanted],
                             [f.carried for f in wanted], partner.pk, partner.pk])
        return dict(cursor.fetchall())
