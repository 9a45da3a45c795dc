"""Build submissions/demo/<assignment>.worksheet.csv: the offline grading worksheet Moodle lets the
instructor download for each demo assignment ("Download grading worksheet"), before grading.

Every student of the demo course is enrolled in every assignment, so each worksheet lists them
all (roster.csv, plus one student who never handed anything in); those without a submission get
a participant id of their own and "No submission". Submission times are the zip entries' times
(Moodle shows minutes), except Lucía's MNIST hand-in: she uploaded her file at 23:47 but only
pressed "Save changes" at 00:04, so Moodle's `Last modified (submission)` is after the deadline
and the late policy applies. mnist_cnn and imagenet_cnn come from an English site; rnn_text
from a Spanish one (Spanish headers, `Participante<id>`, decimal comma, Spanish dates).

    .venv/bin/python scripts/make_demo_worksheets.py
"""
from __future__ import annotations

import csv
import sys
import zipfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "submissions" / "demo"
sys.path.insert(0, str(ROOT))

from grader.export.atomic import write_atomic  # noqa: E402
from grader.export.moodle_dates import format_moodle_date  # noqa: E402
from grader.export.worksheet_io import COLUMNS, HIDDEN_USER, STATUS, render_csv  # noqa: E402
from grader.ingest.moodle_names import parse_entry  # noqa: E402

LANG = {"mnist_cnn": "en", "imagenet_cnn": "en", "rnn_text": "es"}
NEVER = ("Marta Gil", "marta.gil@alumnos.example.es")  # enrolled, never handed anything in
SAVED_LATE = {("mnist_cnn", "4518224"): datetime(2026, 4, 1, 0, 4)}
DEADLINE = datetime(2026, 3, 31, 23, 59)
UNITS = {"en": ("day", "days", "hour", "hours", "min", "mins", "sec", "secs"),
         "es": ("día", "días", "hora", "horas", "minuto", "minutos", "segundo", "segundos")}
ORDER = ["id", "name", "email", "status", "grade", "max", "changeable", "submitted", "graded",
         "feedback"]


def format_time(secs: int, lang: str) -> str:
    """Moodle's format_time: the two largest units ('2 days 3 hours', '5 mins')."""
    u = UNITS[lang]
    parts = []
    for size, one, many in ((86400, u[0], u[1]), (3600, u[2], u[3]), (60, u[4], u[5]), (1, u[6], u[7])):
        n, secs = divmod(secs, size)
        if n or parts:
            parts.append(f"{n} {one if n == 1 else many}" if n else "")
    return " ".join(p for p in parts[:2] if p)


def zip_times(path: Path) -> dict[str, datetime]:
    """participant id -> the latest time of their files in the Moodle download."""
    times: dict[str, datetime] = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            parsed = parse_entry(info.filename)
            if parsed is None or info.is_dir():
                continue
            t = datetime(*info.date_time)
            times[parsed.participant_id] = max(t, times.get(parsed.participant_id, t))
    return times


def build(assignment: str, roster: list[dict[str, str]]) -> str | None:
    zpath = DEMO / f"{assignment}.zip"
    if not zpath.exists():
        print(f"{assignment}: no {zpath.name} yet, skipped")
        return None
    lang = LANG[assignment]
    times = zip_times(zpath)
    ids = [r[assignment] for r in roster if r.get(assignment)]
    unknown = sorted(set(times) - set(ids))
    if unknown:
        raise SystemExit(f"{assignment}: participants {unknown} are in the zip but not in roster.csv")
    people = [(r["full_name"], r["email"], r.get(assignment) or "") for r in roster] + [(*NEVER, "")]
    next_id = max(int(i) for i in ids)
    rows = []
    for name, email, pid in people:
        if not pid:
            next_id += 7  # Moodle hands out participant ids as it needs them
            pid = str(next_id)
        when = SAVED_LATE.get((assignment, pid), times.get(pid))
        if when is None:
            status, submitted = STATUS["new"][lang], "-"
        else:
            when = when.replace(second=0)
            status = STATUS["submitted"][lang]
            if when > DEADLINE:
                late = format_time(int((when - DEADLINE).total_seconds()), lang)
                status += f" - {late} late" if lang == "en" else f" - {late} después"
            submitted = format_moodle_date(when, lang)
        cells = {"id": HIDDEN_USER[lang] + pid, "name": name, "email": email, "status": status,
                 "grade": "", "max": "10.00" if lang == "en" else "10,00",
                 "changeable": "Yes" if lang == "en" else "Sí", "submitted": submitted,
                 "graded": "-", "feedback": ""}
        rows.append([cells[k] for k in ORDER])
    headers = [COLUMNS[k][lang][0] for k in ORDER]
    return render_csv(headers, rows)


def main() -> int:
    with open(DEMO / "roster.csv", encoding="utf-8") as f:
        roster = list(csv.DictReader(f))
    for assignment in LANG:
        text = build(assignment, roster)
        if text is not None:
            out = write_atomic(DEMO / f"{assignment}.worksheet.csv", text)
            print(f"wrote {out.relative_to(ROOT)} ({text.count(chr(10)) - 1} students, {LANG[assignment]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
