"""Inside the sandbox: re-execute the student's notebook, then run the host's probe in it.

Run as `python -m grader_runner.execute_notebook ...`. The kernel is always the one whose spec
the host wrote (never the notebook's kernelspec), and notebook/cell metadata cannot change how
cells run (no skipped cells, no kernel choice). Cell errors don't stop the run (later cells may
still define the model); a cell timeout or a dead kernel does. After the last cell, the probe
(code the host wrote, e.g. `model.predict(preprocess(x))` on the inputs it sent; never labels)
runs in the same kernel and hands its outputs back as one display message of the probe cell:
no file that a student's background thread could rewrite.
"""
import argparse
import asyncio
import base64
import io
import json
import os
import shutil
import sys
import time
import traceback

from . import protocol

PROBE_MIME = "application/vnd.grader.probe+json"
# nbclient skips cells tagged with `skip_cells_with_tag`; a fresh random tag per run is one
# no notebook can carry (a fixed name could be copied into a cell's tags)
NEVER_SKIP = f"__grader_never_skip_{os.urandom(16).hex()}__"


def _output_size(out) -> int:
    if out.get("output_type") == "stream":
        return len(out.get("text", ""))
    data = out.get("data") or {}
    size = sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())
    return size + len(out.get("traceback", "") and "".join(out["traceback"]))


def sanitize(nb) -> None:
    """Drop what could steer execution: kernel choice, widget state, per-cell execution hints.
    (Tags stay for nbgrader's checks; the client's skip tag is random per run, see NEVER_SKIP.)"""
    for key in ("kernelspec", "widgets", "papermill", "execution"):
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in ("execution", "papermill"):
            cell.metadata.pop(key, None)


def make_client(nb, args):
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """Keeps at most `output_cap` characters of outputs: a notebook printing 200 MB must
        not take the runner's memory (and the host's) with it. The probe cell has its own cap."""

        output_budget = args.output_cap
        probe_budget = args.output_cap
        probe_index = -1
        truncated_cells: set = set()

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            if out is None:
                return out
            size = _output_size(out)
            attr = "probe_budget" if cell_index == self.probe_index else "output_budget"
            if size > getattr(self, attr):
                outs.remove(out)
                if cell_index not in self.truncated_cells:
                    self.truncated_cells.add(cell_index)
                    from nbformat.v4 import new_output

                    outs.append(new_output("stream", name="stderr",
                                           text="[grader: output truncated / salida truncada]\n"))
                setattr(self, attr, max(getattr(self, attr) - 100, 0))
                return None
            setattr(self, attr, getattr(self, attr) - size)
            return out

    return CappedClient(
        nb,
        timeout=args.cell_timeout,
        kernel_name=args.kernel_name,
        allow_errors=True,
        interrupt_on_timeout=False,
        record_timing=True,
        startup_timeout=180,
        skip_cells_with_tag=NEVER_SKIP,
        # after the probe nothing of the kernel is needed: kill it rather than wait for a
        # graceful shutdown (TensorFlow's teardown: a second or more); the sandbox goes anyway
        shutdown_kernel="immediate",
        resources={"metadata": {"path": args.workdir}},
    )


def take_probe_payload(probe_cell, info: dict, blobs: dict) -> None:
    """The probe's result: its one display of PROBE_MIME in the probe cell.

    Code in the kernel can display anything, our MIME type included (a student's thread, a
    patched `display`), so two displays mean forgery and neither is believed: the host is told
    (`ProbeForgery`) and measures nothing from this run. One display is all a notebook can make
    the probe say anyway, and that is no more than what its own `model` could answer."""
    payloads = [o["data"][PROBE_MIME] for o in probe_cell.outputs
                if o.get("output_type") == "display_data" and PROBE_MIME in (o.get("data") or {})]
    errors = [o for o in probe_cell.outputs if o.get("output_type") == "error"]
    if errors:
        info["probe_error"] = {"code": "raised", "ename": errors[0].get("ename", ""),
                               "evalue": str(errors[0].get("evalue", ""))[:2000]}
    info["probe_payloads"] = len(payloads)
    if len(payloads) > 1:
        info["probe_error"] = {"code": "forgery", "ename": "ProbeForgery",
                               "evalue": f"{len(payloads)} results in the probe cell, where only one is made"}
        return
    if not payloads or not isinstance(payloads[0], dict):
        return
    payload = payloads[0]
    try:
        blobs["probe.npz"] = base64.b64decode(payload.get("npz", ""), validate=True)
    except (ValueError, TypeError):
        info["probe_error"] = {"code": "malformed", "ename": "ProbeError", "evalue": "malformed probe arrays"}
    blobs["probe.json"] = json.dumps(payload.get("info", {}), default=str).encode()


def count_probe_displays(cells) -> int:
    """Displays of the probe's MIME type in the student's own cells: an attempt at forgery."""
    return sum(1 for c in cells if c.get("cell_type") == "code" for o in c.get("outputs") or []
               if o.get("output_type") in ("display_data", "execute_result", "update_display_data")
               and PROBE_MIME in (o.get("data") or {}))


def reserve_probe_inputs(args) -> None:
    """Before any student code: room for the probe's inputs in /job (zero-filled files of their
    sizes), so a notebook that fills its disk still gets probed. Nothing of them is in yet."""
    if args.probe_inputs_fd < 0:
        return
    import zipfile

    os.makedirs(args.probe_inputs_dir)
    with zipfile.ZipFile(os.fdopen(os.dup(args.probe_inputs_fd), "rb")) as z:
        for info in z.infolist():
            if "/" not in info.filename and info.filename.startswith("probe_"):
                fd = os.open(os.path.join(args.probe_inputs_dir, info.filename), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    if info.file_size:
                        os.posix_fallocate(fd, 0, info.file_size)
                finally:
                    os.close(fd)


def unpack_probe_inputs(args) -> None:
    """The probe's inputs, from the fd the host passed, written into the reserved files after
    the student's last cell: the hidden images exist in the sandbox only while the probe runs.
    A reserved file the notebook removed or replaced is made again (which may then fail for
    lack of room: that notebook's own doing)."""
    if args.probe_inputs_fd < 0:
        return
    import zipfile

    os.makedirs(args.probe_inputs_dir, exist_ok=True)
    with os.fdopen(args.probe_inputs_fd, "rb") as f, zipfile.ZipFile(f) as z:
        for name in z.namelist():
            if "/" in name or not name.startswith("probe_"):
                continue
            path = os.path.join(args.probe_inputs_dir, name)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
            except OSError:
                if os.path.lexists(path) and not os.path.isdir(path):
                    os.unlink(path)
                elif os.path.isdir(path):
                    shutil.rmtree(path)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out, z.open(name) as src:
                shutil.copyfileobj(src, out)
                out.truncate()


async def run(nb, args, info, blobs):
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell

    client = make_client(nb, args)
    log = open(args.kernel_log, "wb")
    client.reset_execution_trackers()
    t0 = time.monotonic()
    info["at"]["kernel"] = t0
    cell_times = []
    try:
        async with client.async_setup_kernel(stdout=log, stderr=log):
            info["at"]["ready"] = time.monotonic()
            info["kernel_start_s"] = round(time.monotonic() - t0, 3)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                ts = time.monotonic()
                try:
                    await client.async_execute_cell(
                        cell, index, execution_count=client.code_cells_executed + 1)
                except CellTimeoutError:
                    info["status"], info["reason"] = "timeout", "cell_timeout"
                    info["params"] = {"cell": index + 1, "limit_s": args.cell_timeout}
                    info["message"] = f"cell {index + 1} exceeded {args.cell_timeout:g} s"
                    info["timeout_cell"] = index
                    return
                finally:
                    cell_times.append([index, round(time.monotonic() - ts, 3)])
            info["execute_s"] = round(time.monotonic() - t0, 3)
            info["at"]["cells"] = time.monotonic()
            if args.probe:
                unpack_probe_inputs(args)
                with open(args.probe, encoding="utf-8") as f:
                    probe = new_code_cell(f.read())
                ts = time.monotonic()
                nb.cells.append(probe)  # nbclient writes the cell back by index
                client.probe_index = len(nb.cells) - 1
                try:
                    await client.async_execute_cell(probe, client.probe_index, store_history=False)
                except CellTimeoutError:
                    info["status"], info["reason"] = "timeout", "probe_timeout"
                    info["params"] = {"limit_s": args.cell_timeout}
                    info["message"] = f"the grader's probe exceeded {args.cell_timeout:g} s"
                    return
                finally:
                    nb.cells.pop()
                info["probe_s"] = round(time.monotonic() - ts, 3)
                info["at"]["probe"] = time.monotonic()
                take_probe_payload(probe, info, blobs)
                info["probe_displays_elsewhere"] = count_probe_displays(nb.cells)
    except DeadKernelError as exc:
        info["status"], info["reason"] = "crashed", "kernel_died"
        info["message"] = f"the kernel died: {exc}"[:2000]
    finally:
        info["cell_times"] = cell_times
        info["truncated_cells"] = sorted(client.truncated_cells)
        log.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--notebook", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--seed", default="", help="read-only folder copied into --seed-into first")
    p.add_argument("--seed-into", default="")
    p.add_argument("--out-fd", type=int, required=True)
    p.add_argument("--kernel-name", required=True)
    p.add_argument("--kernel-log", required=True)
    p.add_argument("--cell-timeout", type=float, default=600)
    p.add_argument("--output-cap", type=int, default=20_000_000, help="characters of outputs")
    p.add_argument("--probe", default="", help="code to run in the kernel after the notebook")
    p.add_argument("--probe-inputs-fd", type=int, default=-1, help="zip of the probe's inputs")
    p.add_argument("--probe-inputs-dir", default="", help="where they are unpacked for the probe")
    p.add_argument("--max-file-mb", type=int, default=0, help="RLIMIT_FSIZE for everything below")
    p.add_argument("--max-procs", type=int, default=0, help="RLIMIT_NPROC (fallback for pids)")
    args = p.parse_args(argv)
    channel = protocol.open_channel(args.out_fd)
    if args.probe_inputs_fd >= 0:  # ours alone: no child (the kernel) inherits it
        os.set_inheritable(args.probe_inputs_fd, False)
    protocol.limit_files(args.max_file_mb, args.max_procs)
    info = {"status": "ok", "message": "", "at": {"start": time.monotonic()}}  # stamps: bench_phases
    blobs = {}
    t0 = time.monotonic()
    try:
        import nbformat

        if args.seed:
            shutil.copytree(args.seed, args.seed_into, dirs_exist_ok=True)
        reserve_probe_inputs(args)
        for d in ("HOME", "MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR"):
            if os.environ.get(d):
                os.makedirs(os.environ[d], exist_ok=True)
        nb = nbformat.read(args.notebook, as_version=4)
        sanitize(nb)
        asyncio.run(run(nb, args, info, blobs))
        info["cell_errors"] = [
            {"cell_index": i, "ename": o.get("ename", ""), "evalue": str(o.get("evalue", ""))[:2000]}
            for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"
        ]
        buf = io.StringIO()
        nbformat.write(nb, buf)
        blobs["executed.ipynb"] = buf.getvalue().encode("utf-8")
    except BaseException as exc:  # report, never die silently
        info["status"], info["reason"] = "crashed", "runner_failed"
        info["params"] = {"ename": type(exc).__name__}
        info["message"] = f"runner failed: {type(exc).__name__}: {exc}"[:2000]
        info["traceback"] = traceback.format_exc()[-4000:]
    info["runner_s"] = round(time.monotonic() - t0, 3)
    info["at"]["end"] = time.monotonic()
    protocol.write(channel, info, blobs)
    sys.stdout.flush()
    os._exit(0)  # don't wait for stray threads of the kernel client


if __name__ == "__main__":
    main()
