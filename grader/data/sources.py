"""Which files a grade run uses, and whether any of them is a stand-in.

For every file of the rubric's `data` section (each `keras_datasets` name, and `hidden_test`):

1. a path in the rubric (or `--set`) that is not a stand-in wins: the instructor said so;
2. else the file `grader data` prepared for the assignment (its provenance.json), checked
   against the sha256 recorded there;
3. else the stand-in: "standin" (generated from scikit-learn's digits, a grammar, shapes), or a
   path inside a `standin/` folder (the project's small "ImageNet" weights).

A stand-in is fine for the demo and the tests; grading real students on it is the accident the
stand-in guard (grader/data/guard.py) stops.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import RubricError
from .imagenet_standin import DATA_FILE as IMAGENET_DATA, WEIGHTS_FILE as IMAGENET_WEIGHTS
from .imagenet_standin import ensure_imagenet_standin
from .provenance import DataError, data_dir, prepared_path, read_provenance, sha256_file
from .standin import cache_dir, ensure_mnist_standin
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
HIDDEN = "hidden_test"


@dataclass
class DataSource:
    name: str  # a keras_datasets file name, or "hidden_test"
    kind: str  # "prepared" | "rubric" | "standin"
    path: Path | None  # None: a stand-in not generated yet (generate=False)
    sha256: str | None = None

    @property
    def role(self) -> str:
        return "hidden" if self.name == HIDDEN else "served"

    def record(self) -> dict:
        return {"name": self.name, "role": self.role, "kind": self.kind,
                "path": str(self.path) if self.path else None, "sha256": self.sha256}


def is_standin_path(p: Path) -> bool:
    """A file of the stand-in cache, or inside a folder named `standin` (shipped stand-ins)."""
    try:
        rp = Path(p).resolve()
        if rp.is_relative_to(cache_dir().resolve()):
            return True
    except OSError:
        pass
    return "standin" in Path(p).parts[:-1] or "standin" in Path(p).resolve().parts[:-1]


def _prepared(assignment: str, root: Path | None) -> tuple[Path, dict] | None:
    folder = data_dir(root) / assignment
    record = read_provenance(folder)
    return None if record is None else (folder, record)


def _from_prepared(name: str, folder: Path, entry: dict, hashes: bool) -> DataSource:
    path = prepared_path(folder, entry)
    if not path.is_file():
        raise DataError(f"{folder / 'provenance.json'}: {name} was prepared as {path}, which is gone; "
                        f"run `grader data` again")
    digest = sha256_file(path) if hashes else entry.get("sha256")
    if hashes and digest != entry.get("sha256"):
        raise DataError(f"{path} changed since `grader data` prepared it (sha256 {digest[:12]}…, "
                        f"recorded {str(entry.get('sha256'))[:12]}…); prepare it again")
    return DataSource(name, "prepared", path, digest)


def _standin(name: str, make: Callable[[], Path] | None, generate: bool, what: str) -> DataSource:
    if make is None:
        raise RubricError(f"{what}: no stand-in exists for it; give a path or run `grader data`")
    path = make() if generate else None
    return DataSource(name, "standin", path, sha256_file(path) if path else None)


def resolve_sources(rubric, root: Path | None = None, generate: bool = True,
                    hashes: bool = True) -> list[DataSource]:
    """Every data file of the rubric, resolved as the module docstring says. With
    generate=False, stand-ins are not generated (their path stays None); with hashes=False,
    files are not hashed (the prepared ones carry their recorded sha256)."""
    prep = _prepared(rubric.assignment, root)
    wanted = [(name, value, STANDIN_FILES.get(name), f"data.keras_datasets.{name}")
              for name, value in rubric.data.keras_datasets.items()]
    wanted.append((HIDDEN, rubric.data.hidden_test, STANDIN_HIDDEN.get(rubric.assignment), "data.hidden_test"))
    out = []
    for name, value, make, what in wanted:
        try:
            out.append(_resolve_one(rubric, name, value, make, what, prep, generate, hashes))
        except (OSError, ValueError) as exc:  # a path too long for the system, a NUL in it
            if value == "standin":  # not a path the rubric gave: a real failure, as it is
                raise
            raise RubricError(f"{what}: cannot use {value[:80]!r} as a path "
                              f"({getattr(exc, 'strerror', None) or exc})") from None
    return out


def _resolve_one(rubric, name: str, value: str, make, what: str, prep, generate: bool,
                 hashes: bool) -> DataSource:
    explicit = None if value == "standin" else rubric.resolve_path(value)
    if explicit is not None and not is_standin_path(explicit):
        if name != HIDDEN and not explicit.is_file():
            raise RubricError(f"{what}: file not found: {explicit}")
        digest = sha256_file(explicit) if hashes and explicit.is_file() else None
        return DataSource(name, "rubric", explicit, digest)
    entry = None
    if prep is not None:
        entry = prep[1]["hidden_test"] if name == HIDDEN else prep[1].get("keras_datasets", {}).get(name)
    if entry is not None:
        return _from_prepared(name, prep[0], entry, hashes)
    if explicit is not None:  # a shipped stand-in file named in the rubric
        if not explicit.is_file():
            raise RubricError(f"{what}: file not found: {explicit}")
        return DataSource(name, "standin", explicit, sha256_file(explicit) if hashes else None)
    return _standin(name, make, generate, what)


def describe(sources: list[DataSource]) -> list[str]:
    """One line per file, for the terminal: what a run uses."""
    lines = []
    for s in sources:
        digest = f"sha256 {s.sha256[:12]}…" if s.sha256 else "not generated yet"
        label = {"prepared": "prepared", "rubric": "from the rubric", "standin": "STAND-IN"}[s.kind]
        lines.append(f"{s.name:<14} {label:<15} {s.path or '(generated on first use)'}  ({digest})")
    return lines
