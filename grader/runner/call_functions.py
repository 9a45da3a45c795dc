"""Inside the sandbox: run the functions extracted from a notebook on the host's test inputs.

No kernel and no re-training: the host extracted `softmax`, `cross_entropy`, ... with what they
need into one module; this calls each case with a time limit and sends back the raw return
values. It never sees expected values, so patching numpy or printing "passed" changes nothing.
The job itself is cases.run_job, the same as the self-check's local runner.
"""
import argparse
import io
import os

from . import protocol
from .cases import add_job_arguments, failed, run_job


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    add_job_arguments(p)
    p.add_argument("--out-fd", type=int, required=True)
    args = p.parse_args(argv)
    channel = protocol.open_channel(args.out_fd)
    protocol.limit_files(64, 64)
    results, blobs = {}, {}
    info = run_job(args, results.__setitem__, use_alarm=True)
    try:
        import numpy as np

        buf = io.BytesIO()
        np.savez(buf, **results)
        blobs["results.npz"] = buf.getvalue()
    except BaseException as exc:
        failed(info, exc)
    protocol.write(channel, info, blobs)
    os._exit(0)


if __name__ == "__main__":
    main()
