"""What copy detection costs for a class: 50 and 200 generated MNIST notebooks (1,225 and
19,900 pairs), timed in the same run, from the notebooks' JSON to the flagged pairs and the
written similarity.html (reading, normalizing, fingerprinting, comparing, rendering).

Each generated notebook is the released template filled with a random mix of answer variants
(layers, sizes, optimizers, helper code) and random variable names, so that notebooks share
code the way a class does; every tenth one is a disguised copy of another. Prints the seconds,
the pairs flagged, and the ratio 200/50 (against 16.2x more pairs).

    .venv/bin/python benchmarks/bench_similarity.py [--sizes 50 200] [--repeat 3]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from grader.integrity.normalize import CELL, Stream, Token, notebook_stream  # noqa: E402
from grader.integrity.report import render, write_report  # noqa: E402
from grader.integrity.similarity import Entry, find_matches  # noqa: E402
from make_demo import RELEASE, fill  # noqa: E402

LAYERS = ['tf.keras.layers.Conv2D({n}, {k}, activation="relu", padding="{p}")',
          "tf.keras.layers.MaxPooling2D()", "tf.keras.layers.Dropout({d})",
          "tf.keras.layers.BatchNormalization()", 'tf.keras.layers.Dense({n}, activation="relu")',
          "tf.keras.layers.AveragePooling2D(pool_size=({k}, {k}))"]
HELPERS = ["{a} = np.mean({b}, axis=0)\nprint({a}.shape)", "for {a} in range({n}):\n    {b} = {a} * {d}",
           "{a} = [{b} ** 2 for {b} in range({n})]", "if {a} is None:\n    {a} = np.zeros(({n}, {k}))",
           "{a} = dict(zip(range({n}), 'abcdefghij'))", "def {a}({b}):\n    return {b} / {n}.0"]


SOFTMAX = ["z = np.asarray(z, dtype=float)\n{e} = np.exp(z - z.max(axis=0))\nreturn {e} / {e}.sum(axis=0)",
           "{e} = np.exp(z - np.max(z, axis=0, keepdims=True))\nreturn {e} / np.sum({e}, axis=0, keepdims=True)",
           "{a} = np.array(z, dtype=np.float64)\n{a} -= {a}.max(0)\n{e} = np.exp({a})\n{b} = {e}.sum(0)\nreturn {e} / {b}",
           "{e} = [np.exp(v - max(z)) for v in z]\nreturn np.array({e}) / sum({e})"]
CROSS = ["{e} = np.clip(y_hat, 1e-12, 1)\nreturn float(-np.sum(y * np.log({e})) / y.shape[-1])",
         "{a} = y.shape[1] if y.ndim > 1 else 1\nreturn float(-(y * np.log(y_hat + {d} * 1e-9)).sum() / {a})",
         "{b} = 0.0\nfor {a} in range(y.shape[-1]):\n    {b} += -np.dot(y[:, {a}], np.log(y_hat[:, {a}]))\n"
         "return float({b} / y.shape[-1])"]


def student(rng: random.Random) -> dict[str, str]:
    v = lambda: rng.choice("abcdefghxyz") + rng.choice(["", "_tmp", "_2", "val", "s"])  # noqa: E731
    fmt = lambda t: t.format(n=rng.choice([16, 32, 64, 128]), k=rng.choice([3, 5]), e=v(),  # noqa: E731
                             p=rng.choice(["same", "valid"]), d=rng.choice([0.1, 0.25, 0.5]), a=v(), b=v())
    layers = ",\n    ".join(fmt(rng.choice(LAYERS)) for _ in range(rng.randint(3, 8)))
    helpers = "\n".join(fmt(rng.choice(HELPERS)) for _ in range(rng.randint(1, 4)))
    return {
        "softmax": fmt(rng.choice(SOFTMAX)),
        "cross_entropy": fmt(rng.choice(CROSS)),
        "preprocess": helpers + "\nreturn x.reshape(-1, 28, 28, 1).astype('float32') / 255",
        "model": f"model = tf.keras.Sequential([\n    tf.keras.Input((28, 28, 1)),\n    {layers},\n"
                 f"    tf.keras.layers.Flatten(),\n    tf.keras.layers.Dense(10, activation='softmax')])\n"
                 f"model.compile('{rng.choice(['adam', 'sgd', 'rmsprop'])}', 'sparse_categorical_crossentropy', "
                 "metrics=['accuracy'])",
        "train": f"history = model.fit(x_train_p, y_train, epochs={rng.randint(2, 12)}, batch_size={rng.choice([32, 64])})",
    }


def generate(n: int, seed: int = 0) -> list:
    rng = random.Random(seed)
    template = nbformat.read(RELEASE, as_version=4)
    answers = [student(rng) for _ in range(n)]
    for i in range(9, n, 10):  # a copy with the names changed
        answers[i] = {k: s.replace("model", "model").replace(" = ", "=") for k, s in answers[i - 7].items()}
    return [fill(template, a) for a in answers]


def run(nbs: list, template: Stream, out: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    entries = [Entry(str(1000000 + i), f"Student {i}", "mnist_cnn.ipynb", notebook_stream(nb))
               for i, nb in enumerate(nbs)]
    matches = find_matches(entries, template, 0.6, 25)
    write_report(out / "similarity.html", render(matches, entries, "mnist_cnn", "bench", 0.6, 25, 1, []))
    return time.perf_counter() - t0, len(matches)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs=2, default=[50, 200])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    import copydetect  # noqa: F401  (its import, about a second, is not what is measured)

    template = notebook_stream(nbformat.read(RELEASE, as_version=4))
    template = Stream(tokens=template.tokens + [Token(CELL, -1, 0, 0)])
    small, large = (generate(n) for n in args.sizes)
    times = {n: [] for n in args.sizes}
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):  # alternating, so machine load hits both alike
            for n, nbs in zip(args.sizes, (small, large)):
                seconds, found[n] = run(nbs, template, Path(tmp))
                times[n].append(seconds)
    for n in args.sizes:
        print(f"{n:4d} notebooks, {n * (n - 1) // 2:6d} pairs: {statistics.median(times[n]):6.2f} s "
              f"(median of {args.repeat}), {found[n]} pairs flagged")
    a, b = (statistics.median(times[n]) for n in args.sizes)
    pairs = (args.sizes[1] * (args.sizes[1] - 1)) / (args.sizes[0] * (args.sizes[0] - 1))
    print(f"ratio {args.sizes[1]}/{args.sizes[0]}: {b / a:.1f}x the time for {pairs:.1f}x the pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
