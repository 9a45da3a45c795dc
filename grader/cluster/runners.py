"""Where a batch's sandboxed jobs run: here (LocalJobs) or on Dask workers (DaskJobs).

`grade_submission` asks its GradeContext's runner for the two jobs (`functions`, `notebook`)
and judges what comes back; nothing else of grading moves. Both runners block the calling
coordinator thread until the job is done and return a `RunOutput` whose executed notebook (if
any) is a file on this machine.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from ..errors import GraderError


class ClusterLost(GraderError):
    """The Dask scheduler went away in the middle of a batch: what finished is kept."""


class LocalJobs:
    """Today's path: the jobs run in this process's sandbox session (threads of one machine)."""

    def __init__(self, session):
        self.session = session

    @property
    def kernel(self) -> tuple[str, dict]:
        return str(self.session.kenv.python), self.session.kenv.packages

    def set_threads(self, threads: int) -> None:
        self.session.threads = threads

    def functions(self, source, cases, inputs, **kw):
        from .. import phases
        from ..sandbox import run_functions

        phases.mark("unit_start", job=kw.get("name"))
        run = run_functions(self.session, source, cases, inputs, **kw)
        phases.mark("unit_end", job=kw.get("name"))
        return run

    def notebook(self, notebook: Path, *, gpu: bool = False, **kw):
        from .. import phases
        from ..sandbox import run_notebook

        phases.mark("run_start")
        run = run_notebook(self.session, notebook, **kw)
        phases.mark("run_end", at=run.info.get("at"))
        return run

    def abort(self) -> None:
        self.session.running.abort()

    def aborted(self) -> bool:
        return self.session.running.aborted.is_set()

    def close(self) -> None:
        self.session.close()


class DaskJobs:
    """The jobs go to a Dask cluster (`client`); hidden labels and expected values stay here.

    The Keras data files and the probes' hidden inputs are scattered once per batch (every
    worker that runs a notebook receives them once; workers cache the files by sha256); the
    notebook's bytes, the student's other files, the limits and the probe code go with each job.
    Notebook runs ask for the worker resource {"GPU": 1} when `gpus` is set; unit jobs never.
    """

    def __init__(self, client, address: str, *, python: str | None = None, sandboxed: bool = True,
                 limits_mechanism: str | None = None, gpus: bool = False, closer=None,
                 expected_slots: int = 0):
        self.client = client
        self.address = address
        self.gpus = gpus
        self.expected_slots = expected_slots  # Slurm: the threads of every job asked for
        self.batch = uuid.uuid4().hex
        self.cfg = {"python": python, "sandboxed": sandboxed, "limits": limits_mechanism, "threads": None}
        self.session = None  # no sandbox on the coordinator
        self._closer = closer
        self._aborted = threading.Event()
        self._lock = threading.Lock()
        self._shared: dict[int, tuple[object, object]] = {}  # id(obj) -> (obj, scattered future)
        self._tmp = Path(tempfile.mkdtemp(prefix="dl-grader-coordinator-"))
        self._kernel: tuple[str, dict] | None = None
        self.placement: dict[str, dict[str, int]] = {}  # job kind -> worker -> jobs run there

    # -- what the batch needs to know ------------------------------------------------------
    @property
    def kernel(self) -> tuple[str, dict]:
        """The workers' kernel interpreter and packages (the first worker's; `grader doctor
        --cluster` shows every worker's), for the store's fingerprint and run.json."""
        if self._kernel is None:
            from .worker import kernel_info

            info = self._wait(self.client.submit(kernel_info, self.cfg["python"], pure=False))
            self._kernel = (info["python"], info["packages"])
        return self._kernel

    def slots(self) -> int:
        return max(1, self.expected_slots, sum(self.client.nthreads().values()))

    def set_threads(self, threads: int | None) -> None:
        self.cfg["threads"] = threads  # None: each worker divides its cores among its threads

    # -- jobs ------------------------------------------------------------------------------
    def functions(self, source, cases, inputs, **kw):
        from .worker import functions_job

        return self._count("functions", self._wait(self.client.submit(
            functions_job, self.batch, self.cfg, source, cases, inputs, kw, pure=False,
            key=self._key("unit", kw))))

    def notebook(self, notebook: Path, *, gpu: bool = False, extra_files=None, datasets=None,
                 probe_inputs=None, **kw):
        from .worker import notebook_job

        extra = {rel: Path(p).read_bytes() for rel, p in (extra_files or {}).items()}
        data = self._scatter(datasets or {}, lambda d: {
            name: (_sha256(p), Path(p).read_bytes()) for name, p in d.items()})
        inputs = self._scatter(probe_inputs, lambda x: x) if probe_inputs else None
        resources = {"GPU": 1} if (gpu and self.gpus) else None
        fut = self.client.submit(notebook_job, self.batch, self.cfg, Path(notebook).read_bytes(), extra,
                                 data, inputs, kw, pure=False, resources=resources, key=self._key("nb", kw))
        run, executed = self._wait(fut)
        self._count("notebook", run)
        if executed is not None:
            out = self._tmp / f"{uuid.uuid4().hex}.ipynb"
            out.write_bytes(executed)
            run.executed_notebook = out
        return run

    def _count(self, kind: str, run):
        """Which worker ran what (run.json's `cluster_jobs`)."""
        where = str(run.info.get("worker", "?"))
        with self._lock:
            per = self.placement.setdefault(kind, {})
            per[where] = per.get(where, 0) + 1
        return run

    def _key(self, kind: str, kw: dict) -> str:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(kw.get("name", "")))[:60]
        return f"grader-{kind}-{safe}-{uuid.uuid4().hex[:8]}"

    def _scatter(self, obj, prepare):
        """One future per batch-wide object: a task that returns it, so its bytes go to each
        worker at most once (workers fetch it from each other), and the scheduler, which keeps
        the task, can make it again if every worker holding it dies (scattered data could not)."""
        import warnings

        from .worker import hold

        with self._lock:
            if id(obj) not in self._shared:
                with warnings.catch_warnings():  # "large object in task graph": on purpose
                    warnings.simplefilter("ignore")
                    fut = self.client.submit(hold, prepare(obj), pure=False,
                                             key=f"grader-data-{uuid.uuid4().hex[:12]}")
                self._shared[id(obj)] = (obj, fut)
            return self._shared[id(obj)][1]

    def _wait(self, fut):
        from distributed.client import FutureCancelledError

        if self._aborted.is_set():
            fut.cancel()

        try:
            return fut.result()
        except FutureCancelledError as exc:
            if self._aborted.is_set():
                from ..sandbox.abort import Aborted

                raise Aborted("interrupted") from None
            raise ClusterLost(f"lost the Dask scheduler at {self.address} "
                              f"({getattr(exc, 'reason', None) or exc})") from None
        except OSError as exc:  # the connection itself failed
            raise ClusterLost(f"lost the Dask scheduler at {self.address} ({exc})") from None

    # -- stopping --------------------------------------------------------------------------
    def abort(self) -> None:
        """Ctrl-C: stop this batch's running sandboxes on every worker; start nothing new."""
        self._aborted.set()
        from .worker import abort_batch

        if self.client.status != "running":  # the scheduler is gone: nobody to tell
            return
        try:
            self.client.run(abort_batch, self.batch, wait=True)
        except Exception:  # the scheduler may be gone too: the workers' jobs end on their own
            pass

    def aborted(self) -> bool:
        return self._aborted.is_set()

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)
        if self._closer is not None:
            self._closer()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
