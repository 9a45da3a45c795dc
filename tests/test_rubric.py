"""Rubric validation names the bad key; overrides work without editing the repo."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.errors import RubricError
from grader.rubric import AccuracyCheck, apply_overrides, load_rubric, parse_rubric

ROOT = Path(__file__).resolve().parent.parent
RAW = yaml.safe_load((ROOT / "rubrics" / "mnist_cnn.yaml").read_text())


def test_the_course_rubric_is_valid_and_sums_to_ten():
    r = load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml")
    assert r.assignment == "mnist_cnn" and r.max_grade == 10
    assert sum(c.points for c in r.checks) == 10
    acc = r.check("accuracy")
    assert isinstance(acc, AccuracyCheck) and acc.partial_from < acc.threshold


@pytest.mark.parametrize("override, message", [
    ("checks.accuracy.threshhold=0.9", "checks[3] (id accuracy).threshhold: unknown key 'threshhold' (did you mean 'threshold'?)"),
    ("limits.memory_mb=lots", "limits.memory_mb: Input should be a valid integer"),
    ("limits.memroy_mb=10", "limits.memroy_mb: unknown key 'memroy_mb' (did you mean 'memory_mb'?)"),
    ("checks.accuracy.partial_from=0.95", "partial_from (0.95) must be below threshold (0.9)"),
    ("checks.softmax.partial=sometimes", "checks[1] (id softmax).partial"),
    ("checks.accuracy.threshold=1.5", "threshold: Input should be less than or equal to 1"),
    ("max_grade=-1", "max_grade: Input should be greater than 0"),
])
def test_errors_name_the_bad_key(override, message):
    with pytest.raises(RubricError) as e:
        parse_rubric(apply_overrides(RAW, [override]), "r.yaml")
    assert message in str(e.value)
    assert str(e.value).startswith("invalid rubric r.yaml")


def test_structural_errors():
    bad = dict(RAW, checks=RAW["checks"] + [{"id": "softmax", "kind": "unit_test", "function": "f", "points": 1}])
    with pytest.raises(RubricError, match="duplicate check ids: softmax"):
        parse_rubric(bad)
    with pytest.raises(RubricError, match="unknown check kind 'magic'"):
        parse_rubric(dict(RAW, checks=[{"id": "x", "kind": "magic", "points": 1}]))
    with pytest.raises(RubricError, match="missing 'kind'"):
        parse_rubric(dict(RAW, checks=[{"id": "x", "points": 1}]))
    with pytest.raises(RubricError, match="expected a mapping"):
        parse_rubric(["not", "a", "mapping"])


def test_overrides_address_checks_by_id_and_leave_the_file_alone():
    before = (ROOT / "rubrics" / "mnist_cnn.yaml").read_text()
    r = load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml",
                    ["checks.accuracy.threshold=0.97", "limits.memory_mb=2048",
                     "data.hidden_test=/data/hidden.npz"])
    assert r.check("accuracy").threshold == 0.97
    assert r.limits.memory_mb == 2048
    assert r.data.hidden_test == "/data/hidden.npz"
    assert (ROOT / "rubrics" / "mnist_cnn.yaml").read_text() == before
    with pytest.raises(RubricError, match="no check with id 'nope'"):
        apply_overrides(RAW, ["checks.nope.points=1"])
    with pytest.raises(RubricError, match="expected KEY=VALUE"):
        apply_overrides(RAW, ["limits.memory_mb"])


def test_relative_data_paths_are_relative_to_the_rubric(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump(dict(RAW, data={"hidden_test": "data/h.npz"})))
    assert load_rubric(p).resolve_path("data/h.npz") == tmp_path / "data" / "h.npz"


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(RubricError, match="rubric not found"):
        load_rubric(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("checks: [unclosed")
    with pytest.raises(RubricError, match="not valid YAML"):
        load_rubric(tmp_path / "bad.yaml")
    (tmp_path / "mnist_cnn.yaml").write_text("{}")
    with pytest.raises(RubricError, match=r"rubrics there: bad, mnist_cnn\)"):  # a typo names the choices
        load_rubric(tmp_path / "mnist_cn.yaml")
