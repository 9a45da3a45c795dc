"""Unit suites and their judge: correct code scores full marks, each usual mistake loses points."""
from __future__ import annotations

import functools
import re

import numpy as np
import pytest

from grader.checks import Extraction, build_suite, expected
from grader.checks import judge_unit as judge_every_case
from grader.checks import reference as ref
from grader.model import RunOutput
from grader.rubric import UnitTestCheck

#: These tests read each case's detail, hidden ones included (the rubric's feedback.hidden_cases: inputs);
#: the students' default (summary) is tested in test_hidden_cases_feedback.py.
judge_unit = functools.partial(judge_every_case, hidden_cases="inputs")


def sandbox_run(fn, cases, status="ok") -> RunOutput:
    """What the sandbox's functions job returns: outputs only, as float64 arrays, errors per case."""
    arrays, infos = {}, {}
    for case in cases:
        try:
            with np.errstate(all="ignore"):
                arrays[case.id] = np.asarray(fn(*[a.copy() for a in case.args]), dtype=np.float64)
            infos[case.id] = {"ok": True, "ename": "", "evalue": ""}
        except Exception as e:  # noqa: BLE001 - the runner catches everything the student raises
            infos[case.id] = {"ok": False, "ename": type(e).__name__, "evalue": str(e)}
    return RunOutput(kind="functions", status=status, arrays=arrays,
                     info={"cases": infos, "module_error": None, "missing": []})


def check(function: str, **kw) -> UnitTestCheck:
    return UnitTestCheck(id=function, kind="unit_test", function=function, points=2, **kw)


def failed_ids(result, cases) -> set[str]:
    return {c.id for c in cases if any((c.description["es"] + ":") in line for line in result.details)}


# --- softmax implementations students write -------------------------------------------------

def naive_softmax(z):
    return np.exp(z) / np.sum(np.exp(z), axis=0, keepdims=True)


def rows_softmax(z):  # classes taken along the last axis: fine for vectors, wrong for (C, m)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def min_shift_softmax(z):
    e = np.exp(z - np.min(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def global_max_softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e, axis=0, keepdims=True)


# --- cross-entropy mistakes ------------------------------------------------------------------

CE_MISTAKES = {
    "sum_over_m": lambda y, p: -np.sum(y * np.log(p)),
    "mean_over_all_entries": lambda y, p: -np.mean(y * np.log(p)),
    "wrong_sign": lambda y, p: np.sum(y * np.log(p)) / y.shape[1],
    "log10": lambda y, p: -np.sum(y * np.log10(p)) / y.shape[1],
    "transposed_axes": lambda y, p: -np.sum(y * np.log(p)) / y.shape[0],
    "forgot_y": lambda y, p: -np.mean(np.log(p)),
}


def test_suites_are_deterministic_well_formed_and_partly_hidden():
    for name in ("softmax", "cross_entropy"):
        cases, again = build_suite(name), build_suite(name)
        ids = [c.id for c in cases]
        assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in ids)
        assert any(c.public for c in cases) and not all(c.public for c in cases)
        for c, d in zip(cases, again):
            assert c.id == d.id and all(np.array_equal(a, b) for a, b in zip(c.args, d.args))
            assert all(a.dtype == np.float64 and not a.flags.writeable for a in c.args)
            assert c.description["es"] and c.description["en"]
    with pytest.raises(ValueError, match=r"known: (.*, )?cross_entropy, softmax"):
        build_suite("adam")


def test_reference_matches_the_slides():
    slides = {c.id: c for c in build_suite("softmax")}["softmax__slides"]
    np.testing.assert_allclose(expected(slides), [0.047, 0.0003, 0.952], atol=6e-4)
    cat = {c.id: c for c in build_suite("cross_entropy")}["cross_entropy__slides"]
    assert float(expected(cat)) == pytest.approx(-np.log(0.2))
    batch = {c.id: c for c in build_suite("cross_entropy")}["cross_entropy__batch"]
    c, m = batch.args[0].shape
    assert c != m  # transposed axes must show


@pytest.mark.parametrize("suite,fn", [("softmax", ref.softmax), ("cross_entropy", ref.cross_entropy)])
def test_reference_scores_full_marks(suite, fn):
    cases = build_suite(suite)
    result = judge_unit(check(suite), cases, sandbox_run(fn, cases), "es")
    assert (result.points, result.passed, result.details) == (2, True, [])
    assert result.message == f"`{suite}`: los {len(cases)} casos de prueba son correctos."


def test_naive_softmax_fails_exactly_the_large_logits_case():
    cases = build_suite("softmax")
    result = judge_unit(check("softmax"), cases, sandbox_run(naive_softmax, cases), "es")
    assert failed_ids(result, cases) == {"softmax__large"}
    assert result.points == pytest.approx(2 * 5 / 6, abs=0.01) and not result.passed
    assert "softmax([1000, 1001, 1002]) devolvió [nan nan nan] (contiene NaN)" in result.details[0]
    assert "Pista: resta el máximo antes de exp" in result.details[1]


@pytest.mark.parametrize("fn,case_id,hint", [
    (rows_softmax, "softmax__batch", "normalizaste a lo largo del eje 1"),
    (min_shift_softmax, "softmax__very_negative", "no el mínimo"),
    (global_max_softmax, "softmax__columns_apart", "máximo de cada columna"),
])
def test_softmax_mistakes_lose_points_with_a_named_hint(fn, case_id, hint):
    cases = build_suite("softmax")
    result = judge_unit(check("softmax"), cases, sandbox_run(fn, cases), "es")
    assert case_id in failed_ids(result, cases) and result.points < 2
    assert any(hint in line for line in result.details), result.details


def test_wrong_values_message_shows_input_result_and_expectation():
    cases = build_suite("softmax")[:1]
    result = judge_unit(check("softmax"), cases, sandbox_run(lambda z: np.full(z.shape, 1 / 3), cases), "es")
    assert "softmax([3, -2, 6]) devolvió [0.3333 0.3333 0.3333]; se esperaba [0.0474 0.0003 0.9523]" in result.details[0]
    assert result.message == "`softmax`: 0 de 1 casos de prueba correctos."


@pytest.mark.parametrize("mistake", sorted(CE_MISTAKES))
def test_each_cross_entropy_mistake_loses_points(mistake):
    cases = build_suite("cross_entropy")
    result = judge_unit(check("cross_entropy"), cases, sandbox_run(CE_MISTAKES[mistake], cases), "es")
    assert result.points < 2 and not result.passed
    assert any(line.strip().startswith("Pista:") for line in result.details), result.details


def test_cross_entropy_hints_name_the_mistake_in_english():
    cases = build_suite("cross_entropy")
    expectations = {"sum_over_m": "divide by m", "wrong_sign": "sign is flipped", "log10": "natural log",
                    "transposed_axes": "axes swapped", "forgot_y": "ignores y", "mean_over_all_entries": "C·m entries"}
    for mistake, words in expectations.items():
        result = judge_unit(check("cross_entropy"), cases, sandbox_run(CE_MISTAKES[mistake], cases), "en")
        assert any(words in line for line in result.details), (mistake, result.details)
        assert "test cases pass" in result.message


def test_scalar_results_of_any_size_one_shape_are_accepted():
    cases = build_suite("cross_entropy")
    run = sandbox_run(lambda y, p: np.array([[ref.cross_entropy(y, p)]]), cases)
    assert judge_unit(check("cross_entropy"), cases, run, "es").points == 2


def test_wrong_shape_exception_and_none_are_reported_per_case():
    cases = build_suite("softmax")

    def student(z):
        if z.ndim == 2 and z.shape[1] == 1:
            raise ValueError("operands could not be broadcast together")
        if z.ndim == 2:
            return ref.softmax(z).T
        return None if z[0] == 1000 else ref.softmax(z)

    run = sandbox_run(student, cases)
    run.arrays.pop("softmax__large")  # np.asarray(None, float64) gives nan; the runner sends nothing
    run.info["cases"]["softmax__large"] = {"ok": False, "ename": "TypeError", "evalue": "returned None"}
    result = judge_unit(check("softmax"), cases, run, "es")
    text = "\n".join(result.details)
    assert "devolvió un array de forma (3, 4); se esperaba forma (4, 3)" in text
    assert "lanzó ValueError: operands could not be broadcast together" in text
    assert "lanzó TypeError: returned None" in text


def test_all_or_nothing():
    cases = build_suite("softmax")
    result = judge_unit(check("softmax", partial="all_or_nothing"), cases, sandbox_run(naive_softmax, cases), "es")
    assert result.points == 0 and not result.passed


def test_missing_function_from_the_extraction_or_the_sandbox():
    cases = build_suite("softmax")
    empty = RunOutput(kind="functions", status="ok", info={"cases": {}, "module_error": None, "missing": []})
    ex = Extraction(source="", found=[], missing=["softmax"], notes=[])
    result = judge_unit(check("softmax"), cases, empty, "es", extraction=ex)
    assert result.points == 0 and "No se encontró la función `softmax`" in result.message
    empty.info["missing"] = ["softmax"]
    assert "was not found" in judge_unit(check("softmax"), cases, empty, "en").message


def test_module_error_and_timeout():
    cases = build_suite("softmax")
    broken = RunOutput(kind="functions", status="error", info={
        "cases": {}, "missing": [], "module_error": {"ename": "NameError", "evalue": "name 'x_train' is not defined"}})
    result = judge_unit(check("softmax"), cases, broken, "es")
    assert result.points == 0 and "NameError: name 'x_train' is not defined" in result.message
    hung = RunOutput(kind="functions", status="timeout", info={"cases": {}, "module_error": None, "missing": []})
    result = judge_unit(check("softmax"), cases, hung, "es")
    assert result.points == 0 and result.message.startswith("Las pruebas de `softmax` no terminaron a tiempo")
    assert all("no llegó a terminar" in line for line in result.details)
