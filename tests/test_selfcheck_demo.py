"""`grader check` on every demo notebook, plus the two cases the Moodle demo lacks (out-of-order
execution; Colab/Drive paths, drive.mount and !pip), built here from the reference notebook.
Each verdict (exit status) and the message that explains it."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.cli import main
from grader.selfcheck import self_check

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "submissions" / "demo" / "mnist_cnn.zip"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Path]:
    """participant id -> the notebook that student handed in."""
    out = tmp_path_factory.mktemp("demo")
    with zipfile.ZipFile(DEMO) as z:
        z.extractall(out)
    found = {}
    for nb in out.glob("*/*.ipynb"):
        found[nb.parent.name.split("_")[1]] = nb
    return found


def _cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _code(source: str, text: str = "") -> dict:
    outputs = [{"name": "stdout", "output_type": "stream", "text": text}] if text else []
    return {"cell_type": "code", "execution_count": 0, "metadata": {}, "outputs": outputs, "source": source}


def out_of_order(reference: Path, dest: Path) -> Path:
    """The reference notebook after re-running the softmax cell at the end (count 15)."""
    nb = json.loads(reference.read_text(encoding="utf-8"))
    _cells(nb)[1]["execution_count"] = 15
    dest.write_text(json.dumps(nb), encoding="utf-8")
    return dest


def colab_drive(reference: Path, dest: Path) -> Path:
    """The reference notebook as run in Colab from Drive: mount, %cd, !pip, absolute and
    relative data files, a download."""
    nb = json.loads(reference.read_text(encoding="utf-8"))
    nb["cells"][2:2] = [
        _code("!pip install -q seaborn\nfrom google.colab import drive\ndrive.mount('/content/drive')\n"
              "%cd /content/drive/MyDrive/DL", "Mounted at /content/drive\n"),
        _code("import seaborn as sns\nDATOS = '/content/drive/MyDrive/DL/extra.npz'\nextra = np.load(DATOS)\n"
              "etiquetas = np.loadtxt('etiquetas.csv')\n!wget -q https://example.org/pesos.h5", "ok\n"),
    ]
    for i, c in enumerate(_cells(nb), 1):
        c["execution_count"] = i
    dest.write_text(json.dumps(nb), encoding="utf-8")
    return dest


def check(path: Path, *args: str) -> tuple[int, str]:
    """`grader check` in-process: (exit status, stdout)."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["check", str(path), *args])
    return rc, buf.getvalue()


def test_correct_notebook_passes_with_full_marks(demo):
    rc, out = check(demo["4518203"])  # José Núñez: the reference solution
    assert rc == 0, out
    assert "Nota esperada: 10 / 10" in out
    assert "no se ha encontrado nada que impida la nota máxima" in out
    assert "✘" not in out
    assert "tests ocultos de `softmax`" in out  # what stays unverified is said


def test_own_correct_solution_passes(demo):
    rc, out = check(demo["4518262"])  # Nerea Sáez: a different, correct CNN
    assert rc == 0, out


def test_wrong_softmax_names_the_failing_input_and_the_fix(demo):
    rc, out = check(demo["4518217"])  # María O'Connor: no max subtraction
    assert rc == 1
    line = next(ln for ln in out.splitlines() if "Función `softmax`" in ln)
    assert line.startswith("✘") and "2 de 3" in line
    assert "softmax([1000, 1001, 1002]) devolvió [nan nan nan]" in out
    assert "resta el máximo antes de exp" in out
    assert "Nota esperada: 9,33 / 10" in out  # 1 + 2·2/3 + 2 + 5


def test_wrong_cross_entropy_names_the_mistake(demo):
    rc, out = check(demo["4518224"])  # Lucía Fernández-Gómez: sums over m
    assert rc == 1
    assert "`cross_entropy`: 1 de 2 casos de prueba correctos" in out
    assert "sumaste sobre los m ejemplos sin promediar" in out
    assert "se esperaba 3.5951" in out


def test_unexecuted_notebook_names_the_cells(demo):
    rc, out = check(demo["4518241"])  # Zoë Ibáñez: never executed
    assert rc == 1
    assert "11 celdas sin ejecutar" in out
    assert "Sin ejecutar (sin número de ejecución): celda 2, celda 4" in out
    assert "no muestra la exactitud en test" in out
    # executed 0 + functions 4, accuracy unknown: 0 to 5 of its points
    assert "Nota esperada: entre 4 y 9 / 10" in out


def test_under_trained_model_is_judged_on_its_self_reported_accuracy(demo):
    report = self_check(demo["4518239"])  # Pérez, Álvaro: 65.3 % printed
    acc = next(c for c in report.checks if c.id == "accuracy")
    assert acc.basis == "self_reported" and acc.blocking
    assert acc.points == pytest.approx(5 * (0.6533 - 0.5) / 0.4, abs=0.01)
    assert "65,3 %" in acc.message and "autodeclarada" in acc.message
    assert report.exit_code == 1
    assert report.expected() == (pytest.approx(6.92), pytest.approx(6.92))


def test_truncated_file_is_invalid(demo):
    rc, out = check(demo["4518256"])  # Iñaki Etxeberria: 60 % of the bytes
    assert rc == 1
    assert "no es un cuaderno de Jupyter válido" in out and "el JSON está cortado" in out
    assert "Nota esperada: 0 / 10" in out


def test_out_of_order_execution_is_named(demo, tmp_path):
    rc, out = check(out_of_order(demo["4518203"], tmp_path / "practica1.ipynb"))
    assert rc == 1
    assert "ejecución fuera de orden" in out
    assert "la celda 5 [3] se ejecutó después de la celda 4 [15]" in out


def test_an_edited_test_cell_is_named_before_submitting(demo, tmp_path):
    nb = json.loads(demo["4518203"].read_text(encoding="utf-8"))
    i, cell = next((i, c) for i, c in enumerate(nb["cells"], 1)
                   if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"].get("solution"))
    cell["source"] = "assert True  # tests quitados"
    path = tmp_path / "mnist_cnn.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    rc, out = check(path)
    assert rc == 1
    gid = cell["metadata"]["nbgrader"]["grade_id"]
    assert f"«{gid}» (celda {i}) editada" in out and "No cambies esas celdas" in out
    rc, out = check(demo["4518203"])
    assert rc == 0 and "Celdas bloqueadas sin modificar (0/0 pt, comprobado)" in out


def test_a_notebook_without_release_checksums_leaves_locked_cells_to_the_grader(demo, tmp_path):
    nb = json.loads(demo["4518203"].read_text(encoding="utf-8"))
    for c in nb["cells"]:
        c["metadata"].get("nbgrader", {}).pop("checksum", None)
    path = tmp_path / "mnist_cnn.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    report = self_check(path, lang="en")
    locked = next(c for c in report.checks if c.id == "locked_cells")
    assert locked.basis == "pending" and not locked.blocking and "checksums" in locked.message


def test_colab_drive_notebook_lists_what_breaks_when_graded(demo, tmp_path):
    path = colab_drive(demo["4518203"], tmp_path / "mnist_cnn.ipynb")
    report = self_check(path)
    kinds = {(f.kind, f.cell): f for f in report.findings}
    assert ("drive_mount", 3) in kinds and kinds[("drive_mount", 3)].blocking
    assert ("colab_import", 3) not in kinds  # the mount says it once
    pip = kinds[("pip_install", 3)]
    assert pip.blocking and "seaborn" in pip.message
    absolute = {f.message for f in report.findings if f.kind == "absolute_path"}
    assert any("/content/drive/MyDrive/DL/extra.npz" in m for m in absolute)
    assert any("«/content/drive/MyDrive/DL»" in m for m in absolute)  # %cd
    assert kinds[("missing_file", 4)].blocking and "etiquetas.csv" in kinds[("missing_file", 4)].message
    assert kinds[("download", 4)].blocking
    assert report.exit_code == 1
    # the checks themselves pass; what the re-run needs is at risk
    assert all(not c.blocking for c in report.checks)
    assert report.expected() == (5.0, 10.0)
    rc, out = check(path)
    assert rc == 1 and "Lo que fallará al corregir" in out and "celda 3: drive.mount(...)" in out


def test_english_report(demo):
    rc, out = check(demo["4518217"], "--lang", "en")
    assert rc == 1
    assert "Function `softmax`" in out and "subtract the maximum before exp" in out
    assert "Expected grade: 9.33 / 10" in out


def test_json_report_for_tools(demo):
    rc, out = check(demo["4518224"], "--json")
    data = json.loads(out)
    assert rc == 1 and data["exit_code"] == 1 and data["ok"] is False
    assert data["assignment"] == "mnist_cnn" and data["how"] == "metadata"
    ce = next(c for c in data["checks"] if c["id"] == "cross_entropy")
    assert ce["points"] == 1.0 and ce["basis"] == "public_tests" and ce["blocking"]
    assert data["expected_grade"] == {"low": 9.0, "high": 9.0, "max": 10.0}
    assert [i["name"] for i in data["interface"]] == ["softmax", "cross_entropy", "preprocess", "model"]


def test_assignment_from_option_or_file_name(demo, tmp_path):
    nb = json.loads(demo["4518203"].read_text(encoding="utf-8"))
    del nb["metadata"]["grader"]  # copied into a fresh notebook: the release mark is lost
    anon = tmp_path / "mi_cuaderno.ipynb"
    anon.write_text(json.dumps(nb), encoding="utf-8")
    assert check(anon)[0] == 2  # cannot tell: bad usage
    rc, out = check(anon, "--assignment", "mnist_cnn")
    assert rc == 0 and "indicada con --assignment" in out
    named = tmp_path / "practica1.ipynb"  # the rubric's notebook.preferred patterns
    named.write_text(json.dumps(nb), encoding="utf-8")
    report = self_check(named)
    assert report.assignment == "mnist_cnn" and report.how == "file_name"


def test_bad_usage_exits_2(demo, tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.ipynb")]) == 2
    assert "no existe el fichero" in capsys.readouterr().err
    assert main(["check", str(demo["4518203"]), "--assignment", "no_such"]) == 2
    assert "no conozco la práctica «no_such»" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 2
    assert main(["check", str(demo["4518203"]), "--data", "mnist.npz=x.npz"]) == 2  # only with --rerun


def test_cli_process_imports_no_tensorflow_or_nbformat(demo):
    """The student's command, as Colab runs it: a fresh process; nothing heavy is imported."""
    code = ("import sys; from grader.cli import main; rc = main(['check', sys.argv[1], '--json']); "
            "heavy = [m for m in ('tensorflow', 'keras', 'nbformat', 'nbclient', 'jupyter_client') if m in sys.modules]; "
            "print('HEAVY', heavy, file=sys.stderr); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, str(demo["4518203"])], capture_output=True, text=True,
                         timeout=120, cwd="/")
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stderr
    data = json.loads(out.stdout)
    assert not any("imported" in n for n in data["notes"])  # nor did the functions' process


def test_a_check_kind_without_estimator_is_pending(demo, monkeypatch):
    """A new assignment's metric the self-check cannot estimate: listed, not guessed."""
    import dataclasses

    from grader.checks import kinds

    monkeypatch.setitem(kinds.KINDS, "accuracy", dataclasses.replace(kinds.KINDS["accuracy"], estimate=None))
    report = self_check(demo["4518203"])
    acc = next(c for c in report.checks if c.id == "accuracy")
    assert acc.basis == "pending" and acc.points is None and not acc.blocking
    assert report.expected() == (5.0, 10.0) and report.exit_code == 0
    assert "«Exactitud en el test oculto»" in report.pending


def test_upload_limit_option(demo):
    rc, out = check(demo["4518203"], "--max-upload-mb", "0.01")
    assert rc == 1 and "el límite de entrega es 0,01 MB" in out


def test_the_course_folder_rubric_wins_over_the_packaged_one(demo, tmp_path, monkeypatch):
    (tmp_path / "rubrics").mkdir()
    text = (ROOT / "rubrics" / "mnist_cnn.yaml").read_text(encoding="utf-8")
    (tmp_path / "rubrics" / "mnist_cnn.yaml").write_text(text.replace("threshold: 0.90", "threshold: 0.99"),
                                                         encoding="utf-8")
    monkeypatch.setenv("GRADER_COURSE_DIR", str(tmp_path))
    report = self_check(demo["4518203"])  # prints 97 %: below this course's 99 %
    acc = next(c for c in report.checks if c.id == "accuracy")
    assert acc.blocking and "umbral de 99 %" in acc.message


def test_messages_for_usage_and_pending_cases(demo, tmp_path, capsys):
    nb = json.loads(demo["4518203"].read_text(encoding="utf-8"))
    del nb["metadata"]["grader"]
    anon = tmp_path / "cuaderno.ipynb"
    anon.write_text(json.dumps(nb), encoding="utf-8")
    assert main(["check", str(anon)]) == 2
    assert "no sé de qué práctica es «cuaderno.ipynb»" in capsys.readouterr().err
    rubric = tmp_path / "r.yaml"
    rubric.write_text("assignment: other\nchecks:\n  - {id: sig, kind: unit_test, function: sigmoid, points: 2}\n"
                      "  - {id: executed, kind: executed_notebook, points: 1}\n", encoding="utf-8")
    assert main(["check", str(anon), "--rubric", str(rubric), "--assignment", "mnist_cnn"]) == 2
    assert "es de la práctica «other», no de «mnist_cnn»" in capsys.readouterr().err
    report = self_check(anon, rubric_path=rubric)  # a function this grader version has no tests for
    sig = report.checks[0]
    assert sig.basis == "pending" and "No hay tests públicos de `sigmoid`" in sig.message
    assert report.interface[0].name == "sigmoid" and not report.interface[0].ok
    assert report.expected() == (3.33, 10.0)  # executed 1 of 3 points, scaled to 10


def test_claimed_accuracy_is_left_to_the_grader(demo):
    report = self_check(demo["4518203"], lang="en")
    claimed = next(c for c in report.checks if c.id == "claimed_accuracy")
    assert claimed.basis == "pending" and claimed.points == 0
    assert "Your notebook shows 97 %; the grader compares it" in claimed.message


def test_rnn_notebook_missing_idx2char_is_named(tmp_path):
    """Every name the rnn_text re-run needs is required, idx2char included (the grader's probe
    stops without it)."""
    with zipfile.ZipFile(ROOT / "submissions" / "demo" / "rnn_text.zip") as z:
        name = next(n for n in z.namelist() if "_6340215_" in n)  # José Núñez: the reference
        nb = json.loads(z.read(name))
    path = tmp_path / "rnn_text.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert self_check(path).exit_code == 0
    cell = next(c for c in nb["cells"] if "".join(c["source"]).startswith("vocab = sorted"))
    cell["source"] = "vocab = sorted(set(text))\nchar2idx = {c: i for i, c in enumerate(vocab)}\n"
    path.write_text(json.dumps(nb), encoding="utf-8")
    report = self_check(path)
    missing = [i for i in report.interface if not i.ok]
    assert [i.name for i in missing] == ["idx2char"] and report.exit_code == 1
