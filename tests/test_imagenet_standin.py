"""The imagenet_cnn stand-in: generated images (deterministic, cached, hidden split apart) and the
project's MobileNetV2 weights, which `weights="imagenet"` must load offline through the shim."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader.data import imagenet_standin as S
from grader.data.loaders import STANDIN_FILES, STANDIN_HIDDEN, load_data
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
RUBRIC = ROOT / "rubrics" / "imagenet_cnn.yaml"
COMMITTED = ROOT / "assignments" / "imagenet_cnn" / "standin" / S.WEIGHTS_FILE


def test_splits_are_deterministic_balanced_rgb_uint8():
    x, y = S.make_split(3, 8, 123)
    x2, y2 = S.make_split(3, 8, 123)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert x.shape == (24, S.SIZE, S.SIZE, 3) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert np.bincount(y).tolist() == [3] * 8
    assert not np.array_equal(x, S.make_split(3, 8, 124)[0])
    assert x.std() > 20  # real pictures, not blank ones


def test_every_class_draws_something_different():
    rng = np.random.default_rng(0)
    for name, kind in S.CLASSES:
        img = S.draw(kind, rng).astype(float)
        assert img.std() > 10, name  # the shape or texture stands out from the background


def test_public_and_hidden_files(tmp_path):
    paths = S.ensure_imagenet_standin(tmp_path, weights=False)
    assert set(paths) == {S.DATA_FILE, "hidden"}
    with np.load(paths[S.DATA_FILE], allow_pickle=False) as z:  # class names load without pickle
        assert set(z.files) == {"x_train", "y_train", "x_test", "y_test", "class_names"}
        names = [str(n) for n in z["class_names"]]
        x_train, x_test = z["x_train"], z["x_test"]
        assert len(names) == S.N_CLASSES == int(z["y_train"].max()) + 1
        assert x_train.shape[1:] == (S.SIZE, S.SIZE, 3)
    with np.load(paths["hidden"], allow_pickle=False) as z:
        hidden = z["x"]
        assert hidden.shape[1:] == (S.SIZE, S.SIZE, 3) and len(z["y"]) == len(hidden)
    public = {img.tobytes() for img in np.concatenate([x_train, x_test])}
    assert not any(img.tobytes() in public for img in hidden), "the hidden split is not in the public file"
    mtime = paths["hidden"].stat().st_mtime_ns
    assert S.ensure_imagenet_standin(tmp_path, weights=False) == paths
    assert paths["hidden"].stat().st_mtime_ns == mtime  # cached, not regenerated


def test_loaders_register_the_stand_ins_and_the_rubric_resolves():
    assert S.DATA_FILE in STANDIN_FILES and S.WEIGHTS_FILE in STANDIN_FILES
    assert "imagenet_cnn" in STANDIN_HIDDEN
    data = load_data(load_rubric(RUBRIC))
    assert set(data["datasets"]) == {S.DATA_FILE, S.WEIGHTS_FILE}
    assert data["datasets"][S.WEIGHTS_FILE].resolve() == COMMITTED.resolve()
    assert data["hidden_x"].shape[1:] == (96, 96, 3) and data["class_map"] is None
    assert data["public_x"] is not None and len(data["public_x"]) == len(data["public_y"])


def _load_offline(weights: Path, tmp_path: Path) -> dict:
    """In a fresh interpreter with the sandbox's get_file shim: MobileNetV2(weights="imagenet")."""
    mapping = tmp_path / "offline.json"
    mapping.write_text(json.dumps({S.WEIGHTS_FILE: str(weights)}))
    code = textwrap.dedent(f"""
        import json, numpy as np, h5py, tensorflow as tf
        base = tf.keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35,
                                                 include_top=False, weights="imagenet", pooling="avg")
        with h5py.File({str(weights)!r}, "r") as f:
            kernel = np.asarray(f["Conv1"]["Conv1"]["kernel:0"] if "kernel:0" in f["Conv1"]["Conv1"]
                                else f["Conv1"]["Conv1"]["kernel"])
        x = np.random.default_rng(0).integers(0, 256, (4, 96, 96, 3)).astype("float32") / 127.5 - 1
        feats = base.predict(x, verbose=0)
        print(json.dumps({{"same": bool(np.allclose(base.get_layer("Conv1").kernel.numpy(), kernel)),
                          "shape": list(feats.shape), "std": float(feats.std())}}))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "grader" / "runner"), "GRADER_OFFLINE_FILES": str(mapping),
           "HOME": str(tmp_path), "KERAS_HOME": str(tmp_path / "keras"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_committed_weights_load_offline_under_the_name_keras_asks_for(tmp_path):
    assert COMMITTED.is_file() and COMMITTED.stat().st_size < 3_000_000
    out = _load_offline(COMMITTED, tmp_path)
    assert out["same"] and out["shape"] == [4, 1280] and out["std"] > 0.01
    assert not (tmp_path / "keras").exists() or not any((tmp_path / "keras").rglob("*.h5"))  # nothing fetched


@pytest.mark.slow
def test_the_generator_writes_weights_keras_loads(tmp_path):
    dest = tmp_path / S.WEIGHTS_FILE
    S.pretrain_weights(dest, epochs=1, per_class=2, verbose=0)
    out = _load_offline(dest, tmp_path)
    assert out["same"] and out["shape"] == [4, 1280]


def test_weights_that_cannot_be_made_give_a_clear_error(tmp_path, monkeypatch):
    from grader.errors import GraderError

    monkeypatch.setattr(sys, "executable", "/bin/false")  # an interpreter without TensorFlow, say
    with pytest.raises(GraderError, match="could not make the stand-in ImageNet weights .*data.keras_datasets"):
        S.ensure_imagenet_standin(tmp_path)
    paths = S.ensure_imagenet_standin(tmp_path, weights=False)  # the images were still made, and kept
    assert all(p.exists() for p in paths.values())
    assert not list((tmp_path / f"imagenet-standin-{S.VERSION}" / "weights").glob("*.h5"))
