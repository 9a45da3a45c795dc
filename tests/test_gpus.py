"""GPU scheduling on a CPU machine: the pool's rules, the parsing, what the sandbox would see."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from grader.errors import GraderError
from grader.sandbox.gpus import GpuPool, device_args, gpu_env, parse_gpus


@pytest.mark.parametrize("gpus, per_gpu, workers", [(["0", "1"], 1, 6), (["0", "1"], 2, 8), (["3"], 1, 3)])
def test_pool_never_oversubscribes_and_everyone_gets_a_turn(gpus, per_gpu, workers):
    pool = GpuPool(gpus, per_gpu)
    lock = threading.Lock()
    holding = {g: 0 for g in gpus}
    peak = {g: 0 for g in gpus}
    served = []

    def job(i):
        with pool.acquire() as gpu:
            with lock:
                holding[gpu] += 1
                peak[gpu] = max(peak[gpu], holding[gpu])
            time.sleep(0.05)
            with lock:
                holding[gpu] -= 1
                served.append((i, gpu))

    threads = [threading.Thread(target=job, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(served) == workers  # nobody starved
    assert all(p <= per_gpu for p in peak.values())
    assert max(peak.values()) == min(per_gpu, workers)  # the slots are really used
    assert pool.in_use == {g: 0 for g in gpus}  # all given back


def test_empty_pool_means_cpu():
    with GpuPool([]).acquire() as gpu:
        assert gpu is None
    assert gpu_env(None) == {"CUDA_VISIBLE_DEVICES": ""}
    assert device_args(None) == []


def test_parse_gpus():
    assert parse_gpus(None, ["0", "1"]) == []
    assert parse_gpus("all", ["0", "1"]) == ["0", "1"]
    assert parse_gpus("1,0,1", ["0", "1"]) == ["1", "0"]
    with pytest.raises(GraderError, match="no GPU 5"):
        parse_gpus("5", ["0", "1"])
    with pytest.raises(GraderError, match="no NVIDIA GPU"):
        parse_gpus("all", [])
    with pytest.raises(GraderError, match="expected 'all' or indices"):
        parse_gpus("gpu0", ["0"])


def test_sandbox_sees_only_its_gpu(tmp_path: Path):
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"):
        (tmp_path / name).touch()
    args = device_args("1", dev_root=tmp_path)
    binds = [args[i + 2] for i in range(0, len(args), 3)]
    assert binds == ["/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm"]
    assert "/dev/nvidia0" not in args
    assert gpu_env("1") == {"CUDA_VISIBLE_DEVICES": "1", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
    with pytest.raises(GraderError, match="not found"):
        device_args("7", dev_root=tmp_path)
