"""Build submissions/demo/rnn_text.zip: a Moodle (>= 4.1) "Download all submissions" zip.

Same recipe as scripts/make_demo.py (whose helpers it reuses unchanged): each demo student's
notebook starts from the RELEASED template, gets its solution stubs filled (the reference
answers, or a student's own mistakes) and is really executed by a Jupyter kernel, offline, on
the generated stand-in corpus. After each run, cells that are never saved run the grader's own
probes in the same kernel, and the grader's own judges score what they return, so
submissions/demo/README.md can state the loss and the points the grader should reproduce.

    .venv/bin/python scripts/make_demo_rnn.py [--out submissions/demo/rnn_text.zip]
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_demo import ROOT, Kernel, dumps, fill, reference_answers, write_zip  # noqa: E402

SOURCE = ROOT / "assignments/rnn_text/source/rnn_text.ipynb"
RELEASE = ROOT / "assignments/rnn_text/release/rnn_text.ipynb"


@dataclass
class Student:
    name: str
    pid: str  # Moodle participant id for rnn_text (submissions/demo/roster.csv)
    when: tuple[int, int, int, int, int, int]  # last modified, Europe/Madrid (even seconds)
    file: str = "rnn_text.ipynb"
    answers: dict[str, str] = field(default_factory=dict)  # grade_id -> own code (else reference)
    errors_expected: bool = False  # the saved notebook has error outputs (as handed in)


# The mistakes the demo is about; everything not listed is the reference solution.
GENERATE_SEED_COUNTED = """\
rng = np.random.default_rng(SEED)
ids = [char2idx[c] for c in start_string]
result = start_string
while len(result) < num_generate:  # cuenta también la semilla
    x = np.array([ids[-SEQ_LENGTH:]], dtype=np.int32)
    logits = np.asarray(model.predict_on_batch(x))[0, -1].astype(np.float64) / temperature
    p = np.exp(logits - logits.max())
    next_id = int(rng.choice(len(p), p=p / p.sum()))
    ids.append(next_id)
    result += idx2char[next_id]
return result"""
TRAIN_SHORT = """\
EPOCHS = 1  # una sola época, para ir rápido
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64,
                    validation_split=0.1, verbose=2)"""
OTHER_NAMES = {  # code from another tutorial: char_to_idx / idx_to_char, never char2idx
    "vocab": "vocab = sorted(set(text))\nchar_to_idx = {ch: i for i, ch in enumerate(vocab)}\n"
             "idx_to_char = np.array(vocab)",
    "sequences": """\
encoded = np.array([char_to_idx[ch] for ch in text], dtype=np.int32)
n_seq = (len(encoded) - 1) // SEQ_LENGTH
x_train = encoded[: n_seq * SEQ_LENGTH].reshape(n_seq, SEQ_LENGTH)
y_train = encoded[1: n_seq * SEQ_LENGTH + 1].reshape(n_seq, SEQ_LENGTH)""",
    "model": """\
model = tf.keras.Sequential([
    tf.keras.Input(shape=(None,), dtype="int32"),
    tf.keras.layers.Embedding(len(idx_to_char), 32),
    tf.keras.layers.GRU(128, return_sequences=True),
    tf.keras.layers.Dense(len(idx_to_char)),
])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))""",
    "generate": """\
rng = np.random.default_rng(SEED)
ids = [char_to_idx[ch] for ch in start_string]
for _ in range(num_generate):
    x = np.array([ids[-SEQ_LENGTH:]], dtype=np.int32)
    logits = np.asarray(model.predict_on_batch(x))[0, -1].astype(np.float64) / temperature
    p = np.exp(logits - logits.max())
    ids.append(int(rng.choice(len(p), p=p / p.sum())))
return "".join(idx_to_char[i] for i in ids)""",
}

STUDENTS = [
    Student("José Núñez", "6340215", (2026, 3, 30, 20, 14, 52)),
    Student("Lucía Fernández-Gómez", "6340226", (2026, 3, 31, 22, 5, 18), file="rnn_text_LuciaFG.ipynb",
            answers={"generate": GENERATE_SEED_COUNTED}),
    Student("Pérez, Álvaro", "6340237", (2026, 3, 28, 13, 37, 40), file="rnn_text (2).ipynb",
            answers={"train": TRAIN_SHORT}),
    Student("Zoë Ibáñez", "6340249", (2026, 3, 31, 19, 2, 6), answers=OTHER_NAMES, errors_expected=True),
]

class TextKernel(Kernel):
    """make_demo's pinned offline kernel; runs the grader's text probes instead of MNIST's."""

    def run_text(self, nb, tag: str, probes: dict[str, str], allow_errors: bool) -> tuple[float, dict]:
        """Execute `nb`, then the grader's own probe cell, read back as the sandbox's runner reads it."""
        from grader.probes import probe_cell
        from grader.runner.execute_notebook import take_probe_payload

        seconds, probe = self.execute(nb, tag, probe_cell(probes, in_dir=str(self.tmp)), allow_errors)
        info, blobs = {}, {}
        take_probe_payload(probe, info, blobs)
        if "probe.json" not in blobs:
            raise RuntimeError(f"the probe returned nothing: {info.get('probe_error')}")
        return seconds, blobs


def judge(checks, data, blobs: dict, nb) -> dict:
    """The grader's own judges on what the probes returned: {check id: CheckResult} + metrics."""
    from grader.run_checks import judge_probes

    with np.load(io.BytesIO(blobs["probe.npz"]), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    info = json.loads(blobs["probe.json"])
    reason = json.dumps(info["errors"], ensure_ascii=False) if info["errors"] else ""
    checks, metrics, _ = judge_probes(checks, arrays, info, data, nb, "es", reason)
    return {"checks": checks, "metrics": metrics, "errors": info["errors"]}


def build(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from grader.data.loaders import load_data
    from grader.rubric import load_rubric
    from grader.run_checks import plan_probes

    rubric = load_rubric(ROOT / "rubrics/rnn_text.yaml")
    data = load_data(rubric)
    datasets = data.pop("datasets")
    template = nbformat.read(RELEASE, as_version=4)
    reference = reference_answers(SOURCE)
    entries: list[tuple[str, tuple, bytes]] = []
    print(f"{'student':<24} {'run s':>6} {'loss':>6} {'ratio':>6} {'loss pts':>8} {'gen pts':>7}  notes")
    with tempfile.TemporaryDirectory(prefix="make-demo-rnn-") as tmp:
        kernel = TextKernel(Path(tmp), None, {k: str(v) for k, v in datasets.items()})
        run_checks, probes, inputs = plan_probes(rubric, data)
        for name, arrays in inputs.items():
            np.savez(Path(tmp) / f"probe_{name}.npz", **arrays)
        for n, st in enumerate(STUDENTS):
            nb = fill(template, {**reference, **st.answers})
            seconds, blobs = kernel.run_text(nb, str(n), probes, st.errors_expected)
            result = judge(run_checks, data, blobs, nb)
            checks, metrics = result["checks"], result["metrics"]
            errors = [c for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "error"]
            notes = [f"{len(errors)} error cells"] if errors else []
            notes += [f"probe {k}: {v.get('ename')}: {v.get('evalue', '')[:60]}" for k, v in result["errors"].items()]
            print(f"{st.name:<24} {seconds:6.1f} {metrics.get('text_loss', float('nan')):6.3f} "
                  f"{metrics.get('text_loss_ratio', float('nan')):6.3f} {checks['loss'].points:8.2f} "
                  f"{checks['generate'].points:7.2f}  {'; '.join(notes)}")
            for c in checks.values():
                print(f"    {c.id}: {c.message}")
                for d in c.details:
                    print(f"      - {d}")
            entries.append((f"{st.name}_{st.pid}_assignsubmission_file/{st.file}", st.when, dumps(nb)))
    write_zip(out, entries)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB, {len(entries)} files)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "submissions/demo/rnn_text.zip")
    build(parser.parse_args(argv).out.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
