"""check_executed: the submitted notebook must be executed in order, without errors, with results."""
from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from grader.checks import check_executed
from grader.rubric import ExecutedCheck

CHECK = ExecutedCheck(id="executed", kind="executed_notebook", points=1)


def stream(text):
    return new_output("stream", name="stdout", text=text)


def executed_notebook():
    return new_notebook(cells=[
        new_markdown_cell("# Práctica 1"),
        new_code_cell("import numpy as np", execution_count=1),
        new_code_cell("def softmax(z):\n    return z", execution_count=2),
        new_code_cell("", execution_count=None),  # empty cells never count
        new_code_cell("print(softmax(np.ones(2)))", execution_count=4, outputs=[stream("[1. 1.]\n")]),
        new_markdown_cell("Fin"),
        new_code_cell("model.evaluate(x_test, y_test)", execution_count=7,
                      outputs=[new_output("execute_result", data={"text/plain": "[0.09, 0.97]"}, execution_count=7)]),
    ])


def test_fully_executed_notebook_passes():
    result = check_executed(executed_notebook(), CHECK, "es")
    assert (result.points, result.passed, result.details) == (1, True, [])


def test_unexecuted_notebook_names_the_cells():
    nb = executed_notebook()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = None, []
    result = check_executed(nb, CHECK, "es")
    assert result.points == 0 and not result.passed
    assert "Sin ejecutar (sin número de ejecución): celda 2, celda 3, celda 5, celda 7." in result.details
    assert any("Ninguna celda de código muestra salida" in d for d in result.details)
    assert "4 celdas sin ejecutar" in result.message and "Restart & Run All" in result.message


def test_out_of_order_execution_is_named():
    nb = executed_notebook()
    nb.cells[4].execution_count = 1  # re-run after a restart, below cells that ran before
    result = check_executed(nb, CHECK, "es")
    assert not result.passed
    assert result.details == ["Fuera de orden: la celda 5 [1] se ejecutó después de la celda 3 [2]."]


def test_error_outputs_are_named_with_their_exception():
    nb = executed_notebook()
    nb.cells[6].outputs = [new_output("error", ename="NameError", evalue="name 'x_test' is not defined",
                                      traceback=["\x1b[0;31mNameError\x1b[0m"])]
    result = check_executed(nb, CHECK, "en")
    assert not result.passed and "1 cell with an error" in result.message
    assert result.details == ["With an error: cell 7 (NameError: name 'x_test' is not defined)."]


def test_long_lists_are_cut_after_five_cells():
    nb = new_notebook(cells=[new_code_cell(f"x{i} = {i}") for i in range(8)])
    result = check_executed(nb, CHECK, "es")
    assert "celda 1, celda 2, celda 3, celda 4, celda 5, y 3 más" in result.details[0]


def test_notebook_without_code():
    result = check_executed(new_notebook(cells=[new_markdown_cell("hola")]), CHECK, "es")
    assert result.points == 0 and result.message == "El cuaderno no tiene celdas de código."
