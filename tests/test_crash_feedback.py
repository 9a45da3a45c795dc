"""Every lost point says why (issue 13): a notebook whose cells crash in the grader's re-run in each
way students' notebooks usually do (a Google Drive path, a Windows path, drive.mount, !pip install,
a download) gets, on its feedback page and in results.jsonl's `detail`, the cell (number and first
line), the exception and the hint `grader check` gives for that cell. Real re-runs in the sandbox."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric, submission
from grader.export.feedback import feedback_html
from grader.grade import GradeContext, grade_submission
from grader.selfcheck.hazards import CATALOG as HAZARDS

pytestmark = pytest.mark.sandbox

CRASHES = [  # (cell source, exception, words of the self-check's hint)
    ("# datos de mi Drive\nx = np.load('/content/drive/MyDrive/DL/x.npz')", "FileNotFoundError",
     "la ruta absoluta «/content/drive/MyDrive/DL/x.npz» solo existe en tu ordenador o en tu Drive"),
    ("f = open(r'C:\\Users\\ana\\datos.csv')", "FileNotFoundError",
     "la ruta absoluta «C:\\Users\\ana\\datos.csv» solo existe"),
    ("from google.colab import drive\ndrive.mount('/content/drive')", "ModuleNotFoundError",
     HAZARDS["drive_mount"]["es"].split(",")[0]),
    ("!pip install -q --retries 0 emoji\nimport emoji", "ModuleNotFoundError",
     "al corregir no hay red, así que emoji no se instalará"),
    ("import urllib.request\nurllib.request.urlretrieve('https://datos.example.org/x.npz', 'x.npz')", "URLError",
     "descarga de internet, y al corregir no hay red"),
]


@pytest.fixture(scope="module")
def graded(sandbox, standin, tmp_path_factory):
    """One re-run for the module (conftest's make_ctx is per test)."""
    tmp = tmp_path_factory.mktemp("crash")
    with np.load(standin["hidden"]) as z:
        hx, hy = z["x"][:20], z["y"][:20]
    ctx = GradeContext(rubric=small_rubric(), session=sandbox, lang="es", datasets={"mnist.npz": standin["mnist.npz"]},
                       data={"hidden_x": hx, "hidden_y": hy}, executed_dir=tmp / "executed")
    nb = notebook("import numpy as np", *[c for c, _, _ in CRASHES], SOFTMAX, NUMPY_MODEL, executed=True)
    return grade_submission(submission(tmp, nb), ctx)


def test_each_crash_is_explained_to_the_student(graded):
    assert graded.status == "graded" and "cell_errors" in graded.flags
    page = feedback_html(graded, "es")
    for n, (source, ename, hint) in enumerate(CRASHES, 2):
        first = next(ln for ln in source.splitlines() if not ln.startswith("#"))
        cell = f"celda {n} (`{first}`): {ename}"
        assert cell in graded.message, (cell, graded.message)
        part = graded.message.split(cell, 1)[1].split("; celda", 1)[0]
        assert "Causa probable: " in part and hint in part.split("Causa probable: ", 1)[1], (hint, part)
    assert "No such file or directory" in graded.message and "No module named 'google" in graded.message
    # the page shows it, HTML-escaped, the code in <code>
    assert "celda 2 (<code>x = np.load(&#39;/content/drive/MyDrive/DL/x.npz&#39;)</code>): FileNotFoundError" in page


def test_each_crash_is_in_the_instructor_detail(graded):
    row = json.loads(json.dumps(graded.to_row()))
    lines = row["detail"].splitlines()
    kinds = ["absolute_path", "absolute_path", "drive_mount", "pip_install", "download"]
    for n, ((source, ename, _), kind) in enumerate(zip(CRASHES, kinds), 2):
        line = next(ln for ln in lines if ln.startswith(f"cell {n} "))
        assert f": {ename}: " in line and f"[self-check hazard {kind}: " in line, line


def test_a_crash_the_self_check_cannot_explain_still_names_cell_and_exception(make_ctx, tmp_path):
    nb = notebook("import numpy as np", "def f(x):\n    return 1 / x\n\ny = f(0)", SOFTMAX, NUMPY_MODEL, executed=True)
    res = grade_submission(submission(tmp_path, nb), make_ctx())
    assert "celda 2 (`def f(x):`): ZeroDivisionError: division by zero" in res.message
    assert "Causa probable" not in res.message
    assert res.detail.startswith("cell 2 ('def f(x):'): ZeroDivisionError: division by zero")


def test_a_name_error_after_a_failing_cell_points_back_to_it(tmp_path):
    from grader.checks.cell_errors import explain, instructor_lines, student_text
    from grader.model import CellError

    nb = notebook("import numpy as np", "w = np.load('/content/drive/MyDrive/w.npy')", "print(w.sum())")
    path = tmp_path / "p.ipynb"
    path.write_text("{}")
    items = explain([CellError(1, "FileNotFoundError", "No such file"), CellError(2, "NameError", "name 'w' is not defined")],
                    nb, path, [], "es")
    text = student_text(items, "es")
    assert "celda 3 (`print(w.sum())`): NameError: name 'w' is not defined (seguramente por el error de la celda 2)" in text
    assert instructor_lines(items)[1].endswith("[seguramente por el error de la celda 2]")
