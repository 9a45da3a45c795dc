"""`--cluster ADDR`: a Dask client for a running scheduler, a LocalCluster of N worker
processes, or Slurm jobs through dask-jobqueue's SLURMCluster (read from a small YAML file)."""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import GraderError
from ..yaml_input import read_yaml

CLUSTER_HELP = ("tcp://HOST:8786 (a running `dask scheduler`), local:N (N worker processes on "
                "this machine) or slurm (Slurm jobs as configured by --cluster-config)")


class SlurmConfig(BaseModel):
    """The Slurm jobs that become Dask workers (one worker process per job by default)."""

    model_config = ConfigDict(extra="forbid")
    partition: str | None = None
    account: str | None = None
    jobs: int = 1  # Slurm jobs (workers) to start
    cores: int = 4  # cores per job = notebook runs at once per worker
    processes: int = 1
    memory: str = "16GiB"  # per job
    walltime: str = "02:00:00"
    gpus_per_job: int = 0  # --gres=gpu:N and the worker resource GPU=N
    python: str | None = None  # the interpreter on the nodes (default: this one's path)
    local_directory: str | None = None  # node-local scratch for the worker, e.g. /tmp
    interface: str | None = None  # the network interface workers reach the scheduler on
    prologue: list[str] = []  # shell lines before the worker starts (module load, ...)
    job_directives: list[str] = []  # more #SBATCH options, e.g. "--qos=short"
    wait_s: float = 900  # how long to wait for the first worker (queue time)


def load_slurm_config(path: Path) -> SlurmConfig:
    try:
        raw = read_yaml(path, f"--cluster slurm: cannot read {path}", GraderError) or {}
    except FileNotFoundError:
        raise GraderError(f"--cluster slurm: config file not found: {path} "
                          "(see the README's Slurm recipe)") from None
    try:
        return SlurmConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise GraderError(f"{path}: {where}: {first['msg']}") from None


def slurm_cluster(cfg: SlurmConfig):
    """dask-jobqueue's SLURMCluster for `cfg` (jobs are submitted by .scale(), not here)."""
    import sys

    from dask_jobqueue import SLURMCluster

    directives = list(cfg.job_directives)
    extra_args = []
    if cfg.gpus_per_job:
        directives.append(f"--gres=gpu:{cfg.gpus_per_job}")
        extra_args = ["--resources", f"GPU={cfg.gpus_per_job}"]
    return SLURMCluster(
        queue=cfg.partition, account=cfg.account, cores=cfg.cores, processes=cfg.processes,
        memory=cfg.memory, walltime=cfg.walltime, python=cfg.python or sys.executable,
        local_directory=cfg.local_directory, interface=cfg.interface,
        job_extra_directives=directives, worker_extra_args=extra_args,
        job_script_prologue=cfg.prologue, scheduler_options={"dashboard_address": None})


def connect(spec: str, *, config: Path | None, gpus: bool, wait_s: float = 120):
    """(client, closer, address, expected worker threads) for `--cluster SPEC`; a clear error
    when it cannot be reached."""
    from distributed import Client, LocalCluster

    _quiet_dask_logs()
    cluster, expected = None, 0
    if m := re.fullmatch(r"local:(\d+)", spec):
        if gpus:
            raise GraderError("--cluster local:N does not hand out GPUs; use --gpus without "
                              "--cluster (one machine), or start GPU workers with "
                              "`dask worker ADDR --resources GPU=1`")
        cluster = LocalCluster(n_workers=max(1, int(m.group(1))), threads_per_worker=1,
                               processes=True, host="127.0.0.1", dashboard_address=None)
        address = cluster.scheduler_address
    elif spec == "slurm":
        cfg = load_slurm_config(config or Path("cluster.yaml"))
        cluster = slurm_cluster(cfg)
        cluster.scale(jobs=cfg.jobs)
        address, wait_s = cluster.scheduler_address, cfg.wait_s
        expected = cfg.jobs * cfg.cores
    elif re.fullmatch(r"(tcp|tls|ucx|inproc)://\S+|[\w.-]+:\d+", spec):
        address = spec if "://" in spec else f"tcp://{spec}"
    else:
        raise GraderError(f"--cluster {spec!r}: expected {CLUSTER_HELP}")
    try:
        client = Client(cluster or address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise GraderError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=wait_s)
    except (TimeoutError, OSError):
        client.close()
        if cluster is not None:
            cluster.close()
        raise GraderError(f"no Dask worker joined the scheduler at {address} within {wait_s:g} s "
                          "(start one with `dask worker ADDRESS`)") from None

    def close() -> None:
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close(timeout=10)
                except Exception:  # a scheduler that is gone: nothing left to close
                    pass

    return client, close, address, expected


def _quiet_dask_logs() -> None:
    """Dask logs a lost connection with tracebacks; the grader says it in one line instead
    (GRADER_DASK_LOG=1 keeps Dask's own log, for debugging a cluster)."""
    import logging
    import os

    if not os.environ.get("GRADER_DASK_LOG"):
        for name in ("distributed", "dask_jobqueue", "tornado", "asyncio"):
            log = logging.getLogger(name)
            for handler in log.handlers:  # Dask's config gives child loggers their own levels
                handler.setLevel(logging.CRITICAL + 1)
            log.addHandler(logging.NullHandler())
            log.propagate = False


def open_runner(spec: str, *, config: Path | None = None, python: str | None = None,
                sandboxed: bool = True, limits_mechanism: str | None = None, gpus: bool = False):
    """The DaskJobs runner of a batch graded on `--cluster SPEC`."""
    from .runners import DaskJobs

    client, close, address, expected = connect(spec, config=config, gpus=gpus)
    return DaskJobs(client, address, python=python, sandboxed=sandboxed,
                    limits_mechanism=limits_mechanism, gpus=gpus, closer=close,
                    expected_slots=expected)
