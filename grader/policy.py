"""The course policy as pure functions: late submissions, what each status counts as, and the
best-N-of-M final grade with its rounding. The README's policy table is tested against these.

Grades are Decimals on the course scale (0..10) so that "round up" never trips on binary
floats (7.3 + 8.7 is 16 exactly, and ceil(8.0) stays 8).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Mapping, Sequence

from .course import Late, Policy
from .messages import fmt_num, tr
from .model import Result

CENT = Decimal("0.01")

CATALOG = {
    "rejected": {"es": "Entrega fuera de plazo ({late} de retraso): según la política del curso "
                       "se califica con 0.",
                 "en": "Late submission ({late} late): under the course policy it is graded 0."},
    "penalised": {"es": "Entrega fuera de plazo ({late} de retraso): se restan {points} puntos "
                        "({per_day} por día o fracción).",
                  "en": "Late submission ({late} late): {points} points off ({per_day} per "
                        "started day)."},
}

#: Result statuses that count as handed in with the score the checks earned.
SCORED_STATUSES = ("graded", "error", "timeout", "invalid")


def hours_late(submitted: datetime | None, deadline: datetime) -> float:
    """Hours after the deadline (0 when on time or unknown). Moodle's rule: late means modified
    strictly after the due time (23:59:00 for "23:59")."""
    if submitted is None:
        return 0.0
    secs = (submitted - deadline).total_seconds()
    return round(secs / 3600, 2) if secs > 0 else 0.0


def late_text(hours: float, lang: str) -> str:
    """'2 d 3 h' / '45 min': how late, for people."""
    minutes = max(1, math.ceil(hours * 60))
    d, rem = divmod(minutes, 24 * 60)
    h, m = divmod(rem, 60)
    parts = ([f"{d} d"] if d else []) + ([f"{h} h"] if h else []) + ([f"{m} min"] if m and not d else [])
    return " ".join(parts) or "1 min"


def late_penalty(hours: float, late: Late, max_score: float, scale: float) -> float:
    """Points (on the result's own max_score) that being `hours` late costs."""
    if hours <= 0 or late.policy == "flag":
        return 0.0
    if late.policy == "reject":
        return float(max_score)
    days = math.ceil(hours / 24)
    return min(float(max_score), round(days * late.penalty_per_day * max_score / scale, 2))


def apply_late(res: Result, submitted: datetime | None, source: str | None, deadline: datetime,
               late: Late, scale: float, lang: str) -> Result:
    """Record when `res` was submitted (and from where) and what being late costs, in place."""
    res.submitted_at = submitted.isoformat() if submitted else res.submitted_at
    res.submitted_at_source = source
    res.hours_late = hours_late(submitted, deadline)
    res.late = res.hours_late > 0
    if not res.late:
        return res
    res.flags.append("late")
    if res.status == "no_notebook":
        return res  # already 0
    res.late_penalty = late_penalty(res.hours_late, late, res.max_score, scale)
    text = late_text(res.hours_late, lang)
    if late.policy == "reject":
        msg = tr(CATALOG, "rejected", lang, late=text)
    elif late.policy == "penalty" and res.late_penalty:
        msg = tr(CATALOG, "penalised", lang, late=text, points=fmt_num(res.late_penalty, lang),
                 per_day=fmt_num(late.penalty_per_day, lang))
    else:
        return res
    res.message = f"{res.message} {msg}".strip()
    return res


# ---------------------------------------------------------------------------------------------
# What one assignment counts as, and the final grade


@dataclass
class AssignmentGrade:
    """One student's outcome in one assignment, as the policy sees it."""

    assignment: str
    handed_in: bool
    grade: Decimal | None  # on the course scale; None when not handed in
    status: str | None = None  # the Result's status, or None
    flags: list[str] = field(default_factory=list)


def to_scale(score: float, max_score: float, scale: float) -> Decimal:
    """A result's score on the course scale, to the cent."""
    if max_score <= 0:
        return Decimal(0)
    value = Decimal(str(score)) * Decimal(str(scale)) / Decimal(str(max_score))
    return value.quantize(CENT, ROUND_HALF_UP)


def assignment_grade(assignment: str, res: Result | None, scale: float) -> AssignmentGrade:
    """The status rules: graded/error/timeout/invalid count as handed in with their score,
    no_notebook as handed in with 0 (flagged), no row as not handed in."""
    if res is None:
        return AssignmentGrade(assignment, False, None)
    flags = [f for f in ("late",) if f in res.flags]
    if res.status == "no_notebook":
        return AssignmentGrade(assignment, True, Decimal(0), res.status, ["no_notebook", *flags])
    if res.status not in SCORED_STATUSES:
        raise ValueError(f"unknown status {res.status!r}")
    if res.status != "graded":
        flags.insert(0, res.status)
    return AssignmentGrade(assignment, True, to_scale(res.score, res.max_score, scale),
                           res.status, flags)


@dataclass
class FinalGrade:
    """The published grade and how it came about (the breakdown shows all of it)."""

    grade: Decimal | None  # None: no grade ('-')
    handed_in: list[str]
    counted: list[str]  # assignments whose grade counted, best first
    dropped: list[str]  # handed in, but not among the best
    missing: int  # gaps filled with policy.missing_counts_as
    mean: Decimal | None
    rounded_up: bool  # the rounding-up rule applied (the grade may already be a multiple)
    rule: str  # all | some | incomplete | none
    flags: list[str] = field(default_factory=list)


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    return ((value / step).to_integral_value(ROUND_CEILING) * step).quantize(step)


def final_grade(grades: Mapping[str, Decimal | None], policy: Policy, assignments: Sequence[str],
                scale: float = 10) -> FinalGrade:
    """Best `policy.count` of the handed-in grades (None = not handed in), averaged; rounded
    up to `policy.step` when the policy says so; gaps count `missing_counts_as`."""
    top = Decimal(str(scale))
    handed = [(a, _dec(grades[a])) for a in assignments if grades.get(a) is not None]
    if not handed:
        zero = policy.no_handins == "zero"
        return FinalGrade(Decimal("0.00") if zero else None, [], [], [], 0, None, False, "none",
                          ["no_handins"])
    order = {a: i for i, a in enumerate(assignments)}
    ranked = sorted(handed, key=lambda kv: (-kv[1], order[kv[0]]))  # ties: course order
    counted, dropped = ranked[:policy.count], ranked[policy.count:]
    missing = policy.count - len(counted)
    values = [g for _, g in counted] + [Decimal(str(policy.missing_counts_as))] * missing
    mean = sum(values, Decimal(0)) / policy.count
    everything = len(handed) == len(assignments)
    round_up = policy.round_up == "always" or (policy.round_up == "when_all_handed_in" and everything)
    grade = ceil_to(mean, policy.step) if round_up else mean.quantize(CENT, ROUND_HALF_UP)
    grade = min(max(grade, Decimal(0)), top)
    rule = "all" if everything else ("incomplete" if missing else "some")
    return FinalGrade(grade, [a for a, _ in handed], [a for a, _ in counted],
                      [a for a, _ in dropped], missing, mean, round_up, rule,
                      ["incomplete"] if missing else [])


def _dec(x: Decimal | float | int | str) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(str(x))
