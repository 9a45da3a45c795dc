"""Hidden cross_entropy cases: inputs only (expected values come from the grader's reference).
They catch: averaging over C·m, log10, transposed axes (C != m).
Kept out of the installed package: students' self-check never sees them.
"""
import numpy as np  # noqa: F401

from grader.checks.cases import UnitCase, _arr, _logits, _one_hot, _probs  # noqa: F401


def hidden_cases() -> list[UnitCase]:
    f = "cross_entropy"
    return [
        UnitCase("cross_entropy__uniform", f, [_arr(_one_hot(10, 4, 13)), _arr(np.full((10, 4), 0.1))],
                 description={"es": "predicciones uniformes ŷ = 0,1 con C = 10 y m = 4: "
                                    "la pérdida es ln 10 ≈ 2,303",
                              "en": "uniform predictions ŷ = 0.1 with C = 10 and m = 4: the loss is ln 10 ≈ 2.303"}),
        UnitCase("cross_entropy__few_classes", f, [_arr(_one_hot(3, 8, 17)), _arr(_probs(3, 8, 19))],
                 description={"es": "un lote de m = 8 ejemplos y C = 3 clases, y e ŷ de forma (3, 8)",
                              "en": "a batch of m = 8 examples and C = 3 classes, y and ŷ of shape (3, 8)"}),
    ]
