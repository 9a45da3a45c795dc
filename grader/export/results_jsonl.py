"""results.jsonl: one JSON row per submission, always (also crashes, timeouts, broken files)."""
from __future__ import annotations

import json
from pathlib import Path

from ..model import Result
from .atomic import write_atomic


def dumps_row(result: Result) -> str:
    return json.dumps(result.to_row(), ensure_ascii=False, sort_keys=False)


def write_results(path: Path, results: list[Result]) -> Path:
    return write_atomic(path, "".join(dumps_row(r) + "\n" for r in results))


def read_results(path: Path) -> list[Result]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(Result.from_row(json.loads(line)))
    return rows
