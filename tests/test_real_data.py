"""`grader data`: real-format files made here (IDX gz, npz, image folders, HDF5, text), nothing
downloaded; the prepared data is what grading then uses, with its sha256 recorded."""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from grader.cli import main
from grader.data import prepare_mnist as PM
from grader.data.idx import read_idx, write_idx
from grader.data.loaders import load_data
from grader.data.prepare_imagenet import prepare_imagenet
from grader.data.prepare_text import prepare_text, split_text
from grader.data.provenance import DataError, read_provenance, sha256_file
from grader.data.sources import resolve_sources
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent


def digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


@pytest.fixture
def mnist_idx(tmp_path):
    """MNIST's four IDX files (tiny), and the hashes they have (standing in for the published ones)."""
    folder = tmp_path / "mnist-idx"
    folder.mkdir()
    (xtr, ytr), (xte, yte) = digits(50, 1), digits(20, 2)
    for stem, arr in zip(PM.IDX_KEYS.values(), (xtr, ytr, xte, yte)):
        write_idx(folder / f"{stem}.gz", arr)
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    return folder, {**PM.EXPECTED, **md5}, (xtr, ytr, xte, yte)


@pytest.fixture
def qmnist(tmp_path, mnist_idx):
    """QMNIST's test files: 10,000 rows that are MNIST's test set, then the extra digits (one of
    which is a copy of a served training image)."""
    _, _, (xtr, _, _, _) = mnist_idx
    extra_x, extra_y = digits(30, 3)
    extra_x[0] = xtr[7]
    x = np.concatenate([np.zeros((10_000, 28, 28), np.uint8), extra_x])
    labels = np.zeros((len(x), 8), np.int32)
    labels[:10_000, 0] = 9
    labels[10_000:, 0] = extra_y
    labels[:, 2] = np.arange(len(x))  # other columns: writer ids etc.
    folder = tmp_path / "qmnist"
    folder.mkdir()
    write_idx(folder / "qmnist-test-images-idx3-ubyte.gz", x)
    write_idx(folder / "qmnist-test-labels-idx2-int.gz", labels)
    return folder, extra_x, extra_y


def test_idx_round_trip_and_damaged_files(tmp_path):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    assert np.array_equal(read_idx(write_idx(tmp_path / "a.gz", a)), a)
    assert np.array_equal(read_idx(write_idx(tmp_path / "a", a, compress=False)), a)
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())
    (tmp_path / "cut").write_bytes(raw[:-4])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "cut")
    (tmp_path / "junk").write_bytes(b"PK\3\4 not idx")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "junk")


def test_mnist_from_idx_and_qmnist(tmp_path, mnist_idx, qmnist):
    folder, expected, (xtr, ytr, xte, yte) = mnist_idx
    qfolder, extra_x, extra_y = qmnist
    out = tmp_path / "data" / "mnist_cnn"
    prov = PM.prepare_mnist(folder, qfolder, out, count=None, expected=expected)
    record = read_provenance(out)
    assert prov == out / "provenance.json" and record["assignment"] == "mnist_cnn"
    with np.load(out / "public" / "mnist.npz") as z:
        assert np.array_equal(z["x_train"], xtr) and np.array_equal(z["y_test"], yte)
    with np.load(out / "hidden" / "mnist_hidden.npz") as z:
        # rows 10,000+ only (MNIST's own test set is public), minus the copy of a training image
        assert np.array_equal(z["x"], extra_x[1:]) and np.array_equal(z["y"], extra_y[1:])
    assert any("1 hidden images identical" in n for n in record["notes"])
    assert record["hidden_test"]["sha256"] == sha256_file(out / "hidden" / "mnist_hidden.npz")
    assert {s["role"] for s in record["sources"]} >= {"MNIST x_train", "QMNIST test labels"}


def test_mnist_hashes_are_checked(tmp_path, mnist_idx, qmnist):
    folder, _, _ = mnist_idx
    with pytest.raises(DataError, match=PM.MNIST_IDX_MD5["train-images-idx3-ubyte.gz"]):
        PM.prepare_mnist(folder, qmnist[0], tmp_path / "out")  # the real md5s: these are not MNIST
    fake = tmp_path / "mnist.npz"  # Keras' format, but not Keras' file
    (xtr, ytr), (xte, yte) = digits(5, 1), digits(5, 2)
    np.savez(fake, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    with pytest.raises(DataError, match=f"expected {PM.KERAS_MNIST_SHA256}"):
        PM.prepare_mnist(fake, qmnist[0], tmp_path / "out")
    assert not (tmp_path / "out" / "provenance.json").exists()


def test_cli_names_the_expected_hash(tmp_path, capsys, qmnist):
    fake = tmp_path / "mnist.npz"
    (xtr, ytr), (xte, yte) = digits(5, 1), digits(5, 2)
    np.savez(fake, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    rc = main(["data", "mnist_cnn", "--mnist", str(fake), "--hidden", str(qmnist[0]),
               "--data-dir", str(tmp_path / "d"), "--course-dir", str(ROOT)])
    assert rc == 2
    assert PM.KERAS_MNIST_SHA256 in capsys.readouterr().err


def test_keras_npz_and_own_digits(tmp_path, qmnist):
    (xtr, ytr), (xte, yte) = digits(40, 1), digits(10, 2)
    npz = tmp_path / "mnist.npz"
    np.savez_compressed(npz, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    own = tmp_path / "mine.npz"
    x, y = digits(25, 9)
    np.savez(own, x=x, y=y)
    out = tmp_path / "data" / "mnist_cnn"
    PM.prepare_mnist(npz, own, out, count=10, seed=4, expected={"mnist.npz": sha256_file(npz)})
    assert (out / "public" / "mnist.npz").read_bytes() == npz.read_bytes()  # Keras' file, as it is
    with np.load(out / "hidden" / "mnist_hidden.npz") as z:
        assert len(z["x"]) == 10 and all(any(np.array_equal(a, b) for b in x) for a in z["x"])
    assert read_provenance(out)["seed"] == 4


def test_prepared_data_is_what_grading_uses(tmp_path, mnist_idx, qmnist):
    folder, expected, _ = mnist_idx
    root = tmp_path / "data"
    PM.prepare_mnist(folder, qmnist[0], root / "mnist_cnn", count=None, expected=expected)
    rubric = load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml")  # says "standin" for both
    data = load_data(rubric, root)
    kinds = {s["name"]: s["kind"] for s in data["sources"]}
    assert kinds == {"mnist.npz": "prepared", "hidden_test": "prepared"}
    assert data["hidden_path"] == str(root / "mnist_cnn" / "hidden" / "mnist_hidden.npz")
    assert len(data["hidden_x"]) == 29 and len(data["public_x"]) == 20
    # a prepared file changed afterwards is refused, not silently used
    (root / "mnist_cnn" / "hidden" / "mnist_hidden.npz").write_bytes(b"x")
    with pytest.raises(DataError, match="changed since"):
        resolve_sources(rubric, root)


def test_text_split_and_cli(tmp_path, capsys):
    lines = [f"Línea {i}: el perro come pan y la gata duerme.\n" for i in range(200)]
    text = "".join(lines)
    served, held = split_text(text, 0.1, seed=3)
    assert served + held != text and sorted((served + held).splitlines()) == sorted(text.splitlines())
    assert held in text and held not in served and 0.08 < len(held) / len(text) < 0.13
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(text, encoding="utf-8")
    root = tmp_path / "data"
    assert main(["data", "rnn_text", "--text", str(corpus), "--data-dir", str(root),
                 "--course-dir", str(ROOT)]) == 0
    assert "rnn_text: ready" in capsys.readouterr().out
    out = root / "rnn_text"
    assert (out / "public" / "corpus_es.txt").read_text(encoding="utf-8") + \
        (out / "hidden" / "heldout.txt").read_text(encoding="utf-8") != text
    assert main(["data", "status", "rnn_text", "--data-dir", str(root), "--course-dir", str(ROOT)]) == 0
    assert main(["data", "status", "mnist_cnn", "--data-dir", str(root), "--course-dir", str(ROOT)]) == 1
    assert "STAND-IN" in capsys.readouterr().out
    (tmp_path / "latin1.txt").write_bytes("año\n".encode("latin-1") * 10)
    with pytest.raises(DataError, match="not UTF-8"):
        prepare_text(tmp_path / "latin1.txt", tmp_path / "x")


def _image(path: Path, colour, size=(120, 90)) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def _weights(path: Path) -> Path:
    import h5py

    with h5py.File(path, "w") as f:
        f.create_dataset("conv1/kernel", data=np.ones((3, 3, 3, 8), np.float32))
    return path


def test_imagenet_folders_weights_and_class_order(tmp_path):
    hidden = tmp_path / "hidden"
    for cls, colour in (("n01440764", (255, 0, 0)), ("n02102040", (0, 0, 255))):
        for i in range(3):
            _image(hidden / cls / f"{i}.jpg", colour)
    public = tmp_path / "course.npz"  # the course's data file: its class order is the students'
    z = np.zeros((2, 96, 96, 3), np.uint8)
    np.savez(public, x_train=z, y_train=np.array([0, 1]), x_test=z, y_test=np.array([0, 1]),
             class_names=np.array(["n02102040", "n01440764"]))
    index = tmp_path / "imagenet_class_index.json"
    index.write_text(json.dumps({"0": ["n01440764", "tench"], "217": ["n02102040", "English_springer"]}))
    w = _weights(tmp_path / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5")
    out = tmp_path / "data" / "imagenet_cnn"
    prepare_imagenet(hidden, out, [w], size=96, public=public, public_name="imagenet_cnn_96.npz",
                     class_index=index)
    record = read_provenance(out)
    assert record["class_names"] == ["n02102040", "n01440764"] and record["class_map"] == [[217], [0]]
    with np.load(out / "hidden" / "imagenet_hidden.npz") as h:
        assert h["x"].shape == (6, 96, 96, 3) and h["x"].dtype == np.uint8
        reds = h["x"][:, 48, 48, 0] > 200  # JPEG: about 255
        assert np.array_equal(h["y"][reds], [1, 1, 1]) and np.array_equal(h["y"][~reds], [0, 0, 0])
    assert set(record["keras_datasets"]) == {"imagenet_cnn_96.npz", w.name}
    rubric = load_rubric(ROOT / "rubrics" / "imagenet_cnn.yaml")
    kinds = {s.name: s.kind for s in resolve_sources(rubric, tmp_path / "data")}
    assert set(kinds.values()) == {"prepared"}  # the shipped stand-in weights give way too
    (tmp_path / "fake.h5").write_bytes(b"not hdf5")
    with pytest.raises(DataError, match="not an HDF5 file"):
        prepare_imagenet(hidden, tmp_path / "o2", [tmp_path / "fake.h5"])


def test_imagenet_flat_folder_with_label_file(tmp_path):
    flat = tmp_path / "val"
    _image(flat / "ILSVRC2012_val_00000001.JPEG", (10, 200, 10))
    _image(flat / "ILSVRC2012_val_00000002.JPEG", (200, 10, 10), size=(60, 200))
    labels = tmp_path / "LOC_val_solution.csv"
    labels.write_text("ImageId,PredictionString\nILSVRC2012_val_00000001,n1 1 2 3 4\n"
                      "ILSVRC2012_val_00000002,n0 5 6 7 8\n")
    out = tmp_path / "o"
    prepare_imagenet(flat, out, [_weights(tmp_path / "w.h5")], size=32, labels=labels)
    with np.load(out / "hidden" / "imagenet_hidden.npz") as h:
        assert h["x"].shape == (2, 32, 32, 3) and list(h["y"]) == [1, 0]
    labels.write_text("ILSVRC2012_val_00000009 n1\n")
    with pytest.raises(DataError, match="no image"):
        prepare_imagenet(flat, out, [], labels=labels)


@pytest.mark.sandbox
def test_a_real_download_is_graded_on_the_prepared_data(tmp_path, mnist_idx, qmnist, capsys):
    """End to end: `grader grade` on a download that is not the demo, with the data `grader
    data` prepared, needs no --allow-standin, re-runs the notebook on it and records it."""
    import yaml
    import zipfile

    import nbformat
    from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric

    folder, expected, _ = mnist_idx
    root = tmp_path / "data"
    PM.prepare_mnist(folder, qmnist[0], root / "mnist_cnn", count=None, expected=expected)
    record = read_provenance(root / "mnist_cnn")
    (tmp_path / "rubric.yaml").write_text(yaml.safe_dump(small_rubric().model_dump(mode="json", exclude={"source"})))
    nb = notebook("import numpy as np", SOFTMAX, NUMPY_MODEL, executed=True)
    with zipfile.ZipFile(tmp_path / "download.zip", "w") as zf:
        zf.writestr("Ana Pérez_101_assignsubmission_file/mnist_cnn.ipynb", nbformat.writes(nb))
    out = tmp_path / "out"
    rc = main(["grade", "mnist_cnn", str(tmp_path / "download.zip"), "--rubric", str(tmp_path / "rubric.yaml"),
               "--data-dir", str(root), "--out", str(out), "--workers", "1"])
    assert rc == 0
    assert "mnist_cnn/hidden/mnist_hidden.npz" in capsys.readouterr().out  # the run says which data
    run = json.loads((out / "mnist_cnn" / "run.json").read_text())
    data = {d["name"]: d for d in run["data"]}
    assert {d["kind"] for d in data.values()} == {"prepared"}
    assert data["hidden_test"]["sha256"] == record["hidden_test"]["sha256"]
    assert data["mnist.npz"]["sha256"] == record["keras_datasets"]["mnist.npz"]["sha256"]
    row = json.loads((out / "mnist_cnn" / "results.jsonl").read_text().splitlines()[0])
    assert row["status"] == "graded"
    with np.load(root / "mnist_cnn" / "hidden" / "mnist_hidden.npz") as h:  # what NUMPY_MODEL predicts
        pred = (h["x"].reshape(len(h["x"]), -1).astype("float32") / 255.0).sum(axis=1) // 10 % 10
        assert row["metrics"]["accuracy"] == pytest.approx(float(np.mean(pred == h["y"])), abs=1e-6)
