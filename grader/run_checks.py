"""Checks that need the notebook re-executed: the probe each one runs in the kernel, the inputs
it sends (never labels), and how the host judges what comes back.

The kinds that need the re-run are declared in grader/checks/kinds.py (phase `run`, with their
probe, inputs and judge named there); grade.py runs every probe the rubric's checks need in one
sandboxed re-run, then `judge_probes` calls each check's judge.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .messages import tr
from .model import CheckResult
from .probes import generate_source, predict_source, text_source


@dataclass(frozen=True)
class Judging:
    """What a judge gets: the check, its probe's outputs, and the batch's data."""

    check: Any
    arrays: dict[str, np.ndarray]  # this probe's arrays, prefix removed
    probe_info: dict  # this probe's JSON values (untrusted)
    data: dict[str, Any]  # the batch's data (hidden labels live here, host only)
    nb: Any  # the submitted notebook
    lang: str
    reason: str  # why outputs may be missing ("" when the run went fine)
    executed: Any = None  # the re-executed notebook (its outputs came from the sandbox: untrusted)
    notes: list = field(default_factory=list)  # for the instructor (results.jsonl's detail)


def not_measured(chk, reason: str, lang: str) -> CheckResult:
    return CheckResult(id=chk.id, points=0.0, max_points=chk.points, passed=False,
                       message=tr(CATALOG, "not_measured", lang, reason=reason or "-"))


CATALOG = {"not_measured": {"es": "No se pudo medir: {reason}", "en": "Could not be measured: {reason}"}}


def predict_probe(rubric) -> str:
    i = rubric.interface
    return predict_source(i.preprocess, i.model, i.predict_batch_size)


def accuracy_inputs(chk, data) -> dict[str, np.ndarray]:
    return {"hidden": data["hidden_x"]}


def claimed_inputs(chk, data) -> dict[str, np.ndarray]:
    return {} if data.get("public_x") is None else {"public": data["public_x"]}


def judge_accuracy(j: Judging):
    from .checks.accuracy import judge_accuracy as judge

    preds = j.arrays.get("hidden")
    if preds is None:
        return not_measured(j.check, j.reason, j.lang), {}, []
    res, metrics = judge(j.check, preds, j.data["hidden_y"], j.lang, class_map=j.data.get("class_map"))
    return res, metrics, []


def plain_accuracy(preds: np.ndarray, y: np.ndarray) -> float | None:
    if preds.shape[0] != len(y) or preds.ndim not in (1, 2):
        return None
    labels = preds.argmax(axis=1) if preds.ndim == 2 else preds
    return float(np.mean(labels.astype(np.int64) == y.astype(np.int64)))


def judge_claimed(j: Judging):
    from .checks.claimed import compare_cells, find_claimed_accuracy, judge_claimed

    claimed = find_claimed_accuracy(j.nb)
    preds, y = j.arrays.get("public"), j.data.get("public_y")
    if preds is not None and y is not None and j.data.get("class_map") is not None:
        from .checks.accuracy import map_outputs

        preds, _ = map_outputs(preds, j.data["class_map"], len(y))
    host = plain_accuracy(preds, y) if preds is not None and y is not None else None
    compared = compare_cells(j.nb, j.executed)
    metrics = {}
    if claimed is not None:
        metrics["claimed_accuracy"] = claimed
    if host is not None:
        metrics["reproduced_public_accuracy"] = host
    main = max(compared, key=lambda c: (c.tier, c.cell)) if compared else None
    if main is not None:
        metrics["rerun_printed_accuracy"] = main.rerun
    res, flags, note = judge_claimed(j.check, claimed, compared, host, j.lang)
    if note:
        j.notes.append(f"{j.check.id}: {note}")
    return res, metrics, flags


# rnn_text: the held-out text goes in as windows whose next character (the target) stays here
# (grader/checks/text_windows.py); generate_text is called on the rubric's seeds.
def text_probe(rubric) -> str:
    i = rubric.interface
    return text_source(i.char2idx, i.idx2char, i.model, i.predict_batch_size)


def text_inputs(chk, data) -> dict[str, np.ndarray]:
    return {chk.id: _windows(chk, data).codepoints}


def _windows(chk, data):
    from .checks.text_windows import cut_windows

    return cut_windows(data["hidden_text"], chk.window, chk.max_windows, data["train_chars"])


def judge_text_loss(j: Judging):
    from .checks.text_loss import judge_text_loss as judge

    if not j.probe_info:
        return not_measured(j.check, j.reason, j.lang), {}, []
    res, metrics = judge(j.check, j.arrays.get(j.check.id), j.probe_info, _windows(j.check, j.data),
                                   j.data["train_counts"], j.lang,
                                   names=j.data.get("text_names", ("char2idx", "idx2char")))
    return res, metrics, []


def generate_probe(rubric) -> str:
    fn = next((c.function for c in rubric.checks if c.kind == "generate_text"), "generate_text")
    return generate_source(fn, rubric.interface.model)


def generate_inputs(chk, data) -> dict[str, np.ndarray]:
    from .checks.text_generate import call_key
    from .checks.text_windows import codepoints

    out = {}
    for i, call in enumerate(chk.calls):
        out[call_key(chk.id, i) + "__start"] = codepoints(call.start)
        out[call_key(chk.id, i) + "__num"] = np.array(call.num, dtype=np.int64)
    return out


def judge_generate(j: Judging):
    from .checks import judge_generate_text

    if not j.probe_info:
        return not_measured(j.check, j.reason, j.lang), {}, []
    return judge_generate_text(j.check, j.probe_info, j.data["train_chars"], j.lang), {}, []

def plan_probes(rubric, data: dict) -> tuple[list, dict[str, str], dict[str, dict[str, np.ndarray]]]:
    """The rubric's checks that need the re-run, each probe's code (once, however many checks
    share it) and each probe's inputs (never labels)."""
    from .checks.kinds import KINDS, PROBES, in_phase, lazy

    checks = in_phase(rubric, "run")
    sources: dict[str, str] = {}
    inputs: dict[str, dict[str, np.ndarray]] = {}
    for chk in checks:
        kind = KINDS[chk.kind]
        if kind.probe not in sources:
            sources[kind.probe] = lazy(PROBES[kind.probe].source)(rubric)
        inputs.setdefault(kind.probe, {}).update(lazy(kind.inputs)(chk, data))
    return checks, sources, inputs


def judge_probes(checks: list, arrays: dict[str, np.ndarray], probe_info: dict, data: dict, nb, lang: str,
                 reason: str, executed=None,
                 notes: list | None = None) -> tuple[dict[str, CheckResult], dict[str, float], list[str]]:
    """Every run check judged on what the probes returned: (results by id, metrics, flags).
    `executed`: the re-run notebook; `notes` collects what the judges tell the instructor."""
    from .checks.kinds import KINDS, lazy

    results, metrics, flags = {}, {}, []
    notes = notes if notes is not None else []
    for chk in checks:
        kind = KINDS[chk.kind]
        info = probe_info.get(kind.probe) if isinstance(probe_info.get(kind.probe), dict) else {}
        res, m, fl = lazy(kind.judge)(Judging(chk, split_arrays(arrays, kind.probe), info, data, nb, lang, reason,
                                        executed, notes))
        results[chk.id] = res
        metrics.update(m)
        flags += fl
    return results, metrics, flags


def split_arrays(arrays: dict[str, np.ndarray], probe: str) -> dict[str, np.ndarray]:
    prefix = f"{probe}__"
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
