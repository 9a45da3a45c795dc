"""rubrics/course.yaml -> validated CourseConfig: the course's grading policy, deadline and
gradebook settings. Validated on load; errors name the key, as for rubrics."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator

from .config_model import RelativePaths, Strict, error_lines
from .errors import GraderError
from .rubric import ASSIGNMENT_ID, set_dotted
from .yaml_input import read_yaml


class CourseError(GraderError):
    """course.yaml is missing, malformed, or names a bad key/value."""


class Policy(Strict):
    """How per-assignment grades become the published grade (see the README's policy table)."""

    count: int = Field(2, ge=1, description="how many assignments count (the best ones)")
    round_up: Literal["when_all_handed_in", "always", "never"] = Field(
        "when_all_handed_in", description="when the mean of the counted grades is rounded up")
    rounding_step: Literal["1", "0.5", "0.1"] = Field(
        "1", description="rounding up goes to a multiple of this, on the 0..scale grade")
    missing_counts_as: float = Field(0, ge=0, description="grade of a missing assignment when "
                                     "fewer than `count` were handed in (the student is flagged)")
    no_handins: Literal["no_grade", "zero"] = Field(
        "no_grade", description="a student who handed in nothing: '-' in the gradebook, or 0")

    @field_validator("rounding_step", mode="before")
    @classmethod
    def _step_text(cls, v: Any) -> Any:
        """YAML reads 1 / 0.5 / 0.1 as numbers; keep them exact (Decimal from text)."""
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return {1: "1", 0.5: "0.5", 0.1: "0.1"}.get(v, str(v))
        return v

    @property
    def step(self) -> Decimal:
        return Decimal(self.rounding_step)


class Late(Strict):
    """What a submission after the deadline costs."""

    policy: Literal["flag", "reject", "penalty"] = Field(
        "flag", description="flag: shown, no change; reject: grade 0 with a message; "
        "penalty: penalty_per_day points off per started day late")
    penalty_per_day: float = Field(1.0, ge=0, description="points on the 0..scale grade")


class Gradebook(Strict):
    """The CSV for the gradebook's 'Import grades from CSV'."""

    grade_item: str = Field("Prácticas", min_length=1, description="the grade column's name")
    identifier: Literal["email", "idnumber"] = Field(
        "email", description="how Moodle maps rows to users; idnumber needs a roster export")
    decimal_separator: Literal[".", ","] = "."


class CourseConfig(RelativePaths, Strict):
    course: str = ""
    year: int = Field(ge=2000, le=2100, description="the deadline's year")
    timezone: str = "Europe/Madrid"
    scale: float = Field(10, gt=0, description="published grades are on 0..scale")
    assignments: list[Annotated[str, Field(pattern=ASSIGNMENT_ID)]] = Field(
        min_length=1, description="every assignment of the course (their folders under reports/)")
    deadline: str = Field("03-31 23:59", description="MM-DD HH:MM in `timezone`, year from `year`")
    deadlines: dict[str, str] = Field(default_factory=dict,
                                      description="per assignment: YYYY-MM-DD HH:MM (overrides)")
    policy: Policy = Policy()
    late: Late = Late()
    gradebook: Gradebook = Gradebook()
    overrides: str | None = Field(None, description="grade overrides file (YAML or CSV), "
                                  "relative to this file")
    source: str = ""

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" (a folder), a long name
            raise ValueError(f"unknown time zone {v[:60]!r} (e.g. Europe/Madrid)") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "CourseConfig":
        if len(set(self.assignments)) != len(self.assignments):
            raise ValueError("assignments: listed twice")
        if self.policy.count > len(self.assignments):
            raise ValueError(f"policy.count ({self.policy.count}) is more than the "
                             f"{len(self.assignments)} assignments")
        if self.policy.missing_counts_as > self.scale:
            raise ValueError(f"policy.missing_counts_as is above the scale ({self.scale:g})")
        _parse_deadline(self.deadline, self.year, self.tzinfo, "deadline")
        for a, text in self.deadlines.items():
            if a not in self.assignments:
                raise ValueError(f"deadlines.{a}: not one of the assignments {self.assignments}")
            _parse_deadline(text, None, self.tzinfo, f"deadlines.{a}")
        return self

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def deadline_for(self, assignment: str) -> datetime:
        """The aware deadline of `assignment` (its own, else the course's)."""
        if assignment in self.deadlines:
            return _parse_deadline(self.deadlines[assignment], None, self.tzinfo, assignment)
        return _parse_deadline(self.deadline, self.year, self.tzinfo, "deadline")


def _parse_deadline(text: str, year: int | None, tz: ZoneInfo, key: str) -> datetime:
    fmt = "%Y-%m-%d %H:%M"
    full = text.strip() if year is None else f"{year}-{text.strip()}"
    try:
        return datetime.strptime(full, fmt).replace(tzinfo=tz)
    except ValueError:
        want = "YYYY-MM-DD HH:MM" if year is None else "MM-DD HH:MM, e.g. 03-31 23:59"
        raise ValueError(f"{key}: {text!r} is not a date {want}") from None


def _format(err: ValidationError, source: str) -> str:
    return f"invalid course config {source}:\n" + "\n".join(
        "  " + line for line in error_lines(err, CourseConfig))


def parse_course(raw: Any, source: str = "<course>") -> CourseConfig:
    if not isinstance(raw, dict):
        raise CourseError(f"invalid course config {source}: expected a mapping at the top level")
    try:
        return CourseConfig.model_validate({**raw, "source": source})
    except ValidationError as e:
        raise CourseError(_format(e, source)) from None


def load_course(path: str | Path, overrides: dict[str, Any] | None = None) -> CourseConfig:
    """Load course.yaml; `overrides` ({"late.policy": "reject"}) replace single values."""
    path = Path(path)
    try:
        raw = read_yaml(path, f"invalid course config {path}", CourseError)
    except FileNotFoundError:
        raise CourseError(f"course config not found: {path}") from None
    if not isinstance(raw, dict):
        raise CourseError(f"invalid course config {path}: expected a mapping at the top level")
    for key, value in (overrides or {}).items():
        set_dotted(raw, key, value, CourseError)
    return parse_course(raw, str(path))
