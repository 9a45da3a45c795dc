"""Hidden softmax cases: inputs only (expected values come from the grader's reference).
They catch: a (C, 1) column, subtracting the minimum, subtracting the whole matrix's max.
Kept out of the installed package: students' self-check never sees them.
"""
import numpy as np  # noqa: F401

from grader.checks.cases import UnitCase, _arr, _logits, _one_hot, _probs  # noqa: F401


def hidden_cases() -> list[UnitCase]:
    f = "softmax"
    return [
        UnitCase("softmax__one_column", f, [_arr(_logits(5, 1, 23))], description={
            "es": "un solo ejemplo como columna, z de forma (5, 1)",
            "en": "a single example as a column, z of shape (5, 1)"},
            hint={"es": "con z de forma (C, 1) el resultado también es (C, 1) y la columna suma 1",
                  "en": "for z of shape (C, 1) the result is (C, 1) too, and the column sums to 1"}),
        UnitCase("softmax__very_negative", f, [_arr([-1, -800, 2, -3])], description={
            "es": "un logit muy negativo, z = [−1, −800, 2, −3]",
            "en": "one very negative logit, z = [−1, −800, 2, −3]"},
            hint={"es": "resta el máximo (no el mínimo) antes de exp: con z − min(z) el exponente llega a 802",
                  "en": "subtract the maximum (not the minimum) before exp: z − min(z) reaches 802"}),
        UnitCase("softmax__columns_apart", f, [_arr([[700, -100], [701, -99], [702, -98]])], description={
            "es": "dos columnas de escalas muy distintas, z de forma (3, 2)",
            "en": "two columns of very different scale, z of shape (3, 2)"},
            hint={"es": "resta el máximo de cada columna (np.max(z, axis=0, keepdims=True)), "
                        "no el de toda la matriz: si no, exp(−800) da 0 y 0/0 = NaN",
                  "en": "subtract each column's maximum (np.max(z, axis=0, keepdims=True)), "
                        "not the whole matrix's: otherwise exp(−800) is 0 and 0/0 = NaN"}),
    ]
