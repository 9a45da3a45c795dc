"""A generated class of graded results for the report tests and benchmark: every check of a
real rubric judged, metrics around the thresholds, every status, late hand-ins, integrity
flags, and names with accents (plus hostile ones on request). No grading happens: these are
the rows `grader grade` would write."""
from __future__ import annotations

import random
from pathlib import Path

from grader.model import CheckResult, Result, Submission
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
FIRST = ["José", "María", "Lucía", "Álvaro", "Zoë", "Iñaki", "Nerea", "Marta", "Ana", "Íñigo",
         "Begoña", "Ramón", "Sofía", "Martín", "Elena", "Jesús", "Nuria", "Óscar", "Pilar", "Raúl"]
LAST = ["Núñez", "O'Connor", "Fernández-Gómez", "Pérez", "Ibáñez", "Etxeberria", "Sáez", "Gil",
        "García López", "Muñoz", "de la Fuente", "Castaño", "Iglesias", "Ortega", "Peña"]
HOSTILE = ["<script>alert(1)</script>", "[/bold]", "[red]Rojo[/red] \x1b[31mANSI\x1b[0m",
           "=HYPERLINK(\"http://x\")", "+34 600 000 000", "@SUM(A1)", "-1+2",
           "Ana\nPérez\tTab", "\"; DROP TABLE", "O'Brien & <b>Sons</b>"]


def rubric(assignment: str):
    return load_rubric(ROOT / "rubrics" / f"{assignment}.yaml")


def _metric(chk, rng):
    if chk.kind == "accuracy":
        return chk.metric, round(min(1.0, max(0.0, rng.gauss(chk.threshold - 0.03, 0.12))), 4)
    if chk.kind == "text_loss":
        return "text_loss_ratio", round(max(0.1, rng.gauss(chk.threshold + 0.1, 0.25)), 4)
    return None, None


def _check(chk, rng, metrics: dict, broken: bool) -> CheckResult:
    if chk.points == 0:
        passed = rng.random() > 0.1
        return CheckResult(chk.id, 0.0, 0.0, passed, "ok" if passed else "flagged", title=chk.id)
    if broken:
        return CheckResult(chk.id, 0.0, chk.points, False, "no se pudo evaluar", title=chk.id)
    name, value = _metric(chk, rng)
    if name:
        metrics[name] = value
        full = value >= chk.threshold if chk.kind == "accuracy" else value <= chk.threshold
        frac = 1.0 if full else rng.random() * 0.8
    else:
        frac = 1.0 if rng.random() > 0.25 else round(rng.random(), 2)
    return CheckResult(chk.id, round(frac * chk.points, 2), chk.points, frac == 1.0,
                       "mensaje", title=chk.id)


def make_class(assignment: str, n: int, seed: int = 0, hostile: bool = False):
    """(rubric, pairs): `n` students of `assignment`; with `hostile`, the first names are the
    HOSTILE ones."""
    rng = random.Random(seed)
    rub = rubric(assignment)
    pairs = []
    for i in range(n):
        pid = str(4_600_000 + i)
        name = (HOSTILE[i] if hostile and i < len(HOSTILE)
                else f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}")
        status = rng.choices(["graded", "error", "timeout", "invalid", "no_notebook"],
                             [85, 5, 4, 4, 2])[0]
        metrics: dict = {}
        broken = status in ("invalid", "no_notebook")
        checks = [_check(c, rng, metrics, broken) for c in rub.checks]
        flags = []
        if not broken and rng.random() < 0.08:
            flags.append("claimed_accuracy_mismatch")
            metrics.update(claimed_accuracy=0.99, reproduced_public_accuracy=0.71)
        if not broken and rng.random() < 0.05:
            flags.append("edited_locked_cells")
        late = rng.random() < 0.1
        if late:
            flags.append("late")
        res = Result(assignment=assignment, participant_id=pid, full_name=name, status=status,
                     max_score=rub.max_grade, checks=checks, metrics=metrics, flags=flags,
                     message="" if status == "graded" else f"estado {status}: <b>detalle</b>",
                     submitted_at="2026-04-01T00:04:00+02:00" if late else "2026-03-30T12:00:00+02:00",
                     late=late, hours_late=0.08 if late else 0.0)
        pairs.append((Submission(assignment, pid, name, notebook_name="nb.ipynb"), res))
    if n >= 4:  # one similar pair, as the integrity check flags it in both rows
        a, b = pairs[1][1], pairs[3][1]
        a.flags.append(f"similar_to:{b.participant_id}")
        b.flags.append(f"similar_to:{a.participant_id}")
    return rub, pairs
