"""The check-kind registry (grader/checks/kinds.py): every hook a kind names exists, so a typo
in the table fails here and not in the middle of a term's batch."""
from __future__ import annotations

import dataclasses

import pytest

from grader.checks.kinds import KINDS, PROBES, lazy

HOOKS = ("judge", "inputs", "estimate", "data_files", "on_data", "rerun_item")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_hook_a_kind_names_is_a_callable(name):
    kind = KINDS[name]
    for hook in HOOKS:
        ref = getattr(kind, hook)
        if ref is not None:
            assert callable(lazy(ref)), f"{name}.{hook}: {ref}"
    if kind.probe is not None:
        assert kind.probe in PROBES and callable(lazy(PROBES[kind.probe].source))
    assert kind.model.model_fields["kind"].annotation.__args__ == (name,)  # the rubric's name for it


def test_the_hook_fields_are_the_ones_checked_here():
    """A new hook field on Kind is added to HOOKS above, so it is resolved here too (`probe`
    names a PROBES entry, checked above)."""
    refs = {f.name for f in dataclasses.fields(KINDS["accuracy"]) if f.type in ("str | None",)}
    assert refs - {"probe"} == set(HOOKS) - {"judge"}  # judge: always given (str)
