"""Code the host writes to run in the student's kernel after the notebook: the "probes".

A probe reads the inputs the host sent (never labels or expected values), calls the
student's objects, and leaves raw outputs: arrays in probe.npz, small values in probe.json.
Everything it returns is untrusted and judged on the host. Each probe is one function
`_probe_<name>(_g, _inputs, _arrays, _info)`; they run one after the other, and one failing
probe does not stop the others (its error is recorded under _info["errors"][name]).
A missing interface name is raised as NameError("__grader_missing__:a,b") so the host can
tell it from the student's own NameErrors.
"""
from __future__ import annotations

import textwrap

MISSING = "__grader_missing__:"
IN = "/opt/grader/in"

PREDICT = '''
def _probe_predict(_g, _inputs, _arrays, _info):
    """model.predict(preprocess(x)) for every input set (batch by batch)."""
    _missing = [_n for _n in ({pre!r}, {model!r}) if _n not in _g]
    if _missing:
        raise NameError({missing!r} + ",".join(_missing))
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

WRAPPER = '''
def __grader_probe():
    import json as _json
    import numpy as _np
    _g = globals()
    _arrays, _info = {{}}, {{"errors": {{}}}}
{bodies}
    for _name, _fn in {calls}:
        try:
            with _np.load({in_dir!r} + "/probe_" + _name + ".npz", allow_pickle=False) as _inputs:
                _fn(_g, _inputs, _arrays, _info)
        except BaseException as _e:
            _info["errors"][_name] = {{"ename": type(_e).__name__, "evalue": str(_e)[:2000]}}
    _np.savez({out_dir!r} + "/probe.npz", **_arrays)
    with open({out_dir!r} + "/probe.json", "w") as _f:
        _json.dump(_info, _f, default=str)
__grader_probe()
del __grader_probe
'''


def predict_source(preprocess: str, model: str, batch_size: int) -> str:
    return PREDICT.format(pre=preprocess, model=model, batch=batch_size, missing=MISSING)


def probe_cell(sources: dict[str, str], out_dir: str = "/job/scratch", in_dir: str = IN) -> str:
    """One cell running every probe in `sources` ({name: source defining _probe_<name>})."""
    bodies = "\n".join(textwrap.indent(textwrap.dedent(src), "    ") for src in sources.values())
    calls = "[" + ", ".join(f"({n!r}, _probe_{n})" for n in sources) + "]"
    return WRAPPER.format(bodies=bodies, calls=calls, in_dir=in_dir, out_dir=out_dir)
