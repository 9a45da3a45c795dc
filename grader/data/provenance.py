"""Where the course's prepared data lives, and the provenance record written next to it.

`grader data` writes, per assignment, `<data dir>/<assignment>/provenance.json`: the files a
grade run serves to Keras (`keras_datasets`) and the hidden set (`hidden_test`), each with its
sha256 and size, the source files it was made from, the seed and the notes. A grade run reads
that record to find the prepared files (grader/data/sources.py). The data dir holds hidden
labels: it is outside git (`/data/` in .gitignore) and never mounted in the sandbox.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import GraderError
from ..export.atomic import write_atomic
from ..paths import course_dir

PROVENANCE = "provenance.json"


class DataError(GraderError):
    """Data to prepare or use is missing, unreadable, or not what it claims to be."""


def data_dir(arg: str | Path | None = None, course: str | None = None) -> Path:
    """--data-dir, $GRADER_DATA_DIR, else <course folder>/data."""
    for cand in (arg, os.environ.get("GRADER_DATA_DIR")):
        if cand:
            return Path(cand).expanduser()
    return course_dir(course) / "data"


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_record(path: str | Path, base: Path | None = None, **extra: Any) -> dict[str, Any]:
    """{path, sha256, size} of a file; `path` relative to `base` when it lies inside it."""
    p = Path(path)
    shown = str(p)
    if base is not None:
        try:
            shown = str(p.resolve().relative_to(Path(base).resolve()))
        except ValueError:
            shown = str(p.resolve())
    return {"path": shown, "sha256": sha256_file(p), "size": p.stat().st_size, **extra}


def write_provenance(folder: Path, assignment: str, keras_datasets: dict[str, Path],
                     hidden_test: Path, sources: list[dict], seed: int | None,
                     notes: list[str], **extra: Any) -> Path:
    """Write provenance.json in `folder` (which holds the prepared files)."""
    record = {
        "assignment": assignment,
        "prepared_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "grader_version": __version__,
        "keras_datasets": {name: file_record(p, folder) for name, p in keras_datasets.items()},
        "hidden_test": file_record(hidden_test, folder),
        "sources": sources,
        "seed": seed,
        "notes": notes,
        **extra,
    }
    return write_atomic(folder / PROVENANCE, json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def read_provenance(folder: Path) -> dict[str, Any] | None:
    """The record of `folder`, or None when nothing was prepared there."""
    path = Path(folder) / PROVENANCE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable provenance record ({exc}); run `grader data` again") from None
    if not isinstance(record, dict) or not isinstance(record.get("hidden_test"), dict):
        raise DataError(f"{path}: not a provenance record written by `grader data`")
    return record


def prepared_path(folder: Path, entry: dict[str, Any]) -> Path:
    p = Path(entry["path"])
    return p if p.is_absolute() else Path(folder) / p


def save_npz(path: Path, **arrays) -> Path:
    """np.savez_compressed, written then renamed (a crash never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def copy_file(src: Path, dest: Path) -> Path:
    """A byte-for-byte copy, written then renamed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
