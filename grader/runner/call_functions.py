"""Inside the sandbox: run the functions extracted from a notebook on the host's test inputs.

No kernel and no re-training: the host extracted `softmax`, `cross_entropy`, ... with what they
need into one module; this calls each case with a time limit and sends back the raw return
values. It never sees expected values, so patching numpy or printing "passed" changes nothing.
"""
import argparse
import io
import json
import os
import time
import traceback

from . import protocol
from .cases import Capped, run_cases


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
    out = Capped(20_000)
    try:
        import numpy as np

        with open(args.cases, encoding="utf-8") as f:
            cases = json.load(f)
        inputs = np.load(args.inputs, allow_pickle=False)
        with open(args.source, encoding="utf-8") as f:
            source = f.read()
        results = {}
        run_cases(source, cases, inputs, info, results.__setitem__, out=out, use_alarm=True,
                  case_timeout=args.case_timeout, import_timeout=args.import_timeout)
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
