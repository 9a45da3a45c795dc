"""YAML that people write (rubrics, the course config, grade overrides, the Slurm config), read
as input that can be anything: every way it can fail is one error of the caller's type.

PyYAML reads the bytes itself, so a UTF-8 or UTF-16 file with its BOM loads and undecodable
bytes are its own error. What safe_load lets through is bounded here: nesting thousands deep
(its composer recurses), an integer of thousands of digits (Python's int limit), and aliases
nested in aliases ("billion laughs": a few lines that expand to 10^9 values, which a later
repr(), deepcopy or JSON dump would expand) or an alias that contains itself.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import GraderError

#: values a configuration file may hold once its aliases are expanded (real ones: hundreds)
MAX_VALUES = 100_000


def load_yaml(data: bytes | str, where: str, error: type[GraderError]) -> Any:
    """The YAML document in `data`; `error(f"{where}: ...")` when it cannot be one."""
    try:
        raw = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise error(f"{where}: not valid YAML: {exc}") from None
    except RecursionError:
        raise error(f"{where}: not valid YAML: nested thousands of levels deep") from None
    except ValueError as exc:  # int("1" * 5000): Python's limit on digits
        raise error(f"{where}: not valid YAML: {exc}") from None
    if _expanded_size(raw, MAX_VALUES) > MAX_VALUES:
        raise error(f"{where}: more than {MAX_VALUES:,} values once its aliases (*name) are "
                    "expanded, or an alias that contains itself: not a configuration file")
    return raw


def read_yaml(path: str | Path, where: str, error: type[GraderError]) -> Any:
    """load_yaml of the file at `path`. FileNotFoundError is left to the caller (each says what
    was expected there); other read failures are `error`."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise error(f"{where}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return load_yaml(data, where, error)


def _expanded_size(value: Any, limit: int) -> int:
    """How many values `value` holds counting every use of a shared one (stops past `limit`)."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return count
