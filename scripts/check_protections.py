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
HP = "tests/test_hostile_processes.py::"
HI = "tests/test_hostile_inputs.py::"

# name: (file, text to replace, replacement, tests that must fail); a tuple of texts and one of
# replacements for several edits in the same file
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
    "host paths hidden from /proc/1/cmdline": (S + "launch.py",  # both: /proc/1 is also hidden now
                                               ('argv = [full[0], "--args", str(options.fileno())] + full[cut:]',
                                                '    a += ["--perms", "0000", "--size", "4096", "--tmpfs", "/proc/1"]\n'),
                                               ("argv = full", ""),
                                               ["tests/test_hostile_notebooks.py::test_proc_shows_only_the_sandbox"]),
    "memory limit": (S + "limits.py", '_write(mem / "memory.limit_in_bytes", str(memory_mb << 20))', 'pass',
                     ["tests/test_sandbox.py::test_memory_bomb_is_killed_and_reported[auto]"]),
    "memory watchdog": (S + "limits.py", "                if rss > limit:", "                if False:",
                        ["tests/test_sandbox.py::test_memory_bomb_is_killed_and_reported[watchdog]"]),
    "pids limit": (S + "limits.py", '_write(pids / "pids.max", str(pids_max))', 'pass',
                   ["tests/test_hostile_notebooks.py::test_fork_bomb_is_contained"]),
    "wall-clock timeout": (S + "launch.py", "        if not done.wait(timeout=spec.timeout_s):", "        if not done.wait(timeout=None):",
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
    "forged results elsewhere flagged": ("grader/checks/run_status.py", "    if isinstance(elsewhere, int) and elsewhere > 0:", "    if False:",
                                         ["tests/test_hostile_notebooks.py::test_a_forged_result_in_a_students_cell_is_flagged_and_ignored"]),
    "locked-cell checksums": ("grader/checks/locked.py", "            if checksum(cell) != expected[gid]:", "            if False:",
                              ["tests/test_locked_cells.py::test_edited_test_cell_is_named"]),
    "labels stay on the host": ("grader/run_checks.py", '    return {"hidden": data["hidden_x"]}',
                                '    return {"hidden": data["hidden_x"], "labels": data["hidden_y"]}',
                                ["tests/test_grade_statuses.py::test_hidden_labels_never_enter_the_sandbox"]),
    # --- round two (issue 11) ---------------------------------------------------------------
    "returned arrays within a budget": (S + "jobs.py", "run.arrays = load_arrays(blob, budget, limits)",
                                        "run.arrays = load_arrays(blob, 1 << 62, {})",
                                        [HP + "test_a_deflate_bomb_in_returned_arrays_is_refused_before_it_is_inflated"]),
    "seccomp denies ptrace": (S + "launch.py", '        a += ["--seccomp", SECCOMP_FD]', "        pass",
                              [HP + "test_pid_one_cannot_be_traced_or_reached_through_proc"]),
    "/proc/1 hidden": (S + "launch.py", '    a += ["--perms", "0000", "--size", "4096", "--tmpfs", "/proc/1"]\n', "",
                       [HP + "test_pid_one_cannot_be_traced_or_reached_through_proc"]),
    "job ends once the runner reported": (S + "launch.py", "        elif reader.complete:", "        elif False:",
                                          [HP + "test_the_job_ends_once_the_runner_has_reported"]),
    "/dev read-only, /dev/shm sized": (S + "launch.py", '    a += ["--size", str(shm_mb(spec) << 20), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]\n', "",
                                       [HP + "test_dev_shm_is_bounded_by_the_job_memory_under_the_watchdog"]),
    "watchdog counts tmpfs": (S + "limits.py", "rss = tmpfs_used(procs[1:], tmpfs)", "rss = 0",
                              [HP + "test_files_in_the_job_tmpfs_count_as_memory_under_the_watchdog"]),
    "hidden images only at probe time": (S + "jobs.py", 'pack = root / "probe_inputs.zip"', 'pack = root / "in" / "probe_inputs.zip"',
                                         [HP + "test_hidden_images_are_not_in_the_sandbox_while_student_code_runs[cell]"]),
    "datasets staged (mountinfo)": (S + "jobs.py", "session.staged(Path(src), name) if session.sandboxed else Path(src)", "Path(src)",
                                    [HP + "test_mountinfo_shows_no_path_of_the_instructors"]),
    "linear extraction": ("grader/checks/extract.py", "text = ast.unparse(node) if stripper.changed else lines.statement(node)",
                          "text = ast.unparse(node) if stripper.changed else (ast.get_source_segment(code, node) or ast.unparse(node))",
                          [HI + "test_extraction_of_thousands_of_statements_neither_stalls_nor_blocks_a_classmate"]),
    "AST lock per cell": ("grader/checks/extract.py", "    return _extract(nb, names, time.monotonic() + budget_s)",
                          "    with _AST_LOCK:\n        return _extract(nb, names, time.monotonic() + budget_s)",
                          [HI + "test_extraction_of_thousands_of_statements_neither_stalls_nor_blocks_a_classmate"]),
    "extraction time budget": ("grader/checks/extract.py", "        if time.monotonic() > deadline:", "        if False:",
                               [HI + "test_extraction_has_a_size_bound_and_a_time_budget"]),
    "extraction size bound": ("grader/checks/extract.py", "        if len(src) > MAX_CELL_CHARS or total > MAX_CODE_CHARS:", "        if False:",
                              [HI + "test_extraction_has_a_size_bound_and_a_time_budget"]),
    "zip limits per student": ("grader/ingest/collect.py", "owner=_owner)", "owner=None)",
                               [HI + "test_a_compressible_file_or_nfc_nfd_twins_affect_only_their_student"]),
    "deep JSON is invalid": ("grader/ingest/read_notebook.py", "    except RecursionError:", "    except ZeroDivisionError:",
                             [HI + "test_metadata_nested_thousands_deep_is_an_invalid_notebook"]),
    "random never-skip tag": (R + "execute_notebook.py", 'NEVER_SKIP = f"__grader_never_skip_{os.urandom(16).hex()}__"',
                              'NEVER_SKIP = "__grader_never_skip__"',
                              [HI + "test_no_tag_a_notebook_carries_makes_the_rerun_skip_a_cell"]),
    "control characters stripped": ("grader/report/safe_text.py",
                                    '    s = _CONTROL.sub(replacement, _ANSI.sub("", text if isinstance(text, str) else str(text)))',
                                    "    s = text if isinstance(text, str) else str(text)",
                                    [HI + "test_escape_sequences_and_markup_from_students_never_reach_the_terminal"]),
    "rich markup escaped": ("grader/report/safe_text.py", "    return escape(clean(text))", "    return clean(text)",
                            [HI + "test_escape_sequences_and_markup_from_students_never_reach_the_terminal"]),
    "worksheet formulas neutralised": ("grader/export/worksheet_io.py", """    return "'" + text if text.startswith(FORMULA_START) else text""",
                                       "    return text",
                                       [HI + "test_formula_names_are_neutralised_only_in_the_column_moodle_ignores"]),
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
        olds, news = (old, new) if isinstance(old, tuple) else ((old,), (new,))  # several edits
        if any(original.count(o) != 1 for o in olds):
            print(f"?? {name}: pattern not found exactly once in {rel}")
            failures += 1
            continue
        mutated = original
        for o, n in zip(olds, news):
            mutated = mutated.replace(o, n)
        try:
            path.write_text(mutated)
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
