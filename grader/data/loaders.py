"""The rubric's `data` section -> what a batch needs: files served to Keras inside the sandbox,
and the hidden test set, which stays on the host.

Which files (prepared by `grader data`, named in the rubric, or stand-ins) is decided in
grader/data/sources.py (STANDIN_FILES, STANDIN_HIDDEN: the stand-in generators). LOADERS (rubric
`data.loader` -> a function reading the hidden set into the batch's data dict) is the extension
point for other assignments.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..checks.kinds import KINDS, lazy
from ..errors import RubricError
from .sources import STANDIN_FILES, STANDIN_HIDDEN, HIDDEN, resolve_sources  # noqa: F401 (re-exported)


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
    return {"hidden_x": hidden["x"], "hidden_y": hidden["y"], "public_x": None, "public_y": None,
            "class_map": class_map}


def public_split(chk, out: dict[str, Any], datasets: dict[str, Path]) -> None:
    """claimed_accuracy: the public test split of its dataset, to reproduce the accuracy the
    notebook itself printed."""
    if chk.dataset in datasets:
        with np.load(datasets[chk.dataset], allow_pickle=False) as z:
            if "x_test" in z.files and "y_test" in z.files:
                out["public_x"], out["public_y"] = z["x_test"], z["y_test"]


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
    i = rubric.interface
    return {"hidden_text": hidden, "train_counts": dict(counts), "train_chars": chars,
            "text_names": (i.char2idx, i.idx2char)}


def text_windows(chk, out: dict[str, Any], datasets: dict[str, Path]) -> None:
    """text_loss: a hidden text with no window to score would cost every student the points."""
    from ..checks.text_windows import cut_windows

    if not cut_windows(out["hidden_text"], chk.window, chk.max_windows, out["train_chars"]).targets:
        raise RubricError(f"data.hidden_test: {out['hidden_path']} has no window of {chk.window} characters "
                          f"(+ 1 target) made only of training-text characters (check {chk.id})")


LOADERS: dict[str, Callable[..., dict[str, Any]]] = {"classification": load_classification, "text": load_text}


def load_data(rubric, root: Path | None = None) -> dict[str, Any]:
    """{"datasets": {name: host path}, "hidden_path": str, "sources": [what each file is, with
    its sha256], ...the loader's arrays}. Files as grader/data/sources.py resolves them."""
    loader = LOADERS.get(rubric.data.loader)
    if loader is None:
        raise RubricError(f"data.loader: unknown loader {rubric.data.loader!r} (known: {', '.join(LOADERS)})")
    sources = resolve_sources(rubric, root)
    datasets = {s.name: s.path for s in sources if s.name != HIDDEN}
    hidden_path = next(s.path for s in sources if s.name == HIDDEN)
    out = loader(rubric, datasets, hidden_path)
    out.update(datasets=datasets, hidden_path=str(hidden_path), sources=[s.record() for s in sources])
    for chk in rubric.checks:  # what each kind needs from the data (grader/checks/kinds.py)
        if KINDS[chk.kind].on_data:
            lazy(KINDS[chk.kind].on_data)(chk, out, datasets)
    return out
