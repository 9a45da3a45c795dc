"""Copy detection (grader/integrity): normalization, the template left out, and a ground truth
built from the demo's notebooks: disguised copies (renamed variables, reordered cells, changed
comments, reformatted) must be found, independent correct solutions must not be flagged."""
from __future__ import annotations

import ast
import itertools
import json
import random
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.integrity.normalize import cell_tokens, notebook_stream, strip_magics
from grader.integrity.similarity import Entry, find_matches
from grader.integrity.sources import shared_code
from grader.rubric import load_rubric

from conftest import DEMO, ROOT, notebook, script_module

KEEP = {"model", "preprocess", "softmax", "cross_entropy", "history", "char2idx", "idx2char",
        "generate_text", "adam_step", "x_train", "y_train", "x_test", "y_test", "x_train_p",
        "x_test_p", "np", "tf", "plt"}  # what the rubric calls by name: a copier keeps these


def texts(source: str) -> list[str]:
    return [t.text for t in cell_tokens(source, 0)[0]]


def demo_notebook(assignment: str, who: str):
    with zipfile.ZipFile(DEMO / f"{assignment}.zip") as zf:
        name = next(n for n in zf.namelist() if n.startswith(who) and n.endswith(".ipynb")
                    and "checkpoint" not in n)
        return nbformat.reads(zf.read(name).decode("utf-8"), as_version=4)


def disguise(nb, seed: int):
    """What a copier does: every variable renamed, code reformatted (ast.unparse also drops
    the comments), other comments added, code cells shuffled."""
    rng = random.Random(seed)
    stored = set()
    trees = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            trees[i] = ast.parse(strip_magics(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(trees[i]):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) or isinstance(node, ast.arg):
                stored.add(node.id if isinstance(node, ast.Name) else node.arg)
    names = {n: f"mi_{n}_{seed}" for n in sorted(stored - KEEP)}

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            node.id = names.get(node.id, node.id)
            return node

        def visit_arg(self, node):
            node.arg = names.get(node.arg, node.arg)
            return node

    out = nbformat.from_dict(json.loads(json.dumps(nb)))
    for i, tree in trees.items():
        out.cells[i].source = "# lo he hecho yo\n" + ast.unparse(Rename().visit(tree)) + "\n# fin"
    code = [i for i, c in enumerate(out.cells) if c.cell_type == "code"]
    moved = [out.cells[i] for i in code]
    rng.shuffle(moved)
    for i, cell in zip(code, moved):
        out.cells[i] = cell
    return out


# --- normalization ---------------------------------------------------------------------------
def test_names_and_literals_are_abstracted_api_words_kept():
    assert texts("e = np.exp(z - z.max(axis=0, keepdims=True))  # estable\n") == \
        "V = V . exp ( V - V . max ( axis = N , keepdims = True ) ) ;".split()
    assert texts('model.compile(loss="mse", optimizer="adam")') == \
        "V . compile ( loss = S , optimizer = S ) ;".split()
    assert texts("for i in range(len(xs)): print(xs[i])") == \
        "for V in range ( len ( V ) ) : print ( V [ V ] ) ;".split()


def test_renaming_reformatting_comments_and_docstrings_change_nothing():
    a = 'def f(x, y):\n    """Suma."""\n    # comentario\n    return x + y * 2\n'
    b = "def add(a,b):\n  return a+b*3   # otro\n"
    assert texts(a) == texts(b)


def test_magics_and_shell_escapes_are_dropped_not_fatal():
    src = "%matplotlib inline\n!pip install tensorflow\nfiles = !ls\nimport numpy as np\nnp.zeros?\n"
    assert texts(src) == "import V as V ;".split()
    assert texts("%%bash\necho hola\n") == []
    assert texts("%%time\nx = 1\n") == "V = N ;".split()


def test_a_cell_with_a_syntax_error_still_gives_tokens_at_their_place():
    src = "x = (1,\ny = np.exp(z)\ndef f(:\n    return 'sin cerrar\n"
    tokens, ok = cell_tokens(src, 3)
    assert not ok and tokens
    assert all(t.cell == 3 for t in tokens)
    exp = next(t for t in tokens if t.text == "exp")
    assert src[exp.start:exp.end] == "exp"
    assert [t.text for t in tokens][:2] == ["V", "="]


def test_token_spans_point_into_the_source_as_handed_in():
    src = "%matplotlib inline\nimport numpy as np\n\nlogits = np.array([1.5, 2])  # c\n"
    for t in cell_tokens(src, 0)[0]:
        if t.text == "array":
            assert src[t.start:t.end] == "array"
        if t.text == "N":
            assert src[t.start:t.end] in ("1.5", "2")


# --- the template ------------------------------------------------------------------------------
def mnist_release():
    return nbformat.read(ROOT / "assignments/mnist_cnn/release/mnist_cnn.ipynb", as_version=4)


def template_stream(assignment: str, *overrides: str):
    from grader.integrity.normalize import CELL, Stream, Token

    shared, warnings = shared_code(load_rubric(ROOT / "rubrics" / f"{assignment}.yaml", list(overrides)))
    assert not warnings
    return Stream(tokens=[t for s in shared for t in s.tokens + [Token(CELL, -1, 0, 0)]])


def test_students_who_only_filled_the_same_short_blanks_are_not_matched():
    with script_module("make_demo") as make_demo:
        short = {"preprocess": "return x.reshape(-1, 28, 28, 1) / 255.0",
                 "train": "history = model.fit(x_train_p, y_train, epochs=3)"}
        a = make_demo.fill(mnist_release(), short)
        b = make_demo.fill(mnist_release(), short)
    entries = [Entry("1", "Ana", "a.ipynb", notebook_stream(a)), Entry("2", "Bea", "b.ipynb", notebook_stream(b))]
    assert find_matches(entries, template_stream("mnist_cnn"), 0.01, 25) == []
    # the same two notebooks without the template left out: the whole release matches
    both = find_matches(entries, None, 0.6, 25)
    assert len(both) == 1 and both[0].score > 0.95


# --- ground truth from the demo's notebooks -----------------------------------------------------
INDEPENDENT_MNIST = {  # a third correct solution, written differently from José's and Nerea's
    "softmax": "z = np.asarray(z, dtype=float)\nshifted = z - z.max(axis=0)\nout = np.exp(shifted)\n"
               "for col in range(out.shape[1] if out.ndim == 2 else 1):\n    pass\n"
               "return out / np.sum(out, axis=0)",
    "cross_entropy": "y_hat = np.maximum(np.asarray(y_hat, dtype=float), 1e-15)\n"
                     "m = 1 if y_hat.ndim == 1 else y_hat.shape[1]\n"
                     "total = 0.0\nfor j in range(m):\n"
                     "    col = y_hat[:, j] if y_hat.ndim == 2 else y_hat\n"
                     "    yj = y[:, j] if y.ndim == 2 else y\n"
                     "    total -= float(np.dot(yj, np.log(col)))\nreturn total / m",
    "preprocess": "x = np.expand_dims(x, -1)\nreturn x.astype('float32') * (1.0 / 255)",
    "model": """\
inputs = tf.keras.Input((28, 28, 1))
h = tf.keras.layers.Conv2D(24, 5, padding="same", activation="relu")(inputs)
h = tf.keras.layers.AveragePooling2D()(h)
h = tf.keras.layers.BatchNormalization()(h)
h = tf.keras.layers.Conv2D(48, 3, activation="relu")(h)
h = tf.keras.layers.GlobalAveragePooling2D()(h)
outputs = tf.keras.layers.Dense(10, activation="softmax")(h)
model = tf.keras.Model(inputs, outputs)
model.compile(tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
              tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])""",
    "train": "stop = tf.keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)\n"
             "history = model.fit(x_train_p, y_train, epochs=20, validation_data=(x_test_p, y_test),\n"
             "                    callbacks=[stop], batch_size=128)",
}


def ground_truth():
    """(entries by assignment, the set of pairs that are copies). Originals: the demo's
    independent authors (José's reference code and Nerea's own in MNIST, and a third written
    here; the reference in ImageNet and RNN); each gets a disguised copy."""
    with script_module("make_demo") as make_demo:
        third = make_demo.fill(mnist_release(), INDEPENDENT_MNIST)
    originals = {"mnist_cnn": {"jose": demo_notebook("mnist_cnn", "José"),
                               "nerea": demo_notebook("mnist_cnn", "Nerea"), "third": third},
                 "imagenet_cnn": {"jose": demo_notebook("imagenet_cnn", "José")},
                 "rnn_text": {"jose": demo_notebook("rnn_text", "José")}}
    entries, copies = {}, set()
    for n, (assignment, nbs) in enumerate(originals.items()):
        entries[assignment] = []
        for who, nb in nbs.items():
            entries[assignment].append(Entry(who, who, "o.ipynb", notebook_stream(nb)))
            entries[assignment].append(Entry(f"{who}-copy", who, "c.ipynb",
                                             notebook_stream(disguise(nb, seed=n * 10 + len(who)))))
            copies.add((assignment, frozenset({who, f"{who}-copy"})))
    return entries, copies


def test_ground_truth_precision_and_recall():
    entries, copies = ground_truth()
    found = set()
    for assignment, es in entries.items():
        defaults = load_rubric(ROOT / "rubrics" / f"{assignment}.yaml").similarity
        for m in find_matches(es, template_stream(assignment), defaults.threshold, defaults.min_match_tokens):
            found.add((assignment, frozenset({m.a.participant_id, m.b.participant_id})))
    true_pos = len(found & copies)
    precision, recall = true_pos / max(len(found), 1), true_pos / len(copies)
    print(f"ground truth: {len(copies)} copies among "
          f"{sum(len(list(itertools.combinations(es, 2))) for es in entries.values())} pairs; "
          f"precision {precision:.2f}, recall {recall:.2f}")
    assert recall == 1.0, sorted(copies - found, key=str)
    assert precision == 1.0, sorted(found - copies, key=str)


def test_independent_solutions_score_far_below_the_threshold(monkeypatch):
    from grader.integrity import similarity

    monkeypatch.setattr(similarity, "MIN_MATCHES", 0)  # every score, however little matches
    entries, _ = ground_truth()
    mnist = [e for e in entries["mnist_cnn"] if not e.participant_id.endswith("-copy")]
    scores = {frozenset({m.a.participant_id, m.b.participant_id}): m.score
              for m in find_matches(mnist, template_stream("mnist_cnn"), 0.0, 25)}
    assert scores and max(scores.values()) < 0.3, scores


def test_a_copy_is_found_with_its_regions_on_both_sides():
    entries, _ = ground_truth()
    es = [e for e in entries["mnist_cnn"] if e.participant_id.startswith("nerea")]
    (m,) = find_matches(es, template_stream("mnist_cnn"), 0.6, 25)
    assert m.score > 0.8 and m.regions_a and m.regions_b
    assert {r.group for r in m.regions_a} == {r.group for r in m.regions_b}
    region = next(r for r in (m.regions_a if m.a.participant_id == "nerea" else m.regions_b)
                  if "Conv2D" in (m.a if m.a.participant_id == "nerea" else m.b).stream.sources[r.cell])
    nerea = m.a if m.a.participant_id == "nerea" else m.b
    assert "Conv2D(32, (3, 3)" in nerea.stream.sources[region.cell][region.start:region.end]


def test_the_planted_demo_copy_is_found_and_only_it():
    """Zoë's MNIST notebook in the demo is Nerea's, disguised (scripts/make_demo.py
    COPIED_FROM_NEREA); with the demo's settings (the reference solution, which every other demo
    student was built from, left out like the template) it is the only pair, in all three demos."""
    found = []
    for assignment in ("mnist_cnn", "imagenet_cnn", "rnn_text"):
        es = []
        with zipfile.ZipFile(DEMO / f"{assignment}.zip") as zf:
            for name in zf.namelist():
                if name.endswith(".ipynb") and "checkpoint" not in name:
                    try:
                        nb = json.loads(zf.read(name))
                    except ValueError:
                        continue  # Iñaki's truncated file
                    es.append(Entry(name.split("_")[1], name.split("_")[0], name, notebook_stream(nb)))
        excluded = f"similarity.exclude=[../assignments/{assignment}/source/{assignment}.ipynb]"
        found += [(assignment, {m.a.name, m.b.name})
                  for m in find_matches(es, template_stream(assignment, excluded), 0.6, 25)]
    assert found == [("mnist_cnn", {"Nerea Sáez", "Zoë Ibáñez"})]


def test_empty_and_code_free_notebooks_compare_without_error():
    es = [Entry("1", "a", "a", notebook_stream(notebook())),
          Entry("2", "b", "b", notebook_stream(notebook("%pip install x", "# nada"))),
          Entry("3", "c", "c", notebook_stream(notebook("x = 1")))]
    assert find_matches(es, None, 0.01, 5) == []


def test_scores_are_the_same_in_every_process():
    """Winnowing keeps the smallest hash per window: with Python's salted str hash the scores
    would move from run to run; ours is stable."""
    import subprocess
    import sys

    code = ("import sys; sys.path[:0] = ['tests', '.']; import test_integrity as t; "
            "es = t.ground_truth()[0]['mnist_cnn']; "
            "print([round(m.score, 6) for m in t.find_matches(es, t.template_stream('mnist_cnn'), 0.0, 25)])")
    outs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout
            for seed in ("1", "2")}
    assert len(outs) == 1 and outs.pop().startswith("[0.")


def test_nearly_empty_notebooks_sharing_one_textbook_function_are_not_a_pair():
    with script_module("make_demo") as make_demo:
        softmax = {"softmax": "z = np.asarray(z, dtype=float)\ne = np.exp(z - np.max(z, axis=0, keepdims=True))\n"
                              "return e / np.sum(e, axis=0, keepdims=True)"}
        nbs = [make_demo.fill(mnist_release(), softmax) for _ in range(2)]
    es = [Entry(str(i), str(i), "x", notebook_stream(nb)) for i, nb in enumerate(nbs)]
    everything = find_matches(es, template_stream("mnist_cnn"), 0.0, 10)  # shorter matches: found
    assert everything and everything[0].score == 1.0
    assert find_matches(es, template_stream("mnist_cnn"), 0.6, 25) == []
