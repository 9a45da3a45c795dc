"""rnn_text through grade_submission, in the real sandbox, with NumPy "language models" (no
TensorFlow, seconds): the probes encode the windows with the student's char2idx, the host
detects logits vs probabilities and computes the loss itself, generate_text is called on the
rubric's seeds, and the targets never enter the sandbox."""
from __future__ import annotations

import math

import nbformat
import numpy as np
import pytest

from conftest import notebook
from grader.checks.text_windows import cut_windows
from grader.data.loaders import load_data
from grader.grade import GradeContext, grade_submission
from grader.model import Submission
from grader.rubric import parse_rubric

pytestmark = pytest.mark.sandbox

RUBRIC = parse_rubric({
    "assignment": "rnn_text", "max_grade": 10,
    "limits": {"timeout_s": 90, "cell_timeout_s": 60, "memory_mb": 1024},
    "data": {"loader": "text", "keras_datasets": {"corpus_es.txt": "standin"}, "hidden_test": "standin"},
    "checks": [
        {"id": "executed", "kind": "executed_notebook", "points": 1},
        {"id": "loss", "kind": "text_loss", "points": 6, "threshold": 0.5, "partial_from": 1.0,
         "window": 30, "max_windows": 200},
        {"id": "generate", "kind": "generate_text", "points": 3,
         "calls": [{"start": "La ", "num": 20}, {"start": "¿Dónde ", "num": 7}]},
    ]}, "test-rnn-rubric")

VOCAB = '''
import numpy as np
text = open("corpus_es.txt", encoding="utf-8").read()
vocab = sorted(set(text))
char2idx = {c: i for i, c in enumerate(vocab)}
idx2char = np.array(vocab)
'''
BIGRAM = '''
ids = np.array([char2idx[c] for c in text])
V = len(idx2char)
counts = np.ones((V, V))
np.add.at(counts, (ids[:-1], ids[1:]), 1)
P = counts / counts.sum(axis=1, keepdims=True)

class Bigram:
    """(N, T) indexes -> (N, T, V) probabilities of the next character."""
    def predict(self, x, batch_size=None, verbose=0):
        return P[np.asarray(x)]

model = Bigram()
'''
GENERATE = '''
def generate_text(model, start_string, num_generate, temperature=1.0):
    rng = np.random.default_rng(0)
    out, last = list(start_string), char2idx[start_string[-1]]
    for _ in range({count}):
        last = rng.choice(V, p=P[last])
        out.append(idx2char[last])
    return "".join(out)
'''


@pytest.fixture(scope="module")
def data():
    return load_data(RUBRIC)


@pytest.fixture
def grade(sandbox, data, tmp_path):
    def run(*cells, rubric=RUBRIC, lang="es"):
        folder = tmp_path / "Ana Pérez_1000001_assignsubmission_file"
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook(*cells, executed=True), folder / "rnn_text.ipynb")
        corpus = folder / "corpus_es.txt"  # beside the notebook, as a student's own file
        corpus.write_bytes(data["datasets"]["corpus_es.txt"].read_bytes())
        sub = Submission(assignment="rnn_text", participant_id="1000001", full_name="Ana Pérez",
                         folder=folder.name, notebook=folder / "rnn_text.ipynb", notebook_name="rnn_text.ipynb",
                         files=["rnn_text.ipynb", "corpus_es.txt"],
                         paths={"rnn_text.ipynb": folder / "rnn_text.ipynb", "corpus_es.txt": corpus})
        ctx = GradeContext(rubric=rubric, session=sandbox, lang=lang,
                           datasets=data["datasets"], data={k: v for k, v in data.items() if k != "datasets"},
                           executed_dir=tmp_path / "executed")
        return grade_submission(sub, ctx)
    return run


def check(res, cid):
    return next(c for c in res.checks if c.id == cid)


def bigram_loss(data, lower: bool = False) -> tuple[float, int]:
    """What the host must compute for BIGRAM, worked out here independently: (loss, OOV windows)."""
    text = data["datasets"]["corpus_es.txt"].read_text(encoding="utf-8")
    text = text.lower() if lower else text
    vocab = sorted(set(text))
    c2i = {c: i for i, c in enumerate(vocab)}
    counts = np.ones((len(vocab), len(vocab)))
    ids = np.array([c2i[c] for c in text])
    np.add.at(counts, (ids[:-1], ids[1:]), 1)
    p = counts / counts.sum(axis=1, keepdims=True)
    w = cut_windows(data["hidden_text"], 30, 200, data["train_chars"])
    losses, oov = [], 0
    for ctx, target in zip(w.contexts, w.targets):
        if set(ctx + target) <= set(c2i):
            losses.append(min(-math.log(p[c2i[ctx[-1]], c2i[target]]), -math.log(1e-4)))
        else:
            oov += 1
            losses.append(-math.log(1e-4))
    return float(np.mean(losses)), oov


def test_bigram_probabilities_are_scored_on_the_host(grade, data):
    res = grade(VOCAB, BIGRAM, GENERATE.format(count="num_generate"))
    assert res.status == "graded", res.message + res.detail
    want, oov = bigram_loss(data)
    assert oov == 0
    assert res.metrics["text_loss"] == pytest.approx(want, abs=1e-3)
    assert 0.5 < res.metrics["text_loss_ratio"] < 1.0  # a bigram beats the unigram, not by half
    loss = check(res, "loss")
    assert 0 < loss.points < 6 and "tratada como probabilidades" in loss.details[0]
    gen = check(res, "generate")
    assert gen.points == 3 and gen.passed, gen.details
    assert res.score == pytest.approx(1 + loss.points + 3, abs=0.01)


def test_logits_are_detected_and_a_seed_counted_in_the_length_fails(grade, data):
    logits = BIGRAM.replace("return P[np.asarray(x)]", "return np.log(P[np.asarray(x)]) * 1.0 + 3.0")
    res = grade(VOCAB, logits, GENERATE.format(count="num_generate - len(start_string)"), lang="en")
    assert res.status == "graded", res.message + res.detail
    assert res.metrics["text_loss"] == pytest.approx(bigram_loss(data)[0], abs=1e-3)
    assert "read as logits" in check(res, "loss").details[0]
    gen = check(res, "generate")
    assert gen.points == 0 and "has 20 characters; expected 23: the seed (3) plus 20 new" in gen.details[0]
    assert "counts only the new characters" in gen.details[0]


def test_missing_char2idx_is_an_error_row_naming_it(grade):
    renamed = VOCAB.replace("char2idx", "c2i").replace("idx2char", "i2c")
    model = BIGRAM.replace("char2idx", "c2i").replace("idx2char", "i2c")
    gen = GENERATE.format(count="num_generate").replace("char2idx", "c2i").replace("idx2char", "i2c")
    res = grade(renamed, model, gen)
    assert res.status == "error"
    assert "no define `char2idx`, `idx2char`" in res.message
    assert check(res, "loss").points == 0 and "No se pudo medir" in check(res, "loss").message
    assert check(res, "generate").points == 3  # generate_text itself works: its points stay
    assert res.score == 4


def test_wrong_output_shape_fails_the_loss_check_with_the_shape(grade):
    transposed = BIGRAM.replace("return P[np.asarray(x)]", "return P[np.asarray(x)].transpose(0, 2, 1)")
    res = grade(VOCAB, transposed, GENERATE.format(count="num_generate"))
    assert res.status == "graded", res.message + res.detail
    loss = check(res, "loss")
    assert loss.points == 0
    assert "Para 200 secuencias de 30 caracteres el modelo devolvió forma (200, " in loss.message
    assert "se esperaba (200, 30, V)" in loss.message


def test_characters_missing_from_the_vocabulary_are_misses(grade, data):
    lower = VOCAB.replace('encoding="utf-8").read()', 'encoding="utf-8").read().lower()')
    res = grade(lower, BIGRAM, GENERATE.format(count="num_generate"))
    assert res.status == "graded", res.message + res.detail
    want, oov = bigram_loss(data, lower=True)
    assert 0 < oov < 200
    assert res.metrics["text_loss"] == pytest.approx(want, abs=1e-3)
    assert res.metrics["text_oov_fraction"] == pytest.approx(oov / 200, abs=1e-4)
    loss = check(res, "loss")
    assert f"{oov} de las 200 predicciones" in loss.message and "'L'" in loss.message
    assert "cuentan como fallo, con probabilidad 0.0001" in loss.message


def test_targets_never_enter_the_sandbox(grade, sandbox, data):
    sandbox.keep_jobs = True
    try:
        res = grade(VOCAB, BIGRAM, GENERATE.format(count="num_generate"))
    finally:
        sandbox.keep_jobs = False
    assert res.status == "graded", res.message + res.detail
    job = sorted(sandbox.workroot.glob("1000001-run-*"), key=lambda p: p.stat().st_mtime)[-1]
    hidden = data["hidden_text"]
    import zipfile

    pack = zipfile.ZipFile(job / "probe_inputs.zip")  # what the runner gets as an fd, for the probe
    with np.load(pack.open("probe_text.npz")) as z:
        assert z.files == ["loss"]  # windows only, keyed by the check: no targets array
        sent = z["loss"]
    w = cut_windows(hidden, 30, 200, data["train_chars"])
    assert np.array_equal(sent, w.codepoints)
    covered = {int(s) + k for s in w.starts for k in range(30)}
    assert not covered & {int(s) + 30 for s in w.starts}
    for row, start in zip(sent[:50], w.starts[:50]):  # each window really is that slice of the text
        assert "".join(map(chr, row)) == hidden[start:start + 30]
    with np.load(pack.open("probe_generate.npz")) as z:
        assert sorted(z.files) == ["generate__0__num", "generate__0__start", "generate__1__num",
                                   "generate__1__start"]
    # nothing the sandbox can read holds a longer stretch of the held-out text than one window
    stretch = hidden[1000:1000 + 61]
    blobs = {f: f.read_bytes() for f in (job / "in").rglob("*") if f.is_file() and f.name != "corpus_es.txt"}
    blobs.update({n: pack.read(n) for n in pack.namelist()})
    for f, blob in blobs.items():
        for enc in ("utf-8", "utf-32-le"):
            assert stretch.encode(enc) not in blob, f
