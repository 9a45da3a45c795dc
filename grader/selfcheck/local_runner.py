"""Run the functions extracted from a student's notebook on the unit-test inputs, on the student's
own machine (Linux, macOS, Windows, Colab): the self-check's counterpart of the sandbox's
grader/runner/call_functions.py, with the same calls, conversions and per-case time limits, so
the host's judge gives the same verdicts.

Started as a script (`python local_runner.py ...`) in the student's Python, which may not have
the grader installed: the shared call loop (grader/runner/cases.py) is loaded by path. No sandbox:
this is the student's own code on their own machine. Results go to files in --out, written
after every case, so a run killed for time still reports the cases it finished:
  case_<id>.npy  the return value as float64 (np.save, read back with allow_pickle=False);
                 a returned tuple as case_<id>__0.npy, case_<id>__1.npy... (info: "parts")
  info.json      {"status", "message", "cases": {id: {ok, ename, evalue}}, "module_error", "missing", ...}
"""
import argparse
import importlib.util
import json
import os
import sys

WATCHED = ("tensorflow", "keras", "torch", "jax")
CASES_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "runner", "cases.py")


def _load_cases():
    spec = importlib.util.spec_from_file_location("grader_case_loop", CASES_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, default=str)
    os.replace(tmp, path)


def main(argv=None):
    loop = _load_cases()
    p = argparse.ArgumentParser(description=__doc__)
    loop.add_job_arguments(p)
    p.add_argument("--out", required=True)
    p.add_argument("--no-alarm", action="store_true", help="use the timer fallback (as on Windows)")
    args = p.parse_args(argv)
    info_path = os.path.join(args.out, "info.json")

    def save(key, array):  # after every case, so a run killed for time keeps what it finished
        import numpy as np

        np.save(os.path.join(args.out, f"case_{key}.npy"), array, allow_pickle=False)

    info = loop.run_job(args, save, use_alarm=loop.HAS_ALARM and not args.no_alarm,
                        started=lambda info: _write_json(info_path, info),
                        after_each=lambda info: _write_json(info_path, info))
    info["imported"] = [m for m in WATCHED if m in sys.modules]
    _write_json(info_path, info)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
