"""Hidden adam_step cases: inputs only (expected values come from the grader's reference, with the
rubric's bias_correction option). They catch: epsilon inside the square root (tiny gradients),
hyperparameters ignored (hard-coded defaults), the update made with dw instead of the momentum v,
t counted from 0, shapes other than vectors (a 3-D tensor, a scalar), and a late step where the
second moment's correction still matters. Kept out of the installed package: students'
self-check never sees them.
"""
import numpy as np  # noqa: F401

from grader.checks.cases import ADAM_RETURNS, UnitCase, _adam_args, _arr


def hidden_cases() -> list[UnitCase]:
    f = "adam_step"
    hp = [_arr(0.01), _arr(0.8), _arr(0.99), _arr(1e-6)]  # learning_rate, beta1, beta2, epsilon
    tiny = _adam_args((6,), 41, 2, grad_scale=2e-5)
    coasting = _adam_args((5,), 47, 12)
    coasting[1] = _arr(np.zeros(5))  # no gradient this step: only the momentum moves the weights
    return [
        UnitCase("adam__tiny_gradients", f, tiny, returns=ADAM_RETURNS, description={
            "es": "gradientes diminutos (del orden de 1e-5), t = 2",
            "en": "tiny gradients (around 1e-5), t = 2"},
            hint={"es": "epsilon va fuera de la raíz: w − α·v̂ / (√ŝ + ε); con gradientes pequeños "
                        "√(ŝ + ε) es muy distinto",
                  "en": "epsilon goes outside the root: w − α·v̂ / (√ŝ + ε); with small gradients "
                        "√(ŝ + ε) is very different"}),
        UnitCase("adam__hyperparameters", f, _adam_args((2, 5), 43, 3) + hp, returns=ADAM_RETURNS,
                 description={"es": "otros hiperparámetros: learning_rate = 0,01, beta1 = 0,8, beta2 = 0,99, "
                                    "epsilon = 1e-6, t = 3",
                              "en": "other hyperparameters: learning_rate = 0.01, beta1 = 0.8, beta2 = 0.99, "
                                    "epsilon = 1e-6, t = 3"},
                 hint={"es": "usa los argumentos learning_rate, beta1, beta2 y epsilon, no valores fijos",
                       "en": "use the arguments learning_rate, beta1, beta2 and epsilon, not fixed values"}),
        UnitCase("adam__no_gradient", f, coasting, returns=ADAM_RETURNS, description={
            "es": "un paso sin gradiente (dw = 0) con momento acumulado, t = 12",
            "en": "a step with no gradient (dw = 0) and accumulated momentum, t = 12"},
            hint={"es": "el paso usa el momento v (corregido), no dw: con dw = 0 los pesos siguen moviéndose",
                  "en": "the step uses the (corrected) momentum v, not dw: with dw = 0 the weights still move"}),
        UnitCase("adam__tensor", f, _adam_args((2, 3, 4), 53, 5), returns=ADAM_RETURNS, description={
            "es": "un tensor de pesos de forma (2, 3, 4), t = 5",
            "en": "a weight tensor of shape (2, 3, 4), t = 5"}),
        UnitCase("adam__scalar", f, _adam_args((), 61, 4), returns=ADAM_RETURNS, description={
            "es": "un único peso (escalares), t = 4", "en": "a single weight (scalars), t = 4"}),
        UnitCase("adam__late_step", f, _adam_args((4,), 59, 500), returns=ADAM_RETURNS, description={
            "es": "un paso avanzado, t = 500 (la corrección de s todavía cuenta)",
            "en": "a late step, t = 500 (the correction of s still matters)"}),
    ]
