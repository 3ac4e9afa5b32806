"""Fixed duration bins (docs/statistics.md): medians and 90th percentiles are read from counts per bin, so the
daily histograms can be summed over any period and partner. A percentile is the upper edge of its bin."""

import math
from bisect import bisect_left
from datetime import timedelta

MINUTE = 60
HOUR = 60 * MINUTE
# Upper edges in seconds: 5 minutes up to 2 hours, 30 minutes up to 2 days (48 hours is an edge), 6 hours up to
# 30 days; one last bin (None) for anything longer.
EDGES = ([n * 5 * MINUTE for n in range(1, 25)]
         + [2 * HOUR + n * 30 * MINUTE for n in range(1, 93)]
         + [48 * HOUR + n * 6 * HOUR for n in range(1, 113)])
LONGER = len(EDGES)  # the index of the last, open bin
OVER = "over 30 days"  # what a percentile in that bin reads


def bin_of(duration):
    """The bin of a timedelta (negative counts as zero: a partner's clock ahead of ours)."""
    return bisect_left(EDGES, max(0, duration.total_seconds()))  # the first edge at or above it (or LONGER)


def percentile(counts, fraction):
    """The upper edge (a timedelta, or OVER) of the bin holding the nearest-rank percentile of {bin: count};
    None if there is nothing."""
    total = sum(counts.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return timedelta(seconds=EDGES[index]) if index < LONGER else OVER
    return None
