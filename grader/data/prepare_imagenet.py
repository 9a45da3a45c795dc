"""`grader data imagenet_cnn`: the hidden images, the class map, and the Keras weights served
to `keras.applications` offline (plus, optionally, the course's public data file).

Hidden images: a folder with one sub-folder per class (`n01440764/…jpg` or `tench/…jpg`), or a
flat folder of images with a label file (`name label` or `name,label` per line, e.g. a subset of
ImageNet's validation images with Kaggle's LOC_val_solution.csv, whose first token after the
name is the WordNet id). Images are read with Pillow, converted to RGB, the shorter side
resized to the rubric's input size and centre-cropped: uint8 (N, H, W, 3). Labels follow the
class order students get (`class_names` of the public data file), else the sorted class names.
With Keras' `imagenet_class_index.json` and WordNet-id class names, the class map (ImageNet
index of each class, for `interface.outputs: imagenet`) is written too.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .provenance import DataError, copy_file, file_record, save_npz, write_provenance

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".jpe"}
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
SEED = 20260331


def load_image(path: Path, size: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            scale = size / min(w, h)
            im = im.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
            w, h = im.size
            left, top = (w - size) // 2, (h - size) // 2
            return np.asarray(im.crop((left, top, left + size, top + size)), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{path}: not an image Pillow can read ({exc})") from None


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXT)


def read_labelled(folder: Path, labels: Path | None) -> list[tuple[Path, str]]:
    """(image, class name) for a folder of class sub-folders, or a flat folder + label file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder of images")
    if labels is None:
        subs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
        items = [(img, d.name) for d in subs for img in _images(d)]
        if not items:
            raise DataError(f"{folder}: no class sub-folders with images (or give --labels FILE)")
        return items
    by_stem = {p.stem: p for p in _images(folder)} | {p.name: p for p in _images(folder)}
    items, missing = [], []
    try:
        lines = Path(labels).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"--labels {labels}: cannot read ({exc})") from None
    for n, line in enumerate(lines, 1):
        parts = line.replace(",", " ").replace("\t", " ").split()
        if len(parts) < 2 or (n == 1 and parts[0].lower() in ("imageid", "image", "file", "filename", "name")):
            continue
        img = by_stem.get(parts[0])
        if img is None:
            missing.append(parts[0])
        else:
            items.append((img, parts[1]))
    if missing:
        raise DataError(f"--labels {labels}: {len(missing)} names have no image in {folder} "
                        f"(first: {missing[0]!r})")
    if not items:
        raise DataError(f"--labels {labels}: no line names an image of {folder} ('name label' per line)")
    return items


def to_arrays(items: list[tuple[Path, str]], classes: list[str], size: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    unknown = sorted({c for _, c in items} - set(classes))
    if unknown:
        raise DataError(f"{what}: classes {', '.join(unknown[:5])} are not among the course's classes "
                        f"({', '.join(classes[:10])})")
    x = np.stack([load_image(p, size) for p, _ in items]) if items else np.zeros((0, size, size, 3), np.uint8)
    y = np.array([classes.index(c) for _, c in items], dtype=np.int64)
    return x, y


def class_map(classes: list[str], class_index: Path) -> list[list[int]]:
    """ImageNet index of each class (WordNet-id names) from Keras' imagenet_class_index.json."""
    try:
        index = json.loads(Path(class_index).read_text(encoding="utf-8"))
        by_wnid = {v[0]: int(k) for k, v in index.items()}
    except (OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise DataError(f"--class-index {class_index}: not Keras' imagenet_class_index.json ({exc})") from None
    unknown = [c for c in classes if c not in by_wnid]
    if unknown:
        raise DataError(f"--class-index: {', '.join(unknown[:5])} are not ImageNet WordNet ids")
    return [[by_wnid[c]] for c in classes]


def check_weights(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise DataError(f"--weights {path}: cannot read ({exc})") from None
    if head != HDF5_MAGIC:
        raise DataError(f"--weights {path}: not an HDF5 file (.h5), so not Keras weights")


def public_file(public: Path, size: int, seed: int, out: Path) -> tuple[Path, list[str], list[dict]]:
    """The course's data file students load: an .npz copied as it is, or one made from a
    folder of class sub-folders (80 % train, 20 % test, by the seed)."""
    public = Path(public)
    if public.is_file():
        try:
            with np.load(public, allow_pickle=False) as z:
                names = [str(c) for c in z["class_names"]] if "class_names" in z.files else None
                if not {"x_train", "y_train", "x_test", "y_test"} <= set(z.files):
                    raise KeyError("x_train, y_train, x_test, y_test")
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"--public {public}: not a data file with x_train, y_train, x_test, y_test ({exc})") from None
        return copy_file(public, out), names, [file_record(public, role="public data file")]
    items = read_labelled(public, None)
    names = sorted({c for _, c in items})
    x, y = to_arrays(items, names, size, f"--public {public}")
    test = np.random.default_rng(seed).random(len(x)) < 0.2
    save_npz(out, x_train=x[~test], y_train=y[~test], x_test=x[test], y_test=y[test],
             class_names=np.array(names))
    return out, names, [file_record(p, role="public image") for p, _ in items[:50]]


def prepare_imagenet(images: Path, out: Path, weights: list[Path], size: int = 96,
                     labels: Path | None = None, public: Path | None = None, public_name: str | None = None,
                     class_index: Path | None = None, seed: int = SEED) -> Path:
    """Write <out>/hidden/imagenet_hidden.npz, <out>/public/<weights and data file>, provenance."""
    out = Path(out)
    served: dict[str, Path] = {}
    sources: list[dict] = []
    notes: list[str] = []
    names = None
    if public is not None:
        if not public_name:
            raise DataError("the rubric names no data file for --public (data.keras_datasets)")
        served[public_name], names, recs = public_file(public, size, seed, out / "public" / public_name)
        sources += recs
    for w in weights:
        check_weights(Path(w))
        served[Path(w).name] = copy_file(w, out / "public" / Path(w).name)
        sources.append(file_record(w, role="Keras weights"))
    items = read_labelled(Path(images), labels)
    names = names or sorted({c for _, c in items})
    x, y = to_arrays(items, names, size, f"hidden images {images}")
    hidden = save_npz(out / "hidden" / "imagenet_hidden.npz", x=x, y=y)
    sources += [file_record(p, role="hidden image") for p, _ in items[:50]]
    if len(items) > 50:
        notes.append(f"{len(items)} hidden images; the first 50 are listed in sources")
    notes.append(f"hidden set: {len(x)} images of {size}x{size}, {len(names)} classes: {', '.join(names[:10])}")
    extra = {"class_names": names}
    if class_index is not None:
        extra["class_map"] = class_map(names, class_index)
        notes.append("class_map: for a model with ImageNet's 1000 outputs, "
                     f"--set 'interface.class_map={extra['class_map']}' with interface.outputs=imagenet")
    return write_provenance(out, "imagenet_cnn", served, hidden, sources, seed, notes, **extra)
