"""extract_functions: the functions under test come out of a notebook without running it."""
from __future__ import annotations

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.checks import extract_functions
from grader.checks.reference import cross_entropy as ref_cross_entropy
from grader.checks.reference import softmax as ref_softmax


def notebook(*cells):
    return new_notebook(cells=[new_markdown_cell(c[3:]) if c.startswith("md:") else new_code_cell(c) for c in cells])


def load(source: str) -> dict:
    """What the sandbox does with the extracted module (here in-process: it is our own test code)."""
    ns: dict = {}
    exec(compile(source, "<extracted>", "exec"), ns)
    return ns


STUDENT = notebook(
    "md:# Práctica 1: MNIST con redes CNN",
    "%matplotlib inline\n!pip install -q tensorflow-datasets\nimport numpy as np\nimport tensorflow as tf\n"
    "from tensorflow import keras\nimport matplotlib.pyplot as plt",
    "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\nx_train.shape",
    "EPS = np.float32(1e-7)\nN_CLASSES = 10",
    "def softmax(z):\n    # primer intento\n    return np.exp(z) / np.sum(np.exp(z))",
    "def softmax(z:)\n    pass",  # does not parse
    "md:## Softmax estable",
    "def _shift(z):\n    return z - np.max(z, axis=0, keepdims=True)\n\n"
    "def softmax(z):\n    e = np.exp(_shift(z))\n    return e / np.sum(e, axis=0, keepdims=True)",
    "def cross_entropy(y, y_hat):\n    m = y.shape[1]\n    return -np.sum(y * np.log(y_hat + EPS)) / m",
    "model = keras.Sequential([keras.layers.Dense(N_CLASSES, activation='softmax')])\n"
    "model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
    "history = model.fit(x_train, y_train, epochs=3)",
    "plt.plot(history.history['loss'])",
)


def test_extracts_last_definitions_with_helpers_and_constants():
    ex = extract_functions(STUDENT, ["softmax", "cross_entropy"])
    assert ex.found == ["softmax", "cross_entropy"] and ex.missing == []
    assert "_shift" in ex.source and "EPS = np.float32(1e-7)" in ex.source
    assert "primer intento" not in ex.source  # the redefinition wins, as on a re-run
    assert "# primer" not in ex.source and "keepdims=True" in ex.source  # student's text kept verbatim
    ns = load(ex.source)
    z = np.array([[1000.0, 1.0], [1001.0, 2.0], [1002.0, 3.0]])
    np.testing.assert_allclose(ns["softmax"](z), ref_softmax(z))
    y, p = np.eye(3), np.full((3, 3), 1 / 3)
    assert ns["cross_entropy"](y, p) == pytest.approx(ref_cross_entropy(y, p), rel=1e-5)


def test_leaves_out_heavy_and_expensive_statements_and_magics():
    ex = extract_functions(STUDENT, ["softmax", "cross_entropy"])
    for absent in ("tensorflow", "keras", "matplotlib", "load_data", "model", "pip", "get_ipython", "N_CLASSES"):
        assert absent not in ex.source, absent
    assert ex.source.startswith("#") and "from __future__ import annotations" in ex.source
    assert any("cell 6" in n and "not valid Python" in n for n in ex.notes), ex.notes


def test_unparsable_cell_is_skipped_with_a_note_and_the_rest_still_works():
    nb = notebook("import numpy as np", "def broken(:\n    pass", "def softmax(z):\n    return np.exp(z) / np.exp(z).sum(0)")
    ex = extract_functions(nb, ["softmax"])
    assert ex.found == ["softmax"]
    assert len(ex.notes) == 1 and ex.notes[0].startswith("cell 2: skipped, not valid Python")
    assert load(ex.source)["softmax"](np.zeros(2)).tolist() == [0.5, 0.5]


def test_missing_function_is_reported():
    ex = extract_functions(notebook("import numpy as np", "def softmax(z):\n    return z"), ["softmax", "cross_entropy"])
    assert ex.found == ["softmax"] and ex.missing == ["cross_entropy"]


def test_non_cheap_dependency_is_not_included_and_named():
    nb = notebook("import numpy as np\nfrom tensorflow import keras",
                  "(x_train, y_train), _ = keras.datasets.mnist.load_data()",
                  "def cross_entropy(y, y_hat):\n    return -np.sum(y * np.log(y_hat)) / x_train.shape[0]")
    ex = extract_functions(nb, ["cross_entropy"])
    assert ex.found == ["cross_entropy"] and "load_data" not in ex.source and "keras" not in ex.source
    assert any("cell 2" in n and "x_train" in n for n in ex.notes), ex.notes
    with pytest.raises(NameError):  # the sandbox reports this per case: the student sees why
        load(ex.source)["cross_entropy"](np.eye(2), np.full((2, 2), 0.5))


def test_tensorflow_is_imported_only_when_the_function_uses_it():
    nb = notebook("import numpy as np, tensorflow as tf", "def softmax(z):\n    return tf.nn.softmax(z, axis=0).numpy()",
                  "def cross_entropy(y, y_hat):\n    return -np.mean(np.sum(y * np.log(y_hat), axis=0))")
    assert "tensorflow" not in extract_functions(nb, ["cross_entropy"]).source
    assert "import numpy as np" in extract_functions(nb, ["cross_entropy"]).source
    assert "import tensorflow as tf" in extract_functions(nb, ["softmax"]).source


def test_magics_cell_magics_and_shell_lines():
    nb = notebook("%%time\nimport numpy as np\ndef softmax(z):\n    e = np.exp(z - z.max(0))\n    return e / e.sum(0)",
                  "%%writefile helper.py\ndef cross_entropy(y, p):\n    return 0",
                  "files = !ls\n%load_ext autoreload\nnp.exp?")
    ex = extract_functions(nb, ["softmax", "cross_entropy"])
    assert ex.found == ["softmax"] and ex.missing == ["cross_entropy"]
    assert any("cell 2" in n and "%%writefile" in n for n in ex.notes)
    assert load(ex.source)["softmax"](np.array([0.0, 0.0])).tolist() == [0.5, 0.5]


def test_constants_chain_lambdas_classes_and_later_definitions():
    nb = notebook(
        "import math\nimport numpy as np",
        "C = 3\nSHAPE = (C, 1)\nLOG = lambda x: np.log(np.clip(x, TINY, 1.0))\nBIG = np.ones(SHAPE).sum() * math.e",
        "class Norm:\n    axis = 0\n    def total(self, e):\n        return e.sum(axis=self.axis, keepdims=True)",
        "def softmax(z):\n    e = np.exp(z - z.max(0))\n    assert BIG > 0\n    return e / Norm().total(e)",
        "def cross_entropy(y, y_hat):\n    return -np.sum(y * LOG(y_hat)) / y.shape[1]",
        "TINY = 1e-12",  # defined after the function: fine, it is read when the function is called
    )
    ex = extract_functions(nb, ["softmax", "cross_entropy"])
    ns = load(ex.source)
    assert ns["softmax"](np.zeros(3)).tolist() == pytest.approx([1 / 3] * 3)
    assert ns["cross_entropy"](np.eye(2), np.eye(2)) == pytest.approx(0.0, abs=1e-9)
    assert ex.notes == []


def test_try_and_if_blocks_that_define_needed_names_are_kept_whole():
    nb = notebook(
        "try:\n    import google.colab\n    IN_COLAB = True\nexcept ImportError:\n    IN_COLAB = False",
        "try:\n    import numpy as xp\nexcept ImportError:\n    xp = None",
        "STABLE = True\nif STABLE:\n    def softmax(z):\n        e = xp.exp(z - z.max(0))\n        return e / e.sum(0)\n"
        "else:\n    def softmax(z):\n        return xp.exp(z) / xp.exp(z).sum(0)",
        "if IN_COLAB:\n    !pip install something",
    )
    ex = extract_functions(nb, ["softmax"])
    assert ex.found == ["softmax"] and "google.colab" not in ex.source
    assert "except ImportError" in ex.source and "STABLE = True" in ex.source
    assert load(ex.source)["softmax"](np.array([1000.0, 1000.0])).tolist() == [0.5, 0.5]


def test_function_assigned_from_an_expensive_call_is_missing():
    nb = notebook("import tensorflow as tf", "softmax = tf.function(lambda z: tf.nn.softmax(z))")
    ex = extract_functions(nb, ["softmax"])
    assert ex.missing == ["softmax"] and any("does not run" in n for n in ex.notes)


def test_imported_function_is_found_with_a_note():
    ex = extract_functions(notebook("from scipy.special import softmax"), ["softmax"])
    assert ex.found == ["softmax"] and "from scipy.special import softmax" in ex.source
    assert any("imported" in n for n in ex.notes)


def test_constants_read_from_files_are_not_cheap():
    nb = notebook("import numpy as np", "MEAN = np.load('stats.npy').mean()\nSTD = np.float64(2.0)",
                  "def softmax(z):\n    z = (z - MEAN) / STD\n    return np.exp(z) / np.exp(z).sum(0)")
    ex = extract_functions(nb, ["softmax"])
    assert "STD = " in ex.source and "stats.npy" not in ex.source
    assert any("MEAN" in n for n in ex.notes)


def test_hostile_sources_do_not_crash_the_host():
    deep = "X = " + "+".join(["1"] * 900)
    nb = notebook(deep, "X = " + "+".join(["1"] * 20000), "def softmax(z):\n    return X", "\x00", "%%bash\nrm -rf /")
    ex = extract_functions(nb, ["softmax"])
    assert ex.found == ["softmax"] and "rm -rf" not in ex.source
    assert any("cell 1" in n and "too deeply" in n for n in ex.notes)
    assert any("cell 2" in n for n in ex.notes) and any("%%bash" in n for n in ex.notes)


def test_without_ipython_a_line_based_fallback_drops_magics(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "IPython.core.inputtransformer2", None)  # import fails
    nb = notebook("%matplotlib inline\nimport numpy as np\n!pip install x",
                  "def softmax(z):\n    %time e = np.exp(z)\n    return np.exp(z) / np.exp(z).sum(0)")
    ex = extract_functions(nb, ["softmax"])
    assert "get_ipython" not in ex.source and "pip" not in ex.source
    assert load(ex.source)["softmax"](np.zeros(2)).tolist() == [0.5, 0.5]
