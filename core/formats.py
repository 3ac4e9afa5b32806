"""Numbers as staff pages, exports and reports print them, the same everywhere."""

from datetime import timedelta


def duration(value):
    """A duration for people: "2 h 30 min", "3 d 4 h", or "—"; a string (a bin's "over 30 days") as it is."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    minutes = int(value / timedelta(minutes=1))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p) or "0 min"


def percent(value):
    return "—" if value is None else f"{value:.0%}"
