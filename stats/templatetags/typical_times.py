"""Figures from the statistics for the caller's pages: cases' views never read stats (the data flows hashing ->
cases -> partners -> stats), so the pages ask here."""

from django import template

from stats import reading

register = template.Library()


@register.simple_tag
def typical_match_to_action():
    return reading.typical_match_to_action()
