"""The demo's outputs as pinned files: what tests/test_demo_pinned.py compares and
tests/golden/regen.py writes. One function, `collect`, turns a graded reports folder into
{golden relative path: bytes}, so the test and the regeneration cannot drift apart.

Left out, because they change from run to run and say nothing about grading:
- results.jsonl `timings` (seconds measured by this run);
- the feedback zip's entry timestamps (the time the zip was written), and so the zip's own bytes:
  its member list is pinned instead (name, UTF-8 flag, compression, permissions), and each page;
- absolute paths of this run's output folder (they appear in final.json's warnings when an
  assignment is missing; replaced by `<OUT>`).
Everything else of results.jsonl is kept (grades, statuses, check points, messages, details,
flags, metrics, notes, sha256, submission times). run.json, the class report, similarity.html,
executed notebooks and the store are not pinned: they record run ids, times and paths.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "demo"

#: results.jsonl keys that depend on the run, not on the grading (see the module docstring)
RUN_DEPENDENT = ("timings",)
PER_ASSIGNMENT = ("moodle_grading_worksheet.csv", "grades_by_check.csv")
FINAL = ("final_grades.csv", "final_breakdown.csv")
_MEMBER = re.compile(r"^.*_(\d+)_assignsubmission_file/([^/]+)$")


def results_json(path: Path) -> bytes:
    """results.jsonl's rows by participant id, without the run-dependent keys, one key a line."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        for key in RUN_DEPENDENT:
            row.pop(key, None)
    rows.sort(key=lambda r: r["participant_id"])
    return (json.dumps(rows, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def feedback_zip(path: Path) -> dict[str, bytes]:
    """The zip's member list (MEMBERS.txt) and each page, as feedback_zip/<pid>/<file>."""
    files, members = {}, []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            members.append(f"{info.filename}\tutf8={int(bool(info.flag_bits & 0x800))}\t"
                           f"compress={info.compress_type}\tmode={info.external_attr >> 16:o}")
            m = _MEMBER.match(info.filename)
            rel = f"{m.group(1)}/{m.group(2)}" if m else re.sub(r"[^\w.-]", "_", info.filename)
            assert f"feedback_zip/{rel}" not in files, f"two members pin to {rel}"
            files[f"feedback_zip/{rel}"] = z.read(info)
    files["feedback_zip/MEMBERS.txt"] = ("\n".join(members) + "\n").encode("utf-8")
    return files


def collect(out: Path, assignments: list[str]) -> dict[str, bytes]:
    """{path relative to GOLDEN: bytes} for a reports folder graded as `make demo` does."""
    out = Path(out)
    files: dict[str, bytes] = {}
    for a in assignments:
        folder = out / a
        for name in PER_ASSIGNMENT:
            files[f"{a}/{name}"] = (folder / name).read_bytes()
        files[f"{a}/results.json"] = results_json(folder / "results.jsonl")
        files.update({f"{a}/{k}": v for k, v in feedback_zip(folder / "moodle_feedback_files.zip").items()})
    for name in FINAL:
        files[name] = (out / name).read_bytes()
    final = (out / "final.json").read_text(encoding="utf-8")
    files["final.json"] = final.replace(str(out.resolve()), "<OUT>").replace(str(out), "<OUT>").encode("utf-8")
    return files


def read_golden(root: Path = GOLDEN) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}
