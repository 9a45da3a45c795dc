"""`grader data rnn_text`: a corpus -> the training text served to `get_file` and a held-out
part that never enters the sandbox.

The held-out part is one contiguous block of whole lines (about `fraction` of the text, placed
by the seed), so the model is scored on prose it never saw rather than on lines scattered
through its own training text. The served file is the rest, in order.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..export.atomic import write_atomic
from .provenance import DataError, file_record, write_provenance

SERVED_NAME = "corpus_es.txt"  # what the notebook asks keras.utils.get_file for
DEFAULT_FRACTION = 0.1
SEED = 20260331


def read_corpus(path: Path) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"--text {path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"--text {path}: not UTF-8 text (byte {exc.start}); convert it first, e.g. "
                        f"iconv -f latin1 -t utf-8") from None
    except OSError as exc:
        raise DataError(f"--text {path}: cannot read ({exc})") from None
    return text


def split_text(text: str, fraction: float = DEFAULT_FRACTION, seed: int = SEED) -> tuple[str, str]:
    """(served, held out): a block of whole lines, about `fraction` of the characters."""
    if not 0 < fraction < 0.5:
        raise DataError(f"--held-out {fraction}: give a fraction between 0 and 0.5")
    lines = text.splitlines(keepends=True)
    if len(lines) < 4:
        raise DataError(f"the text has {len(lines)} lines: too short to hold a part out")
    sizes = np.cumsum([len(line) for line in lines])
    want = fraction * len(text)
    starts = [i for i in range(len(lines))
              if sizes[-1] - (sizes[i - 1] if i else 0) >= want]  # a block of `want` fits from here
    start = int(np.random.default_rng(seed).choice(starts))
    before = sizes[start - 1] if start else 0
    end = start + int(np.searchsorted(sizes[start:] - before, want)) + 1
    held = "".join(lines[start:end])
    served = "".join(lines[:start] + lines[end:])
    if not held.strip() or not served.strip():
        raise DataError("the split left one part empty; use a longer text")
    return served, held


def prepare_text(text_file: Path, out: Path, fraction: float = DEFAULT_FRACTION, seed: int = SEED,
                 served_name: str = SERVED_NAME) -> Path:
    """Write <out>/public/<served_name>, <out>/hidden/heldout.txt and provenance.json."""
    out = Path(out)
    text = read_corpus(text_file)
    served, held = split_text(text, fraction, seed)
    public = write_atomic(out / "public" / served_name, served)
    hidden = write_atomic(out / "hidden" / "heldout.txt", held)
    missing = sorted(set(held) - set(served))
    notes = [f"held out {len(held):,} of {len(text):,} characters (one block of whole lines, seed {seed})"]
    if missing:
        notes.append(f"characters only in the held-out part (no model can encode them; scored as "
                     f"misses): {''.join(missing)[:40]!r}")
    return write_provenance(out, "rnn_text", {served_name: public}, hidden,
                            [file_record(text_file, role="corpus")], seed, notes)
