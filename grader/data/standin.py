"""Small MNIST-format stand-in data, generated from scikit-learn's bundled `load_digits`.

The demo and the tests must not download anything, and real MNIST is 11 MB; these arrays have
MNIST's format (uint8 28x28, labels 0-9) so student notebooks run unchanged. The hidden split is
made from digit images that the public file does not contain.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

VERSION = "v1"
SEED = 20260331
N_HIDDEN_ORIGINALS = 400  # of the 1,797 digits, kept for the hidden test set
N_PUBLIC_TEST_ORIGINALS = 300
TRAIN_COPIES = 3  # shifted copies of each training digit
HIDDEN_COPIES = 2


def cache_dir() -> Path:
    base = os.environ.get("GRADER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "dl-grader")
    return Path(base)


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of a square image (separable linear interpolation)."""
    n = img.shape[0]
    src = np.linspace(0, n - 1, size)
    rows = np.stack([np.interp(src, np.arange(n), img[i]) for i in range(n)])
    return np.stack([np.interp(src, np.arange(n), rows[:, j]) for j in range(size)], axis=1)


def _to_mnist(digits8: np.ndarray, rng: np.random.Generator, copies: int) -> np.ndarray:
    """8x8 digits (0..16) -> `copies` randomly shifted 28x28 uint8 images each."""
    out = np.zeros((len(digits8) * copies, 28, 28), dtype=np.uint8)
    k = 0
    for d in digits8:
        big = _resize(d.reshape(8, 8) / 16.0, 20)
        for _ in range(copies):
            dy, dx = rng.integers(-2, 3, size=2)
            gain = rng.uniform(0.8, 1.0)
            canvas = np.zeros((28, 28))
            canvas[4 + dy:24 + dy, 4 + dx:24 + dx] = big * gain
            out[k] = np.clip(canvas * 255 + rng.normal(0, 4, canvas.shape) * (canvas > 0), 0, 255)
            k += 1
    return out


def make_mnist_standin() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(public, hidden): public has keras' mnist.npz keys; hidden has x and y."""
    from sklearn.datasets import load_digits  # ships its data; no download

    digits = load_digits()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(digits.target))
    hidden_idx = order[:N_HIDDEN_ORIGINALS]
    test_idx = order[N_HIDDEN_ORIGINALS:N_HIDDEN_ORIGINALS + N_PUBLIC_TEST_ORIGINALS]
    train_idx = order[N_HIDDEN_ORIGINALS + N_PUBLIC_TEST_ORIGINALS:]
    data, target = digits.data, digits.target.astype(np.uint8)
    public = {
        "x_train": _to_mnist(data[train_idx], rng, TRAIN_COPIES),
        "y_train": np.repeat(target[train_idx], TRAIN_COPIES),
        "x_test": _to_mnist(data[test_idx], rng, 1),
        "y_test": target[test_idx].copy(),
    }
    hidden = {
        "x": _to_mnist(data[hidden_idx], rng, HIDDEN_COPIES),
        "y": np.repeat(target[hidden_idx], HIDDEN_COPIES),
    }
    return public, hidden


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def ensure_mnist_standin(directory: Path | None = None) -> dict[str, Path]:
    """Generate (once) and return {"mnist.npz": public file, "hidden": hidden file}."""
    directory = Path(directory or cache_dir()) / f"standin-{VERSION}"
    public_path = directory / "public" / "mnist.npz"
    hidden_path = directory / "hidden" / "mnist_hidden.npz"
    if not (public_path.exists() and hidden_path.exists()):
        public_path.parent.mkdir(parents=True, exist_ok=True)
        hidden_path.parent.mkdir(parents=True, exist_ok=True)
        public, hidden = make_mnist_standin()
        _write_npz(public_path, public)
        _write_npz(hidden_path, hidden)
    return {"mnist.npz": public_path, "hidden": hidden_path}


def fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
