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
from .standin import ensure_mnist_standin

STANDIN_FILES: dict[str, Callable[[], Path]] = {
    "mnist.npz": lambda: ensure_mnist_standin()["mnist.npz"],
}
STANDIN_HIDDEN: dict[str, Callable[[], Path]] = {
    "mnist_cnn": lambda: ensure_mnist_standin()["hidden"],
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
    out: dict[str, Any] = {"hidden_x": hidden["x"], "hidden_y": hidden["y"],
                           "public_x": None, "public_y": None}
    for chk in rubric.checks:
        name = getattr(chk, "dataset", None)
        if chk.kind == "claimed_accuracy" and name in datasets:
            with np.load(datasets[name], allow_pickle=False) as z:
                if "x_test" in z.files and "y_test" in z.files:
                    out["public_x"], out["public_y"] = z["x_test"], z["y_test"]
    return out


LOADERS: dict[str, Callable[..., dict[str, Any]]] = {"classification": load_classification}


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
