"""results.jsonl: one JSON row per submission, always (also crashes, timeouts, broken files).

Each row carries `schema` (its format's version). Readers take rows of older versions, ignore
keys they do not know (one warning per file, naming them), and stop at a broken line with an
error naming the file and line: results.jsonl is read by people's own scripts too, and a
later grader may add keys.
"""
from __future__ import annotations

import json
import math
import re
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
MAX_POINTS = 1e6  # no grade, points or hours late comes near; 1e308 would overflow the policy's sums


class ResultsFileError(GraderError):
    """A results.jsonl line that cannot be read as a result row."""


def dumps_row(result: Result) -> str:
    return json_text({"schema": SCHEMA, **result.to_row()}, sort_keys=False)


def write_results(path: Path, results: list[Result]) -> Path:
    return write_atomic(path, "".join(dumps_row(r) + "\n" for r in results))


def _typed_result(row: dict) -> Result:
    """The row as a Result whose every value has its field's type (a string where a number
    belongs would fail later, in the middle of `grader final`), grades finite and plausible."""
    from pydantic import TypeAdapter, ValidationError

    row = {k: v for k, v in row.items() if k not in ("score", "raw_score")}  # derived, recomputed
    try:
        res = TypeAdapter(Result).validate_python(row)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ValueError((f"{where}: " if where else "") + err["msg"].removeprefix("Value error, ")) from None
    if not re.fullmatch(r"[0-9]{1,18}", res.participant_id):  # as Moodle's folder names give it
        raise ValueError(f"participant_id {res.participant_id[:40]!r} is not a Moodle participant id")
    numbers = [res.max_score, res.hours_late, res.late_penalty, *(x for c in res.checks for x in (c.points, c.max_points))]
    if not all(math.isfinite(x) and abs(x) <= MAX_POINTS for x in numbers):
        raise ValueError(f"a grade, points or hours value is not a finite number up to {MAX_POINTS:g}")
    return res


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
            if not isinstance(version, int):
                raise ValueError(f"schema {version!r} is not a version number")
            if version > SCHEMA:
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
            rows.append(_typed_result(row))
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            what = ("cut off or not JSON" if isinstance(exc, json.JSONDecodeError) else
                    "nested thousands of levels deep" if isinstance(exc, RecursionError) else str(exc))
            raise ResultsFileError(f"{path}, line {n}: not a result row ({what})") from None
    if unknown and warnings is not None:
        warnings.append(f"{path}: ignored keys this grader does not know: {', '.join(sorted(unknown))}")
    return rows
