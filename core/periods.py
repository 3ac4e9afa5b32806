"""The helpline's days, weeks and months: statistics count events in the day they happened in TIME_ZONE, and
staff filters take whole days of it (docs/statistics.md, "Periods").

A period is a range of local days, [first, last] inclusive; as moments it is [start, end), from the first day's
midnight to the midnight after the last, so a day of a change to or from summer time is 23 or 25 hours long.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

DAY = timedelta(days=1)


def zone():
    return ZoneInfo(settings.TIME_ZONE)


def today():
    return timezone.localdate(timezone=zone())


def local_day(moment):
    """The day a moment falls on in the helpline's time zone."""
    return timezone.localtime(moment, zone()).date()


def start_of(day):
    """The moment the local day begins."""
    return datetime.combine(day, time.min, zone())


def days_q(field, first=None, last=None):
    """A Q: the field's moment falls on a local day from first to last, both included (None: open at that end)."""
    q = Q()
    if first is not None:
        q &= Q(**{f"{field}__gte": start_of(first)})
    if last is not None and last < date.max:  # nothing lies after the last day there is
        q &= Q(**{f"{field}__lt": start_of(last + DAY)})
    return q


def month_start(day):
    return day.replace(day=1)


def next_month(day):
    """The first day of the month after the day's."""
    return (month_start(day) + timedelta(days=32)).replace(day=1)


def bucket_of(day, bucket):
    """A day's week ("2026-W13", ISO: Monday to Sunday) or month ("2026-03")."""
    if bucket == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


class Period:
    """Local days [first, last], both included, and the moments they span, [start, end)."""

    def __init__(self, first, last):
        self.first, self.last = first, last
        self.start, self.end = start_of(first), start_of(last + DAY)

    @classmethod
    def month(cls, first):
        """The calendar month that begins on `first`."""
        return cls(first, next_month(first) - DAY)

    @classmethod
    def weeks_to_today(cls, weeks):
        """From the Monday `weeks` weeks before this week's to today."""
        day = today()
        return cls(day - timedelta(weeks=weeks, days=day.weekday()), day)

    def __contains__(self, moment):
        return moment is not None and self.start <= moment < self.end

    def q(self, field):
        return days_q(field, self.first, self.last)
