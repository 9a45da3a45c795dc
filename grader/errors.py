"""One exception type per failure mode, carrying its data, so callers branch on types.

All are picklable (plain args) so they can cross process boundaries (dask workers).
"""
from __future__ import annotations


class GraderError(Exception):
    """Base of every error the grader raises on purpose; the CLI prints these without traceback
    and exits with `exit_code`."""

    exit_code = 2


class RubricError(GraderError):
    """The rubric YAML is missing, malformed, or names a bad key/value."""


class IngestError(GraderError):
    """The Moodle download cannot be read (not a zip, no submissions, unknown layout)."""


class UnsafeArchive(IngestError):
    """The zip tries to escape the target directory or is absurdly large (zip bomb)."""


class InvalidNotebook(GraderError):
    """The submitted file is not a readable Jupyter notebook. `code` and `params` let the
    caller say why in the student's language; str() is the English reason."""

    def __init__(self, message: str, code: str = "invalid", **params: object):
        super().__init__(message)
        self.code = code
        self.params = params


class SandboxUnavailable(GraderError):
    """bubblewrap (or the kernel environment) is missing or does not work on this machine."""
