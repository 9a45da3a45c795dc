"""`grader check --rerun`: the instructor's own grading of one notebook, on this machine.

The notebook is re-executed in the bubblewrap sandbox (no network, the rubric's time and memory
limits) and judged by `grade_submission`, exactly as in `grader grade`, with two differences a
student's machine imposes: the unit tests are the public ones, and without the instructor's hidden
test set the accuracy is measured on the public test split of the assignment's data (the file the
student's own notebook loaded: Keras' cache, a path given with --data, or the grader's stand-in).
Linux only (bubblewrap); needs the execution extras (`pip install 'dl_notebook_grader-….whl[rerun]'`, the
wheel the course hands out).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import GraderError
from ..messages import fmt_pct, tr
from ..model import Result, Submission
from ..checks.kinds import KINDS, lazy
from .report import CheckItem

CATALOG = {
    "no_extras": {"es": "--rerun necesita los componentes de ejecución del corrector: instálalo con ellos desde "
                        "el paquete de la asignatura, pip install '{wheel}[rerun]' ({error})",
                  "en": "--rerun needs the grader's execution components: install it with them from the "
                        "course's package, pip install '{wheel}[rerun]' ({error})"},
    "no_data": {"es": "--rerun necesita el fichero de datos «{name}» que carga el cuaderno: ejecútalo una vez "
                      "con red (Keras lo guarda en {cache}) o indícalo con --data {name}=RUTA",
                "en": "--rerun needs the data file '{name}' the notebook loads: run it once with network "
                      "(Keras keeps it in {cache}) or give it with --data {name}=PATH"},
    "bad_data": {"es": "--data {name}: no existe el fichero {path}", "en": "--data {name}: no such file {path}"},
    "no_public": {"es": "--rerun aún no sabe medir sin el conjunto oculto los datos de tipo «{loader}»",
                  "en": "--rerun cannot yet measure '{loader}' data without the hidden set"},
    "public_accuracy": {
        "es": "Exactitud al reejecutar el cuaderno, medida aquí sobre el test público ({data}): {acc} (umbral "
              "{thr}). El corrector la mide sobre un test oculto, con imágenes distintas.",
        "en": "Accuracy when re-running the notebook, measured here on the public test split ({data}): {acc} "
              "(threshold {thr}). The grader measures it on a hidden test set, with other images."},
    "pending_hidden_set": {"es": "la exactitud sobre el test oculto del profesor",
                           "en": "the accuracy on the instructor's hidden test set"},
}


def keras_cache() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser() / "datasets"


def resolve_datasets(rubric, overrides: dict[str, str], lang: str) -> dict[str, Path]:
    """Keras file name -> the local file served to the notebook: --data, the rubric's path, Keras'
    cache (what the student's notebook downloaded), the grader's stand-in, in that order."""
    from ..data.loaders import STANDIN_FILES

    out: dict[str, Path] = {}
    for name, value in rubric.data.keras_datasets.items():
        given = overrides.get(name)
        if given and given != "standin":
            path = Path(given).expanduser()
            if not path.is_file():
                raise GraderError(tr(CATALOG, "bad_data", lang, name=name, path=path))
            out[name] = path
            continue
        candidates = [] if given else [rubric.resolve_path(value) if value != "standin" else None,
                                       keras_cache() / name]
        found = next((p for p in candidates if p is not None and p.is_file()), None)
        if found is None and (given or value == "standin") and name in STANDIN_FILES:
            try:
                found = STANDIN_FILES[name]()
            except ImportError:  # the stand-in is generated with scikit-learn
                found = None
        if found is None:
            raise GraderError(tr(CATALOG, "no_data", lang, name=name, cache=keras_cache()))
        out[name] = Path(found)
    return out


def _classification_public(rubric, datasets: dict[str, Path], folder: Path) -> tuple[Path, str] | None:
    """The public test split (x_test, y_test) of the claimed-accuracy dataset, as a hidden-set file."""
    names = [getattr(c, "dataset", None) for c in rubric.checks if c.kind == "claimed_accuracy"] + list(datasets)
    for name in names:
        if name in datasets:
            with np.load(datasets[name], allow_pickle=False) as z:
                if "x_test" in z.files and "y_test" in z.files:
                    path = folder / "public_test.npz"
                    np.savez(path, x=z["x_test"], y=z["y_test"])
                    return path, f"{name}: x_test"
    return None


#: rubric data.loader -> how to stand the public split in for the hidden set.
PUBLIC_SPLITS = {"classification": _classification_public}


def rerun(path: Path, rubric, lang: str, *, python: str | None = None, data: dict[str, str] | None = None,
          extra_files: dict[str, Path] | None = None) -> tuple[Result, str | None]:
    """The grader's Result for this notebook, and the data the accuracy was measured on (None:
    the rubric's own hidden set)."""
    from ..sandbox.launch import bwrap_path

    bwrap_path()  # SandboxUnavailable (exit 2) with the install hint
    try:
        import nbclient  # noqa: F401
        import psutil  # noqa: F401

        from ..checks import build_suite
        from ..data.loaders import load_data
        from ..grade import GradeContext, grade_submission
        from ..sandbox import SandboxSession
    except ImportError as exc:
        from ..authoring.student_package import WHEEL_NAME

        raise GraderError(tr(CATALOG, "no_extras", lang, error=exc, wheel=WHEEL_NAME)) from None
    datasets = resolve_datasets(rubric, data or {}, lang)
    with tempfile.TemporaryDirectory(prefix="grader-rerun-") as tmp:
        data_section = {"keras_datasets": {k: str(v) for k, v in datasets.items()}}
        label = None
        hidden = rubric.data.hidden_test
        if hidden == "standin" or not rubric.resolve_path(hidden).is_file():
            make = PUBLIC_SPLITS.get(rubric.data.loader)
            made = make(rubric, datasets, Path(tmp)) if make else None
            if made is None:
                raise GraderError(tr(CATALOG, "no_public", lang, loader=rubric.data.loader))
            data_section["hidden_test"], label = str(made[0]), made[1]
        local = rubric.model_copy(update={"data": rubric.data.model_copy(update=data_section)})
        loaded = load_data(local)
        suites = {}
        for chk in rubric.checks:
            if chk.kind == "unit_test":
                try:
                    suites[chk.suite_name] = build_suite(chk.suite_name, public_only=True)
                except ValueError:
                    pass
        session = SandboxSession.create(python=python, workroot=Path(tmp) / "jobs", threads=os.cpu_count() or 1)
        try:
            ctx = GradeContext(rubric=local, session=session, lang=lang, datasets=loaded["datasets"], data=loaded,
                               unit_suites=suites)
            paths = {path.name: path, **(extra_files or {})}
            sub = Submission(assignment=rubric.assignment, participant_id="selfcheck", full_name="",
                             notebook=path, notebook_name=path.name, files=sorted(paths), paths=paths)
            return grade_submission(sub, ctx), label
        finally:
            session.close()


def items(res: Result, rubric, label: str | None, lang: str) -> tuple[list[CheckItem], list[str]]:
    """Self-check items from the grader's Result, and what stays unverified (each kind's
    `rerun_item` in grader/checks/kinds.py says how a re-run here differs from the grader's)."""
    out, pending = [], []
    checks = {c.id: c for c in rubric.checks}
    for c in res.checks:
        chk = checks.get(c.id)
        kind = KINDS.get(getattr(chk, "kind", ""))
        basis, message = ("rerun" if kind and kind.phase == "run" else "verified"), c.message
        if kind and kind.rerun_item:  # None: as graded
            how, told, unverified = lazy(kind.rerun_item)(chk, c, res, label, lang)
            basis, message = how or basis, told or message
            if unverified:
                pending.append(unverified)
        out.append(CheckItem(c.id, c.title or c.id, c.points, c.max_points, c.passed, message, basis,
                             c.points < c.max_points, list(c.details)))
    return out, pending


def unit_item(chk, c, res: Result, label: str | None, lang: str):
    """Judged here on the public cases only; the hidden ones wait for the instructor."""
    from .estimate import CATALOG as EST

    return "public_tests", None, tr(EST, "pending_hidden", lang, fn=chk.function)


def accuracy_item(chk, c, res: Result, label: str | None, lang: str):
    """Measured here on the public test split (`label`), not on the hidden test set."""
    if label is None:
        return None, None, None
    message = None
    if chk.metric in res.metrics:  # `accuracy`, or `top5_accuracy` for a top-k check
        message = tr(CATALOG, "public_accuracy", lang, data=label, acc=fmt_pct(res.metrics[chk.metric], lang),
                     thr=fmt_pct(chk.threshold, lang))
    return "rerun_public", message, tr(CATALOG, "pending_hidden_set", lang)
