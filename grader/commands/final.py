"""`grader final`: the end-of-term grade per student, and the gradebook import CSV."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..paths import course_dir


def add_parser(sub) -> None:
    f = sub.add_parser(
        "final", help="combine the graded assignments per student into the gradebook CSV",
        description="Read OUT/<assignment>/results.jsonl and the worksheets of every graded "
        "assignment, match students across assignments (email, else full name), apply the "
        "course policy (best 2 of 3, rounded up when all 3 were handed in; rubrics/course.yaml) "
        "and the overrides, and write OUT/final_grades.csv (gradebook: Import grades from CSV), "
        "OUT/final_breakdown.csv (which counted and why) and OUT/final.json.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Import final_grades.csv in Moodle with Gradebook setup → Import → CSV file: "
        "map the identifier column to 'Email address' (or 'ID number') and the grade column "
        "to the grade item.")
    f.add_argument("--out", type=Path, default=Path("reports"),
                   help="where the graded assignments are and the results go (default: reports/)")
    f.add_argument("--from", dest="reports", type=Path,
                   help="read the graded assignments from here instead of --out")
    f.add_argument("--course", type=Path, help="course config (default: rubrics/course.yaml)")
    f.add_argument("--course-dir", help="folder with rubrics/")
    f.add_argument("--roster", type=Path, help="Moodle participants/grades export with 'ID number': "
                   "the gradebook CSV then identifies students by ID number")
    f.add_argument("--overrides", type=Path, help="grades set by hand (YAML or CSV), instead of "
                   "the course config's `overrides`")
    f.add_argument("--grade-item", help="name of the gradebook column (default: the course config's)")
    f.add_argument("--decimal", choices=(".", ","), help="decimal separator of the gradebook CSV")
    f.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console

    from ..course import load_course
    from ..export.gradebook import read_roster
    from ..final import combine, read_overrides, write_final
    from ..report.course_report import write_course_report
    from ..report.safe_text import term

    console = Console(soft_wrap=True)  # messages stay one line each (logs, grep)
    path = args.course or course_dir(args.course_dir) / "rubrics" / "course.yaml"
    changes = {}
    if args.roster:
        changes["gradebook.identifier"] = "idnumber"
    if args.grade_item:
        changes["gradebook.grade_item"] = args.grade_item
    if args.decimal:
        changes["gradebook.decimal_separator"] = args.decimal
    course = load_course(path, changes)
    ov_path = args.overrides or (course.resolve_path(course.overrides) if course.overrides else None)
    overrides = read_overrides(ov_path, course) if ov_path else []
    roster = read_roster(args.roster) if args.roster else None
    comb = combine(course, args.reports or args.out, roster, overrides)
    files = write_final(comb, args.out, course)
    files.update(write_course_report(comb, course, args.out, args.reports or args.out))
    console.print(_table(comb, course))
    for st in comb.students:
        for a, ov in st.overrides.items():
            console.print(f"[cyan]override:[/] {term(st.full_name)} {a} = {term(ov.grade)} "
                          f"({term(ov.reason)}; {term(ov.where)})")
    for w in comb.warnings:
        console.print(f"[yellow]warning:[/] {term(w)}")
    left_out = [st for st in comb.students if st.issue]
    for st in left_out:
        console.print(f"[red]not in the gradebook CSV:[/] {term(st.full_name)} <{term(st.email or '-')}>: "
                      f"{term(st.issue)}")
    console.print(f"{len(comb.students) - len(left_out)} students in the gradebook CSV, "
                  f"{len(left_out)} left out; graded: {', '.join(comb.graded)}")
    for name, p in files.items():
        console.print(f"  {name:9} {term(p)}")
    return 0


def _table(comb, course):
    from rich.table import Table

    from ..report.safe_text import term

    t = Table(title=term(f"{course.course or 'Course'}: {course.gradebook.grade_item}"), header_style="bold")
    t.add_column("Name", overflow="ellipsis", no_wrap=True, max_width=22)
    for a in course.assignments:
        t.add_column(term(a), justify="right")
    t.add_column("Final", justify="right")
    t.add_column("Flags", overflow="fold", min_width=14)
    for st in comb.students:
        cells = []
        for a in course.assignments:
            g = st.grades[a]
            text = "-" if not g.handed_in else f"{g.grade}"
            cells.append(f"[bold]{text}[/]" if a in st.final.counted else text)
        final = "-" if st.final.grade is None else f"{st.final.grade}"
        flags = st.final.flags + [f"{a}:{f}" for a, g in st.grades.items() for f in g.flags]
        flags += [st.issue] if st.issue else []
        t.add_row(term(st.full_name), *cells, final, term(", ".join(flags)))
    return t
