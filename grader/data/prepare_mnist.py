"""`grader data mnist_cnn`: the real MNIST served to the sandbox, and a hidden set students
cannot have trained on.

Served: Keras' own `mnist.npz` (copied byte for byte; its sha256 must be the one Keras checks),
or the four official IDX files (`train-images-idx3-ubyte.gz`, ...; their md5s are the published
ones) turned into an `mnist.npz` with Keras' keys. Hidden: MNIST's test split is public (students
load it and could train on it), so the hidden set comes from elsewhere: QMNIST's 50,000 extra
test digits (Yadav & Bottou 2019, "Cold Case: The Lost MNIST Digits": the part of NIST's test
digits MNIST left out, same preprocessing; rows 10,000+ of `qmnist-test-*`, whose first 10,000
are MNIST's test set), or the instructor's own digits (`.npz` with x uint8 (N, 28, 28) and y).
Any hidden image identical to a served one is dropped.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .idx import read_idx
from .provenance import DataError, copy_file, file_record, save_npz, sha256_file, write_provenance

# keras/src/datasets/mnist.py: get_file("mnist.npz", ..., file_hash=...)
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# The md5s published with the IDX files (also what torchvision.datasets.MNIST checks).
MNIST_IDX_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
EXPECTED = {"mnist.npz": KERAS_MNIST_SHA256, **MNIST_IDX_MD5}
IDX_KEYS = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
            "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
QMNIST_TEST = ("qmnist-test-images-idx3-ubyte", "qmnist-test-labels-idx2-int")
QMNIST_MNIST_ROWS = 10_000  # QMNIST's first 10,000 test digits are MNIST's test set
DEFAULT_HIDDEN = 10_000
SEED = 20260331


def _find(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        for p in folder.iterdir():
            if p.name.lower() == name.lower() and p.is_file():
                return p
    return None


def _check_images(x: np.ndarray, y: np.ndarray, what: str) -> None:
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataError(f"{what}: images must be uint8 (N, 28, 28), got {x.dtype} {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{what}: {len(x)} images but labels of shape {y.shape}")
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{what}: labels must be digits 0-9, found {int(y.min())}..{int(y.max())}")


def read_served(path: Path, expected: dict[str, str] = EXPECTED) -> tuple[dict[str, np.ndarray], list[dict]]:
    """(Keras' arrays, source records) from mnist.npz or a folder of the four IDX files."""
    path = Path(path)
    if path.is_file():
        got = sha256_file(path)
        if got != expected["mnist.npz"]:
            raise DataError(f"{path}: sha256 {got} is not that of Keras' mnist.npz (expected "
                            f"{expected['mnist.npz']}, the hash keras.datasets.mnist checks): another "
                            "or a damaged file. Use the file Keras downloads (~/.keras/datasets/mnist.npz) "
                            "or the four official IDX files")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in IDX_KEYS}
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"{path}: cannot read it as Keras' mnist.npz ({exc})") from None
        return arrays, [file_record(path, role="mnist.npz (Keras)")]
    if not path.is_dir():
        raise DataError(f"--mnist {path}: not found (give Keras' mnist.npz or the folder of the IDX files)")
    arrays, records = {}, []
    for key, stem in IDX_KEYS.items():
        f = _find(path, stem)
        if f is None:
            raise DataError(f"{path}: no {stem}.gz (MNIST's four IDX files are needed: "
                            f"{', '.join(s + '.gz' for s in IDX_KEYS.values())})")
        md5 = hashlib.md5(f.read_bytes()).hexdigest()  # noqa: S324 - the published checksum
        want = expected.get(f"{stem}.gz")
        if f.name.endswith(".gz") and md5 != want:
            raise DataError(f"{f}: md5 {md5} is not that of the published {stem}.gz (expected {want})")
        arrays[key] = read_idx(f)
        records.append(file_record(f, role=f"MNIST {key}", md5=md5))
    for split in ("train", "test"):
        _check_images(arrays[f"x_{split}"], arrays[f"y_{split}"].astype(np.int64), f"MNIST {split}")
    arrays = {k: v.astype(np.uint8) for k, v in arrays.items()}
    return arrays, records


def read_hidden(path: Path) -> tuple[np.ndarray, np.ndarray, list[dict], str]:
    """(x, y, source records, what it is) from QMNIST's test files or the instructor's npz."""
    path = Path(path)
    if path.is_file() and path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                x, y = z["x"], z["y"]
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"--hidden {path}: needs arrays x (uint8 (N, 28, 28)) and y ({exc})") from None
        _check_images(x, y.astype(np.int64), f"--hidden {path}")
        return x, y.astype(np.uint8), [file_record(path, role="hidden digits (instructor's)")], "instructor's digits"
    if not path.is_dir():
        raise DataError(f"--hidden {path}: not found (give QMNIST's folder or an .npz with x and y)")
    found = [_find(path, stem) for stem in QMNIST_TEST]
    if None in found:
        raise DataError(f"{path}: no {QMNIST_TEST[0]}.gz and {QMNIST_TEST[1]}.gz (QMNIST's test files)")
    images, labels = read_idx(found[0]), read_idx(found[1])
    if labels.ndim != 2 or labels.shape[0] != images.shape[0]:
        raise DataError(f"{found[1]}: QMNIST's extended labels are an (N, 8) int matrix, got {labels.shape}")
    if len(images) <= QMNIST_MNIST_ROWS:
        raise DataError(f"{found[0]}: {len(images)} images; QMNIST's test set has 60,000, of which "
                        f"the first {QMNIST_MNIST_ROWS:,} are MNIST's (public) test set")
    x, y = images[QMNIST_MNIST_ROWS:], labels[QMNIST_MNIST_ROWS:, 0]  # column 0: the digit
    _check_images(x, y.astype(np.int64), str(found[0]))
    records = [file_record(f, role=role) for f, role in zip(found, ("QMNIST test images", "QMNIST test labels"))]
    return x, y.astype(np.uint8), records, f"QMNIST extra test digits (rows {QMNIST_MNIST_ROWS}+)"


def drop_overlap(x: np.ndarray, y: np.ndarray, served: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """Hidden images byte-identical to any served image are dropped (a student has those)."""
    seen = {img.tobytes() for arr in served for img in arr}
    keep = np.array([img.tobytes() not in seen for img in x], dtype=bool)
    return x[keep], y[keep], int((~keep).sum())


def prepare_mnist(mnist: Path, hidden: Path, out: Path, count: int | None = DEFAULT_HIDDEN,
                  seed: int = SEED, expected: dict[str, str] = EXPECTED) -> Path:
    """Write <out>/public/mnist.npz, <out>/hidden/mnist_hidden.npz and provenance.json; the
    provenance path. `expected`: the hashes to check (the real ones; tests give their own)."""
    out = Path(out)
    arrays, sources = read_served(Path(mnist), expected)
    x, y, hidden_sources, what = read_hidden(Path(hidden))
    notes = [f"hidden set: {what}"]
    x, y, dropped = drop_overlap(x, y, [arrays["x_train"], arrays["x_test"]])
    if dropped:
        notes.append(f"{dropped} hidden images identical to served MNIST images were dropped")
    if len(x) == 0:
        raise DataError("no hidden image left that students do not already have")
    if count is not None and count < len(x):
        pick = np.sort(np.random.default_rng(seed).choice(len(x), size=count, replace=False))
        x, y = x[pick], y[pick]
        notes.append(f"{count} hidden images drawn at random (seed {seed})")
    public = out / "public" / "mnist.npz"
    if Path(mnist).is_file():
        copy_file(mnist, public)
        notes.append("mnist.npz is Keras' own file (sha256 checked)")
    else:
        save_npz(public, **arrays)
        notes.append("mnist.npz built from the official IDX files (md5 checked); the sandbox serves it "
                     "to keras.datasets.mnist.load_data() in place of Keras' download")
    hidden_path = out / "hidden" / "mnist_hidden.npz"
    save_npz(hidden_path, x=x, y=y)
    notes.append(f"hidden set: {len(x)} images, labels {np.bincount(y, minlength=10).tolist()} per digit")
    return write_provenance(out, "mnist_cnn", {"mnist.npz": public}, hidden_path,
                            sources + hidden_sources, seed, notes)
