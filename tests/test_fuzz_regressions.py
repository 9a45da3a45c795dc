"""One focused test per traceback tests/test_fuzz_inputs.py found (issue 14): each fails on
the code before its fix (a raw exception, a hang, or a message of thousands of characters) and
passes with it: a result row, or one typed error naming the input."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from grader.cli import main
from grader.course import CourseError, load_course
from grader.errors import GraderError, InvalidNotebook
from grader.export.results_jsonl import ResultsFileError, read_results
from grader.final import FinalError, read_overrides
from grader.ingest.extract import ExtractLimits, extract_zip
from grader.ingest.read_notebook import read_notebook
from grader.rubric import RubricError, apply_overrides, load_rubric
from fuzz_support import laughs
from test_final import COURSE, ROOT, SPEC, make_reports

RUBRIC = (ROOT / "rubrics" / "mnist_cnn.yaml").read_text(encoding="utf-8")
COURSE_TEXT = COURSE.read_text(encoding="utf-8")


# --- rubric and course YAML (grader/yaml_input.py) ---------------------------------------------
def test_a_utf16_rubric_loads_and_undecodable_bytes_are_a_rubric_error(tmp_path):
    p = tmp_path / "mnist_cnn.yaml"
    p.write_bytes(RUBRIC.encode("utf-16"))  # Notepad's "Unicode"
    assert load_rubric(p).assignment == "mnist_cnn"
    p.write_bytes(b"assignment: mnist_cnn\ntitle: \xe9\xff\n")  # was UnicodeDecodeError
    with pytest.raises(RubricError, match="not valid YAML"):
        load_rubric(p)


@pytest.mark.parametrize("text, needle", [
    ("checks: " + "[" * 5000 + "]" * 5000 + "\n", "nested thousands of levels deep"),  # RecursionError
    ("max_grade: 1" + "0" * 5000 + "\n", "digits"),  # ValueError from int()
    ("a: &x [*x]\n", "an alias that contains itself"),
])
def test_yaml_that_python_cannot_hold_is_a_config_error(tmp_path, text, needle):
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError, match=needle):
        load_rubric(p)
    with pytest.raises(CourseError, match=needle):
        load_course(p)


def test_a_billion_laughs_is_refused_before_anything_expands_it(tmp_path):
    """As a unit test's option the bomb reached repr() in the option check's message: minutes
    and gigabytes (10^9 strings)."""
    p = tmp_path / "mnist_cnn.yaml"
    bomb = "  - {id: adam, kind: unit_test, function: adam_step, points: 1, options: {bias_correction: *a8}}\n"
    p.write_text(laughs().decode() + RUBRIC.replace("checks:\n", "checks:\n" + bomb), encoding="utf-8")
    with pytest.raises(RubricError, match="once its aliases"):
        load_rubric(p)


def test_a_set_value_that_is_not_yaml_is_a_rubric_error():
    with pytest.raises(RubricError, match="override 'limits.memory_mb=\\[1': not valid YAML"):
        apply_overrides({"limits": {}}, ["limits.memory_mb=[1"])  # was a raw ScannerError


@pytest.mark.parametrize("timezone", ["Europe", "é" * 300])  # a folder of tzdata; ENAMETOOLONG
def test_a_time_zone_that_is_a_folder_or_too_long_is_a_course_error(tmp_path, timezone):
    p = tmp_path / "course.yaml"
    p.write_text(COURSE_TEXT.replace("timezone: Europe/Madrid", f"timezone: {timezone}"), encoding="utf-8")
    with pytest.raises(CourseError, match="unknown time zone"):
        load_course(p)


@pytest.mark.parametrize("name", ["é" * 300, "../outside", "a/b", ".hidden"])
def test_an_assignment_id_must_be_a_plain_folder_name(tmp_path, name):
    """Assignment ids name folders under reports/: a long one was an OSError in `grader final`."""
    p = tmp_path / "course.yaml"
    p.write_text(COURSE_TEXT.replace("rnn_text]", f"{json.dumps(name)}]"), encoding="utf-8")
    with pytest.raises(CourseError, match="assignments.2"):
        load_course(p)
    rubric = tmp_path / "r.yaml"
    rubric.write_text(RUBRIC.replace("assignment: mnist_cnn", f"assignment: {json.dumps(name)}"), encoding="utf-8")
    with pytest.raises(RubricError, match="assignment"):
        load_rubric(rubric)


def test_markup_in_the_course_name_is_shown_as_text(tmp_path, capsys):
    make_reports(tmp_path, SPEC)
    course = tmp_path / "course.yaml"
    course.write_text(COURSE_TEXT.replace("course: Deep Learning", "course: '[/bold] x'"), encoding="utf-8")
    assert main(["final", "--out", str(tmp_path), "--course", str(course)]) == 0  # was MarkupError
    assert "[/bold] x" in capsys.readouterr().out


def test_a_binary_slurm_config_is_one_error(tmp_path):
    from grader.cluster.connect import load_slurm_config

    (tmp_path / "cluster.yaml").write_bytes(b"partition: \xff\xfe\xfa\n")
    with pytest.raises(GraderError, match="cannot read .*not valid YAML"):
        load_slurm_config(tmp_path / "cluster.yaml")


# --- grader final's other inputs ----------------------------------------------------------------
def test_a_binary_overrides_file_or_a_nul_in_its_path_is_a_final_error(tmp_path):
    course = load_course(COURSE)
    for name in ("ov.csv", "ov.yaml"):
        (tmp_path / name).write_bytes(b"student,grade\n\xff\xfe\x00\x01")
        with pytest.raises(FinalError, match="not UTF-8|not valid YAML"):
            read_overrides(tmp_path / name, course)
    with pytest.raises(FinalError, match="cannot read"):
        read_overrides(tmp_path / "a\0b.yaml", course)


GOOD_ROW = {"schema": 2, "assignment": "mnist_cnn", "participant_id": "11", "full_name": "Ana",
            "status": "graded", "max_score": 10.0,
            "checks": [{"id": "all", "points": 8.0, "max_points": 10.0, "passed": False, "message": ""}]}


@pytest.mark.parametrize("change, needle", [
    ({"checks": [{"id": "a", "points": "x", "max_points": 10, "passed": True, "message": ""}]},
     "checks.0.points"),  # was TypeError in raw_score
    ({"max_score": None}, "max_score"),  # TypeError
    ({"participant_id": ["11"]}, "participant_id"),  # unhashable
    ({"participant_id": ""}, "not a Moodle participant id"),  # int('') in final
    ({"full_name": 5}, "full_name"),  # AttributeError in norm_name
    ({"late_penalty": "1"}, None),  # a number in a string: read as the number
    ({"max_score": float("inf")}, "not a finite number"),  # decimal.InvalidOperation
    ({"max_score": 1e308}, "not a finite number"),  # overflows to inf in the policy
    ({"schema": "2"}, "not a version number"),
])
def test_results_rows_of_the_wrong_types_are_refused_when_read(tmp_path, change, needle):
    p = tmp_path / "results.jsonl"
    p.write_text(json.dumps({**GOOD_ROW, **change}) + "\n", encoding="utf-8")
    if needle is None:
        assert read_results(p)[0].score == 7.0
        return
    with pytest.raises(ResultsFileError, match=f"line 1: not a result row .*{needle}"):
        read_results(p)


def test_results_rows_nested_thousands_deep_are_refused(tmp_path):
    (tmp_path / "results.jsonl").write_text("[" * 100_000 + "\n")  # was RecursionError
    with pytest.raises(ResultsFileError, match="nested thousands of levels deep"):
        read_results(tmp_path / "results.jsonl")


def test_grader_final_on_a_wrongly_typed_row_is_one_line(tmp_path, capsys):
    make_reports(tmp_path, SPEC)
    (tmp_path / "mnist_cnn" / "results.jsonl").write_text(json.dumps({**GOOD_ROW, "max_score": "diez"}) + "\n")
    assert main(["final", "--out", str(tmp_path), "--course", str(COURSE)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("grader: error: ") and err.count("\n") == 1 and "max_score" in err


# --- the Moodle zip and the notebook ------------------------------------------------------------
FOLDER = "Ana Díaz_101_assignsubmission_file"


def test_an_entry_name_too_long_for_the_disk_skips_that_file_only(tmp_path):
    """It was an OSError refusing the whole class, in a message of 120,000 characters."""
    src = tmp_path / "d.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr(f"{FOLDER}/{'x' * 300}.npy", b"1")
        z.writestr(f"{FOLDER}/mnist_cnn.ipynb", b"{}")
    ex = extract_zip(src, tmp_path / "out", ExtractLimits(), owner=lambda key: "101")
    assert [f.name for f in ex.files] == [f"{FOLDER}/mnist_cnn.ipynb"]
    [(key, why)] = ex.rejected
    assert "over 255 bytes" in why and len(why) < 300


def test_a_local_header_name_that_is_not_utf8_is_an_ingest_error(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{FOLDER}/mnist_cnn.ipynb", b"{}")
    data = bytearray(buf.getvalue())
    data[26] = 6  # the local header's name length: "Ana D" and half of "í" (zipfile: UnicodeDecodeError)
    (tmp_path / "d.zip").write_bytes(bytes(data))
    with pytest.raises(GraderError, match="cannot be read") as exc:
        extract_zip(tmp_path / "d.zip", tmp_path / "out")
    assert len(str(exc.value)) < 600


def test_a_notebook_too_broken_to_repair_is_invalid(tmp_path):
    """A cell without cell_type failed inside nbformat's writer (AttributeError) while being repaired."""
    nb = {"cells": [{"id": "x", "metadata": {}, "source": "1"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "n.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(InvalidNotebook) as exc:
        read_notebook(tmp_path / "n.ipynb")
    assert exc.value.code == "schema"


def test_a_grade_id_that_is_not_a_string_is_an_edited_cell_not_a_crash():
    from grader.checks.locked import carried_checksums, find_changes

    nb = {"cells": [{"cell_type": "code", "source": "x", "metadata": {"nbgrader": {
        "grade_id": ["softmax_test"], "locked": True, "checksum": "abc"}}}]}
    assert find_changes(nb, {"softmax_test": "abc"}) == ([], ["softmax_test"])  # was unhashable list
    assert carried_checksums(nb) == {}


@pytest.mark.parametrize("path", ["é" * 300 + ".npz", "a\0b.npz"])
def test_a_rubric_data_path_too_long_or_with_a_nul_is_a_rubric_error(tmp_path, capsys, path):
    """`grader grade --dry-run` stopped with OSError (File name too long) or ValueError (NUL)."""
    rubric = tmp_path / "r.yaml"
    rubric.write_text(RUBRIC.replace("hidden_test: standin", f"hidden_test: {json.dumps(path)}"), encoding="utf-8")
    rc = main(["grade", "mnist_cnn", str(ROOT / "submissions/demo/mnist_cnn.zip"), "--dry-run",
               "--rubric", str(rubric), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("grader: error: data.hidden_test: cannot use"), err
