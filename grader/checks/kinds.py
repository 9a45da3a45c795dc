"""The check-kind registry: every kind of rubric check, declared once.

A kind is its rubric model (the YAML keys an instructor writes), its title, its phase, and the
functions that judge it, in the spirit of papermill's engine registry. grade.py, rubric.py,
the class report and the self-check read this table; adding a kind is one model and one
`Kind` entry here (plus its judge, wherever it lives).

Phases: `static` is judged on the submitted notebook alone (no student code runs); `unit` calls
one extracted function in a short sandboxed job (grader/checks/unit.py); `run` needs the
notebook re-executed, then a probe (grader/probes.py) in the same kernel, judged on the host.

Functions are named as "module:attribute" and imported when first used, so parsing a rubric
(the student's self-check does) imports neither numpy nor the judges.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..config_model import Strict


class CheckModel(Strict):
    """What every check has in the rubric."""

    id: str = Field(min_length=1)
    points: float = Field(ge=0)
    title_es: str | None = None
    title_en: str | None = None


# ---------------------------------------------------------------- the rubric models, one per kind

class ExecutedCheck(CheckModel):
    kind: Literal["executed_notebook"]


class UnitTestCheck(CheckModel):
    kind: Literal["unit_test"]
    function: str
    suite: str | None = None  # case suite (default: the function's name)
    partial: Literal["proportional", "all_or_nothing"] = "proportional"
    rtol: float = Field(1e-4, ge=0)
    atol: float = Field(1e-6, ge=0)
    # the reference's conventions, e.g. adam_step: {bias_correction: false} for the slides' Adam
    options: dict[str, Any] = Field(default_factory=dict)

    @property
    def suite_name(self) -> str:
        return self.suite or self.function

    @field_validator("options")
    @classmethod
    def _known_options(cls, options: dict, info: ValidationInfo) -> dict:
        if options and info.data.get("function"):
            from .reference import check_options  # numpy only

            check_options(info.data.get("suite") or info.data["function"], options)
        return options


class AccuracyCheck(CheckModel):
    kind: Literal["accuracy"]
    threshold: float = Field(gt=0, le=1)  # full points at or above
    partial_from: float | None = Field(None, ge=0, lt=1)  # linear credit from here; None: all or nothing
    # a hit when the true class is among the k best scores; None: plain (top-1) accuracy, metric "accuracy"
    top_k: int | None = Field(None, ge=1)

    @property
    def metric(self) -> str:
        """The name of the metric in results.jsonl: `accuracy`, or `top5_accuracy` with top_k: 5."""
        return "accuracy" if self.top_k is None else f"top{self.top_k}_accuracy"

    @model_validator(mode="after")
    def _order(self) -> "AccuracyCheck":
        if self.partial_from is not None and self.partial_from >= self.threshold:
            raise ValueError(f"partial_from ({self.partial_from}) must be below threshold ({self.threshold})")
        return self


class ClaimedAccuracyCheck(CheckModel):
    kind: Literal["claimed_accuracy"]
    tolerance: float = Field(0.03, ge=0, le=1)  # absolute, on fractions
    dataset: str = "mnist.npz"  # the keras dataset whose public test split reproduces the claim


class LockedCellsCheck(CheckModel):
    """Flags edited or deleted locked/test cells (nbgrader checksums of the released notebook)."""

    kind: Literal["locked_cells"]
    points: float = Field(0, ge=0)
    # the released student notebook; default: <course>/assignments/<assignment>/release/<assignment>.ipynb
    template: str | None = None


class TextLossCheck(CheckModel):
    """Mean per-character cross-entropy on held-out text, judged against a baseline
    (grader/checks/text_loss.py). Ratios are loss / baseline: lower is better."""

    kind: Literal["text_loss"]
    baseline: Literal["unigram", "uniform"] = "unigram"  # training-text char frequencies, or 1/|vocab|
    threshold: float = Field(gt=0)  # full points at or below this ratio of the baseline
    partial_from: float | None = Field(None, gt=0)  # linear credit from this ratio down; None: all or nothing
    window: int = Field(100, ge=1, le=5000)  # characters of context the model reads per prediction
    max_windows: int = Field(400, ge=1, le=100_000)  # predictions scored (fewer if the text is short)
    floor_prob: float = Field(1e-4, gt=0, lt=1)  # probability given to misses (OOV, p below it)

    @model_validator(mode="after")
    def _order(self) -> "TextLossCheck":
        if self.partial_from is not None and self.partial_from <= self.threshold:
            raise ValueError(f"partial_from ({self.partial_from}) must be above threshold ({self.threshold})")
        return self


class GenerateCall(Strict):
    start: str = Field(min_length=1)  # the seed text
    num: int = Field(ge=1, le=5000)  # characters to generate after it


class GenerateTextCheck(CheckModel):
    """`function(model, start, num)` must return start + num characters of the corpus'
    alphabet (grader/checks/text_generate.py); credit proportional to the calls that do."""

    kind: Literal["generate_text"]
    function: str = "generate_text"
    calls: list[GenerateCall] = Field(min_length=1)


class NumpyOnlyCheck(CheckModel):
    """The function (and every helper it calls) imports no framework (grader/checks/numpy_only.py)."""

    kind: Literal["numpy_only"]
    function: str
    forbidden: list[str] = ["tensorflow", "keras", "torch", "jax", "scipy", "sklearn"]


# ---------------------------------------------------------------- the table

def lazy(ref: str | None) -> Callable | None:
    """"module:attribute" -> the attribute, imported on first call (relative to grader/)."""
    if ref is None:
        return None
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module, "grader"), attr)


@dataclass(frozen=True)
class Probe:
    """Code run in the student's kernel after the notebook (grader/probes.py)."""

    source: str  # (rubric) -> the probe's code
    uses: Callable[[Any], list[str]]  # rubric -> the notebook names it calls, for messages
    missing: str = "missing_names"  # grade.py's catalog key when those names are not defined
    error: str = "probe_error"  # ... and when calling them raised


@dataclass(frozen=True)
class Kind:
    model: type[CheckModel]
    title: dict[str, str]  # {"es": ..., "en": ...}; `{function}` is the check's function
    phase: Literal["static", "unit", "run"]
    # static: (nb, check, rubric, lang) -> (CheckResult, flags)
    # run: (run_checks.Judging) -> (CheckResult, metrics, flags)
    # unit: the extracted-function job's judge, grader/checks/unit.py
    judge: str
    probe: str | None = None  # run: the PROBES entry it needs
    inputs: str | None = None  # run: (check, data) -> {name: array} sent to the probe (never labels)
    # self-check estimator (grader/selfcheck/estimate.py); None: a static kind is estimated by
    # its own judge on the student's copy, any other is listed as pending
    estimate: str | None = None
    metric: tuple[str | None, bool] | None = None  # class report: (metric name or None: check.metric, higher is better)
    data_files: str | None = None  # (rubric, check) -> host files the verdict depends on (the store's key)
    # (check, loaded data, datasets) once per batch, after the loader: adds what the judge needs
    # from the data, or raises RubricError for a rubric the data cannot grade (grader/data/loaders.py)
    on_data: str | None = None
    # `grader check --rerun`: (check, the grader's result for it, Result, data label, lang) ->
    # (basis, message, what stays unverified or None); None: "rerun" or "verified", as graded
    rerun_item: str | None = None
    names: Callable[[Any, Any], list[str]] = field(default=lambda rubric, chk: [])  # notebook names it needs


PROBES: dict[str, Probe] = {
    "predict": Probe(".run_checks:predict_probe",
                     lambda r: [r.interface.preprocess, r.interface.model],
                     missing="missing_interface", error="collect_error"),
    "text": Probe(".run_checks:text_probe",
                  lambda r: [r.interface.char2idx, r.interface.idx2char, r.interface.model]),
    "generate": Probe(".run_checks:generate_probe",
                      lambda r: [c.function for c in r.checks if c.kind == "generate_text"][:1]
                      + [r.interface.model]),
}

_FUNCTION = {"es": "Función `{function}`", "en": "Function `{function}`"}

KINDS: dict[str, Kind] = {
    "executed_notebook": Kind(
        ExecutedCheck, {"es": "Cuaderno ejecutado", "en": "Executed notebook"}, "static",
        judge=".checks.executed:judge_static"),
    "locked_cells": Kind(
        LockedCellsCheck, {"es": "Celdas bloqueadas sin modificar", "en": "Locked cells unchanged"}, "static",
        judge=".checks.locked:judge_static", estimate=".selfcheck.estimate:locked",
        data_files=".checks.locked:template_files"),
    "numpy_only": Kind(
        NumpyOnlyCheck, {"es": "`{function}` con NumPy", "en": "`{function}` in NumPy"}, "static",
        judge=".checks.numpy_only:judge_static", names=lambda r, c: [c.function]),
    "unit_test": Kind(
        UnitTestCheck, _FUNCTION, "unit", judge=".checks.unit:judge_unit", estimate=".selfcheck.estimate:unit",
        rerun_item=".selfcheck.rerun:unit_item", names=lambda r, c: [c.function]),
    "accuracy": Kind(
        AccuracyCheck, {"es": "Exactitud en el test oculto", "en": "Accuracy on the hidden test set"}, "run",
        judge=".run_checks:judge_accuracy", probe="predict", inputs=".run_checks:accuracy_inputs",
        estimate=".selfcheck.estimate:accuracy", rerun_item=".selfcheck.rerun:accuracy_item", metric=(None, True)),
    "claimed_accuracy": Kind(
        ClaimedAccuracyCheck, {"es": "Exactitud declarada frente a reproducida",
                               "en": "Claimed vs reproduced accuracy"}, "run",
        judge=".run_checks:judge_claimed", probe="predict", inputs=".run_checks:claimed_inputs",
        estimate=".selfcheck.estimate:claimed", on_data=".data.loaders:public_split"),
    "text_loss": Kind(
        TextLossCheck, {"es": "Pérdida por carácter en texto oculto", "en": "Per-character loss on held-out text"},
        "run", judge=".run_checks:judge_text_loss", probe="text", inputs=".run_checks:text_inputs",
        on_data=".data.loaders:text_windows", metric=("text_loss_ratio", False)),
    "generate_text": Kind(
        GenerateTextCheck, _FUNCTION, "run", judge=".run_checks:judge_generate", probe="generate",
        inputs=".run_checks:generate_inputs", names=lambda r, c: [c.function]),
}

CHECK_TYPES = tuple(k.model for k in KINDS.values())
Check = Annotated[Union[CHECK_TYPES], Field(discriminator="kind")]


def kind(check) -> Kind:
    return KINDS[check.kind]


def title(check, lang: str) -> str:
    """The check's name in `lang`: the rubric's own title, else its kind's."""
    custom = getattr(check, f"title_{lang}", None)
    if custom:
        return custom
    text = KINDS[check.kind].title
    return (text.get(lang) or text["es"]).format(function=getattr(check, "function", ""))


def in_phase(rubric, phase: str) -> list:
    return [c for c in rubric.checks if KINDS[c.kind].phase == phase]
