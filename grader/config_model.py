"""What every YAML/CSV the instructor writes is validated with: a strict pydantic model (an
unknown key is an error, values frozen), relative paths read from the file's folder, and
pydantic's errors made into lines that name the bad key and, for a misspelt one, the key meant.
Shared by the rubric (rubric.py), the course config (course.py) and the overrides (final.py)."""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, ValidationError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RelativePaths:
    """For a model with a `source` (the file it was loaded from)."""

    source: str

    def resolve_path(self, value: str) -> Path:
        """A path written in the file: relative paths are relative to the file's folder."""
        p = Path(value).expanduser()
        if not p.is_absolute() and self.source:
            p = Path(self.source).parent / p
        return p


def known_keys(model: Any, loc: tuple) -> list[str]:
    """The keys the model accepts where `loc` (pydantic's error location) points."""
    for item in loc[:-1]:
        if isinstance(item, int):
            continue
        ann = getattr(getattr(model, "model_fields", {}).get(str(item)), "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
    return sorted(k for k in getattr(model, "model_fields", {}) if k != "source")


def unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")


def error_lines(err: ValidationError, model: Any, where: Callable[[tuple], str] | None = None,
                keys: Callable[[tuple], list[str]] | None = None,
                special: Callable[[dict], str | None] | None = None) -> list[str]:
    """One '<key>: <what is wrong>' per error. `where` names a location (default: dotted keys),
    `keys` lists the keys accepted there (default: the model's fields), `special` words an error
    of the caller's own (None: the default wording). A `where` of '' leaves the key out (the
    caller's messages name it)."""
    lines = []
    for e in err.errors():
        loc = e["loc"]
        at = where(loc) if where else (".".join(str(p) for p in loc) or "(top level)")
        msg = special(e) if special else None
        if msg is None and e["type"] == "extra_forbidden":
            msg = unknown_key(str(loc[-1]), keys(loc) if keys else known_keys(model, loc))
        if msg is None:
            msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"{at}: {msg}" if at else msg)
    return lines
