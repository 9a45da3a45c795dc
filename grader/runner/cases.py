"""Calling a student's extracted functions on the host's inputs: the one loop shared by the
sandbox's call_functions.py and the self-check's local runner, so the instructor's judge and the
student's `grader check` see the same values from the same calls.

Standard library and numpy only, and no package-relative imports: the sandbox imports it as
`grader_runner.cases`, the self-check loads this file by path into whatever Python the student's
notebook uses (which may not have the grader installed).
"""
import contextlib
import io
import json
import signal
import threading
import time
import traceback

HAS_ALARM = hasattr(signal, "setitimer")  # not on Windows
MAX_PARTS = 16  # a longer returned tuple is sent as one array


def case_limits(timeout_s):
    """(per-case, import) seconds for a run of `timeout_s` in all: the sandbox's and the
    self-check's runner use the same split."""
    return max(2.0, timeout_s / 4), max(5.0, timeout_s * 0.6)


class CaseTimeout(BaseException):
    """A BaseException so student code's `except Exception` cannot swallow it."""


class Capped(io.StringIO):
    """What the student's functions print, kept up to `cap` characters (the rest is dropped)."""

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

    def __init__(self, seconds, use_alarm=HAS_ALARM):
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


def argument(a):
    """0-d inputs (a step number t, a learning rate) are passed as Python numbers, as a student's
    own call would; arrays stay arrays."""
    return a.item() if a.ndim == 0 else a


def add_job_arguments(p):
    """The command line both runners take (the sandbox's and the self-check's)."""
    p.add_argument("--source", required=True)
    p.add_argument("--cases", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--case-timeout", type=float, default=10)
    p.add_argument("--import-timeout", type=float, default=30)


def failed(info, exc):
    """Record the runner's own failure as the code the host reads (runner/failures.py)."""
    info["status"], info["reason"] = "crashed", "runner_failed"
    info["params"] = {"ename": type(exc).__name__}
    info["message"] = f"runner failed: {type(exc).__name__}: {exc}"[:2000]
    info["traceback"] = traceback.format_exc()[-4000:]


def run_job(args, save, *, use_alarm=HAS_ALARM, after_each=lambda info: None, started=lambda info: None):
    """Both runners' whole job: read the cases, inputs and extracted source named in `args`,
    call every case (`save` gets each return value), and return the verdicts as `info`, with
    status "ok", or "crashed" when the runner itself failed. `started(info)` and
    `after_each(info)` let the self-check write its progress as it goes."""
    info = {"status": "running", "message": "", "cases": {}, "module_error": None, "missing": []}
    t0 = time.monotonic()
    out = Capped(20_000)
    try:
        import numpy as np

        with open(args.cases, encoding="utf-8") as f:
            cases = json.load(f)
        inputs = np.load(args.inputs, allow_pickle=False)
        with open(args.source, encoding="utf-8") as f:
            source = f.read()
        started(info)
        run_cases(source, cases, inputs, info, save, out=out, use_alarm=use_alarm,
                  case_timeout=args.case_timeout, import_timeout=args.import_timeout,
                  after_each=lambda: after_each(info))
        info["status"] = "ok"
    except BaseException as exc:  # report, never die silently
        failed(info, exc)
    info["stdout_tail"] = out.getvalue()[-2000:]
    info["runner_s"] = round(time.monotonic() - t0, 3)
    return info


def run_cases(source, cases, inputs, info, save, *, out, case_timeout, import_timeout,
              use_alarm=HAS_ALARM, after_each=lambda: None):
    """Execute the extracted module, then call every case; each return value goes to
    `save(key, float64 array)` (a tuple as key__0, key__1, ...: the host knows how many to
    expect, and "parts" says how many came back). Verdicts go into `info`; nothing here knows
    what the right answer is."""
    import numpy as np

    namespace = {"__name__": "notebook_functions"}
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            with Deadline(import_timeout, use_alarm):
                exec(compile(source, "notebook_functions.py", "exec"), namespace)
        except BaseException as exc:
            info["module_error"] = {"ename": type(exc).__name__, "evalue": str(exc)[:2000]}
        wanted = sorted({c["function"] for c in cases})
        info["missing"] = [n for n in wanted if not callable(namespace.get(n))]
        for case in cases:
            info["cases"][case["id"]] = _call(namespace, case, inputs, save, case_timeout, use_alarm, np)
            after_each()


def _call(namespace, case, inputs, save, case_timeout, use_alarm, np):
    fn = namespace.get(case["function"])
    if not callable(fn):
        return {"ok": False, "ename": "NameError", "evalue": f"{case['function']} is not defined"}
    call_args = [argument(np.array(inputs[k], copy=True)) for k in case["args"]]
    try:
        with Deadline(case_timeout, use_alarm):
            value = fn(*call_args)
        done = {"ok": True, "ename": "", "evalue": ""}
        if isinstance(value, tuple) and 0 < len(value) <= MAX_PARTS:  # (w, v, s)
            for i, part in enumerate(value):
                save(f"{case['id']}__{i}", np.asarray(part, dtype=np.float64))
            done["parts"] = len(value)
        else:
            save(case["id"], np.asarray(value, dtype=np.float64))
        return done
    except CaseTimeout:
        return {"ok": False, "ename": "Timeout", "evalue": f"took more than {case_timeout:g} s"}
    except BaseException as exc:
        return {"ok": False, "ename": type(exc).__name__, "evalue": str(exc)[:1000]}
