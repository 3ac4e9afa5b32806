"""A site's record in the site directory (takedowns' site page) from the statistics' rollups: takedowns never
imports stats (the data flows takedowns -> stats), so its page asks here."""

from django import template

from stats import reading

register = template.Library()


@register.simple_tag
def site_record(site):
    return reading.site_record(site)
