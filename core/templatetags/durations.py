"""Durations in the caller's words and language ("about 6 hours", "unas 6 horas"), for the times the caller's
pages give: when partners should hear of a withdrawal, how long partners usually take."""

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

HOUR = timedelta(hours=1)


@register.filter
def about(duration):
    """A rough duration: under an hour, whole hours up to two days, then whole days. A string (statistics' "over 30
    days" bin) reads as more than a month."""
    if duration is None or duration == "":
        return ""
    if not isinstance(duration, timedelta):
        return _("more than a month")
    if duration < HOUR:
        return _("less than an hour")
    hours = round(duration / HOUR)
    if hours < 48:
        return ngettext("about %(count)d hour", "about %(count)d hours", hours) % {"count": hours}
    days = round(duration / timedelta(days=1))
    return ngettext("about %(count)d day", "about %(count)d days", days) % {"count": days}
