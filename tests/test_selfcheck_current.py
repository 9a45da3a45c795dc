"""grader.check()'s notebook finder: what Jupyter Server, VS Code and a plain folder say (Colab's
frontend API cannot be reached offline; the finder then asks for the path)."""
from __future__ import annotations

from grader.selfcheck.current import check, find_current_notebook


def test_jupyter_session_name_absolute_relative_or_by_file_name(tmp_path):
    nb = tmp_path / "practica.ipynb"
    nb.write_text("{}")
    (tmp_path / "otra.ipynb").write_text("{}")
    assert find_current_notebook(tmp_path, {"JPY_SESSION_NAME": str(nb)}, {}) == nb
    assert find_current_notebook(tmp_path, {"JPY_SESSION_NAME": "curso/dl/practica.ipynb"}, {}) == tmp_path / "practica.ipynb"
    assert find_current_notebook(tmp_path, {}, {"__vsc_ipynb_file__": str(nb)}) == nb
    assert find_current_notebook(tmp_path, {}, {}) is None  # two notebooks here: no guess


def test_the_only_notebook_in_the_folder(tmp_path):
    (tmp_path / "mnist_cnn.ipynb").write_text("{}")
    (tmp_path / "mnist_cnn-checkpoint.ipynb").write_text("{}")
    assert find_current_notebook(tmp_path, {"JPY_SESSION_NAME": "gone.ipynb"}, {}) == tmp_path / "mnist_cnn.ipynb"


def test_no_notebook_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert check() == 2
    assert "grader.check(\"practica1.ipynb\")" in capsys.readouterr().out
    assert check(tmp_path / "nope.ipynb") == 2
