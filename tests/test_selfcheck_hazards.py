"""Grading-time hazards and the grading interface, each on a small notebook: what is flagged, in
which cell, whether it blocks full marks, and what is NOT flagged (no false alarms)."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.rubric import load_rubric
from grader.selfcheck.hazards import find_hazards
from grader.selfcheck.interface import check_interface, required_names
from grader.selfcheck.notebook import code_cells
from grader.selfcheck.shell import commands, package_name

from conftest import notebook

ROOT = Path(__file__).resolve().parent.parent
SERVED = ["mnist.npz"]


def hazards(tmp_path: Path, *cells: str, files: dict[str, str] | None = None, limit_mb: float = 20, lang="es"):
    nb = notebook(*cells, executed=True)
    path = tmp_path / "practica.ipynb"
    nbformat.write(nb, path)
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return find_hazards(code_cells(json.loads(path.read_text())), path, SERVED, lang, limit_mb)


def kinds(findings) -> list[tuple[str, int | None, bool]]:
    return [(f.kind, f.cell, f.blocking) for f in findings]


def test_absolute_paths_of_every_kind(tmp_path):
    found = hazards(tmp_path,
                    "import numpy as np\nx = np.load('/content/drive/MyDrive/DL/x.npz')",
                    "df = open(r'C:\\Users\\ana\\datos.csv')",
                    "import os\np = os.path.join('/home/ana/dl', 'y.npy')",
                    "name = 'z'\nw = np.load(f'/content/drive/MyDrive/{name}.npz')",
                    "v = np.load('~/datos/v.npy')")
    assert kinds(found) == [("absolute_path", n, True) for n in (1, 2, 3, 4, 5)]
    assert "«/content/drive/MyDrive/DL/x.npz»" in found[0].message
    assert "C:\\Users\\ana\\datos.csv" in found[1].message
    assert "/home/ana/dl/y.npy" in found[2].message
    assert found[3].snippet.startswith("w = np.load(f'/content/drive/MyDrive/")


def test_no_false_alarms(tmp_path):
    found = hazards(tmp_path,
                    'def f(x):\n    """Reads /content/drive/x.npz in Colab."""\n    return x',
                    "print('Guarda en /content/drive/MyDrive si usas Colab')",
                    "parts = 'a/b/c'.split('/')\nurl_text = 'see https://keras.io'",
                    "import numpy as np\nnp.save('/tmp/cache.npy', np.zeros(3))\nnp.load('/tmp/cache.npy')",
                    "np.save('pesos.npy', np.zeros(3))\nw = np.load('pesos.npy')",
                    "import tensorflow as tf\n(x, y), _ = tf.keras.datasets.mnist.load_data()",
                    "p = tf.keras.utils.get_file('mnist.npz', origin='https://storage.googleapis.com/mnist.npz')",
                    "%matplotlib inline\n%pip install -q numpy tensorflow==2.16 scikit-learn")
    assert [f for f in found if f.blocking] == []
    assert kinds(found) == [("pip_install", 8, False)]  # already installed where grading happens
    assert "no hay red" in found[0].message


def test_colab_mount_guarded_or_not(tmp_path):
    found = hazards(tmp_path,
                    "from google.colab import drive\ndrive.mount('/content/drive')",
                    "import sys\nif 'google.colab' in sys.modules:\n    from google.colab import drive\n"
                    "    drive.mount('/content/drive')",
                    "try:\n    from google.colab import files\nexcept ImportError:\n    files = None",
                    "from google.colab.patches import cv2_imshow")
    assert kinds(found) == [("drive_mount", 1, True), ("colab_guarded", 2, False),  # one message per cell
                            ("colab_guarded", 3, False), ("colab_import", 4, True)]
    assert "Google Drive" in found[0].message
    assert "`google.colab.patches`" in found[-1].message


def test_installs(tmp_path):
    found = hazards(tmp_path,
                    "!pip install -q --upgrade 'tensorflow>=2.15' seaborn && echo ok",
                    "!pip install -r requirements.txt",
                    "import subprocess\nsubprocess.run(['pip', 'install', 'opencv-python'])",
                    "import os\nos.system('pip install -q pandas')",
                    "!sudo apt-get install -y graphviz",
                    "!python -m pip install tensorflow")
    assert kinds(found) == [("pip_install", 1, True), ("pip_install", 2, True), ("pip_install", 3, True),
                            ("pip_install", 4, False), ("system_install", 5, True), ("pip_install", 6, False)]
    assert "así que seaborn no se instalará" in found[0].message  # tensorflow is there already
    assert "-r requirements.txt" in found[1].message


def test_downloads(tmp_path):
    found = hazards(tmp_path,
                    "import tensorflow as tf\n(x, y), _ = tf.keras.datasets.cifar10.load_data()",
                    "p = tf.keras.utils.get_file('flores.tgz', 'https://example.org/flores.tgz')",
                    "import pandas as pd\ndf = pd.read_csv('https://example.org/datos.csv')",
                    "import requests\nr = requests.get(URL)",
                    "import tensorflow_datasets as tfds\nds = tfds.load('mnist')",
                    "!wget -q https://example.org/a.zip\n!git clone https://github.com/x/y",
                    "from urllib.request import urlretrieve\nurlretrieve('https://e.org/b.npz', 'b.npz')\n"
                    "b = np.load('b.npz')")
    assert kinds(found) == [("keras_download", 1, True), ("keras_download", 2, True), ("download", 3, True),
                            ("download", 4, True), ("download", 5, True), ("download", 6, True),
                            ("download", 6, True), ("download", 7, True)]
    assert "cifar-10" in found[0].message and "mnist.npz" in found[0].message  # what is served instead
    assert "flores.tgz" in found[1].message


def test_pretrained_weights_are_advice(tmp_path):
    found = hazards(tmp_path, "import tensorflow as tf\nbase = tf.keras.applications.MobileNetV2(include_top=False)",
                    "head = tf.keras.applications.ResNet50(weights=None)")
    assert kinds(found) == [("weights", 1, False)]  # weights=None downloads nothing
    assert "pesos preentrenados" in found[0].message and "mnist.npz" in found[0].message


def test_relative_files(tmp_path):
    found = hazards(tmp_path,
                    "import numpy as np\nDATA = 'datos/train.npz'\nx = np.load(DATA)",
                    "y = np.loadtxt('falta.csv')",
                    "import glob\nimgs = glob.glob('imagenes/*.png')",
                    "%run ayuda.py",
                    "import utils",
                    "with open('notas.txt', 'w') as f:\n    f.write('x')\nwith open('notas.txt') as f:\n    s = f.read()",
                    files={"datos/train.npz": "x", "imagenes/a.png": "x", "utils.py": "X = 1"})
    assert kinds(found) == [("hand_in", 1, False), ("missing_file", 2, True), ("hand_in", 3, False),
                            ("missing_file", 4, True), ("local_module", 5, False)]
    assert "«datos/train.npz»" in found[0].message and "«imagenes»" in found[2].message
    assert found[3].path == "" and found[4].path == "utils.py"
    assert found[0].path == "datos/train.npz"


def test_files_from_an_archive_are_not_blocking(tmp_path):
    found = hazards(tmp_path, "!unzip -q datos.zip", "x = np.load('datos/x.npy')", files={"datos.zip": "PK"})
    assert kinds(found) == [("hand_in", 1, False), ("maybe_extracted", 2, False)]


def test_notebook_over_the_upload_limit(tmp_path):
    found = hazards(tmp_path, "x = 1", limit_mb=0.0001)
    assert kinds(found) == [("too_large", None, True)]
    assert "el límite de entrega es 0 MB" in found[0].message  # 0.0001 MB, two decimals


def test_english_messages(tmp_path):
    found = hazards(tmp_path, "from google.colab import drive\ndrive.mount('/content/drive')", lang="en")
    assert "there is no Google Drive or Colab when grading" in found[0].message


def test_shell_parsing():
    cmd = commands("!", "pip install -q --upgrade 'tensorflow>=2.15' -r req.txt seaborn==0.13 && ls /content")
    assert [c.kind for c in cmd] == ["install", "other"]
    assert cmd[0].packages == ["tensorflow>=2.15", "-r req.txt", "seaborn==0.13"]
    assert [package_name(p) for p in cmd[0].packages] == ["tensorflow", None, "seaborn"]
    assert commands("%", "pip install Pillow")[0].packages == ["Pillow"]
    assert [c.kind for c in commands("!", "curl -L -o x.zip https://e.org/x.zip; git clone https://g/x")] == \
        ["download", "download"]


def _interface(tmp_path, *cells):
    nb = notebook(*cells)
    return {i.name: i for i in check_interface(code_cells(json.loads(nbformat.writes(nb))),
                                               load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml"), "es")}


def test_interface_names_and_kinds(tmp_path):
    items = _interface(tmp_path,
                       "import numpy as np\ndef softmax(z):\n    return z",
                       "cross_entropy = lambda y, p: 0.0",
                       "preprocess = None",
                       "def model(x):\n    return x")
    assert items["softmax"].ok and items["softmax"].cell == 1
    assert items["cross_entropy"].ok  # a lambda is a function
    assert not items["preprocess"].ok and "un valor constante" in items["preprocess"].message
    assert not items["model"].ok and "el modelo entrenado" in items["model"].message


def test_interface_missing_and_global(tmp_path):
    items = _interface(tmp_path,
                       "def build():\n    def preprocess(x):\n        return x\n    return preprocess",
                       "def train():\n    global model\n    model = 1",
                       "if True:\n    def softmax(z):\n        return z")
    assert not items["preprocess"].ok and items["preprocess"].found is None
    assert "no está definido al nivel superior" in items["preprocess"].message
    assert items["model"].ok and items["model"].found == "global"
    assert items["softmax"].ok and not items["cross_entropy"].ok


def test_required_names_come_from_the_rubric():
    rubric = load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml")
    assert required_names(rubric) == [("softmax", "function"), ("cross_entropy", "function"),
                                      ("preprocess", "function"), ("model", "model")]
    only_units = rubric.model_copy(update={"checks": [c for c in rubric.checks if c.kind == "unit_test"]})
    assert required_names(only_units) == [("softmax", "function"), ("cross_entropy", "function")]


@pytest.mark.parametrize("source", ["%%bash\npip install seaborn\nwget https://e.org/x", "!pip install seaborn"])
def test_shell_cells(tmp_path, source):
    found = hazards(tmp_path, source)
    assert ("pip_install", 1, True) in kinds(found)


# Calls that look like downloads and are not, next to the ones that are (issue 13).
NOT_DOWNLOADS = {
    "preprocess_input, attribute": "import tensorflow as tf\nx = tf.keras.applications.mobilenet_v2.preprocess_input(x)",
    "preprocess_input, imported": "from tensorflow.keras.applications.mobilenet_v2 import preprocess_input\n"
                                  "y = preprocess_input(x)",
    "resnet preprocess, keras 3": "import keras\ny = keras.applications.resnet50.preprocess_input(x)",
    "own decode_predictions with a local class map":
        "CLASSES = ['gato', 'perro']\ndef decode_predictions(p):\n    return [CLASSES[i] for i in p.argmax(1)]\n"
        "print(decode_predictions(probs))",
    "get_file served offline": "import tensorflow as tf\n"
                               "p = tf.keras.utils.get_file('mnist.npz', 'https://example.org/data/mnist.npz')",
    "get_file, only the origin names it": "import keras\np = keras.utils.get_file(origin='https://e.org/mnist.npz')",
    "model without pretrained weights": "import tensorflow as tf\nm = tf.keras.applications.MobileNetV2(weights=None)",
}
DOWNLOADS = {
    "pretrained weights (advice)": ("import tensorflow as tf\nm = tf.keras.applications.MobileNetV2()", "weights", False),
    "keras decode_predictions": ("from tensorflow.keras.applications.mobilenet_v2 import decode_predictions\n"
                                 "print(decode_predictions(probs, top=3))", "keras_download", True),
    "get_file not served": ("import tensorflow as tf\np = tf.keras.utils.get_file('flowers.tgz', "
                            "'https://e.org/flowers.tgz')", "keras_download", True),
    "urlretrieve": ("import urllib.request\nurllib.request.urlretrieve('https://e.org/x.npz', 'x.npz')",
                    "download", True),
}


@pytest.mark.parametrize("name", sorted(NOT_DOWNLOADS))
def test_look_alike_calls_are_not_downloads(tmp_path, name):
    assert hazards(tmp_path, NOT_DOWNLOADS[name]) == []


@pytest.mark.parametrize("name", sorted(DOWNLOADS))
def test_real_downloads_are_flagged(tmp_path, name):
    source, kind, blocking = DOWNLOADS[name]
    assert kinds(hazards(tmp_path, source)) == [(kind, 1, blocking)]


def test_the_class_index_counts_as_served(tmp_path):
    nb = notebook("from keras.applications.imagenet_utils import decode_predictions\nprint(decode_predictions(p))",
                  executed=True)
    path = tmp_path / "p.ipynb"
    nbformat.write(nb, path)
    cells = code_cells(json.loads(path.read_text()))
    assert find_hazards(cells, path, ["imagenet_class_index.json"], "es", 20) == []


def test_the_selfcheck_cell_is_named_not_blocking(tmp_path):
    found = hazards(tmp_path, '%pip install -q "https://curso.example.es/dl_notebook_grader-0.1.0-py3-none-any.whl"\n'
                              "import grader; grader.check()",
                    "!pip install dl_notebook_grader-0.1.0-py3-none-any.whl")
    assert kinds(found) == [("selfcheck_cell", 1, False), ("selfcheck_cell", 2, False)]
    assert "borra esa celda antes de entregar" in found[0].message
