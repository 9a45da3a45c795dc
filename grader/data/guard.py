"""The stand-in guard: real students are never graded on stand-in data by accident.

`grader grade` calls `check_standin` before anything else: when a data file of the run is a
stand-in (sources.py), the run stops with a message saying how to prepare the real data, unless
the source is the bundled demo or `--allow-standin` was given.

The bundled demo is recognised by content, not by place: a zip whose sha256 is listed in
`submissions/demo/SHA256SUMS` (the shipped demo zips; the suite checks the list against them). A
real download copied over `submissions/demo/mnist_cnn.zip` is therefore not "the demo".
"""
from __future__ import annotations

from pathlib import Path

from ..errors import GraderError
from ..paths import course_dir
from .provenance import sha256_file
from .sources import DataSource, resolve_sources

DEMO_SUMS = Path("submissions") / "demo" / "SHA256SUMS"


class StandinError(GraderError):
    """A grade run would use stand-in data for something that is not the bundled demo."""


def demo_sums(course: str | None = None) -> dict[str, str]:
    """sha256 -> file name of the shipped demo zips (`sha256sum` format)."""
    path = course_dir(course) / DEMO_SUMS
    out: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64:
            out[parts[0].lower()] = parts[1].lstrip("*")
    return out


def is_bundled_demo(source: Path, course: str | None = None) -> bool:
    """The source is one of the shipped demo zips, byte for byte."""
    source = Path(source)
    if not source.is_file():
        return False
    return sha256_file(source) in demo_sums(course)


def check_standin(rubric, source: Path, allow: bool, course: str | None = None,
                  root: Path | None = None) -> tuple[list[DataSource], list[str]]:
    """(the run's data files, warnings). Raises StandinError, having generated nothing, when a
    stand-in would grade anything but the bundled demo without `allow`; otherwise the stand-ins
    are generated (as the run needs them), so every file has its path and sha256."""
    sources = resolve_sources(rubric, root, generate=False)
    standins = [s.name for s in sources if s.kind == "standin"]
    if not standins:
        return sources, []
    full = lambda: resolve_sources(rubric, root, generate=True)  # noqa: E731
    if is_bundled_demo(source, course):
        return full(), []
    names = ", ".join(standins)
    if allow:
        return full(), [f"graded on STAND-IN data ({names}) because of --allow-standin: these grades "
                        "say nothing about the course's real data"]
    raise StandinError(
        f"{rubric.assignment} would be graded on STAND-IN data ({names}): generated practice data, "
        f"not the course's, and {source} is not the bundled demo. Prepare the real data once per "
        f"term with `grader data {rubric.assignment} ...` (README: 'Real data for a term'; "
        f"`grader data status` shows what a run would use), or add --allow-standin for a trial run.")
