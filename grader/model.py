"""The data that flows through the pipeline: Submission -> RunOutput -> Result.

Plain dataclasses, importing nothing of the grader, so every stage (and a dask worker)
can use them. Scores are derived (properties), never stored where they could go stale.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

#: Result.status values. `graded` means the pipeline ran to the end (checks may still fail).
STATUSES = ("graded", "error", "timeout", "invalid", "no_notebook")


@dataclass
class Submission:
    """One student's hand-in for one assignment, as found in the Moodle download."""

    assignment: str
    participant_id: str
    full_name: str  # empty under blind marking
    blind: bool = False
    folder: str = ""  # the student's folder (or flat-file prefix) in the download
    notebook: Path | None = None  # the chosen notebook: original bytes, never modified
    notebook_name: str | None = None  # its name inside the student's folder
    sha256: str | None = None
    size: int | None = None
    submitted_at: datetime | None = None  # the zip entry's timestamp (local time of the zip)
    files: list[str] = field(default_factory=list)  # every file the student handed in
    paths: dict[str, Path] = field(default_factory=dict)  # handed-in file (relative) -> where it is
    notes: list[str] = field(default_factory=list)  # for the instructor, e.g. the notebook choice
    flags: list[str] = field(default_factory=list)  # ingest's, e.g. files_skipped (copied to the Result)

    @property
    def identifier(self) -> str:
        """Moodle's worksheet identifier (English sites)."""
        return f"Participant {self.participant_id}"

    @property
    def display_name(self) -> str:
        return self.full_name or self.identifier


@dataclass
class CellError:
    """An error output of one cell of the re-executed notebook."""

    cell_index: int  # index among all cells of the notebook (0-based)
    ename: str
    evalue: str


@dataclass
class RunOutput:
    """What one sandboxed job returned, already validated by the host (untrusted origin)."""

    kind: str  # "notebook" or "functions"
    status: str  # "ok", "error", "timeout", "memory", "crashed"
    reason: str = ""  # why not "ok": a code of grader/runner/failures.py REASONS ("" when ok)
    params: dict[str, Any] = field(default_factory=dict)  # the code's parameters, e.g. {"limit_s": 60}
    message: str = ""  # instructor-facing detail (English, for the log; never matched)
    wall_s: float = 0.0
    cell_errors: list[CellError] = field(default_factory=list)
    arrays: dict[str, Any] = field(default_factory=dict)  # name -> numpy array
    info: dict[str, Any] = field(default_factory=dict)  # small JSON values from the runner
    executed_notebook: Path | None = None
    stderr_tail: str = ""


@dataclass
class CheckResult:
    """One rubric check judged on the host."""

    id: str
    points: float
    max_points: float
    passed: bool | None  # None: neutral, nothing to judge (claimed_accuracy with nothing to compare)
    message: str  # for the student, in the run's language
    details: list[str] = field(default_factory=list)  # e.g. one line per failed test case
    title: str = ""  # the rubric's name for the check, in the run's language


@dataclass
class Result:
    """The graded outcome of one submission: a row of results.jsonl."""

    assignment: str
    participant_id: str
    full_name: str
    status: str
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    message: str = ""  # why the status is not `graded`, for the student
    detail: str = ""  # instructor-only detail (tracebacks, sandbox stderr)
    notebook: str | None = None
    sha256: str | None = None
    submitted_at: str | None = None  # ISO; with a UTC offset once the late policy has run
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    submitted_at_source: str | None = None  # "worksheet" (Moodle's Last modified) or "zip"
    late: bool = False
    hours_late: float = 0.0
    late_penalty: float = 0.0  # points taken off `raw_score` by the course's late policy

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {STATUSES}")

    @property
    def raw_score(self) -> float:
        """Points earned, scaled to max_score when the checks' points sum to something else."""
        possible = sum(c.max_points for c in self.checks)
        earned = sum(c.points for c in self.checks)
        if possible <= 0:
            return 0.0
        return round(earned * self.max_score / possible, 2)

    @property
    def score(self) -> float:
        """The grade for this assignment: raw_score less the late penalty, never below 0."""
        return round(max(0.0, self.raw_score - self.late_penalty), 2)

    @classmethod
    def failed(cls, sub: Submission, status: str, message: str, max_score: float,
               detail: str = "", checks: list[CheckResult] | None = None) -> "Result":
        """The row for a submission that could not be graded normally: every submission gets one."""
        return cls.from_submission(sub, status=status, max_score=max_score, message=message,
                                   detail=detail, checks=checks or [])

    @classmethod
    def from_submission(cls, sub: Submission, **kw: Any) -> "Result":
        return cls(
            assignment=sub.assignment,
            participant_id=sub.participant_id,
            full_name=sub.full_name,
            notebook=sub.notebook_name,
            sha256=sub.sha256,
            submitted_at=sub.submitted_at.isoformat() if sub.submitted_at else None,
            notes=list(sub.notes),
            **{**kw, "flags": sorted(set(kw.get("flags", [])) | set(sub.flags))},
        )

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["score"] = self.score
        row["raw_score"] = self.raw_score
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Result":
        row = dict(row)
        row.pop("score", None)
        row.pop("raw_score", None)
        row["checks"] = [CheckResult(**c) for c in row.get("checks", [])]
        return cls(**row)
