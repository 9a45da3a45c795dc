"""`grader similarity`: copy detection on an already graded assignment folder."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import GraderError
from ..paths import course_dir

EPILOG = """\
How it works: every code cell of every notebook is read with Python's tokenizer; names the
student chose become V and numbers/strings become literals, while comments, docstrings,
outputs, layout and IPython magics are dropped. Winnowing fingerprints (MOSS's algorithm, via
copydetect) of that token stream are compared for every pair of the class, and with every
notebook of --similarity-archive. The released template's code (and the rubric's
similarity.exclude files) never counts as a match, so students who only filled in the same
short blanks are not paired; renamed variables, reordered cells and reformatted code still
match.

Rubric keys (rubrics/ASSIGNMENT.yaml, or --set similarity.KEY=VALUE):
  similarity.threshold         flag a pair when this share of one notebook's own code lies in
                               matches with the other (default 0.6), the matches adding up to
                               at least twice min_match_tokens
  similarity.min_match_tokens  the shortest match counted, in normalized tokens (default 25;
                               a line of code is about 8 to 15 tokens)
  similarity.template          the released notebook (default assignments/A/release/A.ipynb)
  similarity.exclude           more notebooks or .py files whose code anyone may share
  similarity.enabled           false: `grader grade` skips the comparison

Writes OUT/ASSIGNMENT/similarity.html (the pairs, most similar first, with the matching code
side by side) and adds `similar_to:<participant id>` to both rows of results.jsonl (earlier
similar_to flags are replaced; pairs with an earlier year name it, e.g.
similar_to:reports-2025/4518203). No points are taken.
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "similarity", help="find copied notebooks in a graded assignment (and earlier years)",
        description="Compare every pair of notebooks of an assignment already graded into "
        "OUT/ASSIGNMENT/ (its results.jsonl and the originals the grader kept), write "
        "similarity.html and flag the pairs in results.jsonl.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment", help="assignment id, e.g. mnist_cnn")
    p.add_argument("--out", type=Path, default=Path("reports"),
                   help="the folder `grader grade` wrote to (default: reports/)")
    p.add_argument("--similarity-archive", type=Path, metavar="FOLDER",
                   help="earlier years' graded output (e.g. last year's reports/): every graded "
                   "folder of this assignment below it is compared too, its pairs marked as "
                   "across years")
    p.add_argument("--rubric", type=Path, help="rubric YAML instead of rubrics/ASSIGNMENT.yaml")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a rubric value, e.g. similarity.threshold=0.5 (repeatable)")
    p.add_argument("--course-dir", help="folder with rubrics/ and assignments/")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console

    from ..integrity import similarity_for_folder
    from ..report.safe_text import term
    from ..rubric import load_rubric

    path = args.rubric or course_dir(args.course_dir) / "rubrics" / f"{args.assignment}.yaml"
    rubric = load_rubric(path, args.overrides)
    if rubric.assignment != args.assignment:
        raise GraderError(f"rubric {path} is for assignment {rubric.assignment!r}, not {args.assignment!r}")
    done = similarity_for_folder(args.out, rubric, args.similarity_archive)
    console = Console(highlight=False)
    for w in done.warnings:
        console.print(f"[yellow]warning:[/] {term(w, 300)}")
    cfg = rubric.similarity
    console.print(f"{len(done.matches)} pair(s) at or above {cfg.threshold:.0%} "
                  f"(matches of {cfg.min_match_tokens}+ tokens)")
    for m in done.matches[:20]:
        tag = " (across years)" if m.cross_year else ""
        console.print(f"  {m.score:4.0%}  {term(m.a.name, 300)} ({term(m.a.key)}) ~ "
                      f"{term(m.b.name, 300)} ({term(m.b.key)}){tag}")
    console.print(f"  report    {term(done.report)}")
    return 0
