"""No silent stand-ins: grading anything but the bundled demo on stand-in data stops before any
work unless --allow-standin; --dry-run says what would happen without running student code; a
notebook of another assignment, or not from the template at all, gets one clear message."""
from __future__ import annotations

import copy
import hashlib
import json
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric, submission
from grader.checks.locked import check_locked_cells
from grader.cli import main
from grader.data.guard import StandinError, check_standin, demo_sums, is_bundled_demo
from grader.data.provenance import write_provenance
from grader.dryrun import plan, render
from grader.report.safe_text import clean_text
from grader.errors import GraderError
from grader.grade import GradeContext, grade_submission
from grader.rubric import LockedCellsCheck, load_rubric

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "submissions" / "demo"
RUBRIC = load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml")


def moodle_zip(path: Path, notebooks: dict[str, object]) -> Path:
    """A Moodle download: {"Name_pid": notebook or None (a PDF instead)}."""
    with zipfile.ZipFile(path, "w") as zf:
        for who, nb in notebooks.items():
            folder = f"{who}_assignsubmission_file"
            if nb is None:
                zf.writestr(f"{folder}/informe.pdf", b"%PDF-1.4")
            else:
                zf.writestr(f"{folder}/mnist_cnn.ipynb", nbformat.writes(nb))
    return path


@pytest.fixture
def real_zip(tmp_path):
    nb = notebook("import numpy as np", SOFTMAX, NUMPY_MODEL, executed=True)
    return moodle_zip(tmp_path / "download.zip", {"Ana Pérez_101": nb})


def test_demo_sums_list_the_shipped_zips():
    sums = demo_sums(str(ROOT))
    shipped = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in DEMO.glob("*.zip")}
    assert sums == shipped, ("a demo zip was rebuilt: update the list with "
                             "`cd submissions/demo && sha256sum *.zip > SHA256SUMS`")
    assert all(is_bundled_demo(DEMO / name, str(ROOT)) for name in shipped.values())


def test_standin_stops_a_real_download(tmp_path, real_zip, capsys):
    with pytest.raises(StandinError, match="grader data mnist_cnn"):
        check_standin(RUBRIC, real_zip, allow=False, course=str(ROOT), root=tmp_path / "none")
    out = tmp_path / "reports"
    rc = main(["grade", "mnist_cnn", str(real_zip), "--out", str(out), "--course-dir", str(ROOT),
               "--data-dir", str(tmp_path / "none")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "STAND-IN data (mnist.npz, hidden_test)" in err and "--allow-standin" in err
    assert not out.exists()  # stopped before any work: nothing extracted, nothing written


def test_demo_copy_is_the_demo_but_an_edited_one_is_not(tmp_path):
    copy_zip = tmp_path / "mnist_cnn.zip"
    copy_zip.write_bytes((DEMO / "mnist_cnn.zip").read_bytes())
    sources, warnings = check_standin(RUBRIC, copy_zip, allow=False, course=str(ROOT), root=tmp_path)
    assert warnings == [] and {s.kind for s in sources} == {"standin"}
    assert all(s.path.is_file() and len(s.sha256) == 64 for s in sources)  # generated: printed in full
    copy_zip.write_bytes((DEMO / "mnist_cnn.zip").read_bytes() + b"\0")
    with pytest.raises(StandinError):
        check_standin(RUBRIC, copy_zip, allow=False, course=str(ROOT), root=tmp_path)
    _, warnings = check_standin(RUBRIC, copy_zip, allow=True, course=str(ROOT), root=tmp_path)
    assert "STAND-IN" in warnings[0]


def test_prepared_data_passes_the_guard(tmp_path, real_zip):
    folder = tmp_path / "data" / "mnist_cnn"
    (folder / "public").mkdir(parents=True)
    (folder / "hidden").mkdir()
    z = np.zeros((3, 28, 28), np.uint8)
    np.savez(folder / "public" / "mnist.npz", x_train=z, y_train=[1, 2, 3], x_test=z, y_test=[1, 2, 3])
    np.savez(folder / "hidden" / "h.npz", x=z, y=[4, 5, 6])
    write_provenance(folder, "mnist_cnn", {"mnist.npz": folder / "public" / "mnist.npz"},
                     folder / "hidden" / "h.npz", [], 1, [])
    sources, warnings = check_standin(RUBRIC, real_zip, allow=False, course=str(ROOT), root=tmp_path / "data")
    assert warnings == [] and {s.kind for s in sources} == {"prepared"}
    assert all(len(s.sha256) == 64 for s in sources)


def test_dry_run_runs_no_student_code(tmp_path, capsys):
    good = notebook("import numpy as np", SOFTMAX, NUMPY_MODEL, executed=True)
    good.metadata["grader"] = {"assignment": "mnist_cnn"}
    # a notebook that would write a file if anything ran it
    good.cells.append(nbformat.v4.new_code_cell(f"open({str(tmp_path / 'ran')!r}, 'w').write('x')"))
    other = copy.deepcopy(good)
    other.metadata["grader"] = {"assignment": "imagenet_cnn"}
    src = moodle_zip(tmp_path / "d.zip", {"Ana Pérez_101": good, "Bea\x1b[31mRed_102": other,
                                          "Carla Ruiz_103": None})
    out = tmp_path / "reports"
    p = plan(RUBRIC, src, out, workers=2, course=str(ROOT), data_root=tmp_path / "none")
    assert p.gradable == 1 and [r[0] for r in p.rows] == ["101", "102", "103"]
    notes = {r[0]: r[3] for r in p.rows}
    assert "matches 'mnist_cnn*.ipynb'" in notes["101"]
    assert "this is the imagenet_cnn notebook, handed in to mnist_cnn" in notes["102"].lower()
    assert notes["103"].startswith("nothing gradable: no notebook (informe.pdf)")
    assert p.data_stop and "STAND-IN" in p.data_stop
    assert p.per_notebook_s == RUBRIC.limits.timeout_s and p.estimate_s == RUBRIC.limits.timeout_s
    text = render(p)
    assert "\x1b" not in text and "BeaRed" in text and "THE RUN WOULD STOP" in text
    # measured times of the last run replace the configured limit
    (out / "mnist_cnn").mkdir(parents=True)
    (out / "mnist_cnn" / "results.jsonl").write_text("\n".join(json.dumps(
        {"status": "graded", "timings": {"total_s": t}}) for t in (40, 60, 500)) + "\n")
    p = plan(RUBRIC, src, out, workers=2, course=str(ROOT), data_root=tmp_path / "none")
    assert p.per_notebook_s == 60 and "measured" in p.per_notebook_from
    rc = main(["grade", "mnist_cnn", str(src), "--out", str(out), "--dry-run", "--course-dir", str(ROOT),
               "--data-dir", str(tmp_path / "none")])
    assert rc == 1 and "DRY RUN of mnist_cnn" in capsys.readouterr().out
    assert not (tmp_path / "ran").exists() and not (out / "mnist_cnn" / "originals").exists()
    # a worksheet of another assignment is caught by the dry run too
    other = tmp_path / "ws.csv"
    other.write_text("Identifier,Full name,Status,Grade,Maximum grade,Last modified (grade)\n"
                     "Participant 999,Zoe,No submission,,10.00,-\n", encoding="utf-8")
    with pytest.raises(GraderError, match="none of the 3 participants"):
        plan(RUBRIC, src, out, course=str(ROOT), data_root=tmp_path / "none", worksheet=other)


def test_dry_run_text_goes_through_the_one_cleaner():
    """The dry run prints student text through safe_text.clean_text: a whole ANSI sequence
    goes (not just its ESC), a bidi override becomes a space, long text is cut."""
    assert clean_text("a\x1b[2Jb\u202ec") == "ab c"
    assert clean_text("x" * 50, 30) == "x" * 29 + "…"


def test_wrong_assignment_notebook_is_one_clear_row(tmp_path):
    nb = notebook("import numpy as np", SOFTMAX, NUMPY_MODEL, executed=True)
    nb.metadata["grader"] = {"assignment": "imagenet_cnn"}
    ctx = GradeContext(rubric=small_rubric(), session=None, lang="en", datasets={}, data={})
    res = grade_submission(submission(tmp_path, nb), ctx)
    assert res.status == "invalid" and res.flags == ["wrong_assignment"] and res.score == 0
    assert res.message.startswith("This is the imagenet_cnn notebook, handed in to mnist_cnn.")


def test_check_with_assignment_says_the_same(tmp_path, capsys):
    nb = nbformat.read(ROOT / "assignments" / "imagenet_cnn" / "release" / "imagenet_cnn.ipynb", as_version=4)
    path = tmp_path / "practica.ipynb"
    nbformat.write(nb, path)
    assert main(["check", str(path), "--assignment", "mnist_cnn", "--lang", "en", "--course-dir", str(ROOT)]) == 2
    assert "This is the imagenet_cnn notebook, handed in to mnist_cnn" in capsys.readouterr().err


def test_notebook_not_from_the_template_is_one_message():
    release = ROOT / "assignments" / "mnist_cnn" / "release" / "mnist_cnn.ipynb"
    res, flags = check_locked_cells(notebook("print(1)", "x = 2"), LockedCellsCheck(id="locked_cells", kind="locked_cells"),
                                    release, "en")
    assert flags == ["not_from_template"] and not res.passed
    assert "does not start from the released assignment" in res.message and "deleted" not in res.message
