"""A case's takedown counts for its caller, read from the records (counts only, never a site or an address).

The numbers of docs/statistics.md ("Web addresses": a period's figures, a site's record) are kept as rollups by
the statistics (stats.keeping, read by stats.reading; the site page asks through a template tag)."""

from django.db.models import Count, Q

from takedowns.models import Address


def case_counts(case):
    """For the caller's status page: how many web addresses the helpline holds for the case, how many it asked
    sites to remove and how many are removed. Never a site or an address."""
    return case.web_addresses.aggregate(found=Count("id"), asked=Count("id", filter=Q(first_asked_at__isnull=False)),
                                        removed=Count("id", filter=Q(outcome=Address.Outcome.REMOVED)))
