"""Grading on a real Dask cluster on the loopback address: a `dask scheduler` and two `dask
worker` processes (subprocesses), graded through by real `grader grade` processes. The rows
equal the local path's; a worker killed in the middle of a notebook costs nothing (the job
runs again on the other worker, one row per student); a scheduler killed mid-batch stops the
batch with a one-line error, keeps every finished result, stores no error row for the lost
ones, and the next run resumes. `grader doctor --cluster` reports every worker. No GPU needed.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from conftest import ROOT, small_rubric_dict
from test_store_resume import MARKER, STUDENTS, make_zip, rows, stored_runs, wait_for_results

pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("cluster")]

CLASS = dict(list(STUDENTS.items())[:4])


def _py(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


class Cluster:
    """A scheduler and workers on 127.0.0.1, started as the README says (`dask scheduler`,
    `dask worker ADDR`), with this checkout first on the workers' path."""

    def __init__(self, tmp: Path, workers: int = 2, worker_args: list[list[str]] | None = None):
        self.tmp = tmp
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        tmp.mkdir(parents=True, exist_ok=True)
        sfile = tmp / "scheduler.json"
        self.scheduler = subprocess.Popen(
            _py("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                "--no-dashboard", "--scheduler-file", str(sfile)),
            env=self.env, stdout=subprocess.DEVNULL, stderr=open(tmp / "scheduler.log", "w"))
        t0 = time.monotonic()
        while not sfile.exists() or not sfile.read_text().strip():
            assert time.monotonic() - t0 < 60 and self.scheduler.poll() is None, "no scheduler"
            time.sleep(0.2)
        time.sleep(0.2)
        self.address = json.loads(sfile.read_text())["address"]
        self.workers = []
        for i in range(workers):
            extra = (worker_args or [[]] * workers)[i]
            self.workers.append(subprocess.Popen(
                _py("distributed.cli.dask_worker", self.address, "--host", "127.0.0.1",
                    "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}",
                    "--local-directory", str(tmp / f"w{i}"), *extra),
                env=self.env, stdout=subprocess.DEVNULL, stderr=open(tmp / f"w{i}.log", "w")))
        from distributed import Client

        with Client(self.address, timeout="30s") as c:
            c.wait_for_workers(workers, timeout=120)

    def by_name(self) -> dict[str, str]:
        from distributed import Client

        with Client(self.address, timeout="30s") as c:
            return {w["name"]: addr for addr, w in c.scheduler_info()["workers"].items()}

    def close(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    rubric = tmp / "mnist_cnn.yaml"
    rubric.write_text(yaml.safe_dump(small_rubric_dict(timeout_s=120)))
    return tmp, make_zip(tmp / "class.zip", CLASS), rubric


def grade_cmd(zpath: Path, rubric: Path, out: Path, *extra: str) -> list[str]:
    return _py("grader", "grade", "mnist_cnn", str(zpath), "--rubric", str(rubric), "--out",
               str(out), "--course-dir", str(ROOT), "--allow-standin", *extra)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT, **kw)


def _without_similar(row: dict) -> dict:
    return {**row, "flags": [f for f in row["flags"] if not f.startswith("similar_to:")]}


@pytest.fixture(scope="module")
def local_rows(setup):
    """The class graded without a cluster (today's path)."""
    tmp, zpath, rubric = setup
    out = tmp / "local"
    proc = run(grade_cmd(zpath, rubric, out, "--workers", "2"))
    assert proc.returncode == 0, proc.stderr
    return rows(out)


@pytest.fixture(scope="module")
def cluster(setup):
    c = Cluster(setup[0] / "shared")
    yield c
    c.close()


def _sandbox_sleeps(c: Cluster, marker: str = MARKER) -> dict[int, int]:
    """pid of each notebook's `sleep MARKER` running under a worker of `c` -> that worker's pid
    (other tests, e.g. test_store_resume's under xdist, run the same notebooks elsewhere)."""
    workers = {w.pid for w in c.workers}
    found = {}
    for p in psutil.process_iter(["cmdline"]):
        try:
            if marker not in (p.info["cmdline"] or []):
                continue
            above = workers & {q.pid for q in p.parents()}
            if above:
                found[p.pid] = above.pop()
        except psutil.Error:
            pass
    return found


def test_cluster_rows_equal_the_local_path(setup, local_rows, cluster, tmp_path):
    tmp, zpath, rubric = setup
    out = tmp_path / "out"
    proc = run(grade_cmd(zpath, rubric, out, "--cluster", cluster.address))
    assert proc.returncode == 0, proc.stderr
    assert "0 reused, 4 graded" in proc.stdout
    assert rows(out) == local_rows
    assert sorted(p.name for p in (out / "mnist_cnn" / "executed").iterdir()) == \
        sorted(f"{pid}.ipynb" for pid in CLASS)
    info = json.loads((out / "mnist_cnn" / "run.json").read_text())
    assert info["cluster"] == cluster.address
    jobs = info["cluster_jobs"]
    assert sum(jobs["notebook"].values()) == 4 and sum(jobs["functions"].values()) == 8
    assert len(jobs["notebook"]) == 2, jobs  # both workers ran notebooks
    # the same store, graded again through the cluster: nothing re-run
    again = run(grade_cmd(zpath, rubric, out, "--cluster", cluster.address))
    assert again.returncode == 0 and "4 reused, 0 graded" in again.stdout


def test_worker_killed_mid_notebook_reruns_elsewhere(setup, local_rows, tmp_path):
    tmp, zpath, rubric = setup
    c = Cluster(tmp_path / "cluster")
    try:
        out = tmp_path / "out"
        proc = subprocess.Popen(grade_cmd(zpath, rubric, out, "--cluster", c.address), cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        while not (sleeping := _sandbox_sleeps(c)):  # a notebook is running on some worker
            assert time.monotonic() - t0 < 120 and proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        sleep_pid, worker_pid = next(iter(sleeping.items()))
        victim = next(w for w in c.workers if w.pid == worker_pid)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        t0 = time.monotonic()
        while psutil.pid_exists(sleep_pid) and time.monotonic() - t0 < 10:
            time.sleep(0.1)
        assert not psutil.pid_exists(sleep_pid), "the killed worker's sandbox outlived it"
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        assert "0 reused, 4 graded" in stdout
        assert rows(out) == local_rows  # exactly one row each, as if nothing happened
        lines = (out / "mnist_cnn" / "results.jsonl").read_text().splitlines()
        assert len(lines) == 4
        info = json.loads((out / "mnist_cnn" / "run.json").read_text())
        assert sum(info["cluster_jobs"]["notebook"].values()) == 4
    finally:
        c.close()


LONG = "61.0737"  # one student's notebook sleeps this long: only a kill ends it in time


def test_ctrl_c_stops_the_batch_sandboxes_on_the_workers(setup, local_rows, cluster, tmp_path):
    tmp, _, rubric = setup
    zpath = make_zip(tmp_path / "class.zip", CLASS, changed={
        "3000004": f"\nimport subprocess\nsubprocess.run(['sleep', '{LONG}'])\n"})
    out = tmp_path / "out"
    proc = subprocess.Popen(grade_cmd(zpath, rubric, out, "--cluster", cluster.address), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not (sleeping := _sandbox_sleeps(cluster, LONG)):
        assert time.monotonic() - t0 < 180 and proc.poll() is None, "the long notebook never ran"
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr
    while any(psutil.pid_exists(p) for p in sleeping) and time.monotonic() - t0 < 30:
        time.sleep(0.1)
    assert not any(psutil.pid_exists(p) for p in sleeping), "a worker's sandbox outlived the Ctrl-C"
    kept = stored_runs(out)
    assert "3000004" not in kept
    got = rows(out)  # only clean results kept (the zip is newer: compare what was judged)
    assert set(got) == set(kept) and all(got[p]["status"] == "graded" for p in got)
    assert all(got[p]["checks"] == local_rows[p]["checks"] for p in got)


def test_scheduler_killed_keeps_finished_results_and_resumes(setup, local_rows, tmp_path):
    tmp, zpath, rubric = setup
    c = Cluster(tmp_path / "cluster")
    try:
        out = tmp_path / "out"
        proc = subprocess.Popen(grade_cmd(zpath, rubric, out, "--cluster", c.address, "--workers", "1"),
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_results(out, 1, proc)
        c.scheduler.send_signal(signal.SIGKILL)
        t0 = time.monotonic()
        stdout, stderr = proc.communicate(timeout=120)
        assert time.monotonic() - t0 < 60
    finally:
        c.close()
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr, stderr
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1, stderr
    line = lines[0]
    assert "lost the Dask scheduler" in line and "run the same command again" in line.lower()
    kept = stored_runs(out)
    assert 1 <= len(kept) < 4
    got = rows(out)
    assert set(got) == set(kept)
    assert all(r["status"] == "graded" for r in got.values())  # no error row for the lost jobs
    # the same rows, but for the class-level copy flags (computed over who is graded so far)
    assert all(_without_similar(got[pid]) == _without_similar(local_rows[pid]) for pid in got)
    again = run(grade_cmd(zpath, rubric, out, "--workers", "2"))  # resumes (here, without cluster)
    assert again.returncode == 0, again.stderr
    assert f"{len(kept)} reused, {4 - len(kept)} graded" in again.stdout
    assert rows(out) == local_rows


def test_gpus_send_notebook_runs_to_gpu_workers_only(setup, local_rows, tmp_path):
    """--gpus: notebook runs ask for the worker resource GPU=1, unit jobs do not. Here the
    "GPU worker" has no GPU (none on this machine): its sandboxes run on the CPU, so the rows
    are the local path's."""
    tmp, zpath, rubric = setup
    c = Cluster(tmp_path / "cluster", worker_args=[["--resources", "GPU=1"], []])
    try:
        out = tmp_path / "out"
        proc = run(grade_cmd(zpath, rubric, out, "--cluster", c.address, "--gpus", "all"))
        names = c.by_name()
    finally:
        c.close()
    assert proc.returncode == 0, proc.stderr
    assert rows(out) == local_rows
    jobs = json.loads((out / "mnist_cnn" / "run.json").read_text())["cluster_jobs"]
    assert jobs["notebook"] == {names["w0"]: 4}, jobs
    assert sum(jobs["functions"].values()) == 8


def test_doctor_reports_every_worker(cluster):
    proc = run(_py("grader", "doctor", "--cluster", cluster.address, "--no-tensorflow"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 workers" in proc.stdout and "every worker can grade, with the same kernel packages" in proc.stdout
    assert proc.stdout.count("test job: works") == 2
    assert proc.stdout.count("received and checked (sha256)") == 2


def test_doctor_refuses_workers_whose_kernel_versions_differ():
    """Paths may differ from node to node; a package version may not (the grade would depend
    on the worker), nor may a package be missing on one."""
    from grader.cluster.doctor import kernel_differences

    def rep(addr, python, **packages):
        return {"address": addr, "kernel": {"python": python, "version": "3.11.7", "packages": packages}}

    same = [rep("w1", "/a/.venv-kernel/bin/python", tensorflow="2.20.0", numpy="2.1.3"),
            rep("w2", "/b/.venv-kernel/bin/python", tensorflow="2.20.0", numpy="2.1.3")]
    assert kernel_differences(same) == []
    assert kernel_differences(same + [rep("w3", "/c/python", tensorflow="2.19.0", numpy="2.1.3")]) == [
        "tensorflow: 2.19.0 on w3; 2.20.0 on w1, w2"]
    assert kernel_differences(same + [rep("w3", "/c/python", tensorflow="2.20.0")]) == ["numpy: 2.1.3 on w1, w2; missing on w3"]


def test_doctor_names_a_worker_that_cannot_grade(tmp_path):
    """A worker whose kernel interpreter does not exist, and one advertising a GPU it lacks."""
    c = Cluster(tmp_path, workers=1, worker_args=[["--resources", "GPU=1"]])
    try:
        proc = run(_py("grader", "doctor", "--cluster", c.address, "--no-tensorflow",
                       "--python", "/nonexistent/python"))
    finally:
        c.close()
    assert proc.returncode == 1
    assert "cannot grade: " in proc.stdout and "PROBLEM:  kernel:" in proc.stdout
    if not any(Path("/dev").glob("nvidia[0-9]*")):
        assert "advertises the GPU resource but sees no GPU" in proc.stdout


def test_bad_cluster_address_is_one_clear_line(setup, tmp_path):
    tmp, zpath, rubric = setup
    bad = run(grade_cmd(zpath, rubric, tmp_path / "out", "--cluster", "nonsense"))
    assert bad.returncode == 2 and "expected tcp://HOST:8786" in bad.stderr
    gone = run(grade_cmd(zpath, rubric, tmp_path / "out", "--cluster", "tcp://127.0.0.1:9"))
    assert gone.returncode == 2, gone.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in gone.stderr
    assert "Traceback" not in bad.stderr + gone.stderr


def test_slurm_job_script(tmp_path):
    """What dask-jobqueue would submit for the README's Slurm recipe (no Slurm needed)."""
    from grader.cluster.connect import load_slurm_config, slurm_cluster
    from grader.errors import GraderError

    cfg_path = tmp_path / "cluster.yaml"
    cfg_path.write_text(yaml.safe_dump({
        "partition": "gpu", "account": "dl-course", "jobs": 3, "cores": 8, "memory": "32GiB",
        "walltime": "04:00:00", "gpus_per_job": 2, "local_directory": "/tmp",
        "prologue": ["module load cuda/12.2", "source /opt/grader/.venv/bin/activate"],
        "job_directives": ["--qos=short"], "python": "/opt/grader/.venv/bin/python"}))
    cluster = slurm_cluster(load_slurm_config(cfg_path))
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    lines = script.splitlines()
    for directive in ("#SBATCH -p gpu", "#SBATCH -A dl-course", "#SBATCH -n 1",
                      "#SBATCH --cpus-per-task=8", "#SBATCH -t 04:00:00", "#SBATCH --qos=short",
                      "#SBATCH --gres=gpu:2"):
        assert directive in lines, (directive, script)
    assert any(x.startswith("#SBATCH --mem=") for x in lines)
    assert lines.index("module load cuda/12.2") < next(i for i, x in enumerate(lines) if "distributed.cli.dask_worker" in x)
    worker = next(x for x in lines if "distributed.cli.dask_worker" in x)
    assert worker.startswith("/opt/grader/.venv/bin/python -m distributed.cli.dask_worker tcp://")
    assert "--nthreads 8" in worker and "--resources GPU=2" in worker
    assert "--local-directory /tmp" in worker
    cfg_path.write_text("partition: gpu\ngpu_per_job: 1\n")
    with pytest.raises(GraderError, match="gpu_per_job"):
        load_slurm_config(cfg_path)


@pytest.mark.slow
def test_demo_grades_through_a_local_cluster(tmp_path):
    """The README's command: the MNIST demo (TensorFlow notebooks) through `--cluster local:2`,
    with its Moodle worksheet; every student gets the row the demo's expectations say."""
    from test_e2e_demo import EXPECTED

    demo = ROOT / "submissions" / "demo"
    proc = run(_py("grader", "grade", "mnist_cnn", str(demo / "mnist_cnn.zip"), "--worksheet",
                   str(demo / "mnist_cnn.worksheet.csv"), "--out", str(tmp_path), "--course-dir",
                   str(ROOT), "--cluster", "local:2"))
    assert proc.returncode == 0, proc.stderr
    got = {json.loads(x)["participant_id"]: json.loads(x)
           for x in (tmp_path / "mnist_cnn" / "results.jsonl").read_text().splitlines()}
    assert sorted(got) == sorted(EXPECTED["mnist_cnn"])
    for pid, want in EXPECTED["mnist_cnn"].items():
        row = got[pid]
        assert row["status"] == want["status"], row["message"]
        assert want["grade"][0] <= row["score"] <= want["grade"][1], row
        assert sorted(c["id"] for c in row["checks"] if c["max_points"] and not c["passed"]) == sorted(want["failed"])
    info = json.loads((tmp_path / "mnist_cnn" / "run.json").read_text())
    assert info["cluster"].startswith("tcp://127.0.0.1:") and len(info["cluster_jobs"]["notebook"]) == 2
    assert (tmp_path / "mnist_cnn" / "moodle_grading_worksheet.csv").exists()
