"""Rubric YAML -> validated Rubric. Errors name the bad key, so instructors can fix them fast."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from .checks.kinds import (  # noqa: F401  (the check models, re-exported for their users)
    CHECK_TYPES, KINDS, AccuracyCheck, Check, ClaimedAccuracyCheck, ExecutedCheck, GenerateCall, GenerateTextCheck,
    LockedCellsCheck, TextLossCheck, UnitTestCheck)
from .config_model import RelativePaths, error_lines
from .config_model import Strict as _Strict
from .errors import RubricError
from .yaml_input import load_yaml, read_yaml


#: an assignment id names folders (reports/<id>/, assignments/<id>/): no separators, no dots first
ASSIGNMENT_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class Limits(_Strict):
    timeout_s: float = Field(1800, gt=0, description="wall clock for the whole notebook re-run")
    cell_timeout_s: float = Field(600, gt=0, description="per cell")
    unit_timeout_s: float = Field(60, gt=0, description="the extracted-functions job, all cases")
    memory_mb: int = Field(4096, ge=64)
    pids_max: int = Field(512, ge=16)
    threads: int | None = Field(None, ge=1, description="BLAS/TF threads per job (default: cores / workers)")
    output_mb: int = Field(50, ge=1, description="cap on what a job may send back")
    disk_mb: int = Field(2048, ge=16, description="the job's writable space (a tmpfs, counted as memory)")
    max_file_mb: int = Field(512, ge=1, description="largest single file a notebook may write")


class DataConfig(_Strict):
    # how the hidden set is read (grader/data/loaders.py LOADERS): "classification" = x/y arrays
    loader: str = "classification"
    # file name that keras.utils.get_file asks for -> "standin" (generated) or a path
    keras_datasets: dict[str, str] = Field(default_factory=dict)
    # hidden test set: "standin" or a path to an .npz with arrays x (inputs) and y (labels)
    hidden_test: str = "standin"


class Interface(_Strict):
    preprocess: str = "preprocess"
    model: str = "model"
    predict_batch_size: int = Field(256, ge=1)
    char2idx: str = "char2idx"  # rnn_text: the vocabulary, {character: index}
    idx2char: str = "idx2char"  # rnn_text: index -> character (a list or array)
    # imagenet_cnn: one hidden image's shape, e.g. [96, 96, 3]; checked against data.hidden_test
    input_shape: list[int] | None = None
    # How the model's scores map to the assignment's classes: "classes" = one score per class, in
    # label order; "imagenet" = the 1000 ImageNet scores, class i scored by the best of its
    # ImageNet indices class_map[i] (grader/checks/accuracy.py map_outputs).
    outputs: Literal["classes", "imagenet"] = "classes"
    class_map: list[list[int]] | None = None

    @model_validator(mode="after")
    def _outputs(self) -> "Interface":
        if self.outputs == "classes":
            if self.class_map is not None:
                raise ValueError("class_map is only for outputs: imagenet")
            return self
        if not self.class_map or any(not idx for idx in self.class_map):
            raise ValueError("outputs: imagenet needs class_map: a non-empty list of ImageNet indices per class")
        flat = [i for idx in self.class_map for i in idx]
        if any(not 0 <= i < 1000 for i in flat):
            raise ValueError("class_map: ImageNet indices go from 0 to 999")
        if len(set(flat)) != len(flat):
            raise ValueError("class_map: an ImageNet index appears in two classes")
        return self


class NotebookChoice(_Strict):
    # glob patterns, best first: how to pick one notebook when a student hands in several
    preferred: list[str] = Field(default_factory=list)


class SimilarityConfig(_Strict):
    """Copy detection across the class (grader/integrity): flags pairs, never takes points."""

    enabled: bool = True
    # a pair is flagged when this share of one notebook's own code (the template's left out)
    # lies in long matches with the other
    threshold: float = Field(0.6, gt=0, le=1)
    # the shortest run of normalized tokens that counts as a match (names and literals abstracted)
    min_match_tokens: int = Field(25, ge=5, le=500)
    # the released student notebook, whose code is never a match; default:
    # <course>/assignments/<assignment>/release/<assignment>.ipynb
    template: str | None = None
    # more notebooks or .py files whose code anyone may share (examples given out in class)
    exclude: list[str] = Field(default_factory=list)


class FeedbackConfig(_Strict):
    """What the students' feedback shows."""

    # hidden unit-test cases: `summary` ("caso oculto 3: incorrecto (pista)"), or `inputs` (the
    # call, what it returned and what was expected, as for public cases)
    hidden_cases: Literal["summary", "inputs"] = "summary"


class Rubric(RelativePaths, _Strict):
    assignment: str = Field(pattern=ASSIGNMENT_ID)
    title: str = ""
    max_grade: float = Field(10, gt=0)
    lang: Literal["es", "en"] = "es"
    notebook: NotebookChoice = NotebookChoice()
    limits: Limits = Limits()
    data: DataConfig = DataConfig()
    interface: Interface = Interface()
    checks: list[Check] = Field(min_length=1)
    similarity: SimilarityConfig = SimilarityConfig()
    feedback: FeedbackConfig = FeedbackConfig()
    source: str = ""  # where it was loaded from (set by load_rubric)

    @model_validator(mode="after")
    def _consistent(self) -> "Rubric":
        ids = [c.id for c in self.checks]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate check ids: {', '.join(dup)}")
        if sum(c.points for c in self.checks) <= 0:
            raise ValueError("the checks' points add up to 0")
        return self

    def check(self, check_id: str):
        return next(c for c in self.checks if c.id == check_id)


def _loc(loc: tuple, raw: dict) -> str:
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict) and "id" in node[item]:
                label = f"[{item}] (id {node[item]['id']})"
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            if item in KINDS and parts and parts[-1].startswith("["):
                continue  # pydantic's discriminator tag, not a key the user wrote
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _known_keys(loc: tuple) -> list[str]:
    model: Any = Rubric
    for item in loc[:-1]:
        if isinstance(item, int):
            continue
        if model is Rubric and item == "checks":
            kind = next((k for k in loc if k in KINDS), None)
            if kind:
                return sorted(KINDS[kind].model.model_fields)
            return sorted(set().union(*(m.model_fields for m in CHECK_TYPES)))
        field = getattr(model, "model_fields", {}).get(item)
        ann = getattr(field, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
    return sorted(getattr(model, "model_fields", {}))


def _kind_error(e: dict) -> str | None:
    if e["type"] == "union_tag_invalid":
        return f"unknown check kind {e.get('input', {}).get('kind')!r} (expected one of {', '.join(KINDS)})"
    if e["type"] == "union_tag_not_found":
        return f"missing 'kind' (one of {', '.join(KINDS)})"
    return None


def _format(err: ValidationError, raw: dict, source: str) -> str:
    lines = error_lines(err, Rubric, where=lambda loc: _loc(loc, raw),
                        keys=lambda loc: [k for k in _known_keys(loc) if k != "source"], special=_kind_error)
    return f"invalid rubric {source}:\n" + "\n".join("  " + line for line in lines)


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply `dotted.key=value` overrides (values parsed as YAML). Checks are addressed by id:
    `checks.accuracy.threshold=0.9`."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            raise RubricError(f"override {item!r}: expected KEY=VALUE, e.g. limits.memory_mb=2048")
        key, _, text = item.partition("=")
        value = load_yaml(text, f"override {item!r}", RubricError) if text.strip() else None
        set_dotted(raw, key.strip(), value, RubricError)
    return raw


def set_dotted(raw: dict, key: str, value: Any, error: type[Exception]) -> None:
    """raw[a][b][c] = value for key "a.b.c", in place: missing or empty sections are created, a
    list is addressed by its items' `id` (checks.accuracy.threshold). Shared by the rubric's
    --set and the course config's command-line changes."""
    parts = key.split(".")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):  # checks: by id
            match = [c for c in node if isinstance(c, dict) and c.get("id") == part]
            if not match:
                ids = ", ".join(str(c.get("id")) for c in node if isinstance(c, dict))
                raise error(f"override {key!r}: no check with id {part!r} (ids: {ids})")
            node = match[0]
        else:
            if node.get(part) is None:  # absent, or an empty `late:` in the YAML
                node[part] = {}
            node = node[part]
            if not isinstance(node, (dict, list)):
                raise error(f"override {key!r}: '{'.'.join(parts[:i + 1])}' is not a section")
    if isinstance(node, list):
        raise error(f"override {key!r}: address a check by id, e.g. checks.accuracy.threshold")
    node[parts[-1]] = value


def parse_rubric(raw: Any, source: str = "<rubric>") -> Rubric:
    if not isinstance(raw, dict):
        raise RubricError(f"invalid rubric {source}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return Rubric.model_validate({**raw, "source": source})
    except ValidationError as e:
        raise RubricError(_format(e, raw, source)) from None


def load_rubric(path: str | Path, overrides: list[str] | None = None) -> Rubric:
    path = Path(path)
    try:
        raw = read_yaml(path, f"invalid rubric {path}", RubricError)
    except FileNotFoundError:
        known = sorted(f.stem for f in path.parent.glob("*.yaml") if f.stem != "course")
        hint = f" (rubrics there: {', '.join(known)})" if known else ""
        raise RubricError(f"rubric not found: {path}{hint}") from None
    if overrides:
        raw = apply_overrides(raw if isinstance(raw, dict) else {}, overrides)
    return parse_rubric(raw, str(path))
