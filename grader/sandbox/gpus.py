"""GPUs for the sandbox: which exist, which job gets which, and what the sandbox must see.

A pool hands each notebook run one GPU (at most `jobs_per_gpu` runs per GPU at a time); runs
wait for a free slot. Inside the sandbox only that GPU's device node is bound (plus the
driver's control nodes), CUDA_VISIBLE_DEVICES names it, and TensorFlow's memory growth is on,
so two runs sharing a GPU don't each grab all of its memory. With no GPUs given, runs are
CPU-only (CUDA_VISIBLE_DEVICES="").
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import GraderError

CONTROL_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")


def detect_gpus(proc_root: Path = Path("/proc/driver/nvidia/gpus")) -> list[str]:
    """Indices of the NVIDIA GPUs on this machine ([] without driver or GPUs)."""
    found = [m.group(1) for m in (re.match(r"GPU (\d+):", name) for name in gpu_names()) if m]
    if found:
        return found
    if proc_root.is_dir():
        return [str(i) for i in range(len(list(proc_root.iterdir())))]
    return []


def gpu_names() -> list[str]:
    """`nvidia-smi -L`'s lines ("GPU 0: NVIDIA H100 ... (UUID: ...)"), [] without it."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.startswith("GPU ")]


def parse_gpus(spec: str | None, available: list[str] | None = None) -> list[str]:
    """'--gpus' value -> GPU indices: None/'' -> [] (CPU), 'all' -> every GPU, '0,2' -> those."""
    if not spec:
        return []
    available = detect_gpus() if available is None else available
    if spec.strip().lower() == "all":
        if not available:
            raise GraderError("--gpus all: no NVIDIA GPU found on this machine (nvidia-smi -L)")
        return list(available)
    wanted = [g.strip() for g in spec.split(",") if g.strip()]
    bad = [g for g in wanted if not g.isdigit()]
    if bad:
        raise GraderError(f"--gpus: expected 'all' or indices like 0,1; got {spec!r}")
    missing = [g for g in wanted if available and g not in available]
    if missing:
        raise GraderError(f"--gpus: no GPU {', '.join(missing)} here (found: {', '.join(available) or 'none'})")
    return list(dict.fromkeys(wanted))


class GpuPool:
    """Hands out GPU indices, at most `jobs_per_gpu` holders per GPU; callers wait when full."""

    def __init__(self, gpus: list[str], jobs_per_gpu: int = 1):
        if jobs_per_gpu < 1:
            raise GraderError("--jobs-per-gpu must be at least 1")
        self.gpus = list(gpus)
        self.jobs_per_gpu = jobs_per_gpu
        self.in_use = {g: 0 for g in self.gpus}
        self._cond = threading.Condition()

    @contextmanager
    def acquire(self) -> Iterator[str | None]:
        """Yields a GPU index (least used first), or None when the pool has no GPUs (CPU run)."""
        if not self.gpus:
            yield None
            return
        with self._cond:
            while True:
                free = [g for g in self.gpus if self.in_use[g] < self.jobs_per_gpu]
                if free:
                    gpu = min(free, key=lambda g: self.in_use[g])
                    self.in_use[gpu] += 1
                    break
                self._cond.wait()
        try:
            yield gpu
        finally:
            with self._cond:
                self.in_use[gpu] -= 1
                self._cond.notify()


def device_args(gpu: str | None, dev_root: Path = Path("/dev")) -> list[str]:
    """bwrap arguments exposing one GPU: its /dev/nvidiaN and the driver's control nodes."""
    if gpu is None:
        return []
    node = dev_root / f"nvidia{gpu}"
    if not node.exists():
        raise GraderError(f"GPU {gpu}: device {node} not found")
    args = ["--dev-bind", str(node), f"/dev/nvidia{gpu}"]
    for name in CONTROL_NODES:
        if (dev_root / name).exists():
            args += ["--dev-bind", str(dev_root / name), f"/dev/{name}"]
    return args


def gpu_env(gpu: str | None) -> dict[str, str]:
    if gpu is None:
        return {"CUDA_VISIBLE_DEVICES": ""}
    return {"CUDA_VISIBLE_DEVICES": gpu, "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
