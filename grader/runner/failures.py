"""Why a sandboxed job gave no normal result: a code with parameters, never English text.

The runner inside the sandbox (this package) and the host's decoding (sandbox/jobs.py) name a failure
by one of these codes; grader/checks/run_status.py turns it into the student's message in their
language. What the runner reports is untrusted: an unknown code becomes `runner_failed`, and a
parameter is kept only with the type declared here (names as short identifiers).
"""
from __future__ import annotations

import math
import re

REASONS: dict[str, dict[str, type]] = {
    "timeout": {"limit_s": float},  # the whole job's wall clock
    "cell_timeout": {"cell": int, "limit_s": float},  # cell: 1-based, as students count
    "probe_timeout": {"limit_s": float},  # the grader's probe after the last cell
    "memory": {"limit_mb": int},
    "process_limit": {},  # pids.max reached (a fork bomb, too many threads)
    "kernel_died": {},
    "no_result": {},  # the runner ended without reporting (killed, exited the interpreter)
    "result_refused": {},  # returned arrays over their budget (npz_limits.py)
    "runner_failed": {"ename": str},  # the runner itself raised (an exception's class name)
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,79}")


def typed(reason, params) -> tuple[str, dict]:
    """(code, parameters) from what a runner reported, keeping only what REASONS declares."""
    if reason not in REASONS:
        return "runner_failed", {}
    out = {}
    for key, kind in REASONS[reason].items():
        value = params.get(key) if isinstance(params, dict) else None
        if kind is str and isinstance(value, str) and _NAME.fullmatch(value):
            out[key] = value
        elif kind in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value) and 0 <= value < 1e9:
            out[key] = kind(value)
    return reason, out
