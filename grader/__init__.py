"""Sandboxed auto-grader for the Deep Learning course notebooks."""
__version__ = "0.1.0"


def check(notebook=None, lang: str = "es", *options: str) -> int:
    """The student's self-check from a notebook cell: `import grader; grader.check()`.

    Finds the current notebook where Jupyter, JupyterHub, VS Code or Colab say which it is
    (grader/selfcheck/current.py), else give its path. Returns `grader check`'s exit code."""
    from .selfcheck.current import check as _check

    return _check(notebook, lang, *options)
