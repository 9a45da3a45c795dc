"""results.jsonl: one JSON row per submission, always (also crashes, timeouts, broken files).

Each row carries `schema` (its format's version). Readers take rows of older versions, ignore
keys they do not know (one warning per file, naming them), and stop at a broken line with an
error naming the file and line: results.jsonl is read by people's own scripts too, and a
later grader may add keys.
"""
from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from ..errors import GraderError
from ..model import CheckResult, Result
from ..report.safe_text import json_text
from .atomic import write_atomic

#: 1: rows without `schema` (graders before the results store); 2: `schema` added
SCHEMA = 2
_RESULT_KEYS = {f.name for f in fields(Result)} | {"score", "raw_score", "schema"}
_CHECK_KEYS = {f.name for f in fields(CheckResult)}


class ResultsFileError(GraderError):
    """A results.jsonl line that cannot be read as a result row."""


def dumps_row(result: Result) -> str:
    return json_text({"schema": SCHEMA, **result.to_row()}, sort_keys=False)


def write_results(path: Path, results: list[Result]) -> Path:
    return write_atomic(path, "".join(dumps_row(r) + "\n" for r in results))


def read_results(path: Path, warnings: list[str] | None = None) -> list[Result]:
    """The rows of `path`; unknown keys are dropped and reported once in `warnings`."""
    rows, unknown = [], set()
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsFileError(f"{path}: not UTF-8 text (byte {exc.start}): not a results.jsonl") from None
    except OSError as exc:
        raise ResultsFileError(f"{path}: cannot read ({exc.strerror})") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            version = row.get("schema", 1)
            if not isinstance(version, int) or version > SCHEMA:
                raise ValueError(f"schema {version!r} is newer than this grader reads ({SCHEMA}); "
                                 "upgrade the grader")
            unknown |= set(row) - _RESULT_KEYS
            row = {k: v for k, v in row.items() if k in _RESULT_KEYS - {"schema"}}
            checks = row.get("checks", [])
            if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
                raise ValueError("`checks` is not a list of objects")
            for c in checks:
                unknown |= {f"checks.{k}" for k in set(c) - _CHECK_KEYS}
            row["checks"] = [{k: v for k, v in c.items() if k in _CHECK_KEYS} for c in checks]
            rows.append(Result.from_row(row))
        except (ValueError, TypeError, KeyError) as exc:
            what = "cut off or not JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise ResultsFileError(f"{path}, line {n}: not a result row ({what})") from None
    if unknown and warnings is not None:
        warnings.append(f"{path}: ignored keys this grader does not know: {', '.join(sorted(unknown))}")
    return rows
