"""Inside the sandbox: run the functions extracted from a notebook on the host's test inputs.

No kernel and no re-training: the host extracted `softmax`, `cross_entropy`, ... with what they
need into one module; this calls each case with a time limit and sends back the raw return
values. It never sees expected values, so patching numpy or printing "passed" changes nothing.
"""
import argparse
import contextlib
import io
import json
import os
import signal
import sys
import time
import traceback

from . import protocol


class CaseTimeout(BaseException):
    """A BaseException so student code's `except Exception` cannot swallow it."""


def _alarm(signum, frame):
    raise CaseTimeout()


class _Capped(io.StringIO):
    def __init__(self, cap):
        super().__init__()
        self.cap = cap

    def write(self, s):
        if self.tell() < self.cap:
            super().write(s[: self.cap - self.tell()])
        return len(s)


MAX_PARTS = 16  # a longer tuple is sent as one array, as before


def _argument(a):
    """0-d inputs (a step number t, a learning rate) are passed as Python numbers, as a
    student's own call would; arrays stay arrays."""
    return a.item() if a.ndim == 0 else a


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--source", required=True)
    p.add_argument("--cases", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--out-fd", type=int, required=True)
    p.add_argument("--case-timeout", type=float, default=10)
    p.add_argument("--import-timeout", type=float, default=30)
    args = p.parse_args(argv)
    channel = protocol.open_channel(args.out_fd)
    protocol.limit_files(64, 64)
    info = {"status": "ok", "message": "", "cases": {}, "module_error": None, "missing": []}
    blobs = {}
    t0 = time.monotonic()
    out = _Capped(20_000)
    try:
        import numpy as np

        with open(args.cases, encoding="utf-8") as f:
            cases = json.load(f)
        inputs = np.load(args.inputs, allow_pickle=False)
        with open(args.source, encoding="utf-8") as f:
            source = f.read()
        namespace = {"__name__": "notebook_functions"}
        signal.signal(signal.SIGALRM, _alarm)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                signal.setitimer(signal.ITIMER_REAL, args.import_timeout)
                exec(compile(source, "notebook_functions.py", "exec"), namespace)
            except BaseException as exc:
                info["module_error"] = {"ename": type(exc).__name__, "evalue": str(exc)[:2000]}
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            wanted = sorted({c["function"] for c in cases})
            info["missing"] = [n for n in wanted if not callable(namespace.get(n))]
            results = {}
            for case in cases:
                fn = namespace.get(case["function"])
                if not callable(fn):
                    info["cases"][case["id"]] = {"ok": False, "ename": "NameError",
                                                 "evalue": f"{case['function']} is not defined"}
                    continue
                call_args = [_argument(np.array(inputs[k], copy=True)) for k in case["args"]]
                try:
                    signal.setitimer(signal.ITIMER_REAL, args.case_timeout)
                    value = fn(*call_args)
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    done = {"ok": True, "ename": "", "evalue": ""}
                    if isinstance(value, tuple) and 0 < len(value) <= MAX_PARTS:
                        # (w, v, s): one array per element, case__0, case__1...; the host
                        # knows how many to expect, and "parts" says how many came back.
                        for i, part in enumerate(value):
                            results[f"{case['id']}__{i}"] = np.asarray(part, dtype=np.float64)
                        done["parts"] = len(value)
                    else:
                        results[case["id"]] = np.asarray(value, dtype=np.float64)
                    info["cases"][case["id"]] = done
                except CaseTimeout:
                    info["cases"][case["id"]] = {"ok": False, "ename": "Timeout",
                                                 "evalue": f"took more than {args.case_timeout:g} s"}
                except BaseException as exc:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    info["cases"][case["id"]] = {"ok": False, "ename": type(exc).__name__,
                                                 "evalue": str(exc)[:1000]}
        buf = io.BytesIO()
        np.savez(buf, **results)
        blobs["results.npz"] = buf.getvalue()
    except BaseException as exc:
        info["status"] = "crashed"
        info["message"] = f"runner failed: {type(exc).__name__}: {exc}"[:2000]
        info["traceback"] = traceback.format_exc()[-4000:]
    info["stdout_tail"] = out.getvalue()[-2000:]
    info["runner_s"] = round(time.monotonic() - t0, 3)
    protocol.write(channel, info, blobs)
    os._exit(0)


if __name__ == "__main__":
    main()
