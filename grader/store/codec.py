"""Submission and Result as JSON text for the store (paths and datetimes as strings)."""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path

from ..model import Result, Submission

_SUB_FIELDS = {f.name for f in fields(Submission)}


def dump_submission(sub: Submission) -> str:
    d = asdict(sub)
    d["notebook"] = str(sub.notebook) if sub.notebook else None
    d["paths"] = {k: str(v) for k, v in sub.paths.items()}
    d["submitted_at"] = sub.submitted_at.isoformat() if sub.submitted_at else None
    return json.dumps(d, ensure_ascii=False)


def load_submission(text: str) -> Submission:
    d = {k: v for k, v in json.loads(text).items() if k in _SUB_FIELDS}
    d["notebook"] = Path(d["notebook"]) if d.get("notebook") else None
    d["paths"] = {k: Path(v) for k, v in (d.get("paths") or {}).items()}
    d["submitted_at"] = datetime.fromisoformat(d["submitted_at"]) if d.get("submitted_at") else None
    return Submission(**d)


def dump_result(res: Result) -> str:
    return json.dumps(asdict(res), ensure_ascii=False)


def load_result(text: str) -> Result:
    return Result.from_row(json.loads(text))
