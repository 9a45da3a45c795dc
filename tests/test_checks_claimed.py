"""find_claimed_accuracy / judge_claimed: what the notebook shows vs what re-execution gives."""
from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from grader.checks import find_claimed_accuracy, judge_claimed
from grader.checks.claimed import Compared, compare_cells
from grader.rubric import ClaimedAccuracyCheck

CHECK = ClaimedAccuracyCheck(id="claimed_accuracy", kind="claimed_accuracy", points=0, tolerance=0.05)

# Keras 3 in Jupyter: colours, \r redraws and \b, one final line per epoch.
FIT_VAL = ("Epoch 1/2\n\x1b[1m1875/1875\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m5s\x1b[0m "
           "2ms/step - accuracy: 0.8812 - loss: 0.4012 - val_accuracy: 0.9601 - val_loss: 0.1300\nEpoch 2/2\n"
           "\r   1/1875 ━━━━━━━━━━━━━━━━━━━━ 1s 1ms/step - accuracy: 1.0000 - loss: 0.0100\b\b\b\r"
           "1875/1875 ━━━━━━━━━━━━━━━━━━━━ 5s 2ms/step - accuracy: 0.9655 - loss: 0.1120 - val_accuracy: 0.9702 - val_loss: 0.1000\n")
FIT = "Epoch 1/1\n1875/1875 ━━━━━━━━━━━━━━━━━━━━ 5s 2ms/step - accuracy: 0.9955 - loss: 0.0200\n"
EVALUATE = "\x1b[1m313/313\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m 2ms/step - accuracy: 0.9712 - loss: 0.0934\n"
EVALUATE_KERAS2 = "313/313 [==============================] - 1s 3ms/step - loss: 0.0309 - accuracy: 0.9903\n"


def nb(*cells):
    return new_notebook(cells=[new_code_cell(src, outputs=outs, execution_count=i + 1)
                               for i, (src, outs) in enumerate(cells)])


def stream(text):
    return new_output("stream", name="stdout", text=text)


def result(text):
    return new_output("execute_result", data={"text/plain": text}, execution_count=1)


@pytest.mark.parametrize("notebook,claimed", [
    (nb(("model.fit(x, y, epochs=2, validation_data=(x_test, y_test))", [stream(FIT_VAL)])), None),
    (nb(("model.fit(x, y, epochs=1)", [stream(FIT)])), None),
    (nb(("model.fit(x, y, epochs=1)", [stream(FIT + FIT.splitlines()[1] + "\n")])), None),  # a repeated bar
    (nb(("model.fit(x, y, epochs=1)", [stream(FIT)]),
        ("model.evaluate(x_test, y_test)", [stream(EVALUATE), result("[0.0934000015258789, 0.9711999893188477]")])),
     0.9711999893188477),
    (nb(("model.fit(x, y, epochs=1)\nmodel.evaluate(x_test, y_test)", [stream(FIT + EVALUATE_KERAS2)])), 0.9903),
    (nb(("model.evaluate(x_test, y_test)", [stream(EVALUATE[:60]),
                                             new_output("stream", name="stderr", text="W0000 cpu_feature_guard\n"),
                                             stream(EVALUATE[60:])])), 0.9712),
    (nb(("print(f'Test loss: {l:.3f}, Test accuracy: {a:.3f}')", [stream("Test loss: 0.081, Test accuracy: 0.974\n")])), 0.974),
    (nb(("print(...)", [stream("Exactitud en test: 97,4 %\n")])), 0.974),
    (nb(("print(...)", [stream("Train acc: 0.99, Test acc: 0.981\n")])), 0.981),
    (nb(("print(...)", [stream("test_acc = 0.97\n")])), 0.97),
    (nb(("test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)\ntest_acc", [result("0.9721")])), 0.9721),
    (nb(("model.evaluate(x_test, y_test, return_dict=True)", [result("{'accuracy': 0.9712, 'loss': 0.0934}")])), 0.9712),
    (nb(("print(model.evaluate(x_test, y_test, verbose=0))", [stream("[0.0934, 0.9712]\n")])), 0.9712),
    (nb(("print('accuracy:', acc)", [stream("accuracy: 0.95\n")]),
        ("print(...)", [stream("Precisión en el conjunto de prueba: 0.96\n")])), 0.96),  # test-labelled wins
    (nb(("print(...)", [stream("Test accuracy: 0.95\n")]), ("print(...)", [stream("Test accuracy: 0.98\n")])), 0.98),
    (nb(("print(...)", [stream("precision: 0.5\n")])), None),  # another metric
    (nb(("print('hola')", [stream("hola\n")])), None),
])
def test_find_claimed_accuracy(notebook, claimed):
    found = find_claimed_accuracy(notebook)
    assert found == (pytest.approx(claimed) if claimed is not None else None)


def compared(claimed, rerun, cell=4, tier=2):
    return [Compared(cell, tier, claimed, rerun)]


def test_mismatch_is_the_same_cell_printing_another_number_in_the_rerun():
    res, flags, note = judge_claimed(CHECK, 0.9712, compared(0.9712, 0.90), 0.9712, "es")
    assert flags == ["claimed_accuracy_mismatch"] and res.passed is False and res.points == 0
    assert "celda 4 (97,1 %)" in res.message and "(90 %)" in res.message and "7,1 puntos" in res.message
    assert "¿Guardaste" not in res.message  # neutral wording: no question implying a fault
    assert "cell 4: 0.9712 / 0.9000" in note and "host on the public test split: 0.9712" in note


def test_within_tolerance_passes():
    res, flags, _ = judge_claimed(CHECK, 0.9712, compared(0.9712, 0.95), None, "en")
    assert flags == [] and res.passed is True and "cell 4 shows (97.1 %)" in res.message


def test_an_honest_claim_on_another_split_is_not_a_mismatch():
    """The student evaluated on a validation split: the host's public-split number differs, the
    same cell re-printed the same number. Passed; the host's number is an instructor-only flag."""
    res, flags, note = judge_claimed(CHECK, 0.99, compared(0.99, 0.985), 0.80, "es")
    assert res.passed is True and flags == ["claimed_accuracy_host_differs"]
    assert "0.8000 vs claimed 0.9900" in note


def test_nothing_to_compare_is_neutral_not_a_pass():
    res, flags, _ = judge_claimed(CHECK, None, [], 0.95, "es")
    assert flags == ["no_claimed_accuracy"] and res.passed is None and "model.evaluate" in res.message
    res, flags, _ = judge_claimed(CHECK, 0.97, [], None, "es")
    assert flags == ["claimed_accuracy_unverified"] and res.passed is None
    assert "nada que comparar" in res.message


def test_the_best_labelled_cell_is_the_one_judged():
    both = [Compared(3, 0, 0.99, 0.70), Compared(5, 2, 0.97, 0.969)]  # fit's training accuracy moved
    res, flags, _ = judge_claimed(CHECK, 0.97, both, None, "es")
    assert res.passed is True and "celda 5" in res.message and flags == []


def test_compare_cells_pairs_the_same_cell_only():
    submitted = nb(("model.fit(x, y, epochs=1)", [stream(FIT)]),
                   ("model.evaluate(x_test, y_test)", [stream(EVALUATE)]),
                   ("print(acc)", [stream("Test accuracy: 0.95\n")]))
    rerun = nb(("model.fit(x, y, epochs=1)", [stream(FIT.replace("0.9955", "0.9950"))]),
               ("model.evaluate(x_test, y_test)", [stream(EVALUATE.replace("0.9712", "0.9600"))]),
               ("print(acc)  # edited", [stream("Test accuracy: 0.5\n")]))
    got = compare_cells(submitted, rerun)
    assert [(c.cell, c.tier, c.claimed, c.rerun) for c in got] == [(1, 0, 0.9955, 0.995), (2, 2, 0.9712, 0.96)]
    assert compare_cells(submitted, None) == []
