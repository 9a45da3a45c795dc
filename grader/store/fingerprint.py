"""When a stored result may be reused: the same notebook bytes (and other handed-in files),
graded under the same resolved rubric, data files, language and grader version. Anything else
is a re-grade."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..model import Submission


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()


def _files(paths: list[Path], sha) -> dict[str, str]:
    """Every file under `paths` (files or folders), by path, with its sha256."""
    out = {}
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file() and "__pycache__" not in x.parts):
                out[str(f)] = sha(f)
        elif p.is_file():
            out[str(p)] = sha(p)
    return out


def rubric_fingerprint(rubric, data_files: list[Path], *, lang: str, grader_version: str,
                       kernel_python: str, sandboxed: bool, sha) -> tuple[str, dict]:
    """The part of every submission's key that the whole batch shares, and what went into it
    (recorded with the run, so "why was everyone re-graded?" has an answer)."""
    parts = {
        "rubric": rubric.model_dump(mode="json", exclude={"source"}),
        "data": {Path(k).name + ":" + k: v for k, v in _files(data_files, sha).items()},
        "lang": lang, "grader_version": grader_version, "kernel_python": kernel_python,
        "sandboxed": sandboxed,
    }
    return _digest(parts), parts


def submission_key(sub: Submission, batch_fingerprint: str, sha) -> str:
    """The key a result of `sub` is stored under: the batch's fingerprint plus the notebook's
    sha256 and every other file the student handed in (they are served to the re-run)."""
    files = {rel: sha(p) for rel, p in sorted(sub.paths.items()) if Path(p).is_file()}
    return _digest({"batch": batch_fingerprint, "notebook": sub.notebook_name,
                    "sha256": sub.sha256, "files": files, "handed_in": sorted(sub.files)})
