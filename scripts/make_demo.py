"""Build submissions/demo/mnist_cnn.zip: a Moodle (>= 4.1) "Download all submissions" zip.

Each demo student's notebook starts from the RELEASED template, gets its solution stubs filled
(the reference answers from the source notebook, or a student's own mistakes) and is then really
executed by a Jupyter kernel, offline, on the stand-in MNIST data: the outputs are genuine, so the
grader's "executed" and "claimed vs reproduced accuracy" checks meet what real hand-ins look like.
After each run one extra cell, never saved, scores the live model on the hidden split so that
submissions/demo/README.md can state the accuracy the grader should reproduce.

    .venv/bin/python scripts/make_demo.py [--out submissions/demo/mnist_cnn.zip]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments/mnist_cnn/source/mnist_cnn.ipynb"
RELEASE = ROOT / "assignments/mnist_cnn/release/mnist_cnn.ipynb"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")  # nbgrader's python code stub
CLAIM = re.compile(r"Exactitud en test: ([0-9.]+)")


@dataclass
class Student:
    name: str
    pid: str  # Moodle participant id (per assignment)
    when: tuple[int, int, int, int, int, int]  # last modified, Europe/Madrid (even seconds: DOS time)
    file: str = "mnist_cnn.ipynb"
    answers: dict[str, str] = field(default_factory=dict)  # grade_id -> own code (else reference)
    executed: bool = True  # False: handed in without running it
    kernelspec: dict | None = None
    broken: bool = False  # truncated JSON (a save interrupted half-way)
    extras: bool = False  # also a PDF export and Jupyter's .ipynb_checkpoints copy
    swap: tuple[list[str], list[str]] | None = None  # two runs of cells (ids) to swap


# The mistakes the demo is about; everything not listed is the reference solution.
SOFTMAX_UNSTABLE = """\
z = np.asarray(z, dtype=float)
e = np.exp(z)  # sin restar el máximo
return e / e.sum(axis=0, keepdims=True)"""
CROSS_ENTROPY_SUM = """\
y_hat = np.asarray(y_hat, dtype=float)
return float(-np.sum(y * np.log(y_hat)))"""
TRAIN_SHORT = """\
EPOCHS = 5
# con pocas imágenes para que vaya rápido
history = model.fit(x_train_p[:600], y_train[:600], epochs=EPOCHS, batch_size=64,
                    validation_split=0.1, verbose=2)"""
OWN_WORK = {  # a student who wrote her own (correct) code rather than the reference's
    "softmax": "z = np.array(z, dtype=np.float64)\ne = np.exp(z - z.max(axis=0))\nreturn e / e.sum(axis=0)",
    "cross_entropy": "eps = 1e-12\nlosses = -np.sum(y * np.log(np.clip(y_hat, eps, 1.0)), axis=0)\n"
                     "return float(np.mean(losses))",
    "preprocess": "return x.reshape(-1, 28, 28, 1).astype(np.float32) / 255.0",
    "model": """\
model = tf.keras.Sequential([
    tf.keras.Input(shape=(28, 28, 1)),
    tf.keras.layers.Conv2D(32, (3, 3), activation="relu"),
    tf.keras.layers.MaxPooling2D((2, 2)),
    tf.keras.layers.Conv2D(32, (3, 3), activation="relu"),
    tf.keras.layers.MaxPooling2D((2, 2)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dropout(0.25),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])""",
    "train": """\
history = model.fit(x_train_p, y_train, epochs=8, batch_size=32,
                    validation_split=0.15, verbose=2)""",
}

# The planted copy (grader/integrity): Nerea's own work with the variables renamed, comments
# added, the code reformatted, and the softmax and cross-entropy sections swapped. The same
# computation, so the grades are those of the reference code it replaces (Zoë never ran it).
COPIED_FROM_NEREA = {
    "softmax": "# paso a float64 para no perder precisión\nlogits = np.array(z, dtype = np.float64)\n"
               "exps = np.exp(logits - logits.max(axis = 0))  # estable numéricamente\n"
               "return exps / exps.sum(axis = 0)",
    "cross_entropy": "tiny = 1E-12  # para no hacer log(0)\n"
                     "per_example = -np.sum(y * np.log(np.clip(y_hat, tiny, 1.0)), axis=0)\n"
                     "return float(np.mean(per_example))",
    "preprocess": "# a [0, 1] con un canal\nreturn x.reshape(-1, 28, 28, 1).astype(np.float32) / 255.",
    "model": """\
# Mi red: dos bloques de convolución y pooling
model = tf.keras.Sequential(
    [
        tf.keras.Input(shape=(28, 28, 1)),
        tf.keras.layers.Conv2D(32, (3, 3), activation='relu'),
        tf.keras.layers.MaxPooling2D((2, 2)),
        tf.keras.layers.Conv2D(32, (3, 3), activation='relu'),
        tf.keras.layers.MaxPooling2D((2, 2)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dropout(0.25),
        tf.keras.layers.Dense(10, activation='softmax')
    ]
)
model.compile(
    optimizer=tf.keras.optimizers.Adam(0.001),
    loss='sparse_categorical_crossentropy',
    metrics=['accuracy'],
)""",
    "train": """\
# 8 épocas bastan
history = model.fit(
    x_train_p, y_train,
    epochs=8, batch_size=32,
    validation_split=0.15, verbose=2,
)""",
}
SWAPPED = (["softmax_intro", "softmax", "test_softmax"],
           ["cross_entropy_intro", "cross_entropy", "test_cross_entropy"])

STUDENTS = [
    Student("José Núñez", "4518203", (2026, 3, 30, 22, 41, 6)),
    Student("María O'Connor", "4518217", (2026, 3, 29, 19, 12, 54),
            answers={"softmax": SOFTMAX_UNSTABLE}),
    Student("Lucía Fernández-Gómez", "4518224", (2026, 3, 31, 23, 47, 30),
            file="mnist_cnn_LuciaFG.ipynb", answers={"cross_entropy": CROSS_ENTROPY_SUM}),
    Student("Pérez, Álvaro", "4518239", (2026, 3, 27, 11, 3, 12),
            file="mnist_cnn (1).ipynb", answers={"train": TRAIN_SHORT}),
    Student("Zoë Ibáñez", "4518241", (2026, 3, 31, 18, 20, 44), executed=False,
            answers=COPIED_FROM_NEREA, swap=SWAPPED,
            kernelspec={"display_name": "Python [conda env:tf]", "language": "python",
                        "name": "conda-env-tf-py"}),
    Student("Iñaki Etxeberria", "4518256", (2026, 3, 31, 23, 58, 8), broken=True),
    Student("Nerea Sáez", "4518262", (2026, 3, 25, 9, 15, 36), answers=OWN_WORK, extras=True),
]

HIDDEN_EVAL = """\
import json as _json, numpy as _np
_h = _np.load({path!r})
_p = model.predict(preprocess(_h["x"]), verbose=0)
print(_json.dumps({{"hidden_acc": float(_np.mean(_np.argmax(_p, axis=1) == _h["y"])), "n": int(len(_h["y"]))}}))
"""


def reference_answers(source: Path) -> dict[str, str]:
    """grade_id -> the code between BEGIN/END SOLUTION in the instructor's source, dedented."""
    answers = {}
    for cell in nbformat.read(source, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        m = re.search(r"### BEGIN SOLUTION\n(.*?)\n[ \t]*### END SOLUTION", cell.source, re.S)
        if m:
            answers[meta["grade_id"]] = textwrap.dedent(m.group(1))
    return answers


def fill(template, answers: dict[str, str]):
    """A copy of the released template with each solution cell's stub replaced by an answer."""
    nb = nbformat.from_dict(json.loads(json.dumps(template)))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in answers:
            continue
        lines = cell.source.split("\n")
        i = next(i for i, line in enumerate(lines) if line.strip() == STUB[0])
        assert lines[i + 1].strip() == STUB[1], f"{grade_id}: not nbgrader's stub"
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        body = textwrap.indent(answers[grade_id], indent, lambda s: True).split("\n")
        cell.source = "\n".join(lines[:i] + [b if b.strip() else "" for b in body] + lines[i + 2:])
    return nb


class Kernel:
    """Runs notebooks in a pinned python3 kernel (this venv's interpreter), offline."""

    def __init__(self, tmp: Path, hidden: Path, offline: dict[str, str]):
        self.tmp, self.hidden = tmp, hidden
        python = ROOT / ".venv/bin/python"
        spec = tmp / "kernels" / "python3"
        spec.mkdir(parents=True)
        # An explicit interpreter: a user-level "python3" kernelspec must not win (design.md).
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [str(python if python.exists() else Path(sys.executable)), "-m",
                     "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)", "language": "python"}))
        (tmp / "offline.json").write_text(json.dumps(offline))
        (tmp / "home").mkdir()
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp / "home"),
                    "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT / "grader" / "runner"),
                    "GRADER_OFFLINE_FILES": str(tmp / "offline.json"), "TF_CPP_MIN_LOG_LEVEL": "2"}

    def execute(self, nb, tag: str, last_cell: str, allow_errors: bool = False):
        """Execute `nb` in place, then `last_cell` in the same kernel without saving it in `nb`;
        return (seconds the notebook took, the executed last cell)."""
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient

        ksm = KernelSpecManager(kernel_dirs=[str(self.tmp / "kernels")], ensure_native_kernel=False)
        km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=ksm)
        work = self.tmp / f"work-{tag}"
        work.mkdir()
        client = NotebookClient(nb, km=km, timeout=600, record_timing=False, allow_errors=allow_errors,
                                coalesce_streams=True)  # as JupyterLab saves them
        start = time.perf_counter()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # the notebook keeps its own
        with client.setup_kernel(env=dict(self.env), cwd=str(work), cleanup_kc=True, **quiet):
            reply = client.wait_for_reply(client.kc.kernel_info())
            nb.metadata["language_info"] = reply["content"]["language_info"]
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            seconds = time.perf_counter() - start
            probe = nbformat.v4.new_code_cell(last_cell)
            nb.cells.append(probe)  # nbclient stores results by index; taken out right after
            try:
                client.execute_cell(probe, len(nb.cells) - 1)
            finally:
                nb.cells.pop()
        return seconds, probe

    def run(self, nb, tag: str) -> tuple[float, dict]:
        """Execute `nb` in place; return (seconds, hidden-split metrics from an unsaved cell)."""
        seconds, probe = self.execute(nb, tag, HIDDEN_EVAL.format(path=str(self.hidden)))
        text = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream")
        return seconds, json.loads(text.strip().splitlines()[-1])


def claimed(nb) -> float | None:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            m = CLAIM.search(out.get("text", ""))
            if m:
                return float(m.group(1))
    return None


def swap_cells(nb, first: list[str], second: list[str]) -> None:
    """Swap two runs of consecutive cells (by id), `first` before `second`, in place."""
    ids = [c.id for c in nb.cells]
    i, j = ids.index(first[0]), ids.index(second[0])
    assert ids[i:i + len(first)] == first and ids[j:j + len(second)] == second and i + len(first) <= j
    a, mid, b = nb.cells[i:i + len(first)], nb.cells[i + len(first):j], nb.cells[j:j + len(second)]
    nb.cells[i:j + len(second)] = b + mid + a


def student_notebook(template, reference: dict[str, str], st: Student):
    nb = fill(template, {**reference, **st.answers})
    if st.kernelspec:
        nb.metadata["kernelspec"] = st.kernelspec
    if st.swap:
        swap_cells(nb, *st.swap)
    return nb


def patch(out: Path, pid: str) -> None:
    """Rebuild one never-executed student's entries inside the existing zip, without running
    any notebook; every other entry is copied byte for byte."""
    st = next(s for s in STUDENTS if s.pid == pid)
    assert not st.executed and not st.broken and not st.extras, "only unexecuted students are patched"
    folder = f"{st.name}_{st.pid}_assignsubmission_file/"
    with zipfile.ZipFile(out) as zf:
        entries = [(i.filename, i.date_time, zf.read(i)) for i in zf.infolist()
                   if not i.filename.startswith(folder)]
    nb = student_notebook(nbformat.read(RELEASE, as_version=4), reference_answers(SOURCE), st)
    write_zip(out, entries + [(folder + st.file, st.when, dumps(nb))])
    print(f"patched {folder + st.file} in {out}")


def tiny_pdf(title: str) -> bytes:
    """A one-page PDF, standing in for the 'Download as PDF' some students add."""
    text = f"BT /F1 14 Tf 72 770 Td ({title}) Tj ET".encode("latin-1")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def dumps(nb) -> bytes:
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def build(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from grader.data.standin import ensure_mnist_standin

    data = ensure_mnist_standin()
    template = nbformat.read(RELEASE, as_version=4)
    reference = reference_answers(SOURCE)
    entries: list[tuple[str, tuple, bytes]] = []
    print(f"{'student':<24} {'run s':>6} {'claimed':>8} {'hidden':>7}  notes")
    with tempfile.TemporaryDirectory(prefix="make-demo-") as tmp:
        kernel = Kernel(Path(tmp), data["hidden"], {"mnist.npz": str(data["mnist.npz"])})
        executed_text: dict[str, bytes] = {}
        for n, st in enumerate(STUDENTS):
            folder = f"{st.name}_{st.pid}_assignsubmission_file/"
            nb = student_notebook(template, reference, st)
            notes = []
            if st.broken:  # the previous student's executed file, cut off mid-save
                raw = executed_text[STUDENTS[0].name]
                payload = raw[: int(len(raw) * 0.6)]
                notes.append(f"truncated at {len(payload)} of {len(raw)} bytes")
                print(f"{st.name:<24} {'-':>6} {'-':>8} {'-':>7}  {'; '.join(notes)}")
                entries.append((folder + st.file, st.when, payload))
                continue
            run = nb if st.executed else nbformat.from_dict(json.loads(json.dumps(nb)))
            seconds, metrics = kernel.run(run, str(n))
            if st.executed:
                executed_text[st.name] = payload = dumps(nb)
            else:
                payload = dumps(nb)
                notes.append("saved unexecuted (measured on an executed copy)")
            print(f"{st.name:<24} {seconds:6.1f} {claimed(run) or float('nan'):8.4f} "
                  f"{metrics['hidden_acc']:7.4f}  {'; '.join(notes)}")
            entries.append((folder + st.file, st.when, payload))
            if st.extras:
                early = fill(template, {"softmax": st.answers["softmax"]})
                entries.append((folder + ".ipynb_checkpoints/" + st.file.replace(".ipynb", "-checkpoint.ipynb"),
                                (2026, 3, 22, 17, 40, 2), dumps(early)))
                entries.append((folder + st.file.replace(".ipynb", ".pdf"), st.when,
                                tiny_pdf("Practica 1 - MNIST con CNN - Nerea Saez")))
    write_zip(out, entries)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB, {len(entries)} files)")


def write_zip(out: Path, entries: list[tuple[str, tuple, bytes]]) -> None:
    """Folder-per-student entries, fixed timestamps and modes; written atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, when, payload in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=when)  # non-ASCII names get the UTF-8 flag
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, payload)
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "submissions/demo/mnist_cnn.zip")
    parser.add_argument("--patch", metavar="PID", help="only rebuild this never-executed "
                        "student's notebook inside the existing zip (no training)")
    args = parser.parse_args(argv)
    if args.patch:
        patch(args.out.resolve(), args.patch)
    else:
        build(args.out.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
