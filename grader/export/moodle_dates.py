"""Moodle's dates as its worksheet prints them (userdate with strftimedaydatetime): English
'Friday, 6 March 2026, 9:05 PM' (12-hour clock, no leading zeros), Spanish 'viernes, 6 de
marzo de 2026, 09:05'. Anything else in a date cell (a spreadsheet's rewrite) is a ValueError.

Moodle's worksheet importer reads `Last modified (grade)` with PHP's strtotime
(mod/assign/feedback/offline/importgradeslib.php: `$result->modified =
strtotime($record[$this->modifiedindex]);`), which knows English month names only: a Spanish
date gives false, so locallib.php's `$usergrade->timemodified > ($modified + 60)` calls every
row with a grade record "modified since the download" and skips it. `strtotime_form` writes the
same instant as ISO 8601 with its UTC offset, which strtotime reads on any site.
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

MONTHS = {
    "en": ["january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"],
}
DAYS = {
    "en": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}
_DATE = {  # Moodle's strftimedaydatetime, as userdate() prints it (no leading zero on the day)
    "en": re.compile(r"^(?:(?P<wd>[^\W\d_]+),\s*)?(?P<d>\d{1,2})\s+(?P<mon>[^\W\d_]+)\s+(?P<y>\d{4}),"
                     r"\s*(?P<h>\d{1,2}):(?P<mi>\d{2})\s*(?P<ampm>[AaPp][Mm])$"),
    "es": re.compile(r"^(?:(?P<wd>[^\W\d_]+),\s*)?(?P<d>\d{1,2})\s+de\s+(?P<mon>[^\W\d_]+)\s+de\s+"
                     r"(?P<y>\d{4}),\s*(?P<h>\d{1,2}):(?P<mi>\d{2})$"),
}


def parse_moodle_date(text: str, lang: str, tz: tzinfo | None = None) -> datetime | None:
    """Moodle's date cell ('Friday, 6 March 2026, 9:05 PM' / 'viernes, 6 de marzo de 2026,
    21:05') -> datetime in `tz`; '-' or '' -> None; ValueError for anything else."""
    t = " ".join(text.split())
    if t in ("", "-"):
        return None
    for lg in (lang, "es" if lang == "en" else "en"):
        m = _DATE[lg].match(t)
        if not m:
            continue
        month = MONTHS[lg].index(m["mon"].lower()) + 1 if m["mon"].lower() in MONTHS[lg] else 0
        if not month:
            raise ValueError(f"unknown month {m['mon']!r}")
        hour, minute = int(m["h"]), int(m["mi"])
        if m.groupdict().get("ampm"):
            if not 1 <= hour <= 12:
                raise ValueError(f"hour {hour} with AM/PM")
            hour = hour % 12 + (12 if m["ampm"].upper() == "PM" else 0)
        dt = datetime(int(m["y"]), month, int(m["d"]), hour, minute, tzinfo=tz)
        wd = (m["wd"] or "").lower()
        if wd and wd in DAYS[lg] and DAYS[lg].index(wd) != dt.weekday():
            raise ValueError(f"{m['wd']} is not the weekday of that date")
        return dt
    raise ValueError("not Moodle's date format")


def format_moodle_date(dt: datetime | None, lang: str) -> str:
    """The inverse of parse_moodle_date, as Moodle prints it (English: 12-hour clock without a
    leading zero; Spanish: 24-hour '09:05')."""
    if dt is None:
        return "-"
    day, month = DAYS[lang][dt.weekday()], MONTHS[lang][dt.month - 1]
    if lang == "es":
        return f"{day}, {dt.day} de {month} de {dt.year}, {dt.hour:02d}:{dt.minute:02d}"
    hour = dt.hour % 12 or 12
    ampm = "AM" if dt.hour < 12 else "PM"
    return f"{day.capitalize()}, {dt.day} {month.capitalize()} {dt.year}, {hour}:{dt.minute:02d} {ampm}"


def strtotime_form(dt: datetime) -> str:
    """The instant `dt` (aware) as ISO 8601 with its offset, '2026-12-04T14:10:00+01:00': what
    PHP's strtotime reads whatever the site language."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("strtotime_form needs an aware datetime (the time zone the date was printed in)")
    return dt.replace(second=0, microsecond=0).isoformat()
