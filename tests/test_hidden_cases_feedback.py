"""What students read about unit-test cases (issue 13): a failed hidden case is named by its number
with the hint, never its inputs or expected values (the rubric's feedback.hidden_cases: summary, the
default; `inputs` shows them); numbers in "devolvió / se esperaba" are printed with the digits at
which they differ, plus the largest absolute error."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from grader.checks import build_suite, judge_unit
from grader.checks.unit import _fmt_pair
from grader.errors import RubricError
from grader.rubric import UnitTestCheck, parse_rubric

from test_checks_unit import min_shift_softmax, sandbox_run

ROOT = Path(__file__).resolve().parent.parent
CHECK = UnitTestCheck(id="softmax", kind="unit_test", function="softmax", points=2)


@pytest.fixture(scope="module")
def cases():
    return build_suite("softmax", hidden_dir=ROOT / "rubrics" / "hidden_cases")


def hidden_inputs_text(cases) -> list[str]:
    """How the hidden cases' inputs and descriptions would be printed, to look for them."""
    return [c.description["es"] for c in cases if not c.public]


def test_summary_names_the_hidden_case_and_the_hint_only(cases):
    run = sandbox_run(min_shift_softmax, cases)
    summary = judge_unit(CHECK, cases, run, "es")
    full = judge_unit(CHECK, cases, run, "es", hidden_cases="inputs")
    assert summary.points == full.points < 2  # the same grade, whatever the students are shown
    hidden_lines = [d for d in summary.details if d.startswith("caso oculto ")]
    assert hidden_lines and all(re.fullmatch(r"caso oculto \d+: incorrecto( \(.+\))?", d) for d in hidden_lines)
    text = "\n".join(summary.details)
    assert not [desc for desc in hidden_inputs_text(cases) if desc in text]
    assert "softmax(" not in "\n".join(hidden_lines) and "se esperaba" not in "\n".join(hidden_lines)
    assert any("resta el máximo (no el mínimo)" in d for d in hidden_lines)  # the hint, inline
    # `inputs`: the instructor chose to show everything, as for public cases
    assert [desc for desc in hidden_inputs_text(cases) if desc in "\n".join(full.details)]


def test_public_cases_show_everything_in_summary_mode(cases):
    public = [c for c in cases if c.public]
    run = sandbox_run(lambda z: np.exp(z) / np.sum(np.exp(z)), public)  # sums over every element
    result = judge_unit(CHECK, public, run, "es")
    assert any("devolvió" in d and "se esperaba" in d and "softmax(" in d for d in result.details)


def test_a_hidden_case_that_raises_or_never_returns(cases):
    def boom(z):
        if z.ndim == 2 and z.shape[1] > 1:
            raise ValueError("nope")
        return np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)
    result = judge_unit(CHECK, cases, sandbox_run(boom, cases), "en")
    assert any(re.fullmatch(r"hidden case \d+: raised ValueError( \(.+\))?", d) for d in result.details)
    hung = sandbox_run(lambda z: z, [])
    hung.status = "timeout"
    result = judge_unit(CHECK, cases, hung, "es")
    assert any(re.fullmatch(r"caso oculto \d+: no llegó a terminar", d) for d in result.details)


def test_numbers_are_printed_until_they_differ_with_the_largest_error():
    want = np.array([[-0.80381234, 0.5], [1.0, 2.0]])
    got = want + np.array([[3e-7, 0], [0, 0]])
    a, b = _fmt_pair(got, want)
    assert a != b and "-0.8038123" in b  # 4 decimals would print both as -0.8038
    tiny_want = np.array([1e-9, 2e-9])
    a, b = _fmt_pair(tiny_want * 1.5, tiny_want)  # suppress_small would show 0. for both
    assert a != b
    from grader.checks.unit import _max_error
    assert _max_error(got, want, "es") == " (error absoluto máximo: 3e-07)"
    assert _max_error(np.array([1.25]), np.array([1.0]), "es") == " (error absoluto máximo: 0,25)"


def test_adam_step_mistake_shows_distinct_numbers_and_the_error():
    from test_imagenet_adam import check as adam_check, student
    from test_checks_unit import sandbox_run as run

    cases = [c for c in build_suite("adam_step", hidden_dir=ROOT / "rubrics" / "hidden_cases") if c.public]
    result = judge_unit(adam_check(), cases, run(student(eps_inside=True), cases), "es")
    for line in result.details:
        m = re.search(r"devolvió (\w+) = (.*?); se esperaba \1 = (.*?) \(error absoluto máximo: ([^)]+)\)", line)
        if m:
            assert m.group(2) != m.group(3) and float(m.group(4).replace(",", ".")) > 0


def test_rubric_feedback_section():
    base = {"assignment": "mnist_cnn", "checks": [{"id": "e", "kind": "executed_notebook", "points": 1}]}
    assert parse_rubric(base, "r").feedback.hidden_cases == "summary"
    assert parse_rubric(base | {"feedback": {"hidden_cases": "inputs"}}, "r").feedback.hidden_cases == "inputs"
    with pytest.raises(RubricError, match="hidden_cases"):
        parse_rubric(base | {"feedback": {"hidden_cases": "all"}}, "r")
