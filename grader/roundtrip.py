"""The Moodle round trip around one batch: before grading, read and check the worksheet the
instructor downloaded (a wrong file fails in seconds, not after an hour of grading); as each
result comes in, stamp when it was submitted (worksheet, else zip) and what being late costs;
at the end, write the worksheet back filled (or one from the zip) and the feedback zip.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .course import CourseConfig
from .export.feedback import feedback_html
from .export.feedback_zip import write_feedback_zip
from .export.worksheet import write_worksheet
from .export.worksheet_io import Worksheet, check_against, read_worksheet, write_filled
from .model import Result, Submission
from .policy import apply_late

WORKSHEET = "moodle_grading_worksheet.csv"
FEEDBACK_ZIP = "moodle_feedback_files.zip"


@dataclass
class RoundTrip:
    assignment: str
    course: CourseConfig | None = None
    worksheet: Worksheet | None = None
    warnings: list[str] = field(default_factory=list)
    rows: dict = field(default_factory=dict)  # the worksheet's rows by participant id

    @classmethod
    def start(cls, assignment: str, course: CourseConfig | None, worksheet: Path | None,
              submissions: list[Submission], max_grade: float) -> "RoundTrip":
        rt = cls(assignment, course)
        if worksheet is not None:
            rt.worksheet = read_worksheet(worksheet, course.tzinfo if course else None)
            rt.rows = rt.worksheet.by_pid()
            rt.warnings += rt.worksheet.warnings
            rt.warnings += check_against(rt.worksheet, submissions, max_grade)
            if rt.worksheet.graded_iso:
                rt.warnings.append(
                    f"note: Spanish site: Moodle cannot read its own Spanish dates back, so the graded "
                    f"rows' {rt.worksheet.headers[rt.worksheet.col['graded']]!r} is written as the same "
                    f"instant in ISO 8601 with its offset (e.g. {next(iter(rt.worksheet.graded_iso.values()))}), "
                    "which Moodle reads: rows regraded in Moodle since the download are still skipped")
        return rt

    def submitted(self, sub: Submission) -> tuple[datetime | None, str | None]:
        """When `sub` was handed in, and where that came from: Moodle's `Last modified
        (submission)` when the worksheet has a readable one, else the zip entry's time (local
        time, taken to be the course's time zone)."""
        row = self.rows.get(sub.participant_id)
        if row is not None and row.submitted_at is not None:
            return row.submitted_at, "worksheet"
        if sub.submitted_at is not None:
            return self._zip_time(sub), "zip"
        return None, None

    def _zip_time(self, sub: Submission) -> datetime:
        """The zip entry's time, read as the course's time zone (a zip stores local time)."""
        tz = self.course.tzinfo if self.course else None
        return sub.submitted_at if sub.submitted_at.tzinfo else sub.submitted_at.replace(tzinfo=tz)

    def stamp(self, sub: Submission, res: Result, lang: str) -> Result:
        """Submission time, its source, and the late policy, on `res` (in place)."""
        when, source = self.submitted(sub)
        if source == "worksheet" and sub.submitted_at is not None and self.course:
            zip_time = self._zip_time(sub)
            if abs((zip_time - when).total_seconds()) >= 120:
                res.notes.append(f"submission time from Moodle's worksheet ({when:%Y-%m-%d %H:%M}); "
                                 f"the zip's file time is {zip_time:%Y-%m-%d %H:%M}")
        if self.course is None:  # no deadline to apply: just when, and from where
            res.submitted_at = when.isoformat() if when else res.submitted_at
            res.submitted_at_source = source
            return res
        return apply_late(res, when, source, self.course.deadline_for(self.assignment),
                          self.course.late, self.course.scale, lang)

    def write(self, out_dir: Path, pairs: list[tuple[Submission, Result]], lang: str,
              title: str = "") -> dict[str, Path]:
        path = out_dir / WORKSHEET
        if self.worksheet is None:
            sheet = write_worksheet(path, pairs, lang)
        else:
            grades = {s.participant_id: (r.score, feedback_html(r, lang)) for s, r in pairs
                      if s.participant_id in self.rows}
            sheet = write_filled(self.worksheet, path, grades)
        return {"worksheet": sheet,
                "feedback_zip": write_feedback_zip(out_dir / FEEDBACK_ZIP, pairs, lang, title)}

    def run_info(self) -> dict:
        ws = self.worksheet
        return {"worksheet": None if ws is None else {
            "path": str(ws.path), "lang": ws.lang, "delimiter": ws.delimiter,
            "decimal": ws.decimal, "rows": len(ws.rows)},
            "late_policy": None if self.course is None else {
                "deadline": self.course.deadline_for(self.assignment).isoformat(),
                **self.course.late.model_dump()}}
