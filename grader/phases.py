"""Timestamps of a grade's phases, for benchmarks/bench_phases.py; nothing when not asked for.

With $GRADER_PHASE_LOG set to a file, `mark` appends one JSON line per event (name,
`time.monotonic()`, extras). The monotonic clock is the machine's, shared with the sandbox (no
time namespace), so the runner's own stamps (`info["at"]`) line up with the host's.
"""
from __future__ import annotations

import json
import os
import threading
import time

_LOG = os.environ.get("GRADER_PHASE_LOG")
_lock = threading.Lock()


def mark(name: str, **extra) -> None:
    if not _LOG:
        return
    line = json.dumps({"name": name, "t": time.monotonic(), **extra}, default=str)
    with _lock, open(_LOG, "a", encoding="utf-8") as f:
        f.write(line + "\n")
