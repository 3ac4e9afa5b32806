"""Small-number suppression for whatever leaves the portal in aggregate (design rule 10): the one place that
decides which numbers an export or a published report may show.

- A count from 1 to 4 is small and shows as "<5". Zero shows as 0: it singles nobody out, and hiding every
  zero would hide most of a quiet month.
- Complementary suppression: in every sum the output holds (partners adding up to the "all" row, breakdowns
  adding up to their total), a hidden count must not come back as the total minus the others. So a sum with one
  hidden cell gets a second one, the smallest other count that is not zero (a hidden zero protects nothing);
  that count shows as "suppressed". As "<5" tells a reader a count is 1 to 4 (and "suppressed" that it is 5 or
  more), hidden counts are also checked by their ranges, carried from sum to sum (say two "<5" that add up to
  2 must both be 1): a count so pinned down gets a further complement. All of it repeats until nothing changes.
- A rate is suppressed when its numerator or its denominator is hidden (rate × denominator gives the numerator
  back), and a time when the number of durations it is taken over is small.
"""

from dataclasses import dataclass
from math import inf

FEWER_THAN = 5
SMALL = "<5"
WITHHELD = "suppressed"


def is_small(count):
    return 0 < count < FEWER_THAN


@dataclass(frozen=True)
class Published:
    """What may be shown of a table of counts: `count(key)`, `rate(numerator, denominator, text)` and
    `over(key, text)` give the text to print."""

    counts: dict
    small: frozenset
    complements: frozenset

    def hidden(self, key):
        return key in self.small or key in self.complements

    def count(self, key):
        if key in self.small:
            return SMALL
        return WITHHELD if key in self.complements else str(self.counts[key])

    def rate(self, numerator, denominator, text):
        return WITHHELD if self.hidden(numerator) or self.hidden(denominator) else text

    def over(self, key, text):
        """A time (a median, a percentile) taken over the key's durations: not over a handful of cases."""
        return WITHHELD if is_small(self.counts[key]) else text


def suppress(counts, sums=(), unpublished=()):
    """What may be published of `counts` ({key: count}) given the sums an output holds (`sums`: [(total key,
    [part keys])]: the total is the sum of the parts). Keys in `unpublished` are counts the output does not
    show at all (a rate's numerator, a total left out): never chosen as complements, and unknown to a reader,
    though a reader who can work one out from the sums is assumed to."""
    unpublished = frozenset(unpublished)
    small = frozenset(k for k, n in counts.items() if is_small(n))
    complements = set()
    given_up = set()  # pinned down with nothing left to hide beside it

    def secret(key):
        return key in small or key in complements

    def visible(key):
        return not secret(key) and key not in unpublished

    def smallest(cells):
        """The smallest shown count other than zero; on a tie the first (parts come before their total)."""
        candidates = [(counts[c], position) for position, c in enumerate(cells) if visible(c) and counts[c] > 0]
        return cells[min(candidates)[1]] if candidates else None

    while True:
        pick = None
        for total, parts in sums:
            cells = [total, *parts]
            if sum(map(secret, cells)) == 1 and not any(c in unpublished for c in cells):
                pick = smallest([*parts, total])
                if pick is not None:
                    break
        if pick is None:
            for key in pinned(counts, sums, small, complements, unpublished):
                if key in given_up:
                    continue
                pick = smallest([c for total, parts in sums if key in (total, *parts) for c in (*parts, total)])
                if pick is not None:
                    break
                given_up.add(key)
        if pick is None:
            return Published(dict(counts), small, frozenset(complements))
        complements.add(pick)


def ranges(counts, sums, small, complements, unpublished):
    """{key: [low, high]}: what a reader can tell of each count from the output (shown counts exactly, "<5" as
    1 to 4, "suppressed" as 5 or more, an unpublished count as anything), narrowed through every sum until
    nothing changes."""
    bounds = {}
    for key, n in counts.items():
        if key in unpublished:
            bounds[key] = [0, inf]
        elif key in small:
            bounds[key] = [1, FEWER_THAN - 1]
        elif key in complements:
            bounds[key] = [FEWER_THAN, inf]
        else:
            bounds[key] = [n, n]
    for _round in range(100):  # each round only narrows; real tables settle in a few
        changed = False
        for total, parts in sums:
            terms = [(total, 1), *((p, -1) for p in parts)]  # the sum of sign × count is 0
            for sign in (1, -1):
                # A count of this sign is the sum over the others of (-their sign × sign) × their count: add up
                # every term's ends once, then take each count's own term back out (infinite ends counted apart).
                ends = [extent(-other_sign * sign, bounds[other]) for other, other_sign in terms]
                low = (sum(lo for lo, _hi in ends if lo > -inf), sum(lo == -inf for lo, _hi in ends))
                high = (sum(hi for _lo, hi in ends if hi < inf), sum(hi == inf for _lo, hi in ends))
                for (key, key_sign), (own_lo, own_hi) in zip(terms, ends, strict=True):
                    if key_sign != sign:
                        continue
                    least = -inf if low[1] - (own_lo == -inf) else low[0] - (own_lo if own_lo > -inf else 0)
                    most = inf if high[1] - (own_hi == inf) else high[0] - (own_hi if own_hi < inf else 0)
                    lo, hi = bounds[key]
                    new = [max(lo, least), min(hi, most)]
                    if new != [lo, hi]:
                        bounds[key], changed = new, True
        if not changed:
            break
    return bounds


def extent(factor, bounds):
    """The ends of factor × a count in these bounds (factor 1 or -1)."""
    lo, hi = bounds
    return (lo, hi) if factor > 0 else (-hi, -lo)


def pinned(counts, sums, small, complements, unpublished):
    """The hidden counts a reader could work out exactly, smallest first."""
    bounds = ranges(counts, sums, small, complements, unpublished)
    return sorted((key for key in (*small, *complements) if bounds[key][0] == bounds[key][1]),
                  key=lambda key: (counts[key], repr(key)))
