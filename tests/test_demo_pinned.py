"""The demo's outputs, byte for byte, against golden copies (tests/golden/demo/), so a
restructuring that is meant to keep behaviour (issue 14) provably does.

Pinned, per demo assignment: the filled Moodle worksheet, grades_by_check.csv, every feedback
page of the feedback zip and the zip's member list (names, UTF-8 flag, compression,
permissions), and results.jsonl's rows (grades, statuses, check points and messages, flags,
metrics, details, notes); then `grader final`'s final_grades.csv (the gradebook import),
final_breakdown.csv and final.json.

Left out (tests/demo_golden.py says the same, and is what this test and regen.py share):
results.jsonl's `timings` (seconds this run measured), the zip entries' timestamps (the time the
zip was written, so the zip's own bytes too) and absolute output paths (final.json, as <OUT>).

A change that is MEANT to change these outputs regenerates them with
`python tests/golden/regen.py` and commits the diff, reviewed.
"""
from __future__ import annotations

import difflib

from conftest import DEMO_ASSIGNMENTS
from demo_golden import GOLDEN, collect, read_golden

REGEN = "if the change is meant to change the demo's outputs: python tests/golden/regen.py"


def first_difference(golden: dict[str, bytes], actual: dict[str, bytes]) -> str | None:
    """None when equal; else what differs, with a unified diff of the first differing file."""
    missing, extra = sorted(golden.keys() - actual.keys()), sorted(actual.keys() - golden.keys())
    if missing or extra:
        return f"files differ: missing {missing}, not pinned {extra}"
    for name in sorted(golden):
        if golden[name] != actual[name]:
            old = golden[name].decode("utf-8", "replace").splitlines(keepends=True)
            new = actual[name].decode("utf-8", "replace").splitlines(keepends=True)
            diff = "".join(difflib.unified_diff(old, new, f"golden/{name}", f"now/{name}", n=2))
            if not diff:  # undecodable bytes that decode alike
                at = next(i for i, (x, y) in enumerate(zip(golden[name] + b"\0", actual[name] + b"\1")) if x != y)
                diff = f"(bytes differ from offset {at})"
            return f"{name} differs from its golden copy:\n{diff}"
    return None


def test_golden_files_exist():
    golden = read_golden()
    for a in DEMO_ASSIGNMENTS:
        assert f"{a}/moodle_grading_worksheet.csv" in golden, f"no golden copies under {GOLDEN}; {REGEN}"
        assert any(k.startswith(f"{a}/feedback_zip/") and k.endswith(".html") for k in golden), a


def test_demo_outputs_are_byte_identical_to_the_golden_copies(demo_reports):
    diff = first_difference(read_golden(), collect(demo_reports, DEMO_ASSIGNMENTS))
    assert diff is None, f"{diff}\n{REGEN}"


def test_a_changed_byte_is_reported_with_a_diff():
    golden = {"a/x.csv": b"id;grade\n1;9,5\n2;7\n"}
    assert first_difference(golden, dict(golden)) is None
    msg = first_difference(golden, {"a/x.csv": b"id;grade\n1;9,6\n2;7\n"})
    assert "-1;9,5" in msg and "+1;9,6" in msg and "a/x.csv differs" in msg
    assert "missing ['a/x.csv']" in first_difference(golden, {"b": b""})
