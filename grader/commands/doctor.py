"""`grader doctor`: what the sandbox will use on this machine."""
from __future__ import annotations

import os

from .. import __version__


def add_parser(sub) -> None:
    d = sub.add_parser("doctor", help="show what the sandbox will use on this machine")
    d.add_argument("--python", help="kernel interpreter to inspect (default: this one)")
    d.set_defaults(func=run)


def run(args) -> int:
    import shutil

    from ..sandbox.kernel_env import probe_kernel_env
    from ..sandbox.limits import detect_mechanism

    bwrap = shutil.which("bwrap")
    print(f"grader {__version__}")
    print(f"bubblewrap: {bwrap or 'MISSING (apt-get install bubblewrap)'}")
    print(f"limits:     {detect_mechanism()}")
    env = probe_kernel_env(args.python)
    print(f"kernel:     {env.python} (Python {env.version})")
    for k, v in env.packages.items():
        print(f"  {k:11} {v or '-'}")
    print(f"cpus:       {os.cpu_count()}")
    return 0 if bwrap else 1


