"""Escaping by construction: ONE hostile student, graded once through the real `grader` command,
then read back at every sink. Each sink has one helper (grader/report/safe_text.py):

- terminal (rich): `term` (control characters and ANSI sequences out, markup escaped); plain
  stdout (the dry run): `clean_text`;
- HTML: jinja2 with autoescape (`html_env`), for the feedback pages, the zip's pages, the class
  report, the similarity page and the course report;
- CSV: worksheet_io's writer (`render_csv`) with `neutralise_formula` on the name, and the csv
  module with the same neutraliser in grades_by_check.csv;
- logs (results.jsonl, run.json, final.json): JSON of text cleaned at ingestion (`clean`).

The student's name, folder name, notebook name, cell output and exception messages all carry
the same payload: a formula, rich markup, an HTML script, ANSI colour and OSC hyperlink
sequences (ESC, BEL) and a bidi override.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import NUMPY_MODEL, ROOT, notebook, small_rubric_dict

pytestmark = pytest.mark.sandbox

PAYLOAD = '=HYPERLINK("x") [/bold] <script>alert(1)</script> \x1b[31mred\x1b]8;;http://x\x07 \u202e'
NAME = PAYLOAD + " Eve"  # a worksheet name may hold '/' ...
FOLDER_NAME = PAYLOAD.replace("/", "") + " Eve"  # ... a folder name cannot: '[bold]' stays a tag
NB_NAME = "mnist_cnn [/red] <b>nb</b> \x1b[2J\u202e.ipynb"
PID, PID2 = "4242", "4243"  # graded; in the worksheet only (no email: named in `grader final`)
SOFTMAX_RAISES = f'''
def softmax(z):
    raise ValueError({PAYLOAD!r} + " softmax-boom")

def cross_entropy(y, y_hat):
    return float(-np.sum(y * np.log(y_hat)) / y.shape[1])
'''
OUTPUT_CELL = f"print({PAYLOAD!r} + ' cell-output')"
RAISE_CELL = f"raise RuntimeError({PAYLOAD!r} + ' cell-boom')"
WORKSHEET = ('\ufeffIdentifier,"Full name","Email address",Status,Grade,"Maximum grade","Grade can be '
             'changed","Last modified (submission)","Last modified (grade)","Feedback comments"\n'
             f'"Participant {PID}",{{graded}},eve@x.es,"Submitted for grading",,10.00,Yes,'
             '"Tuesday, 31 March 2026, 11:58 PM",-,\n'
             f'"Participant {PID2}",{{other}},,"No submission",,10.00,Yes,-,-,\n')
RAW = ("\x1b", "\x07", "\x9b", "\u202e")  # what a terminal or a page would act on


def inert(text: str, where: str) -> None:
    bad = [c for c in RAW if c in text]
    assert not bad, f"{where}: raw {bad!r} reached the sink"


def html_ok(page: str, where: str) -> None:
    """Escaped by jinja2 (the payload is there, as text) and no control character."""
    inert(page, where)
    assert "<script>alert" not in page and "<b>nb</b>" not in page, f"{where}: raw HTML"
    assert "&lt;script&gt;alert(1)" in page, f"{where}: the payload never reached it"


def csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "400", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sinks")
    nb = notebook("import numpy as np", SOFTMAX_RAISES, NUMPY_MODEL, OUTPUT_CELL, RAISE_CELL,
                  executed=True)
    for cell in nb.cells:  # the handed-in outputs carry the payload too
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PAYLOAD + " saved-output\n")]
    with zipfile.ZipFile(tmp / "download.zip", "w") as zf:
        zf.writestr(f"{FOLDER_NAME}_{PID}_assignsubmission_file/{NB_NAME}", nbformat.writes(nb))
    (tmp / "rubric.yaml").write_text(yaml.safe_dump(small_rubric_dict(), allow_unicode=True))
    (tmp / "course.yaml").write_text("year: 2026\nassignments: [mnist_cnn, b, c]\n")
    (tmp / "ws.csv").write_bytes(WORKSHEET.format(graded=csv_field(FOLDER_NAME), other=csv_field(NAME))
                                 .encode("utf-8"))
    common = ["mnist_cnn", str(tmp / "download.zip"), "--rubric", str(tmp / "rubric.yaml"),
              "--course", str(tmp / "course.yaml"), "--out", str(tmp / "out"), "--allow-standin",
              "--workers", "1"]
    out = {"dry": run("grade", *common, "--dry-run", "--worksheet", str(tmp / "ws.csv"), cwd=tmp)}
    out["fallback"] = run("grade", *common, cwd=tmp)  # no worksheet: the fallback one is written
    folder = tmp / "out" / "mnist_cnn"
    shutil.copy(folder / "moodle_grading_worksheet.csv", tmp / "fallback.csv")
    out["grade"] = run("grade", *common, "--worksheet", str(tmp / "ws.csv"), cwd=tmp)
    out["final"] = run("final", "--out", str(tmp / "out"), "--course", str(tmp / "course.yaml"), cwd=tmp)
    return tmp, folder, out


def test_every_command_ran(graded):
    _, _, out = graded
    for name, proc in out.items():
        assert proc.returncode == 0, f"{name}: {proc.stderr[-2000:]}"
        assert "Traceback" not in proc.stderr, name


def test_terminal(graded):
    """rich output: no escape sequence, and markup printed as text ('[bold]' would have
    vanished into bold type, '[/bold]' raised MarkupError)."""
    _, _, out = graded
    for name in ("grade", "fallback", "final"):
        inert(out[name].stdout + out[name].stderr, name)
    assert '=HYPERLINK("x") [bold]' in out["grade"].stdout  # the summary table
    assert 'late (flag): =HYPERLINK("x") [bold] <script>alert(1)<script> red Eve' in out["fallback"].stdout
    assert '[/bold] <script>alert(1)</script> red Eve' in out["final"].stdout


def test_dry_run(graded):
    _, _, out = graded
    inert(out["dry"].stdout, "dry run")
    assert '[bold] <scrip' in out["dry"].stdout and "mnist_cnn [/red] <b>nb</b> .ipynb" in out["dry"].stdout


def test_logs_keep_the_exact_text_with_nothing_raw(graded):
    """results.jsonl and run.json: the exact name and notebook name when loaded (they identify
    the student), no raw control/bidi character in the file; messages cleaned at ingestion."""
    _, folder, _ = graded
    text = (folder / "results.jsonl").read_text(encoding="utf-8")
    inert(text, "results.jsonl")
    [row] = [json.loads(line) for line in text.splitlines()]
    assert row["full_name"] == FOLDER_NAME and row["notebook"] == NB_NAME
    messages = [row["message"]] + [d for c in row["checks"] for d in [c["message"], *c["details"]]]
    assert any("softmax-boom" in m for m in messages) and any("cell-boom" in m for m in messages)
    assert not [m for m in messages if any(c in m for c in RAW)]
    run_json = (folder / "run.json").read_text(encoding="utf-8")
    inert(run_json, "run.json")
    json.loads(run_json)


def _rows(text: str, delimiter: str = ",") -> dict[str, dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter))
    return {re.sub(r"\D", "", r.get("Identifier") or r.get("Participant id") or ""): r for r in rows}


def test_worksheets(graded):
    """The filled worksheet and the fallback one: CSV-parsable, the name a spreadsheet shows as
    text (formula neutralised) and otherwise intact, the feedback cell escaped HTML."""
    tmp, folder, _ = graded
    for where, path in (("worksheet", folder / "moodle_grading_worksheet.csv"),
                        ("fallback worksheet", tmp / "fallback.csv")):
        text = path.read_text(encoding="utf-8")
        inert(text, where)
        row = _rows(text)[PID]
        assert row["Full name"].startswith("\'=HYPERLINK(\"x\") [bold] <script>alert(1)<script> red"), where
        assert row["Full name"].endswith(" Eve") and row["Grade"][0].isdigit(), where
        html_ok(row["Feedback comments"], where)
        assert "softmax-boom" in row["Feedback comments"], where
    other = _rows((folder / "moodle_grading_worksheet.csv").read_text(encoding="utf-8"))[PID2]
    assert other["Full name"].startswith("\'=HYPERLINK(\"x\") [/bold] <script>alert(1)</script> red")


def test_feedback_pages(graded):
    _, folder, _ = graded
    html_ok((folder / "feedback" / f"{PID}.html").read_text(encoding="utf-8"), "feedback page")
    with zipfile.ZipFile(folder / "moodle_feedback_files.zip") as zf:
        [name] = zf.namelist()
        inert(name, "feedback zip member name")
        assert name.endswith(f"_{PID}_assignsubmission_file/correccion_mnist_cnn.html")
        page = zf.read(name).decode("utf-8")
    html_ok(page, "feedback zip page")
    assert "softmax-boom" in page and "cell-boom" in page


def test_class_report_and_similarity_page(graded):
    _, folder, _ = graded
    html_ok((folder / "index.html").read_text(encoding="utf-8"), "class report")
    page = (folder / "similarity.html").read_text(encoding="utf-8")
    inert(page, "similarity page")
    assert "<script>alert" not in page


def test_grades_by_check(graded):
    _, folder, _ = graded
    text = (folder / "grades_by_check.csv").read_text(encoding="utf-8")
    inert(text, "grades_by_check.csv")
    row = _rows(text, ";")[PID]
    assert row["Full name"].startswith("\'=HYPERLINK(\"x\") [bold] <script>alert(1)<script> red")


def test_final_outputs(graded):
    tmp, _, _ = graded
    out = tmp / "out"
    for name in ("final_grades.csv", "final_breakdown.csv", "final.json"):
        inert((out / name).read_text(encoding="utf-8"), name)
    assert (out / "final_grades.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("eve@x.es,")
    rows = list(csv.DictReader(io.StringIO((out / "final_breakdown.csv").read_text(encoding="utf-8-sig"))))
    names = sorted(r["Full name"] for r in rows)
    assert len(names) == 2 and all(n.startswith("\'=HYPERLINK") for n in names)
    assert "[/bold] <script>alert(1)</script> red" in names[0] + names[1]
    final = json.loads((out / "final.json").read_text(encoding="utf-8"))
    # the graded student's name comes exact from results.jsonl; the other's from the worksheet
    # `grader grade` wrote (what a spreadsheet may show)
    assert FOLDER_NAME in [s["full_name"] for s in final["students"]]
    html_ok((out / "index.html").read_text(encoding="utf-8"), "course report")


def test_self_check_report(graded):
    """`grader check` quotes the notebook (its name, the exception a function raised, outputs)
    in plain text: cleaned as a whole, then coloured, so only the marks' own colours remain."""
    from grader.selfcheck import self_check
    from grader.selfcheck.render import render

    tmp = graded[0]
    nb_file = tmp / "check" / NB_NAME.replace("/", "")  # a file name cannot hold "/"
    nb_file.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(tmp / "download.zip") as zf:
        nb_file.write_bytes(zf.read(zf.namelist()[0]))
    report = self_check(str(nb_file), assignment="mnist_cnn", rubric_path=str(tmp / "rubric.yaml"), lang="en")
    plain = render(report, colour=False)
    inert(plain, "self-check")
    assert "softmax-boom" in plain and '=HYPERLINK("x") [/bold] <script>alert(1)</script> red' in plain
    coloured = render(report, colour=True)
    ours = re.compile(r"\x1b\[(?:3[123]|2|0)m")
    assert ours.search(coloured), "no colour on a terminal"
    inert(ours.sub("", coloured), "self-check, coloured")
    assert ours.sub("", coloured) == plain
