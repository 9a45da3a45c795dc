"""`grader data`: prepare the course's real data once per term (from local files), and
`grader data status`: what a grade run of each assignment would use."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import GraderError
from ..paths import course_dir

ASSIGNMENTS = ("mnist_cnn", "imagenet_cnn", "rnn_text")

EPILOG = """examples:
  grader data mnist_cnn --mnist ~/.keras/datasets/mnist.npz --hidden ~/qmnist/
  grader data mnist_cnn --mnist ~/mnist-idx/ --hidden my_digits.npz
  grader data imagenet_cnn --images hidden_images/ --weights mobilenet_v2_..._no_top.h5 --public imagenet_cnn_96.npz
  grader data rnn_text --text corpus.txt
  grader data status

Nothing is downloaded: every input is a local file (the README says where the public ones come
from). The prepared files and their provenance.json go to DATA_DIR/ASSIGNMENT/ (default:
<course folder>/data/, kept out of git); `grader grade` uses them when the rubric says "standin"."""


def add_parser(sub) -> None:
    d = sub.add_parser("data", help="prepare the course's real data (once per term) or show what grading will use",
                       description="Prepare the files served to Keras in the sandbox and the hidden test sets "
                       "from local files, with their provenance; or `status`.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("what", choices=("status", *ASSIGNMENTS), help="an assignment to prepare, or status")
    d.add_argument("assignment", nargs="?", help="status: only this assignment")
    d.add_argument("--data-dir", type=Path, help="where prepared data goes (default: <course>/data, or $GRADER_DATA_DIR)")
    d.add_argument("--course-dir", help="folder with rubrics/ and assignments/")
    d.add_argument("--seed", type=int, help="seed of the random choices (recorded in provenance.json)")
    m = d.add_argument_group("mnist_cnn")
    m.add_argument("--mnist", type=Path, help="Keras' mnist.npz, or the folder of MNIST's four IDX files (*-ubyte.gz)")
    m.add_argument("--hidden", type=Path, help="QMNIST's folder (qmnist-test-*.gz) or your own digits (.npz with x, y)")
    m.add_argument("--hidden-count", type=int, default=10_000, help="hidden images drawn (default 10000; 0: all)")
    i = d.add_argument_group("imagenet_cnn")
    i.add_argument("--images", type=Path, help="hidden images: a folder of class sub-folders, or a flat folder with --labels")
    i.add_argument("--labels", type=Path, help="label file for a flat folder ('name label' per line)")
    i.add_argument("--weights", type=Path, action="append", default=[], help="a Keras weights file (.h5) the notebooks load (repeatable)")
    i.add_argument("--public", type=Path, help="the data file students load (.npz), or a folder of class sub-folders to make it")
    i.add_argument("--class-index", type=Path, help="Keras' imagenet_class_index.json (class map for WordNet-id classes)")
    t = d.add_argument_group("rnn_text")
    t.add_argument("--text", type=Path, help="the corpus (UTF-8 text)")
    t.add_argument("--held-out", type=float, default=0.1, help="fraction held out for grading (default 0.1)")
    d.set_defaults(func=run)


def _rubric(assignment: str, course: str | None):
    from ..rubric import load_rubric

    return load_rubric(course_dir(course) / "rubrics" / f"{assignment}.yaml")


def _need(args, *names: str) -> None:
    missing = [f"--{n.replace('_', '-')}" for n in names if not getattr(args, n)]
    if missing:
        raise GraderError(f"grader data {args.what}: needs {', '.join(missing)} (see grader data --help)")


def prepare(args) -> Path:
    from ..data.provenance import data_dir

    out = data_dir(args.data_dir, args.course_dir) / args.what
    seed = {} if args.seed is None else {"seed": args.seed}
    if args.what == "mnist_cnn":
        from ..data.prepare_mnist import prepare_mnist

        _need(args, "mnist", "hidden")
        return prepare_mnist(args.mnist, args.hidden, out, count=args.hidden_count or None, **seed)
    rubric = _rubric(args.what, args.course_dir)
    names = list(rubric.data.keras_datasets)
    if args.what == "imagenet_cnn":
        from ..data.prepare_imagenet import prepare_imagenet

        _need(args, "images", "weights")
        for w in args.weights:
            if w.name not in names:
                print(f"warning: {w.name} is not among the files the rubric serves ({', '.join(names)}): "
                      "notebooks asking get_file for another name will not get it", file=sys.stderr)
        shape = rubric.interface.input_shape or [96, 96, 3]
        data_name = next((n for n in names if n.endswith(".npz")), None)
        return prepare_imagenet(args.images, out, args.weights, size=shape[0], labels=args.labels,
                                public=args.public, public_name=data_name,
                                class_index=args.class_index, **seed)
    from ..data.prepare_text import prepare_text

    _need(args, "text")
    return prepare_text(args.text, out, fraction=args.held_out,
                        served_name=next((n for n in names if n.endswith(".txt")), "corpus_es.txt"), **seed)


def status_lines(assignment: str, course: str | None, root: Path | None) -> tuple[bool, list[str]]:
    """(ready for a real run, lines) for one assignment."""
    from ..data.provenance import data_dir, read_provenance
    from ..data.sources import describe, resolve_sources

    try:
        rubric = _rubric(assignment, course)
        sources = resolve_sources(rubric, root, generate=False)
        record = read_provenance(data_dir(root, course) / assignment)
    except GraderError as exc:
        return False, [f"{assignment}: ERROR {exc}"]
    standins = [s.name for s in sources if s.kind == "standin"]
    head = (f"{assignment}: STAND-IN data ({', '.join(standins)}): `grader grade` stops unless "
            f"--allow-standin (the bundled demo excepted)") if standins else f"{assignment}: ready (real data)"
    lines = [head] + [f"  {line}" for line in describe(sources)]
    if record:
        lines.append(f"  prepared {record.get('prepared_at')} (seed {record.get('seed')}): "
                     f"{data_dir(root, course) / assignment / 'provenance.json'}")
        lines += [f"    {n}" for n in record.get("notes", [])]
    return not standins, lines


def run(args) -> int:
    if args.what == "status":
        wanted = [args.assignment] if args.assignment else list(ASSIGNMENTS)
        ready = True
        for a in wanted:
            ok, lines = status_lines(a, args.course_dir, args.data_dir)
            ready &= ok
            print("\n".join(lines))
        return 0 if ready else 1
    if args.assignment:
        raise GraderError(f"grader data {args.what}: unexpected argument {args.assignment!r}")
    path = prepare(args)
    ok, lines = status_lines(args.what, args.course_dir, args.data_dir)
    print(f"prepared: {path}")
    print("\n".join(lines))
    return 0
