"""`make demo` flags the planted copy (Zoë's MNIST notebook, Nerea's disguised) and nothing
else, in all three demo assignments, through the real `grader grade` (conftest's demo_reports)."""
from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.xdist_group("demo")]


def test_the_demo_flags_the_planted_pair_and_nothing_else(demo_reports):
    flagged = {}
    for assignment in ("mnist_cnn", "imagenet_cnn", "rnn_text"):
        for line in (demo_reports / assignment / "results.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            similar = [f for f in row["flags"] if f.startswith("similar_to:")]
            if similar:
                flagged[(assignment, row["full_name"])] = similar
        assert (demo_reports / assignment / "similarity.html").exists()
    assert flagged == {("mnist_cnn", "Zoë Ibáñez"): ["similar_to:4518262"],
                       ("mnist_cnn", "Nerea Sáez"): ["similar_to:4518241"]}
    html = (demo_reports / "mnist_cnn" / "similarity.html").read_text(encoding="utf-8")
    assert "Zoë Ibáñez" in html and "Nerea Sáez" in html and html.count('<h2 id="pair-') == 1
    run = json.loads((demo_reports / "mnist_cnn" / "run.json").read_text(encoding="utf-8"))
    assert not [w for w in run["warnings"] if w.startswith("similarity")]  # Iñaki's row says it all
