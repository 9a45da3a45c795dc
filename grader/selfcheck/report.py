"""What the self-check found, as plain data: one item per rubric check (with how sure it is), the
grading interface, the grading-time hazards, and the grade to expect.

The expected grade uses the instructor's own formula (`Result.score` over the rubric's checks).
Checks the self-check cannot estimate widen it into a range (0 to full points for them).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..model import CheckResult, Result
from .hazards import Finding
from .interface import InterfaceItem

#: How an item's points were obtained, from exact to unknown.
BASES = ("verified", "public_tests", "rerun", "rerun_public", "self_reported", "pending")


@dataclass
class CheckItem:
    id: str
    title: str
    points: float | None  # None: not estimated here (pending)
    max_points: float
    passed: bool | None
    message: str
    basis: str  # one of BASES
    blocking: bool  # something found here stands between the notebook and full marks
    details: list[str] = field(default_factory=list)
    at_risk: bool = False  # its points need a re-run, which the blocking findings may break

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"unknown basis {self.basis!r}; expected one of {BASES}")


@dataclass
class SelfCheckReport:
    notebook: str
    assignment: str | None
    lang: str
    max_grade: float
    mode: str = "static"  # "static" | "rerun"
    how: str = ""  # how the assignment was found: option | metadata | file_name | rubric
    title: str = ""
    invalid: str | None = None  # the student message when the file is not a readable notebook
    checks: list[CheckItem] = field(default_factory=list)
    interface: list[InterfaceItem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # what only the instructor's run verifies
    notes: list[str] = field(default_factory=list)  # instructor-style details (English)
    timings: dict[str, float] = field(default_factory=dict)
    run_status: str | None = None  # --rerun: the grader's Result.status
    run_message: str = ""

    @property
    def blocking(self) -> bool:
        return bool(self.invalid) or any(c.blocking for c in self.checks) or \
            any(not i.ok for i in self.interface) or any(f.blocking for f in self.findings) or \
            (self.run_status not in (None, "graded"))

    @property
    def exit_code(self) -> int:
        """0: nothing found that blocks full marks; 1: something does."""
        return 1 if self.blocking else 0

    @property
    def rerun_blocked(self) -> bool:
        """Something found statically may break the grader's re-run (a hazard, a missing name)."""
        return any(f.blocking for f in self.findings) or any(not i.ok for i in self.interface)

    def expected(self) -> tuple[float, float]:
        """(low, high) grade: pending checks counted at 0 points, then at full points; with
        blocking findings, the checks that need the re-run count 0 in `low`."""
        if self.invalid or not self.checks:
            return 0.0, 0.0
        lost = self.rerun_blocked
        low = [CheckResult(c.id, 0.0 if c.points is None or (lost and c.at_risk) else c.points, c.max_points,
                           bool(c.passed), "") for c in self.checks]
        high = [CheckResult(c.id, c.max_points if c.points is None else c.points, c.max_points, True, "")
                for c in self.checks]
        return _score(low, self.max_grade), _score(high, self.max_grade)

    def to_dict(self) -> dict:
        low, high = self.expected()
        data = asdict(self)
        data.update(ok=not self.blocking, exit_code=self.exit_code,
                    expected_grade={"low": low, "high": high, "max": self.max_grade})
        return data


def _score(checks: list[CheckResult], max_grade: float) -> float:
    row = Result(assignment="", participant_id="", full_name="", status="graded", max_score=max_grade,
                 checks=checks)
    return row.score
