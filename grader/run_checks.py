"""Checks that need the notebook re-executed: the probe each one runs in the kernel, the inputs
it sends (never labels), and how the host judges what comes back.

A new kind of check (another assignment's metric) is one `RunKind` in RUN_KINDS; grade.py
runs every probe the rubric's checks need in one sandboxed re-run and calls the judges.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .messages import tr
from .model import CheckResult, RunOutput
from .probes import predict_source


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


@dataclass(frozen=True)
class RunKind:
    probe: str
    source: Callable[[Any], str]  # rubric -> the probe's code
    inputs: Callable[[Any, dict], dict[str, np.ndarray]]  # (check, data) -> arrays to send
    judge: Callable[[Judging], tuple[CheckResult, dict[str, float], list[str]]]


def not_measured(chk, reason: str, lang: str) -> CheckResult:
    return CheckResult(id=chk.id, points=0.0, max_points=chk.points, passed=False,
                       message=tr(CATALOG, "not_measured", lang, reason=reason or "-"))


CATALOG = {"not_measured": {"es": "No se pudo medir: {reason}", "en": "Could not be measured: {reason}"}}


def _predict_source(rubric) -> str:
    i = rubric.interface
    return predict_source(i.preprocess, i.model, i.predict_batch_size)


def _judge_accuracy(j: Judging):
    from .checks import judge_accuracy

    preds = j.arrays.get("hidden")
    if preds is None:
        return not_measured(j.check, j.reason, j.lang), {}, []
    res, metrics = judge_accuracy(j.check, preds, j.data["hidden_y"], j.lang)
    return res, metrics, []


def plain_accuracy(preds: np.ndarray, y: np.ndarray) -> float | None:
    if preds.shape[0] != len(y) or preds.ndim not in (1, 2):
        return None
    labels = preds.argmax(axis=1) if preds.ndim == 2 else preds
    return float(np.mean(labels.astype(np.int64) == y.astype(np.int64)))


def _judge_claimed(j: Judging):
    from .checks import find_claimed_accuracy, judge_claimed

    claimed = find_claimed_accuracy(j.nb)
    preds, y = j.arrays.get("public"), j.data.get("public_y")
    reproduced = plain_accuracy(preds, y) if preds is not None and y is not None else None
    metrics = {}
    if claimed is not None:
        metrics["claimed_accuracy"] = claimed
    if reproduced is not None:
        metrics["reproduced_public_accuracy"] = reproduced
    res, flags = judge_claimed(j.check, claimed, reproduced, j.lang)
    return res, metrics, flags


RUN_KINDS: dict[str, RunKind] = {
    "accuracy": RunKind("predict", _predict_source,
                        lambda chk, data: {"hidden": data["hidden_x"]}, _judge_accuracy),
    "claimed_accuracy": RunKind(
        "predict", _predict_source,
        lambda chk, data: {} if data.get("public_x") is None else {"public": data["public_x"]},
        _judge_claimed),
}


def split_arrays(run: RunOutput, probe: str) -> dict[str, np.ndarray]:
    prefix = f"{probe}__"
    return {k[len(prefix):]: v for k, v in run.arrays.items() if k.startswith(prefix)}
