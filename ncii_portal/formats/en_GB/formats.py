"""Dates and times for English (UK), the helpline's locale: 24-hour, one date-time shape everywhere.

Templates say `|date:"DATETIME_FORMAT"`, `|date` or `|time` and get these, so the shape lives here only.
Django's own en_GB formats are 12-hour ("3:04 p.m.", "noon"), which read badly beside a full stop.
"""

DATE_FORMAT = "j M Y"  # 7 Mar 2026
TIME_FORMAT = "H:i"  # 15:04
DATETIME_FORMAT = "j M Y H:i"  # 7 Mar 2026 15:04
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
