"""`grader similarity` on an already graded folder, the archive of earlier years, the batch's
`flag_similar`, and the report's escaping of what students control. The graded folders are
written as `grader grade` leaves them (results.jsonl, run.json, the originals); grading itself
is covered by the demo end to end (tests/test_e2e_demo.py)."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.export.results_jsonl import read_results, write_results
from grader.ingest import ingest
from grader.integrity import flag_similar
from grader.model import Result
from grader.rubric import load_rubric

from conftest import ROOT
from test_integrity import demo_notebook, disguise

HOSTILE = "Eve <img src=x onerror=alert(1)>"


def graded(root: Path, students: dict[tuple[str, str], object], flags: dict[str, list[str]] = {}) -> Path:
    """OUT/mnist_cnn as `grader grade` leaves it for a folder source: the rows and run.json."""
    src = root / "download"
    for (pid, name), nb in students.items():
        folder = src / f"{name}_{pid}_assignsubmission_file"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "mnist_cnn.ipynb")
    out = root / "out" / "mnist_cnn"
    out.mkdir(parents=True)
    subs = ingest(src, "mnist_cnn", out).submissions
    rows = [Result.from_submission(s, status="graded", max_score=10, flags=list(flags.get(s.participant_id, [])))
            for s in subs]
    write_results(out / "results.jsonl", rows)
    (out / "run.json").write_text(json.dumps({"assignment": "mnist_cnn", "source": str(src)}))
    return out


@pytest.fixture
def klass(tmp_path):
    nerea, jose = demo_notebook("mnist_cnn", "Nerea"), demo_notebook("mnist_cnn", "José")
    copy = disguise(nerea, seed=7)
    cell = next(c for c in copy.cells if c.cell_type == "code" and "Conv2D" in c.source)  # shown
    cell.source += '\nnota = "</pre><script>alert(1)</script>"  # <b>hola</b>'
    return graded(tmp_path, {("1000001", "Ana Ruiz"): nerea, ("1000002", HOSTILE): copy,
                             ("1000003", "Bob"): jose},
                  flags={"1000001": ["late", "similar_to:1000003"]})


def rows(folder: Path) -> dict[str, list[str]]:
    return {r.participant_id: r.flags for r in read_results(folder / "results.jsonl")}


def similarity(*args: str) -> int:
    return main(["similarity", "mnist_cnn", *args, "--course-dir", str(ROOT)])


def test_flags_both_rows_and_writes_the_report(klass):
    assert similarity("--out", str(klass.parent)) == 0
    assert rows(klass) == {"1000001": ["late", "similar_to:1000002"],  # the stale flag replaced
                           "1000002": ["similar_to:1000001"], "1000003": []}
    html = (klass / "similarity.html").read_text(encoding="utf-8")
    assert "Ana Ruiz" in html and "<mark" in html
    assert "Eve &lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "&lt;b&gt;hola&lt;/b&gt;" in html
    assert html.count("<pre>") == html.count("</pre>")


def test_running_it_again_changes_nothing(klass):
    assert similarity("--out", str(klass.parent)) == 0
    first = (klass / "results.jsonl").read_bytes()
    assert similarity("--out", str(klass.parent)) == 0
    assert (klass / "results.jsonl").read_bytes() == first


def test_a_higher_threshold_from_the_command_line_clears_the_flags(klass):
    assert similarity("--out", str(klass.parent), "--set", "similarity.threshold=1.0") == 0
    assert rows(klass)["1000002"] == []
    assert "No pair reaches the threshold" in (klass / "similarity.html").read_text(encoding="utf-8")


def test_earlier_years_are_compared_and_marked(klass, tmp_path):
    old = graded(tmp_path / "reports-2025", {("2000009", "Old Student"): demo_notebook("mnist_cnn", "José")})
    archive = old.parent  # reports-2025/out: its mnist_cnn/ is found below it
    assert similarity("--out", str(klass.parent), "--similarity-archive", str(archive)) == 0
    assert rows(klass)["1000003"] == ["similar_to:out/2000009"]
    html = (klass / "similarity.html").read_text(encoding="utf-8")
    assert "across years" in html and "Old Student" in html
    assert not (old / "similarity.html").exists()  # the archive is only read


def test_an_archive_without_this_assignment_is_a_clear_error(klass, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert similarity("--out", str(klass.parent), "--similarity-archive", str(tmp_path / "empty")) == 2
    err = capsys.readouterr().err
    assert "no graded mnist_cnn found" in err and "Traceback" not in err


def test_an_ungraded_folder_is_a_clear_error(tmp_path, capsys):
    assert similarity("--out", str(tmp_path)) == 2
    assert "grade the assignment first" in capsys.readouterr().err


def test_unreadable_notebooks_are_left_out_with_a_warning(klass, capsys):
    broken = next((klass.parent.parent / "download").glob("Bob_*")) / "mnist_cnn.ipynb"
    broken.write_text('{"cells": [')
    assert similarity("--out", str(klass.parent)) == 0
    out = capsys.readouterr().out
    assert "1000003 left out" in out and rows(klass)["1000002"] == ["similar_to:1000001"]


def test_help_explains_the_rubric_keys(capsys):
    with pytest.raises(SystemExit):
        main(["similarity", "--help"])
    text = capsys.readouterr().out
    assert "similarity.threshold" in text and "similarity.min_match_tokens" in text


def test_the_batch_hook_flags_pairs_and_never_loses_results(klass):
    rubric = load_rubric(ROOT / "rubrics/mnist_cnn.yaml")
    subs = ingest(klass.parent.parent / "download", "mnist_cnn", klass).submissions
    pairs = [(s, Result.from_submission(s, status="graded", max_score=10)) for s in subs]
    done = flag_similar(pairs, rubric, klass)
    assert [r.flags for _, r in done.pairs] == [["similar_to:1000002"], ["similar_to:1000001"], []]
    assert [s for s, _ in done.pairs] == subs and done.report == klass / "similarity.html"
    off = flag_similar(pairs, load_rubric(ROOT / "rubrics/mnist_cnn.yaml", ["similarity.enabled=false"]), klass)
    assert off.pairs == pairs and off.report is None
    bad = flag_similar(pairs, rubric, klass, archive=klass / "nowhere")
    assert bad.pairs == pairs and bad.report is None and "not a folder" in bad.warnings[0]


def test_an_invalid_row_is_left_out_silently(klass, capsys):
    lines = (klass / "results.jsonl").read_text().splitlines()
    row = json.loads(lines[1])  # Eve's copy: no longer compared
    row["status"] = "invalid"
    (klass / "results.jsonl").write_text("\n".join([lines[0], json.dumps(row), lines[2]]) + "\n")
    assert similarity("--out", str(klass.parent)) == 0
    assert "warning" not in capsys.readouterr().out
    assert rows(klass) == {"1000001": ["late"], "1000002": [], "1000003": []}


def test_a_zip_graded_folder_is_read_from_its_originals(tmp_path):
    """`grader grade` on a zip keeps the extraction in OUT/ASSIGNMENT/originals/ and names the
    zip in run.json: the archive reads the originals."""
    old = graded(tmp_path / "y2025", {("2000001", "Old A"): demo_notebook("mnist_cnn", "Nerea")})
    src = old.parent.parent / "download"
    src.rename(old / "originals")
    (old / "run.json").write_text(json.dumps({"source": str(tmp_path / "gone.zip")}))
    new = graded(tmp_path / "y2026", {("3000001", "New B"): disguise(demo_notebook("mnist_cnn", "Nerea"), 3),
                                      ("3000002", "New C"): demo_notebook("mnist_cnn", "José")})
    rubric = load_rubric(ROOT / "rubrics/mnist_cnn.yaml")
    subs = ingest(new.parent.parent / "download", "mnist_cnn", new).submissions
    pairs = [(s, Result.from_submission(s, status="graded", max_score=10)) for s in subs]
    done = flag_similar(pairs, rubric, new, archive=tmp_path / "y2025")
    assert [r.flags for _, r in done.pairs] == [["similar_to:y2025/out/2000001"], []], done.warnings
    assert done.matches[0].cross_year


def test_bad_rubric_keys_are_named(klass, capsys):
    assert similarity("--out", str(klass.parent), "--set", "similarity.threshold=1.5") == 2
    assert "similarity.threshold" in capsys.readouterr().err
    assert similarity("--out", str(klass.parent), "--set", "similarity.treshold=0.5") == 2
    assert "did you mean 'threshold'" in capsys.readouterr().err
