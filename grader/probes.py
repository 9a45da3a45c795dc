"""Code the host writes to run in the student's kernel after the notebook: the "probes".

A probe reads the inputs the host sent (never labels or expected values), calls the
student's objects, and returns raw outputs (arrays as an npz, small values as JSON) in one
display message of the probe cell, which the runner forwards.
Everything it returns is untrusted and judged on the host. Each probe is one function
`_probe_<name>(_g, _inputs, _arrays, _info)`; they run one after the other, and one failing
probe does not stop the others (its error is recorded under _info["errors"][name]).
A probe that finds names of the rubric's interface missing raises `_Missing(names)`, which the
wrapper records as {"code": "missing_names", "names": [...]}; anything else a probe raises is
{"code": "raised", "ename", "evalue"}. The host reads the code, never the exception's text, and
believes only names the probe could have asked for.
"""
from __future__ import annotations

import textwrap

from .runner.execute_notebook import PROBE_MIME  # the runner reads this display of the probe cell

PREDICT = '''
def _probe_predict(_g, _inputs, _arrays, _info):
    """model.predict(preprocess(x)) for every input set (batch by batch)."""
    _missing = [_n for _n in ({pre!r}, {model!r}) if _n not in _g]
    if _missing:
        raise _Missing(_missing)
    _pre, _model = _g[{pre!r}], _g[{model!r}]
    for _key in _inputs.files:
        _x = _pre(_inputs[_key])
        if hasattr(_model, "predict"):
            _p = _model.predict(_x, batch_size={batch}, verbose=0)
        else:
            _p = _model(_x)
        _p = _np.asarray(_p)
        _arrays["predict__" + _key] = _p.astype(_np.float32) if _p.dtype.kind == "f" else _p
'''

# rnn_text. The held-out text arrives cut into windows (code points, (N, T)); the character
# after each window is the target and never enters the sandbox (grader/checks/text_windows.py).
# The windows are encoded here with the student's own char2idx (a character it lacks becomes
# the space's index, or 0; the host counts such windows as misses), and only the scores at
# the last position come back, with the vocabulary as JSON so the host can decode them.
TEXT = '''
def _probe_text(_g, _inputs, _arrays, _info):
    """char2idx/idx2char as JSON; the model's scores after each window."""
    _names = ({c2i!r}, {i2c!r}, {model!r})
    _missing = [_n for _n in _names if _n not in _g]
    if _missing:
        raise _Missing(_missing)
    _c2i, _i2c, _model = (_g[_n] for _n in _names)
    if not hasattr(_c2i, "items"):
        raise TypeError("{c2i} debe ser un dict {{carácter: índice}} / must be a dict {{char: index}}, "
                        "no / not " + type(_c2i).__name__)
    _out = _info["text"] = {{}}
    _pairs = []
    for _k, _v in list(_c2i.items())[:{max_vocab}]:
        try:
            _pairs.append([str(_k)[:20] if isinstance(_k, str) else repr(_k)[:20], int(_v),
                           isinstance(_k, str)])
        except (TypeError, ValueError, OverflowError):
            _pairs.append([repr(_k)[:20], -1, False])
    _out["char2idx"] = _pairs
    _out["char2idx_size"] = len(_c2i)
    try:
        _out["idx2char"] = [str(_c)[:20] if isinstance(_c, str) else repr(_c)[:20]
                             for _c in list(_i2c)[:{max_vocab}]]
    except TypeError:
        _out["idx2char"] = None
    _lut = {{ord(_k): _v for _k, _v, _ok in _pairs if _ok and len(_k) == 1 and _v >= 0}}
    _fill = _lut.get(32, min(_lut.values()) if _lut else 0)
    for _key in _inputs.files:  # one window set per text_loss check (its id)
        _cp = _inputs[_key]
        _uniq = _np.unique(_cp)
        _codes = _np.array([_lut.get(int(_u), _fill) for _u in _uniq], dtype=_np.int64)
        _x = _codes[_np.searchsorted(_uniq, _cp)].astype(_np.int32)
        if hasattr(_model, "predict"):
            _p = _model.predict(_x, batch_size={batch}, verbose=0)
        else:
            _p = _model(_x)
        _res = _out.setdefault("outputs", {{}})[_key] = {{"type": type(_p).__name__}}
        try:
            _p = _np.asarray(_p, dtype=_np.float32)
        except (TypeError, ValueError):
            continue
        _res["shape"] = list(_p.shape)
        if _p.ndim in (2, 3):
            _arrays["text__" + _key] = _np.ascontiguousarray(_p[:, -1, :] if _p.ndim == 3 else _p)
'''

# rnn_text: call generate_text on each seed the host sent; a call that raises or returns the
# wrong thing is recorded for the host to judge, it does not stop the other calls.
GENERATE = '''
def _probe_generate(_g, _inputs, _arrays, _info):
    """{fn}(model, start, num) for each <id>__start / <id>__num pair the host sent."""
    _names = ({fn!r}, {model!r})
    _missing = [_n for _n in _names if _n not in _g]
    if _missing:
        raise _Missing(_missing)
    _fn, _model = _g[{fn!r}], _g[{model!r}]
    _calls = {{}}
    _info["generate"] = {{"calls": _calls}}
    for _key in sorted(_inputs.files):
        if not _key.endswith("__start"):
            continue
        _id = _key[: -len("__start")]  # <check id>__<call number>
        _start = "".join(chr(_c) for _c in _inputs[_key].tolist())
        _rec = _calls[_id] = {{}}
        try:
            _r = _fn(_model, _start, int(_inputs[_id + "__num"]))
            _rec["type"] = type(_r).__name__
            if isinstance(_r, str):
                _rec["text"], _rec["length"] = str(_r)[:{cap}], len(_r)
            else:
                _rec["repr"] = repr(_r)[:200]
        except Exception as _e:
            _rec["error"] = {{"ename": type(_e).__name__, "evalue": str(_e)[:500]}}
'''

WRAPPER = '''
def __grader_probe():
    import base64 as _b64
    import io as _io
    import numpy as _np
    from IPython.display import display as _display
    _g = globals()
    _arrays, _info = {{}}, {{"errors": {{}}}}

    class _Missing(Exception):
        """Names of the rubric's interface the notebook does not define."""
{bodies}
    for _name, _fn in {calls}:
        try:
            with _np.load({in_dir!r} + "/probe_" + _name + ".npz", allow_pickle=False) as _inputs:
                _fn(_g, _inputs, _arrays, _info)
        except _Missing as _e:
            _info["errors"][_name] = {{"code": "missing_names", "names": [str(_n) for _n in _e.args[0]]}}
        except BaseException as _e:
            _info["errors"][_name] = {{"code": "raised", "ename": type(_e).__name__, "evalue": str(_e)[:2000]}}
    _buf = _io.BytesIO()
    _np.savez(_buf, **_arrays)
    _display({{{mime!r}: {{"info": _info, "npz": _b64.b64encode(_buf.getvalue()).decode()}}}}, raw=True)
__grader_probe()
del __grader_probe
'''



def predict_source(preprocess: str, model: str, batch_size: int) -> str:
    return PREDICT.format(pre=preprocess, model=model, batch=batch_size)



def text_source(char2idx: str, idx2char: str, model: str, batch_size: int, max_vocab: int = 5000) -> str:
    return TEXT.format(c2i=char2idx, i2c=idx2char, model=model, batch=batch_size,
                       max_vocab=max_vocab)


def generate_source(function: str, model: str, cap: int = 6000) -> str:
    return GENERATE.format(fn=function, model=model, cap=cap)

def probe_cell(sources: dict[str, str], in_dir: str) -> str:
    """One cell running every probe in `sources` ({name: source defining _probe_<name>})."""
    bodies = "\n".join(textwrap.indent(textwrap.dedent(src), "    ") for src in sources.values())
    calls = "[" + ", ".join(f"({n!r}, _probe_{n})" for n in sources) + "]"
    return WRAPPER.format(bodies=bodies, calls=calls, in_dir=in_dir, mime=PROBE_MIME)
