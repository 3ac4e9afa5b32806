"""What partners did with a case's hashes, for the case templates: cases' views never read partners (the data
flows hashing -> cases -> partners), so the pages ask here."""

from django import template

from partners import withdrawals

register = template.Library()


@register.simple_tag
def partner_reports(case):
    return withdrawals.reports(case)


@register.simple_tag
def partner_counts(case):
    return withdrawals.counts(case)


@register.simple_tag
def withdrawal_reach(case):
    return withdrawals.reach(case) if case.is_withdrawn else []


@register.simple_tag
def withdrawal_summary(case):
    return withdrawals.summary(case) if case.is_withdrawn else None
