"""The rubric's `data` section -> what a batch needs: files served to Keras inside the sandbox,
and the hidden test set, which stays on the host.

Extension points for other assignments: STANDIN_FILES (a file name Keras asks for -> a
generator of its stand-in), STANDIN_HIDDEN (assignment -> its generated hidden set) and LOADERS
(rubric `data.loader` -> a function reading the hidden set into the batch's data dict).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import RubricError
from .imagenet_standin import DATA_FILE as IMAGENET_DATA, WEIGHTS_FILE as IMAGENET_WEIGHTS
from .imagenet_standin import ensure_imagenet_standin
from .standin import ensure_mnist_standin
from .text_standin import PUBLIC_NAME as TEXT_STANDIN, ensure_text_standin

STANDIN_FILES: dict[str, Callable[[], Path]] = {
    "mnist.npz": lambda: ensure_mnist_standin()["mnist.npz"],
    IMAGENET_DATA: lambda: ensure_imagenet_standin(weights=False)[IMAGENET_DATA],
    IMAGENET_WEIGHTS: lambda: ensure_imagenet_standin()[IMAGENET_WEIGHTS],  # trains once (TensorFlow)
    TEXT_STANDIN: lambda: ensure_text_standin()[TEXT_STANDIN],
}
STANDIN_HIDDEN: dict[str, Callable[[], Path]] = {
    "mnist_cnn": lambda: ensure_mnist_standin()["hidden"],
    "imagenet_cnn": lambda: ensure_imagenet_standin(weights=False)["hidden"],
    "rnn_text": lambda: ensure_text_standin()["hidden"],
}


def _npz(path: Path, keys: tuple[str, ...], what: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise RubricError(f"{what}: {path} must hold arrays {', '.join(keys)} "
                                  f"(missing {', '.join(missing)})")
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise RubricError(f"{what}: file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise RubricError(f"{what}: cannot read {path} as .npz: {exc}") from None


def load_classification(rubric, datasets: dict[str, Path], hidden_path: Path) -> dict[str, Any]:
    """Images and labels: hidden x/y, plus the public test split of the claimed check's dataset
    (to reproduce the accuracy the notebook itself printed)."""
    hidden = _npz(hidden_path, ("x", "y"), "data.hidden_test")
    if len(hidden["x"]) != len(hidden["y"]):
        raise RubricError(f"data.hidden_test: x has {len(hidden['x'])} rows but y has {len(hidden['y'])}")
    i = rubric.interface
    if i.input_shape is not None and tuple(hidden["x"].shape[1:]) != tuple(i.input_shape):
        raise RubricError(f"data.hidden_test: its images have shape {tuple(hidden['x'].shape[1:])}, "
                          f"but interface.input_shape says {tuple(i.input_shape)}")
    class_map = i.class_map if i.outputs == "imagenet" else None
    if class_map is not None and len(hidden["y"]) and int(np.max(hidden["y"])) >= len(class_map):
        raise RubricError(f"interface.class_map has {len(class_map)} classes, but data.hidden_test has "
                          f"label {int(np.max(hidden['y']))}")
    out: dict[str, Any] = {"hidden_x": hidden["x"], "hidden_y": hidden["y"],
                           "public_x": None, "public_y": None, "class_map": class_map}
    for chk in rubric.checks:
        name = getattr(chk, "dataset", None)
        if chk.kind == "claimed_accuracy" and name in datasets:
            with np.load(datasets[name], allow_pickle=False) as z:
                if "x_test" in z.files and "y_test" in z.files:
                    out["public_x"], out["public_y"] = z["x_test"], z["y_test"]
    return out


def _text(path: Path, what: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")  # universal newlines, as students' open()
    except FileNotFoundError:
        raise RubricError(f"{what}: file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise RubricError(f"{what}: {path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise RubricError(f"{what}: cannot read {path}: {exc}") from None
    if not text:
        raise RubricError(f"{what}: {path} is empty")
    return text


def load_text(rubric, datasets: dict[str, Path], hidden_path: Path) -> dict[str, Any]:
    """rnn_text: the held-out text (data.hidden_test, UTF-8) and, from the training text(s) in
    data.keras_datasets, the character counts (the unigram baseline) and alphabet."""
    from collections import Counter

    if not datasets:
        raise RubricError("data.keras_datasets: the text loader needs the training text students load "
                          "(e.g. corpus_es.txt: standin)")
    counts: Counter = Counter()
    for name, path in datasets.items():
        counts.update(_text(path, f"data.keras_datasets.{name}"))
    hidden = _text(hidden_path, "data.hidden_test")
    chars = "".join(sorted(counts))
    for chk in rubric.checks:  # instructor mistakes that would cost every student points
        for n, call in enumerate(getattr(chk, "calls", None) or []):
            bad = sorted(set(call.start) - set(chars))
            if bad:
                raise RubricError(f"checks (id {chk.id}).calls[{n}].start: {', '.join(map(repr, bad))} is not in "
                                  f"the training text, so no student's char2idx can encode it")
        if chk.kind == "text_loss":
            from ..checks.text_windows import cut_windows

            if not cut_windows(hidden, chk.window, chk.max_windows, chars).targets:
                raise RubricError(f"data.hidden_test: {hidden_path} has no window of {chk.window} characters "
                                  f"(+ 1 target) made only of training-text characters (check {chk.id})")
    i = rubric.interface
    return {"hidden_text": hidden, "train_counts": dict(counts), "train_chars": chars,
            "text_names": (i.char2idx, i.idx2char)}


LOADERS: dict[str, Callable[..., dict[str, Any]]] = {"classification": load_classification, "text": load_text}


def load_data(rubric) -> dict[str, Any]:
    """{"datasets": {name: host path}, "hidden_path": str, ...the loader's arrays}."""
    datasets: dict[str, Path] = {}
    for name, value in rubric.data.keras_datasets.items():
        if value == "standin":
            if name not in STANDIN_FILES:
                raise RubricError(f"data.keras_datasets.{name}: no stand-in exists for it; give a path")
            datasets[name] = STANDIN_FILES[name]()
        else:
            p = rubric.resolve_path(value)
            if not p.is_file():
                raise RubricError(f"data.keras_datasets.{name}: file not found: {p}")
            datasets[name] = p
    if rubric.data.hidden_test == "standin":
        if rubric.assignment not in STANDIN_HIDDEN:
            raise RubricError(f"data.hidden_test: no stand-in exists for {rubric.assignment}; give a path")
        hidden_path = STANDIN_HIDDEN[rubric.assignment]()
    else:
        hidden_path = rubric.resolve_path(rubric.data.hidden_test)
    loader = LOADERS.get(rubric.data.loader)
    if loader is None:
        raise RubricError(f"data.loader: unknown loader {rubric.data.loader!r} (known: {', '.join(LOADERS)})")
    out = loader(rubric, datasets, hidden_path)
    out.update(datasets=datasets, hidden_path=str(hidden_path))
    return out
