"""Takedowns on the case templates: cases' views never read takedowns (the data flows cases -> partners ->
takedowns), so the case page and the caller's status page ask here."""

from django import template
from django.db.models import Count, Q

from core.formats import duration
from takedowns import figures
from takedowns.models import Address

register = template.Library()


@register.inclusion_tag("takedowns/case_section.html")
def case_takedowns(case):
    """The case page's summary: counts, and the way to the case's web addresses (shown there only)."""
    counts = case.web_addresses.live().aggregate(
        found=Count("id"), sites=Count("site", distinct=True),
        asked=Count("id", filter=Q(first_asked_at__isnull=False)),
        removed=Count("id", filter=Q(outcome=Address.Outcome.REMOVED)))
    counts["overdue"] = case.takedown_requests.overdue().count()
    return {"case": case, "counts": counts}


@register.inclusion_tag("takedowns/caller_counts.html")
def caller_takedown_counts(case):
    """The caller's status page: counts only, nothing that names a site or an address."""
    return {"counts": figures.case_counts(case)}


register.filter("duration", duration)  # a time to removal for people: "2 h 30 min", "3 d 4 h", or "—"
