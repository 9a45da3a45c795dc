"""Is this notebook the released notebook of the assignment it was handed in to?

`grader release` writes `metadata.grader.assignment` in every released notebook. A notebook
marked for another assignment (the ImageNet practice uploaded to the MNIST task) is not graded
against the wrong rubric: it gets one clear message, in `grader grade` and in `grader check`.
"""
from __future__ import annotations

from ..authoring.release import METADATA_KEY
from ..messages import tr

MESSAGES = {
    "wrong": {"es": "Este es el cuaderno de la práctica «{found}», entregado en la tarea de «{expected}». "
                    "Entrega aquí el cuaderno de «{expected}» (y el de «{found}» en su propia tarea).",
              "en": "This is the {found} notebook, handed in to {expected}. Hand in the {expected} "
                    "notebook here (and the {found} one in its own assignment)."},
}


def marked_assignment(nb) -> str | None:
    """The assignment the released notebook was made for, when the notebook says."""
    meta = nb.get("metadata") if isinstance(nb, dict) or hasattr(nb, "get") else None
    mark = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
    name = mark.get("assignment") if isinstance(mark, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def wrong_assignment(nb, expected: str, lang: str = "es") -> str | None:
    """The message for a notebook marked for another assignment; None when it is not."""
    found = marked_assignment(nb)
    if found is None or found == expected:
        return None
    return tr(MESSAGES, "wrong", lang, found=found[:80], expected=expected)
