"""Ingest: Moodle's "Download all submissions" (zip or folder) -> `Submission` objects.

moodle_names: who a path belongs to; extract: safe unzip; choose: which notebook to grade;
collect: puts them together (`ingest`).
"""
from __future__ import annotations

from .collect import IngestReport, ingest
from .extract import ExtractLimits

__all__ = ["ingest", "IngestReport", "ExtractLimits"]
