"""Random and hostile bytes as the files that configure and feed a run: course.yaml (read first
by `grader final`), a rubric (`grader grade --rubric ... --dry-run`) and results.jsonl (read by
`grader final`). Each ends in the command's normal output or in one clear `grader: error: …`
and exit code 2, never a traceback (issue 14). Examples are derandomized (the same in CI every
time); the @example seeds are the hostile classics: undecodable bytes, UTF-16, nesting thousands
deep, YAML tags, a billion laughs under every key that is read, wrong types for every key."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from fuzz_support import (FUZZ, HOSTILE_TEXT, JSON, ONE_STUDENT_ZIP, ROOT, assert_clear_failure_or_success,
                          cut, dry_run, laughs, run_cli, scratch)


# --- (d) course.yaml, (f) a rubric: YAML -------------------------------------------------------
def _laughs_under(key: str, levels: int = 9) -> bytes:
    """A billion laughs placed where a value is read (a repr of it would never end)."""
    text = laughs(levels).decode().replace("\n", "\n  ")
    return f"bomb:\n  {text}\n{key}: *a{levels - 1}\n".encode()


COURSE_YAML = (ROOT / "rubrics" / "course.yaml").read_bytes()
RUBRIC_YAML = (ROOT / "rubrics" / "mnist_cnn.yaml").read_bytes()
YAML_SEEDS = [b"", b"\x00\x01\x02", b"\xff\xfe\xfd", b"- 1\n- 2\n", b"just a string\n", b"42\n",
              b"!!python/object/apply:os.system ['echo pwned']\n", b"!!binary aGVsbG8=\n",
              b"a: !!python/name:os.system\n", b"[" * 5000 + b"]" * 5000, b"{a: " * 2000 + b"1" + b"}" * 2000,
              b"a: 1" + b"0" * 5000 + b"\n", b"a: &x [*x]\n", b"? [a, b]\n: c\n", b"a: 1\na: 2\n",
              b"\tkey: x\n", laughs()]


def _yaml_tree(value) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True).encode()


@st.composite
def mutated_yaml(draw, base: bytes) -> bytes:
    """The real file with one key's value (at any depth) replaced by a random value of any type."""
    data = yaml.safe_load(base)
    node = data
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        if isinstance(node[key], (dict, list)) and node[key] and draw(st.booleans()):
            node = node[key]
            continue
        node[key] = draw(JSON | HOSTILE_TEXT)
        return _yaml_tree(data)


def yaml_bytes(base: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=200), cut(base), mutated_yaml(base),
                     JSON.map(_yaml_tree), st.text(max_size=100).map(str.encode))


def _with_seeds(test, seeds, keys):
    for seed in seeds + [_laughs_under(k) for k in keys]:
        test = example(seed)(test)
    return test


def _graded_reports(root: Path) -> Path:
    """A reports folder as `grader grade --worksheet` leaves it (one assignment)."""
    from test_final import SPEC, make_reports

    return make_reports(root, {"mnist_cnn": SPEC["mnist_cnn"]})


@FUZZ
@given(yaml_bytes(COURSE_YAML))
def _course_yaml(capsys, data):
    with scratch() as d:
        (d / "course.yaml").write_bytes(data)
        rc, _, err = run_cli(capsys, "final", "--out", str(_graded_reports(d / "reports")),
                             "--course", str(d / "course.yaml"))
    assert_clear_failure_or_success(rc, err)


test_course_yaml_ends_in_a_result_or_one_clear_error = _with_seeds(
    _course_yaml, YAML_SEEDS, ["assignments", "deadlines", "course", "policy"])


@FUZZ
@given(yaml_bytes(RUBRIC_YAML))
def _rubric_yaml(capsys, data):
    with scratch() as d:
        (d / "rubric.yaml").write_bytes(data)
        rc, out, err = dry_run(capsys, d, ONE_STUDENT_ZIP, "--rubric", str(d / "rubric.yaml"))
    assert_clear_failure_or_success(rc, err)


test_rubric_yaml_ends_in_a_dry_run_or_one_clear_error = _with_seeds(
    _rubric_yaml, YAML_SEEDS + [
        RUBRIC_YAML.replace(b"bias", b"x") + b"  - {id: adam, kind: unit_test, function: adam_step, points: 1,"
                                             b" options: {bias_correction: *a8}}\n" + laughs(),
        RUBRIC_YAML.replace(b"kind: executed_notebook", b"kind: *a8") + laughs()],
    ["checks", "assignment", "limits", "notebook"])


# --- (e) results.jsonl read by `grader final` --------------------------------------------------
@functools.lru_cache(maxsize=1)
def _graded_rows() -> str:
    with scratch() as d:
        return (_graded_reports(d) / "mnist_cnn" / "results.jsonl").read_text(encoding="utf-8")


@st.composite
def mutated_results(draw) -> bytes:
    """Graded rows with values replaced by random JSON, keys dropped, lines cut."""
    rows = [json.loads(line) for line in _graded_rows().splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.sampled_from(rows))
        key = draw(st.sampled_from(sorted(row)))
        target, field = row, key
        if key == "checks" and row["checks"] and draw(st.booleans()):
            target = draw(st.sampled_from(row["checks"]))
            field = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            target[field] = draw(JSON | HOSTILE_TEXT)
        else:
            target.pop(field)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return text.encode()[: draw(st.none() | st.integers(0, len(text)))]


@FUZZ
@given(st.one_of(st.binary(max_size=200), mutated_results()))
@example(b"")
@example(b'{"schema": 2, "participant_id": "11"')  # cut off
@example(b'{"schema": 99}\n')
@example(b"[1, 2]\n")
@example(b"\xef\xbb\xbf{}\n")
@example('{"a": 1}\n'.encode("utf-16"))
@example(b"[" * 100_000 + b"\n")
@example(b'{"schema": 2, "assignment": "mnist_cnn", "participant_id": "11", "full_name": "Eve [/bold]",'
         b' "status": "graded", "max_score": 1e999, "checks": []}\n')
@example(b'{"schema": 2, "assignment": "mnist_cnn", "participant_id": ["11"], "full_name": 5,'
         b' "status": "graded", "max_score": "10", "checks": [{"id": "a", "points": "x"}]}\n')
def test_results_jsonl_ends_in_final_grades_or_one_clear_error(capsys, data):
    with scratch() as d:
        reports = _graded_reports(d / "reports")
        (reports / "mnist_cnn" / "results.jsonl").write_bytes(data)
        rc, out, err = run_cli(capsys, "final", "--out", str(reports), "--course", str(ROOT / "rubrics" / "course.yaml"))
        assert_clear_failure_or_success(rc, err)
        if rc == 0:
            assert (reports / "final_grades.csv").is_file()
