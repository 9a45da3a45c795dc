"""Random and hostile bytes as what students and Moodle hand the grader: the notebook inside a
one-student Moodle zip, the zip itself, and the --worksheet. Each ends in a result row (status
and message) or in one clear `grader: error: …` and a non-zero exit code, never a traceback
(issue 14; the configuration files are in test_fuzz_configs.py).

Cheap real paths, so the file runs in seconds: no student code runs. Notebooks go through ingest
and grading up to the re-run (a rubric of static checks: read, assignment mark, executed, locked
cells) plus the function extraction unit tests start from, and once through the whole `grader
grade`; zips and worksheets through `grader grade --dry-run` (ingest, notebook choice, reading
each notebook, the worksheet checked against the download) and the worksheet's fill.
Examples are derandomized (the same in CI every time); @example seeds are the hostile classics.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import warnings
import zipfile

import yaml
from hypothesis import event, example, given
from hypothesis import strategies as st

from fuzz_support import (FOLDER, FUZZ, HOSTILE_TEXT, JSON, NB_BYTES, ONE_STUDENT_ZIP, RELEASED, ROOT,
                          assert_clear_failure_or_success, cut, dry_run, moodle_zip, run_cli, scratch)
from grader.export.worksheet_io import WorksheetError, fill, read_worksheet
from grader.grade import GradeContext, grade_submission
from grader.ingest import ingest
from grader.model import STATUSES
from grader.rubric import parse_rubric

DEMO_WORKSHEET = ROOT / "submissions" / "demo" / "mnist_cnn.worksheet.csv"
# A rubric of static checks only: grading never starts a sandbox job with it.
STATIC_RUBRIC = {
    "assignment": "mnist_cnn", "max_grade": 10,
    "checks": [{"id": "executed", "kind": "executed_notebook", "points": 1},
               {"id": "locked_cells", "kind": "locked_cells", "points": 1, "template": str(RELEASED)}]}



# --- (a) the notebook inside a one-student Moodle zip ----------------------------------------
BASE_NB = json.loads(RELEASED.read_text(encoding="utf-8"))


@st.composite
def mutated_notebook(draw) -> bytes:
    """The released notebook with one to three values anywhere in it replaced by random JSON
    (or deleted): past the JSON parser, into nbformat, the assignment mark, the checks."""
    nb = copy.deepcopy(BASE_NB)
    for _ in range(draw(st.integers(1, 3))):
        node = nb
        for _ in range(draw(st.integers(0, 6))):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            if isinstance(node[key], (dict, list)) and draw(st.booleans()):
                node = node[key]
                continue
            if isinstance(node, dict) and draw(st.booleans()):
                del node[key]
            else:
                node[key] = draw(JSON | HOSTILE_TEXT)
            break
    return json.dumps(nb, ensure_ascii=draw(st.booleans())).encode("utf-8")


CODE = st.sampled_from(["def softmax(z):\n    return z", "def softmax(", "import os; os._exit(1)",
                        "class A:\n  def softmax(self): pass", "softmax = lambda z: z", "%%bash\nls",
                        "!pip install x", "def cross_entropy(y, y_hat):\n" + "    x = 1\n" * 50,
                        "global softmax\ndef softmax(z): ...", "\x00", "async def softmax(z): await z"])


@st.composite
def edited_notebook(draw) -> bytes:
    """The released notebook still valid, with student-controlled parts changed: cell sources
    (code that defines or breaks the functions), metadata (nbgrader's, the grader's mark, any),
    outputs and execution counts."""
    nb = copy.deepcopy(BASE_NB)
    for _ in range(draw(st.integers(1, 4))):
        cell = draw(st.sampled_from(nb["cells"]))
        what = draw(st.sampled_from(["source", "metadata", "nbgrader", "mark", "count", "output", "drop"]))
        if what == "source":
            cell["source"] = draw(CODE | st.text(max_size=80) | HOSTILE_TEXT)
        elif what == "metadata":
            cell["metadata"][draw(st.text(max_size=8))] = draw(JSON)
        elif what == "nbgrader":
            cell["metadata"]["nbgrader"] = draw(JSON | st.fixed_dictionaries(
                {"grade_id": JSON | st.text(max_size=8), "locked": JSON, "checksum": JSON | st.text(max_size=8)}))
        elif what == "mark":
            nb["metadata"]["grader"] = draw(JSON | st.fixed_dictionaries({"assignment": JSON | HOSTILE_TEXT}))
        elif what == "count" and cell["cell_type"] == "code":
            cell["execution_count"] = draw(st.none() | st.integers(-5, 2**40))
        elif what == "output" and cell["cell_type"] == "code":
            cell["outputs"].append({"output_type": "stream", "name": "stdout", "text": draw(st.text(max_size=40))})
        elif what == "drop" and len(nb["cells"]) > 1:
            nb["cells"].remove(cell)
    return json.dumps(nb).encode("utf-8")



NOTEBOOK_BYTES = st.one_of(st.binary(max_size=300), mutated_notebook(), edited_notebook(), cut(NB_BYTES),
                           JSON.map(lambda v: json.dumps(v).encode()))


def grade_static(nb_bytes: bytes, name: str = "mnist_cnn.ipynb") -> list:
    """Ingest a one-student Moodle zip holding `nb_bytes`, grade it with the static rubric."""
    from grader.checks import extract_functions
    from grader.errors import InvalidNotebook
    from grader.ingest.read_notebook import read_notebook

    rubric = parse_rubric(STATIC_RUBRIC, "fuzz-rubric")
    with scratch() as d:
        (d / "download.zip").write_bytes(moodle_zip({f"{FOLDER}/{name}": nb_bytes}))
        report = ingest(d / "download.zip", "mnist_cnn", d / "work", preferred=["*.ipynb"])
        ctx = GradeContext(rubric=rubric, session=None, lang="es", datasets={}, data={})
        rows = [grade_submission(sub, ctx) for sub in report.submissions]
        for sub in report.submissions:  # what the unit tests would start from
            if sub.notebook is not None:
                with contextlib.suppress(InvalidNotebook):
                    extract_functions(read_notebook(sub.notebook)[0], ["softmax", "cross_entropy"])
    return rows


@FUZZ
@given(NOTEBOOK_BYTES)
@example(b"")
@example(b"\x00" * 64)
@example(NB_BYTES[: len(NB_BYTES) // 2])  # cut off
@example(b"\xef\xbb\xbf" + NB_BYTES)  # BOM
@example(NB_BYTES.decode("utf-8").encode("utf-16"))
@example(b'{"cells": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")  # nesting
@example(b'{"cells": [], "metadata": ' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"}")
@example(b'{"cells": 5, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
@example(b'{"cells": [{"cell_type": "code"}], "nbformat": "4", "nbformat_minor": null, "metadata": []}')
@example(b'{"cells": [], "nbformat": 3, "nbformat_minor": 0, "metadata": {}}')
@example(b'{"cells": [], "nbformat": 99, "nbformat_minor": 0, "metadata": {}}')
@example(b'{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {"grader": {"assignment": ["x"]}}}')
@example(b'{"cells": [{"cell_type": "code", "source": 5, "metadata": {"nbgrader": 1}, "outputs": {}, '
         b'"execution_count": "x"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
@example(b"[" + b"1," * 1000 + b"1]")
@example(b'{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}, "a": NaN, "b": 1e999}')
def test_notebook_bytes_end_in_a_result_row(nb_bytes):
    rows = grade_static(nb_bytes)
    assert len(rows) == 1
    row = rows[0]
    event(f"status {row.status}")
    assert row.status in STATUSES
    assert row.status == "graded" or row.message, row
    row.score  # noqa: B018 (computable: the exports need it)


def test_hostile_notebooks_through_the_whole_grade_command(capsys, tmp_path):
    """The real command, every export: each student gets a row in results.jsonl and the
    worksheet, however broken their notebook (static rubric: no student code runs)."""
    rubric = tmp_path / "static.yaml"
    rubric.write_text(yaml.safe_dump(STATIC_RUBRIC), encoding="utf-8")
    bad = {"1001": b"", "1002": NB_BYTES[:1000], "1003": b"\xff\xfe\x00garbage",
           "1004": b'{"cells": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
           "1005": NB_BYTES.decode("utf-8").encode("utf-16"),
           "1006": b'{"cells": [{"cell_type": "code", "source": 5}], "nbformat": 4, "nbformat_minor": 5, "metadata": []}',
           "1007": NB_BYTES}
    src = tmp_path / "download.zip"
    src.write_bytes(moodle_zip({f"Eve [bold] \x1b[31m{pid}_{pid}_assignsubmission_file/mnist_cnn.ipynb": data
                                for pid, data in bad.items()}))
    rc, out, err = run_cli(capsys, "grade", "mnist_cnn", str(src), "--rubric", str(rubric), "--out",
                           str(tmp_path / "out"), "--allow-standin", "--unsafe-no-sandbox", "--workers", "1")
    assert rc == 0, err
    rows = {r["participant_id"]: r for r in map(json.loads, (tmp_path / "out/mnist_cnn/results.jsonl")
                                                .read_text(encoding="utf-8").splitlines())}
    assert sorted(rows) == sorted(bad)
    for pid, row in rows.items():
        assert row["status"] in STATUSES and (row["status"] == "graded" or row["message"]), row
    assert rows["1007"]["status"] == "graded" and rows["1001"]["status"] == "invalid"
    assert "Traceback" not in out + err


# --- (b) the Moodle zip itself ---------------------------------------------------------------
def _zip_with(entries: list[tuple[str, bytes]], comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": on purpose
        z.comment = comment
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (2026, 3, 30, 10, 0, 0)), data)
    return buf.getvalue()


GOOD_ZIP = moodle_zip({f"{FOLDER}/mnist_cnn.ipynb": NB_BYTES, f"{FOLDER}/data.npy": b"\x93NUMPY"})


def _lying_sizes(data: bytes) -> bytes:
    """A zip whose central directory declares a 4 GiB file (a zip bomb's lie)."""
    out = bytearray(data)
    cd = out.rfind(b"PK\x01\x02")
    out[cd + 24:cd + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    return bytes(out)


def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for pos, value in flips:
        out[pos % len(out)] = value
    return bytes(out)


ZIP_NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40) | st.sampled_from(
    ["../evil.ipynb", "/abs/x.ipynb", "C:\\x.ipynb", "a/../../b.ipynb", f"{FOLDER}/", f"{FOLDER}/../x",
     "__MACOSX/._x", f"{FOLDER}/\x00.ipynb", f"{FOLDER}/" + "a" * 300 + ".ipynb"])
ZIP_BYTES = st.one_of(
    st.binary(max_size=300),
    cut(GOOD_ZIP),
    st.lists(st.tuples(st.integers(0, len(GOOD_ZIP) - 1), st.integers(0, 255)), min_size=1, max_size=8)
    .map(lambda flips: _flip(GOOD_ZIP, flips)),
    st.lists(st.tuples(ZIP_NAMES, st.binary(max_size=50)), max_size=5).map(_zip_with))


@FUZZ
@given(ZIP_BYTES)
@example(b"")
@example(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
@example(GOOD_ZIP[:-10])  # cut off
@example(_lying_sizes(GOOD_ZIP))
@example(_zip_with([("../../etc/cron.d/x", b"x"), (f"{FOLDER}/../../y.ipynb", b"{}")]))
@example(_zip_with([(f"{FOLDER}/inner.zip", GOOD_ZIP), (f"{FOLDER}/self.zip", b"PK\x03\x04" * 10)]))
@example(_zip_with([(f"{FOLDER}/mnist_cnn.ipynb", NB_BYTES)] * 2))  # the same name twice
@example(_zip_with([(f"{FOLDER}/" + "x" * 60_000 + ".ipynb", b"{}")]))
def test_zip_bytes_end_in_rows_or_one_clear_error(capsys, data):
    with scratch() as d:
        rc, out, err = dry_run(capsys, d, data)
    assert_clear_failure_or_success(rc, err)
    if rc in (0, 1):
        assert out.startswith("DRY RUN of mnist_cnn")


# --- (c) the --worksheet file -----------------------------------------------------------------
WS_BYTES = DEMO_WORKSHEET.read_bytes()
WS_LINES = WS_BYTES.decode("utf-8-sig").splitlines()


@st.composite
def mutated_worksheet(draw) -> bytes:
    """The demo's worksheet with cells, lines or the header changed, in one of its encodings."""
    lines = list(WS_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        cells = lines[i].split(",")
        j = draw(st.integers(0, len(cells) - 1))
        what = draw(st.sampled_from(["cell", "drop", "dup", "line"]))
        if what == "cell":
            cells[j] = draw(HOSTILE_TEXT | st.text(max_size=15) | st.sampled_from(["10.00", "-1", "1e9", "nan", "9,5", '"']))
            lines[i] = ",".join(cells)
        elif what == "drop":
            del lines[i]
            if not lines:
                break
        elif what == "dup":
            lines.insert(i, lines[i])
        else:
            lines[i] = draw(st.text(max_size=60))
    text = "\r\n".join(lines) + "\r\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return text.encode(encoding, errors="replace")


WORKSHEET_BYTES = st.one_of(st.binary(max_size=300), cut(WS_BYTES), mutated_worksheet())


@FUZZ
@given(WORKSHEET_BYTES)
@example(b"")
@example(b"\x00" * 100)
@example(GOOD_ZIP)  # a zip (an .xlsx is one) instead of the CSV
@example(WS_BYTES.replace(b",", b";"))
@example(WS_BYTES.decode("utf-8-sig").encode("utf-16-be"))
@example(WS_BYTES + WS_LINES[1].encode() + b"\n")  # a participant twice
@example(WS_BYTES.replace(b"10.00", b"1e999"))
@example(WS_BYTES.replace(b'"Participant 4518203"', b'"Participant 4518203' + b"9" * 5000 + b'"'))
@example(b'Identifier,"Full name"\n"' + b"x" * 200_000)  # an unterminated quote
def test_worksheet_bytes_end_in_rows_or_one_clear_error(capsys, data):
    with scratch() as d:
        (d / "worksheet.csv").write_bytes(data)
        rc, out, err = dry_run(capsys, d, ONE_STUDENT_ZIP, "--worksheet", str(d / "worksheet.csv"))
        assert_clear_failure_or_success(rc, err)
        try:  # what the grade run then writes back: the same worksheet, Grade and Feedback filled
            ws = read_worksheet(d / "worksheet.csv")
            filled = fill(ws, {pid: (7.5, "<p>=cmd|' /C calc'!A0</p>") for pid in list(ws.by_pid())[:1]})
        except WorksheetError as exc:
            assert str(exc)
        else:
            assert isinstance(filled, str)
