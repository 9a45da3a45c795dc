"""Build submissions/demo/imagenet_cnn.zip: a Moodle (>= 4.1) "Download all submissions" zip.

Same recipe as scripts/make_demo.py (whose helpers it reuses unchanged): each demo student's
notebook starts from the RELEASED template, gets its solution stubs filled (the reference
answers, or a student's own mistakes) and is really executed by a Jupyter kernel, offline, on the
stand-in images and the project's stand-in MobileNetV2 weights (served to
`weights="imagenet"` by the grader's get_file shim). After each run one extra cell, never saved,
predicts the hidden split; the grader's own judges score it, so submissions/demo/README.md can
state the top-1/top-5 accuracy and points the grader should reproduce.

    .venv/bin/python scripts/make_demo_imagenet.py [--out submissions/demo/imagenet_cnn.zip]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_demo import ROOT, Kernel, dumps, fill, reference_answers, write_zip  # noqa: E402

SOURCE = ROOT / "assignments/imagenet_cnn/source/imagenet_cnn.ipynb"
RELEASE = ROOT / "assignments/imagenet_cnn/release/imagenet_cnn.ipynb"
DRIVE = "/content/drive/MyDrive/DL/mobilenet_v2_0.35_96_no_top.h5"


@dataclass
class Student:
    name: str
    pid: str  # Moodle participant id for imagenet_cnn (submissions/demo/roster.csv)
    when: tuple[int, int, int, int, int, int]  # last modified, Europe/Madrid (even seconds: DOS time)
    file: str = "imagenet_cnn.ipynb"
    answers: dict[str, str] = field(default_factory=dict)  # grade_id -> own code (else reference)
    colab: bool = False  # saved from Google Colab, with his Drive mounted (see DRIVE)


# The mistakes the demo is about; everything not listed is the reference solution.
ADAM_EPS_INSIDE = """\
v = beta1 * v + (1 - beta1) * dw
s = beta2 * s + (1 - beta2) * dw ** 2
v_hat = v / (1 - beta1 ** t)
s_hat = s / (1 - beta2 ** t)
w = w - learning_rate * v_hat / np.sqrt(s_hat + epsilon)  # epsilon dentro de la raíz
return w, v, s"""
MODEL_SLOW = """\
base = tf.keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35,
                                         include_top=False, weights="imagenet", pooling="avg")
base.trainable = False
model = tf.keras.Sequential([
    tf.keras.Input(shape=(96, 96, 3)),
    base,
    tf.keras.layers.Dense(len(class_names), activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(),  # learning_rate=0.001, el de Keras
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])"""
TRAIN_SHORT = """\
EPOCHS = 1
# con pocas imágenes para que vaya rápido
history = model.fit(x_train_p[:128], y_train[:128], epochs=EPOCHS, batch_size=32, verbose=2)"""
MODEL_DRIVE = f"""\
# Los pesos los descargué una vez a mi Drive (en Colab se monta en /content/drive)
WEIGHTS = "{DRIVE}"
base = tf.keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35,
                                         include_top=False, weights=WEIGHTS, pooling="avg")
base.trainable = False
model = tf.keras.Sequential([
    tf.keras.Input(shape=(96, 96, 3)),
    base,
    tf.keras.layers.Dense(len(class_names), activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01),
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy", tf.keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5")])"""
COLAB_METADATA = {"accelerator": "GPU", "colab": {"name": "Copia de imagenet_cnn.ipynb", "provenance": []},
                  "kernelspec": {"display_name": "Python 3", "name": "python3"}}

STUDENTS = [
    Student("José Núñez", "5230114", (2026, 3, 30, 21, 14, 2)),
    Student("María O'Connor", "5230127", (2026, 3, 28, 18, 33, 40), answers={"adam_step": ADAM_EPS_INSIDE}),
    Student("Pérez, Álvaro", "5230131", (2026, 3, 31, 12, 5, 16), file="imagenet_cnn (1).ipynb",
            answers={"model": MODEL_SLOW, "train": TRAIN_SHORT}),
    Student("Iñaki Etxeberria", "5230148", (2026, 3, 31, 23, 50, 22), file="Copia de imagenet_cnn.ipynb",
            answers={"model": MODEL_DRIVE}, colab=True),
]

HIDDEN_PREDICT = """\
import numpy as _np
with _np.load({hidden!r}) as _h:
    _np.save({out!r}, _np.asarray(model.predict(preprocess(_h["x"]), verbose=0), dtype=_np.float32))
"""


class ImagenetKernel(Kernel):
    """make_demo's pinned offline kernel; the unsaved last cell saves hidden-split predictions."""

    def run_predict(self, nb, tag: str) -> tuple[float, np.ndarray]:
        out = self.tmp / f"hidden_pred-{tag}.npy"
        seconds, _ = self.execute(nb, tag, HIDDEN_PREDICT.format(hidden=str(self.hidden), out=str(out)))
        return seconds, np.load(out)


def build(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from grader.checks import find_claimed_accuracy, judge_accuracy
    from grader.data.loaders import load_data
    from grader.rubric import load_rubric

    rubric = load_rubric(ROOT / "rubrics/imagenet_cnn.yaml")
    data = load_data(rubric)
    datasets = data.pop("datasets")
    weights = next(str(p) for name, p in datasets.items() if name.endswith(".h5"))
    template = nbformat.read(RELEASE, as_version=4)
    reference = reference_answers(SOURCE)
    accuracy_checks = [c for c in rubric.checks if c.kind == "accuracy"]
    entries: list[tuple[str, tuple, bytes]] = []
    print(f"{'student':<20} {'run s':>6} {'claimed':>8} " + " ".join(f"{c.id:>11}" for c in accuracy_checks))
    with tempfile.TemporaryDirectory(prefix="make-demo-imagenet-") as tmp:
        kernel = ImagenetKernel(Path(tmp), Path(data["hidden_path"]), {k: str(v) for k, v in datasets.items()})
        for n, st in enumerate(STUDENTS):
            nb = fill(template, {**reference, **st.answers})
            if st.colab:  # executed on Colab, where his Drive held the file: run it with a copy here
                nb.metadata.update(json.loads(json.dumps(COLAB_METADATA)))
                cell = next(c for c in nb.cells if DRIVE in c.source)
                cell.source = cell.source.replace(DRIVE, weights)
            seconds, preds = kernel.run_predict(nb, str(n))
            if st.colab:
                cell.source = cell.source.replace(weights, DRIVE)
            scores = []
            for chk in accuracy_checks:
                res, metrics = judge_accuracy(chk, preds, data["hidden_y"], "es", class_map=data.get("class_map"))
                scores.append(f"{metrics.get(chk.metric, float('nan')):.4f}→{res.points:g}")
            claim = find_claimed_accuracy(nb)
            print(f"{st.name:<20} {seconds:6.1f} {claim if claim is not None else float('nan'):8.4f} "
                  + " ".join(f"{s:>11}" for s in scores))
            entries.append((f"{st.name}_{st.pid}_assignsubmission_file/{st.file}", st.when, dumps(nb)))
    write_zip(out, entries)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB, {len(entries)} files)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "submissions/demo/imagenet_cnn.zip")
    build(parser.parse_args(argv).out.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
