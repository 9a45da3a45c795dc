"""Remove each sandbox protection in turn and check that its test fails (then restore it).

The issue's rule: every threat has a test that FAILS when the protection is removed. This
script proves it: for each protection it edits the source (a plain text substitution), runs
the named tests, records whether they failed, and restores the file, whatever happens.

    .venv/bin/python scripts/check_protections.py [name ...]
"""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
S = "grader/sandbox/"
R = "grader/runner/"

# name: (file, text to replace, replacement, tests that must fail)
MUTATIONS = {
    "network namespace": (S + "launch.py", '"--unshare-all", "--unshare-user"', '"--unshare-all", "--share-net", "--unshare-user"',
                          ["tests/test_sandbox.py::test_no_network_not_even_the_hosts_loopback",
                           "tests/test_hostile_notebooks.py::test_network_and_dns_fail_even_to_the_hosts_loopback"]),
    "read-only root": (S + "launch.py", '"--remount-ro", "/",', '',
                       ["tests/test_sandbox.py::test_writes_outside_the_job_dir_fail"]),
    "read-only /usr": (S + "launch.py", 'args = ["--ro-bind", "/usr", "/usr"]', 'args = ["--bind", "/usr", "/usr"]',
                       ["tests/test_sandbox.py::test_writes_outside_the_job_dir_fail"]),
    "host secrets not mounted": (S + "launch.py", 'args = ["--ro-bind", "/usr", "/usr"]',
                                     'args = ["--ro-bind", "/usr", "/usr", "--ro-bind-try", "/root", "/root", "--ro-bind-try", "/etc/shadow", "/etc/shadow"]',
                                     ["tests/test_sandbox.py::test_host_secrets_and_grader_files_are_not_visible"]),
    "pid namespace": (S + "launch.py", '"--unshare-all", "--unshare-user"',
                      '"--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-user"',
                      ["tests/test_hostile_notebooks.py::test_proc_shows_only_the_sandbox"]),
    "host paths hidden from /proc/1/cmdline": (S + "launch.py", 'argv = [full[0], "--args", str(options.fileno())] + full[cut:]', 'argv = full',
                                               ["tests/test_hostile_notebooks.py::test_proc_shows_only_the_sandbox"]),
    "memory limit": (S + "limits.py", '_write(mem / "memory.limit_in_bytes", str(memory_mb << 20))', 'pass',
                     ["tests/test_sandbox.py::test_memory_bomb_is_killed_and_reported[auto]"]),
    "memory watchdog": (S + "limits.py", "                if rss > limit:", "                if False:",
                        ["tests/test_sandbox.py::test_memory_bomb_is_killed_and_reported[watchdog]"]),
    "pids limit": (S + "limits.py", '_write(pids / "pids.max", str(pids_max))', 'pass',
                   ["tests/test_hostile_notebooks.py::test_fork_bomb_is_contained"]),
    "wall-clock timeout": (S + "launch.py", "            proc.wait(timeout=spec.timeout_s)", "            proc.wait(timeout=None)",
                           ["tests/test_sandbox.py::test_wall_clock_timeout_kills_everything"]),
    "job disk cap": (S + "launch.py", 'a += ["--size", str(spec.disk_mb << 20), "--tmpfs", JOB]', 'a += ["--tmpfs", JOB]',
                     ["tests/test_hostile_notebooks.py::test_disk_filling_file_hits_the_job_limit"]),
    "output cap": (R + "execute_notebook.py", "            if size > getattr(self, attr):", "            if False:",
                   ["tests/test_hostile_notebooks.py::test_huge_output_is_truncated_and_bounded"]),
    "pinned kernel": (R + "execute_notebook.py", "        kernel_name=args.kernel_name,", "",
                      ["tests/test_runner_unit.py::test_the_kernel_is_ours_whatever_the_notebook_names"]),
    "kernelspec metadata dropped": (R + "execute_notebook.py", '    for key in ("kernelspec", "widgets", "papermill", "execution"):',
                                    '    for key in ("widgets",):',
                                    ["tests/test_runner_unit.py::test_the_kernel_is_ours_whatever_the_notebook_names"]),
    "no skipped cells": (R + "execute_notebook.py", "        skip_cells_with_tag=NEVER_SKIP,", "",
                         ["tests/test_hostile_notebooks.py::test_metadata_cannot_change_how_the_notebook_runs"]),
    "one probe result believed": (R + "execute_notebook.py", "    if len(payloads) > 1:", "    if False:",
                                   ["tests/test_hostile_notebooks.py::test_a_forged_probe_result_is_caught_and_nothing_is_measured"]),
    "forged results elsewhere flagged": ("grader/grade.py", "    if isinstance(elsewhere, int) and elsewhere > 0:", "    if False:",
                                         ["tests/test_hostile_notebooks.py::test_a_forged_result_in_a_students_cell_is_flagged_and_ignored"]),
    "locked-cell checksums": ("grader/checks/locked.py", "            if checksum(cell) != expected[gid]:", "            if False:",
                              ["tests/test_locked_cells.py::test_edited_test_cell_is_named"]),
    "labels stay on the host": ("grader/run_checks.py", 'lambda chk, data: {"hidden": data["hidden_x"]}',
                                'lambda chk, data: {"hidden": data["hidden_x"], "labels": data["hidden_y"]}',
                                ["tests/test_grade_statuses.py::test_hidden_labels_never_enter_the_sandbox"]),
}


def _restore_on_signal(signum, frame):
    raise KeyboardInterrupt  # so the `finally` below puts the file back


def main(names: list[str]) -> int:
    signal.signal(signal.SIGTERM, _restore_on_signal)
    failures = 0
    for name, (rel, old, new, tests) in MUTATIONS.items():
        if names and name not in names:
            continue
        path = ROOT / rel
        original = path.read_text()
        if original.count(old) != 1:
            print(f"?? {name}: pattern not found exactly once in {rel}")
            failures += 1
            continue
        try:
            path.write_text(original.replace(old, new))
            out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                                 cwd=ROOT, capture_output=True, text=True, timeout=240)
            caught = out.returncode != 0
            summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-200:]
        except subprocess.TimeoutExpired:  # the test hung: without the protection it never ends
            caught, summary = True, "the test hung (no result in 240 s)"
        finally:
            path.write_text(original)
        failures += not caught
        print(f"{'caught ' if caught else 'MISSED '} {name}: {summary}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
