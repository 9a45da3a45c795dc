"""ingest(): a Moodle download (zip or folder) -> one Submission per participant."""
from __future__ import annotations

import hashlib
import os
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from grader.errors import IngestError, UnsafeArchive
from grader.ingest import ExtractLimits, IngestReport, ingest

T0 = (2024, 3, 30, 12, 0, 0)


def notebook(tag: str, pad: int = 0) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {tag}", id="title"),
                nbformat.v4.new_code_cell("import numpy as np\n" + "# x\n" * pad, id="code")]
    return nbformat.writes(nb).encode()


def make_zip(path: Path, entries: dict[str, bytes | tuple[bytes, tuple]]) -> Path:
    """{name: data or (data, date_time)}; names ending in "/" are folders."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in entries.items():
            data, when = value if isinstance(value, tuple) else (value, T0)
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def run(tmp_path: Path, entries: dict, **kw) -> IngestReport:
    return ingest(make_zip(tmp_path / "download.zip", entries), "mnist_cnn", tmp_path / "work", **kw)


def by_id(report: IngestReport):
    return {s.participant_id: s for s in report.submissions}


def test_every_form_one_submission_each_sorted_by_id(tmp_path):
    report = run(tmp_path, {
        "José Núñez_100_assignsubmission_file/mnist.ipynb": notebook("a"),  # >= 4.1
        "Núñez, José_9_assignsubmission_file_/mnist.ipynb": notebook("b"),  # 3.x
        "Participant_10_assignsubmission_file/mnist.ipynb": notebook("c"),  # blind
        "Seán O'Connor_11_assignsubmission_file_mnist.ipynb": notebook("d"),  # flat
    })
    subs = report.submissions
    assert [s.participant_id for s in subs] == ["9", "10", "11", "100"]  # numeric, not "10" < "9"
    assert [s.full_name for s in subs] == ["Núñez, José", "", "Seán O'Connor", "José Núñez"]
    assert [s.blind for s in subs] == [False, True, False, False]
    assert [s.notebook_name for s in subs] == ["mnist.ipynb"] * 4
    assert [s.folder for s in subs] == ["Núñez, José_9_assignsubmission_file_",
                                        "Participant_10_assignsubmission_file",
                                        "Seán O'Connor_11_assignsubmission_file_",
                                        "José Núñez_100_assignsubmission_file"]
    assert all(s.assignment == "mnist_cnn" and s.notes == [] for s in subs)
    assert report.ignored == [] and report.warnings == []
    root = tmp_path / "work" / "originals"
    assert report.root == root.resolve()
    assert subs[2].notebook == (root / "Seán O'Connor_11_assignsubmission_file_mnist.ipynb").resolve()


def test_originals_are_byte_identical_with_sha256_size_and_time(tmp_path):
    data = notebook("Ñandú", pad=50)
    name = "Ana_1_assignsubmission_file/entrega/mnist.ipynb"
    report = run(tmp_path, {name: (data, (2024, 3, 31, 23, 59, 58))})
    sub = report.submissions[0]
    assert sub.notebook.read_bytes() == data
    assert sub.sha256 == hashlib.sha256(data).hexdigest() and sub.size == len(data)
    assert sub.submitted_at == datetime(2024, 3, 31, 23, 59, 58)
    assert sub.notebook_name == "entrega/mnist.ipynb" and sub.files == ["entrega/mnist.ipynb"]
    assert sub.notebook.is_absolute() and sub.notebook.is_relative_to(tmp_path / "work" / "originals")


def test_files_plugins_and_students_without_a_notebook(tmp_path):
    report = run(tmp_path, {
        "Ana_1_assignsubmission_file/informe.pdf": b"%PDF-1.4",
        "Ana_1_assignsubmission_file/mnist.ipynb": notebook("a"),
        "Ana_1_assignsubmission_onlinetext/onlinetext.html": b"<p>hola</p>",
        "Bea_2_assignsubmission_file/informe.pdf": b"%PDF-1.4",  # only a PDF
        "Carla_3_assignsubmission_onlinetext/onlinetext.html": b"<p>x</p>",  # only online text
        "Carla_3_assignsubmission_onlinetext/notas.ipynb": notebook("n"),  # not the file plugin
        "Dani_4_assignsubmission_file/": b"",  # an empty folder still counts
    })
    s = by_id(report)
    assert s["1"].files == ["informe.pdf", "mnist.ipynb", "onlinetext.html"]
    assert s["1"].notebook_name == "mnist.ipynb" and s["1"].folder == "Ana_1_assignsubmission_file"
    for pid, files in [("2", ["informe.pdf"]), ("3", ["notas.ipynb", "onlinetext.html"]), ("4", [])]:
        assert s[pid].files == files
        assert (s[pid].notebook, s[pid].notebook_name, s[pid].sha256, s[pid].size) == (None,) * 4
    assert s["2"].submitted_at == datetime(*T0) and s["4"].submitted_at is None
    assert s["3"].full_name == "Carla" and s["4"].folder == "Dani_4_assignsubmission_file"


def test_folder_and_flat_forms_of_one_student_are_merged(tmp_path):
    report = run(tmp_path, {
        "Ana María_5_assignsubmission_file/mnist.ipynb": (notebook("new"), (2024, 3, 31, 10, 0, 0)),
        "Ana María_5_assignsubmission_file_old.ipynb": (notebook("old"), (2024, 3, 1, 10, 0, 0)),
    })
    (sub,) = report.submissions
    assert sub.files == ["mnist.ipynb", "old.ipynb"]
    assert sub.notebook_name == "mnist.ipynb" and sub.folder == "Ana María_5_assignsubmission_file"
    assert sub.notes == ["2 notebooks handed in; graded 'mnist.ipynb' (the most recently modified); "
                         "not graded: 'old.ipynb'"]


def test_several_notebooks_preferred_pattern_wins_over_time(tmp_path):
    report = run(tmp_path, {
        "Ana_1_assignsubmission_file/old.ipynb": (notebook("o"), (2024, 3, 1, 0, 0, 0)),
        "Ana_1_assignsubmission_file/MNIST_CNN_final.ipynb": (notebook("m"), (2024, 3, 2, 0, 0, 0)),
        "Ana_1_assignsubmission_file/copia.ipynb": (notebook("c"), (2024, 3, 9, 0, 0, 0)),
    }, preferred=["entrega*.ipynb", "mnist_cnn*.ipynb"])
    (sub,) = report.submissions
    assert sub.notebook_name == "MNIST_CNN_final.ipynb"  # case-insensitive; older than copia
    assert sub.notes == ["3 notebooks handed in; graded 'MNIST_CNN_final.ipynb' (matches 'mnist_cnn*.ipynb'); "
                         "not graded: 'copia.ipynb', 'old.ipynb'"]
    assert sub.submitted_at == datetime(2024, 3, 2)


def test_several_notebooks_ties_break_by_size_then_name_and_checkpoints_lose(tmp_path):
    report = run(tmp_path, {
        "Ana_1_assignsubmission_file/a.ipynb": notebook("a"),
        "Ana_1_assignsubmission_file/b.ipynb": notebook("b", pad=10),  # same time, larger
        "Ana_1_assignsubmission_file/z-checkpoint.ipynb": (notebook("z", 99), (2025, 1, 1, 0, 0, 0)),
        "Bea_2_assignsubmission_file/x.ipynb": notebook("x"),
        "Bea_2_assignsubmission_file/w.ipynb": notebook("x"),  # same time and size
        "Carla_3_assignsubmission_file/mnist-checkpoint.ipynb": notebook("c"),  # all she handed in
    })
    s = by_id(report)
    assert s["1"].notebook_name == "b.ipynb"
    assert s["1"].notes == ["3 notebooks handed in; graded 'b.ipynb' (checkpoint copies left out; the "
                            "largest of those modified last); not graded: 'a.ipynb', 'z-checkpoint.ipynb'"]
    assert s["2"].notebook_name == "w.ipynb" and "first by name" in s["2"].notes[0]
    assert s["3"].notebook_name == "mnist-checkpoint.ipynb"
    assert s["3"].notes == ["graded 'mnist-checkpoint.ipynb' (only checkpoint copies were handed in)"]


def test_junk_and_unknown_paths_are_ignored_not_guessed(tmp_path):
    report = run(tmp_path, {
        "Ana_1_assignsubmission_file/mnist.ipynb": notebook("a"),
        "Ana_1_assignsubmission_file/.ipynb_checkpoints/mnist-checkpoint.ipynb": notebook("cp", 5),
        "__MACOSX/Ana_1_assignsubmission_file/._mnist.ipynb": b"\0\5\26\7",
        "Ana_1_assignsubmission_file/.DS_Store": b"\0",
        "instrucciones.txt": b"hola",
        "otra cosa/nb.ipynb": notebook("x"),
        "Bea_2_assignsubmission_file/entrega.zip": b"PK\5\6" + b"\0" * 18,
    })
    s = by_id(report)
    assert s["1"].files == ["mnist.ipynb"] and s["1"].notes == []
    assert report.ignored == ["Ana_1_assignsubmission_file/.DS_Store",
                              "Ana_1_assignsubmission_file/.ipynb_checkpoints/",
                              "__MACOSX/", "instrucciones.txt", "otra cosa/"]
    assert not (tmp_path / "work/originals/__MACOSX").exists()
    assert s["2"].notebook is None
    assert s["2"].notes == ["handed in 'entrega.zip': notebooks inside archives are not looked into"]


def test_zip_with_no_submission_says_what_was_expected(tmp_path):
    with pytest.raises(IngestError) as e:
        run(tmp_path, {"notebook.ipynb": notebook("a"), "datos/x.csv": b"1,2", "__MACOSX/y": b""})
    msg = str(e.value)
    assert "no Moodle submission" in msg and "_assignsubmission_file/" in msg
    assert "'datos/', 'notebook.ipynb'" in msg
    assert not (tmp_path / "work").exists()  # refused before writing anything
    with pytest.raises(IngestError, match="seem to be inside 'Tarea 1'"):
        run(tmp_path, {"Tarea 1/Ana_1_assignsubmission_file/nb.ipynb": notebook("a")})
    with pytest.raises(IngestError, match="found nothing"):
        run(tmp_path, {})


def test_a_failed_ingest_keeps_the_previous_originals(tmp_path):
    first = run(tmp_path, {"Ana_1_assignsubmission_file/nb.ipynb": notebook("a")})
    with pytest.raises(UnsafeArchive, match=r"'\.\./evil\.ipynb'"):
        run(tmp_path, {"Bea_2_assignsubmission_file/nb.ipynb": notebook("b"), "../evil.ipynb": b"{}"})
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(IngestError, match="not a readable zip"):
        ingest(tmp_path / "junk.zip", "mnist_cnn", tmp_path / "work")
    assert first.submissions[0].notebook.read_bytes() == notebook("a")
    assert not (tmp_path / "evil.ipynb").exists()
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["originals"]
    second = run(tmp_path, {"Bea_2_assignsubmission_file/nb.ipynb": notebook("b")})
    assert [p.name for p in (tmp_path / "work/originals").iterdir()] == ["Bea_2_assignsubmission_file"]
    assert second.submissions[0].participant_id == "2"


def test_zip_bomb_limits_reach_ingest_per_student(tmp_path):
    """Over a limit, that student's file is skipped and the row flagged; the class goes on."""
    rep = run(tmp_path, {"Ana_1_assignsubmission_file/nb.ipynb": notebook("a", pad=1000),
                         "Bea_2_assignsubmission_file/nb.ipynb": notebook("b")},
              limits=ExtractLimits(max_file_bytes=1000))
    ana, bea = rep.submissions
    assert ana.notebook is None and ana.flags == ["files_skipped"]
    assert any("limit per file is 1,000" in n for n in ana.notes)
    assert bea.notebook is not None and bea.flags == []


def _snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): (p.is_dir(), None if p.is_dir() else p.read_bytes(),
                                             p.lstat().st_mtime_ns) for p in root.rglob("*")}


def test_folder_input_is_read_in_place_and_never_written(tmp_path):
    src = tmp_path / "descarga"
    files = {"José Núñez_7_assignsubmission_file/sub/mnist.ipynb": notebook("j"),
             "José Núñez_7_assignsubmission_file/.ipynb_checkpoints/mnist-checkpoint.ipynb": notebook("c"),
             "Participante_8_assignsubmission_file_/a.ipynb": notebook("p"),
             "Eva_9_assignsubmission_file/": None, "leeme.txt": b"x"}
    for rel, data in files.items():
        path = src / rel
        if data is None:
            path.mkdir(parents=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    os.utime(src / "Participante_8_assignsubmission_file_/a.ipynb", (1711800000, 1711800000))
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor's private key")
    (src / "Participante_8_assignsubmission_file_/b.ipynb").symlink_to(secret)
    before = _snapshot(src)
    report = ingest(src, "mnist_cnn", tmp_path / "work", preferred=["b*.ipynb"])
    assert _snapshot(src) == before and not (tmp_path / "work").exists()
    s = by_id(report)
    assert s["7"].notebook == (src / "José Núñez_7_assignsubmission_file/sub/mnist.ipynb").resolve()
    assert s["7"].files == ["sub/mnist.ipynb"] and s["7"].notes == []
    assert s["7"].sha256 == hashlib.sha256(notebook("j")).hexdigest()
    assert s["8"].blind and s["8"].notebook_name == "a.ipynb" and s["8"].files == ["a.ipynb"]  # no link
    assert s["8"].submitted_at == datetime.fromtimestamp(1711800000)
    assert s["9"].files == [] and s["9"].notebook is None
    assert report.root == src.resolve()
    assert report.ignored == ["José Núñez_7_assignsubmission_file/.ipynb_checkpoints/",
                              "Participante_8_assignsubmission_file_/b.ipynb", "leeme.txt"]
    assert report.warnings == ["'Participante_8_assignsubmission_file_/b.ipynb' is a symbolic link; skipped"]


def test_missing_source(tmp_path):
    with pytest.raises(IngestError, match="no such file or folder"):
        ingest(tmp_path / "nope.zip", "mnist_cnn", tmp_path / "work")


def test_inconsistent_download_is_merged_with_warnings(tmp_path):
    report = run(tmp_path, {
        "Ana Gil_4_assignsubmission_file/nb.ipynb": (notebook("new"), (2024, 3, 31, 0, 0, 0)),
        "Ana Gil Pérez_4_assignsubmission_file_nb.ipynb": notebook("old"),
    })
    (sub,) = report.submissions
    assert sub.full_name == "Ana Gil" and sub.files == ["nb.ipynb"]
    assert sub.notebook.read_bytes() == notebook("new")
    assert report.warnings == [
        "participant 4 appears under several names: 'Ana Gil', 'Ana Gil Pérez'",
        "participant 4: 'nb.ipynb' appears twice in the download "
        "('Ana Gil Pérez_4_assignsubmission_file_nb.ipynb' and 'Ana Gil_4_assignsubmission_file/nb.ipynb')"]
