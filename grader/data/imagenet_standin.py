"""A small ImageNet-style stand-in for the `imagenet_cnn` assignment: generated images and the
"pretrained" weights that `keras.applications.MobileNetV2(weights="imagenet")` loads offline.

The demo and the tests must not download anything, and real ImageNet weights are someone else's
file. So the project makes its own, small:

- images: 96x96 RGB uint8 pictures of coloured shapes and textures (8 assignment classes, plus 4
  more only in the "pretraining" set), drawn with NumPy from fixed seeds and cached, like
  standin.py. The hidden split has its own random stream: the public file never contains it.
- weights: a MobileNetV2 (alpha 0.35, 96 px, no top) trained on the pretraining set and saved in
  Keras' legacy HDF5 layout under the exact file name Keras asks `get_file` for, so the sandbox's
  offline shim serves it and `weights="imagenet"` just works. A from-scratch MobileNetV2 needs
  ~20 epochs to give features a linear layer separates well, about 10 minutes of CPU: so the
  course keeps one copy (assignments/imagenet_cnn/standin/, which the rubric points at) and
  `python -m grader.data.imagenet_standin weights DEST` remakes it (seeded; another CPU may
  change the last bits). "standin" in a rubric trains it into the cache on first use instead.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..errors import GraderError
from .standin import _write_npz, cache_dir

VERSION = "v1"
SEED = 20260331
SIZE = 96
ALPHA = 0.35
DATA_FILE = f"imagenet_cnn_{SIZE}.npz"  # what the notebook asks keras.utils.get_file for
WEIGHTS_FILE = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{ALPHA}_{SIZE}_no_top.h5"
#: (Spanish name, drawing function name); the first N_CLASSES are the assignment's classes.
CLASSES = [("círculo", "disk"), ("cuadrado", "square"), ("triángulo", "triangle"), ("anillo", "ring"),
           ("cruz", "cross"), ("rayas", "stripes"), ("tablero", "checker"), ("lunares", "dots"),
           ("media luna", "crescent"), ("estrella", "star"), ("ondas", "waves"), ("marco", "frame")]
N_CLASSES = 8
PER_CLASS = {"train": 80, "test": 30, "hidden": 40, "pretrain": 200}
PRETRAIN_EPOCHS = 30  # the committed weights: about 10 minutes on 2 CPU cores

_Y, _X = (g.astype(np.float64) + 0.5 for g in np.mgrid[0:SIZE, 0:SIZE])


def _edge(signed: np.ndarray) -> np.ndarray:
    """Anti-aliased mask from a signed distance (positive inside), one pixel wide."""
    return np.clip(signed + 0.5, 0.0, 1.0)


def _shape_mask(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One object (or a whole-image texture) as a 0..1 mask of shape (SIZE, SIZE)."""
    r = rng.uniform(0.14, 0.3) * SIZE
    cx, cy = rng.uniform(r + 4, SIZE - r - 4, size=2)
    a = rng.uniform(0, 2 * np.pi)
    dx, dy = _X - cx, _Y - cy
    u, v = dx * np.cos(a) + dy * np.sin(a), -dx * np.sin(a) + dy * np.cos(a)
    d = np.hypot(dx, dy)
    if kind == "disk":
        return _edge(r - d)
    if kind == "square":  # nearly axis-aligned, so it is not the "rombo" of a rotated square
        t = rng.uniform(-0.25, 0.25)
        us, vs = dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)
        return _edge(0.85 * r - np.maximum(np.abs(us), np.abs(vs)))
    if kind == "triangle":
        dist = np.min([r * 0.5 - (dx * np.cos(a + k * 2 * np.pi / 3) + dy * np.sin(a + k * 2 * np.pi / 3))
                       for k in range(3)], axis=0)
        return _edge(dist)
    if kind == "ring":
        return _edge(np.minimum(r - d, d - 0.6 * r))
    if kind == "cross":
        w = r / 3
        return _edge(np.maximum(np.minimum(w - np.abs(u), r - np.abs(v)),
                                np.minimum(w - np.abs(v), r - np.abs(u))))
    if kind == "crescent":
        off = 0.45 * r
        return _edge(np.minimum(r - d, np.hypot(u - off, v) - 0.85 * r))
    if kind == "star":
        phi = np.arctan2(v, u)
        radius = r * (0.55 + 0.45 * np.cos(5 * phi) ** 2 * (np.cos(5 * phi) > 0))
        return _edge(radius - d)
    if kind == "frame":
        side = np.maximum(np.abs(dx), np.abs(dy))
        return _edge(np.minimum(0.9 * r - side, side - 0.6 * r))
    period = rng.uniform(9, 16)
    if kind == "stripes":
        return _edge((np.abs((u / period) % 1.0 - 0.5) - 0.25) * period)
    if kind == "waves":
        wave = v + 0.25 * period * np.sin(2 * np.pi * u / (2.5 * period))
        return _edge((np.abs((wave / period) % 1.0 - 0.5) - 0.25) * period)
    if kind == "checker":
        cells = (np.floor(u / period) + np.floor(v / period)) % 2
        return cells.astype(np.float64)
    if kind == "dots":
        pu, pv = (u / period) % 1.0 - 0.5, (v / period) % 1.0 - 0.5
        return _edge((0.3 - np.hypot(pu, pv)) * period)
    raise ValueError(f"unknown shape {kind!r}")


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two close background colours, dark or light, and an object of the opposite lightness:
    any hue, so the class is the shape or texture, never the colour."""
    dark = rng.random() < 0.5
    bg1 = rng.uniform(0.0, 0.4, 3) if dark else rng.uniform(0.6, 1.0, 3)
    bg2 = np.clip(bg1 + rng.uniform(-0.15, 0.15, 3), 0, 1)
    fg = rng.uniform(0.6, 1.0, 3) if dark else rng.uniform(0.0, 0.4, 3)
    return bg1, bg2, fg


def draw(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One uint8 (SIZE, SIZE, 3) picture of `kind` on a gradient background, with noise."""
    bg1, bg2, fg = _colours(rng)
    a = rng.uniform(0, 2 * np.pi)
    t = np.clip(((_X - SIZE / 2) * np.cos(a) + (_Y - SIZE / 2) * np.sin(a)) / SIZE + 0.5, 0, 1)[..., None]
    img = bg1 * (1 - t) + bg2 * t
    mask = _shape_mask(kind, rng)[..., None]
    img = img * (1 - mask) + fg * mask
    img += rng.normal(0.0, 0.04, img.shape)
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def make_split(per_class: int, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(x uint8 (N, SIZE, SIZE, 3), y uint8 (N,)), classes interleaved, from its own seed."""
    rng = np.random.default_rng(seed)
    labels = np.tile(np.arange(n_classes, dtype=np.uint8), per_class)
    rng.shuffle(labels)
    x = np.stack([draw(CLASSES[int(c)][1], rng) for c in labels])
    return x, labels


def make_imagenet_standin() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(public, hidden): public has x_train, y_train, x_test, y_test, class_names; hidden x, y."""
    x_train, y_train = make_split(PER_CLASS["train"], N_CLASSES, SEED + 1)
    x_test, y_test = make_split(PER_CLASS["test"], N_CLASSES, SEED + 2)
    x_hidden, y_hidden = make_split(PER_CLASS["hidden"], N_CLASSES, SEED + 3)
    names = np.array([name for name, _ in CLASSES[:N_CLASSES]])  # unicode: loads without pickle
    public = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test,
              "class_names": names}
    return public, {"x": x_hidden, "y": y_hidden}


def pretrain_weights(dest: Path, epochs: int = PRETRAIN_EPOCHS, per_class: int = PER_CLASS["pretrain"],
                     callbacks: list | None = None, verbose: int = 2) -> None:
    """Train MobileNetV2(alpha, SIZE, no top) on all 12 classes and save the base's weights in the
    legacy HDF5 layout `load_weights("....h5")` reads (what Keras' own files use). Needs TensorFlow."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import h5py
    import tensorflow as tf
    from keras.src.legacy.saving import legacy_h5_format

    tf.keras.utils.set_random_seed(SEED)
    x, y = make_split(per_class, len(CLASSES), SEED + 4)
    base = tf.keras.applications.MobileNetV2(input_shape=(SIZE, SIZE, 3), alpha=ALPHA,
                                             include_top=False, weights=None, pooling="avg")
    for layer in base.layers:  # Keras' 0.999 barely moves the moving statistics in a short run
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            layer.momentum = 0.9
    model = tf.keras.Sequential([base, tf.keras.layers.Dense(len(CLASSES), activation="softmax")])
    steps = epochs * -(-len(x) // 32)
    lr = tf.keras.optimizers.schedules.CosineDecay(3e-3, steps, alpha=0.05)
    model.compile(optimizer=tf.keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    xp = tf.keras.applications.mobilenet_v2.preprocess_input(x.astype("float32"))
    model.fit(xp, y, epochs=epochs, batch_size=32, verbose=verbose, callbacks=callbacks or [])
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    with h5py.File(tmp, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, base)
    os.replace(tmp, dest)


@contextlib.contextmanager
def _locked(directory: Path):
    """One generator at a time (parallel test workers share the cache)."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_imagenet_standin(directory: Path | None = None, weights: bool = True) -> dict[str, Path]:
    """Generate (once) and return {DATA_FILE: public npz, WEIGHTS_FILE: h5, "hidden": npz}.

    `weights=False` skips the weights (no TensorFlow needed) and leaves that key out.
    """
    directory = Path(directory or cache_dir()) / f"imagenet-standin-{VERSION}"
    public_path = directory / "public" / DATA_FILE
    hidden_path = directory / "hidden" / "imagenet_cnn_hidden.npz"
    weights_path = directory / "weights" / WEIGHTS_FILE
    out = {DATA_FILE: public_path, "hidden": hidden_path}
    if weights:
        out[WEIGHTS_FILE] = weights_path
    if all(p.exists() for p in out.values()):
        return out
    with _locked(directory):
        if not (public_path.exists() and hidden_path.exists()):
            public_path.parent.mkdir(parents=True, exist_ok=True)
            hidden_path.parent.mkdir(parents=True, exist_ok=True)
            public, hidden = make_imagenet_standin()
            _write_npz(public_path, public)
            _write_npz(hidden_path, hidden)
        if weights and not weights_path.exists():
            weights_path.parent.mkdir(parents=True, exist_ok=True)
            _pretrain_in_subprocess(weights_path)
    return out


def _pretrain_in_subprocess(dest: Path) -> None:
    """TensorFlow stays out of the grader's own process (memory, threads, import time)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "-m", "grader.data.imagenet_standin", "weights", str(dest)],
                          capture_output=True, text=True, env=env,
                          cwd=str(Path(__file__).resolve().parents[2]))
    if proc.returncode != 0 or not dest.exists():
        tail = (proc.stderr or proc.stdout)[-1500:]
        raise GraderError(f"could not make the stand-in ImageNet weights {dest.name} (needs TensorFlow in "
                          f"{sys.executable}; or give the weights file's path in data.keras_datasets):\n{tail}")


def main(argv: list[str] | None = None) -> int:
    """`python -m grader.data.imagenet_standin weights DEST` (what ensure_* runs), or `show`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["weights"] and len(argv) == 2:
        pretrain_weights(Path(argv[1]))
        return 0
    if argv[:1] == ["show"]:
        for name, path in ensure_imagenet_standin().items():
            print(f"{name}: {path}")
        return 0
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
