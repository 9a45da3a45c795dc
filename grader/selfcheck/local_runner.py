"""Run the functions extracted from a student's notebook on the unit-test inputs, on the student's
own machine (Linux, macOS, Windows, Colab): the self-check's counterpart of the sandbox's
grader/runner/call_functions.py, with the same calls, conversions and per-case time limits, so
the host's judge gives the same verdicts.

Started as a script (`python local_runner.py ...`, importing nothing of the grader). No sandbox:
this is the student's own code on their own machine. Results go to files in --out, written
after every case, so a run killed for time still reports the cases it finished:
  case_<id>.npy  the return value as float64 (np.save, read back with allow_pickle=False);
                 a returned tuple as case_<id>__0.npy, case_<id>__1.npy... (info: "parts")
  info.json      {"status", "message", "cases": {id: {ok, ename, evalue}}, "module_error", "missing", ...}
"""
import argparse
import contextlib
import io
import json
import os
import signal
import sys
import threading
import time
import traceback

_HAS_ALARM = hasattr(signal, "setitimer")  # not on Windows

WATCHED = ("tensorflow", "keras", "torch", "jax")
MAX_PARTS = 16  # as call_functions.py: a longer tuple is sent as one array


def _argument(a):
    """As call_functions.py: 0-d inputs (a step number, a learning rate) are passed as Python
    numbers, as a student's own call would; arrays stay arrays."""
    return a.item() if a.ndim == 0 else a


class CaseTimeout(BaseException):
    """A BaseException so student code's `except Exception` cannot swallow it."""


class _Capped(io.StringIO):
    def __init__(self, cap):
        super().__init__()
        self.cap = cap

    def write(self, s):
        if self.tell() < self.cap:
            super().write(s[: self.cap - self.tell()])
        return len(s)


class Deadline:
    """A time limit around one call: SIGALRM where it exists, else a timer that interrupts the main
    thread (Windows), which raises KeyboardInterrupt there; both surface as CaseTimeout."""

    def __init__(self, seconds, use_alarm=_HAS_ALARM):
        self.seconds, self.use_alarm, self.fired, self._timer = seconds, use_alarm, False, None

    def __enter__(self):
        if self.use_alarm:
            signal.signal(signal.SIGALRM, self._alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        else:
            import _thread

            signal.signal(signal.SIGINT, signal.default_int_handler)  # interrupt_main needs it handled

            def fire():
                self.fired = True
                _thread.interrupt_main()

            self._timer = threading.Timer(self.seconds, fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _alarm(self, signum, frame):
        self.fired = True
        raise CaseTimeout()

    def __exit__(self, kind, exc, tb):
        if self.use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elif self._timer is not None:
            self._timer.cancel()
        if self.fired and kind is KeyboardInterrupt:
            raise CaseTimeout() from None
        return False


def _save(folder, key, array):
    import numpy as np

    np.save(os.path.join(folder, f"case_{key}.npy"), array, allow_pickle=False)


def _write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, default=str)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--source", required=True)
    p.add_argument("--cases", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--case-timeout", type=float, default=10)
    p.add_argument("--import-timeout", type=float, default=30)
    p.add_argument("--no-alarm", action="store_true", help="use the timer fallback (as on Windows)")
    args = p.parse_args(argv)
    use_alarm = _HAS_ALARM and not args.no_alarm
    info_path = os.path.join(args.out, "info.json")
    info = {"status": "running", "message": "", "cases": {}, "module_error": None, "missing": []}
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
        _write_json(info_path, info)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                with Deadline(args.import_timeout, use_alarm):
                    exec(compile(source, "notebook_functions.py", "exec"), namespace)
            except BaseException as exc:
                info["module_error"] = {"ename": type(exc).__name__, "evalue": str(exc)[:2000]}
            wanted = sorted({c["function"] for c in cases})
            info["missing"] = [n for n in wanted if not callable(namespace.get(n))]
            for case in cases:
                fn = namespace.get(case["function"])
                if not callable(fn):
                    info["cases"][case["id"]] = {"ok": False, "ename": "NameError",
                                                 "evalue": f"{case['function']} is not defined"}
                    continue
                call_args = [_argument(np.array(inputs[k], copy=True)) for k in case["args"]]
                try:
                    with Deadline(args.case_timeout, use_alarm):
                        value = fn(*call_args)
                    done = {"ok": True, "ename": "", "evalue": ""}
                    if isinstance(value, tuple) and 0 < len(value) <= MAX_PARTS:  # (w, v, s): case__0, ...
                        for i, part in enumerate(value):
                            _save(args.out, f"{case['id']}__{i}", np.asarray(part, dtype=np.float64))
                        done["parts"] = len(value)
                    else:
                        _save(args.out, case["id"], np.asarray(value, dtype=np.float64))
                    info["cases"][case["id"]] = done
                except CaseTimeout:
                    info["cases"][case["id"]] = {"ok": False, "ename": "Timeout",
                                                 "evalue": f"took more than {args.case_timeout:g} s"}
                except BaseException as exc:
                    info["cases"][case["id"]] = {"ok": False, "ename": type(exc).__name__,
                                                 "evalue": str(exc)[:1000]}
                _write_json(info_path, info)
        info["status"] = "ok"
    except BaseException as exc:
        info["status"] = "crashed"
        info["message"] = f"runner failed: {type(exc).__name__}: {exc}"[:2000]
        info["traceback"] = traceback.format_exc()[-4000:]
    info["stdout_tail"] = out.getvalue()[-2000:]
    info["runner_s"] = round(time.monotonic() - t0, 3)
    info["imported"] = [m for m in WATCHED if m in sys.modules]
    _write_json(info_path, info)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
