"""The report's plots: matplotlib (Agg, no display) to SVG, embedded as data: URIs so the page
opens from disk with no network and no files beside it, and so two plots' SVG ids never meet.

Plots carry numbers and the rubric's check ids only, never student text.
"""
from __future__ import annotations

import base64
import io

from .class_report import CheckStats, MetricSeries

COLORS = {"bar": "#4c78a8", "pass": "#54a24b", "fail": "#e45756", "line": "#333333",
          "partial": "#f58518"}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)  # never a window, whatever MPLBACKEND says
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 10, "axes.spines.top": False,
                         "axes.spines.right": False, "svg.hashsalt": "grader"})
    return plt


def _svg(fig) -> str:
    """The figure as a data: URI (SVG, no date in it: the same data gives the same bytes)."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def grade_histogram(scores: list[float], max_score: float, title: str = "Grades") -> str:
    """Students per grade band of one point (the last band includes the maximum)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 2.8))
    top = max(1, int(round(max_score)))
    bins = list(range(0, top + 1))
    counts = [0] * top
    for s in scores:
        counts[min(top - 1, max(0, int(s)))] += 1
    colors = [COLORS["pass"] if b >= max_score / 2 else COLORS["fail"] for b in bins[:-1]]
    ax.bar([b + 0.5 for b in bins[:-1]], counts, width=0.9, color=colors)
    ax.set_xticks(bins)
    ax.set_xlim(0, top)
    ax.set_xlabel("grade")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title)
    return _svg(fig)


def check_pass_rates(checks: list[CheckStats]) -> str:
    """One horizontal bar per check: the share of submissions that passed it."""
    plt = _plt()
    shown = [c for c in checks if c.n]
    fig, ax = plt.subplots(figsize=(6, 0.45 * max(2, len(shown)) + 0.8))
    ids = [c.id for c in shown][::-1]
    rates = [100 * (c.pass_rate or 0) for c in shown][::-1]
    ax.barh(ids, rates, color=[COLORS["pass"] if r >= 50 else COLORS["fail"] for r in rates])
    for y, r in enumerate(rates):
        ax.text(min(r, 100) + 1, y, f"{r:.0f} %", va="center", fontsize=9)
    ax.set_xlim(0, 112)
    ax.set_xlabel("passed (% of submissions)")
    ax.set_title("Pass rate per check")
    return _svg(fig)


def metric_distribution(series: MetricSeries, check_id: str) -> str:
    """The measured metric of every student, with the full-points threshold and the start of
    partial credit marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 2.6))
    vals = series.values
    lo = min(vals + [x for x in (series.threshold, series.partial_from) if x is not None], default=0)
    hi = max(vals + [x for x in (series.threshold, series.partial_from) if x is not None], default=1)
    span = (hi - lo) or 1.0
    bins = [lo - 0.02 * span + i * (1.04 * span) / 20 for i in range(21)]
    if vals:
        ax.hist(vals, bins=bins, color=COLORS["bar"])
    if series.threshold is not None:
        ax.axvline(series.threshold, color=COLORS["pass"], linestyle="--", linewidth=1.5,
                   label=f"full points {'≥' if series.higher_is_better else '≤'} {series.threshold:g}")
    if series.partial_from is not None:
        ax.axvline(series.partial_from, color=COLORS["partial"], linestyle=":", linewidth=1.5,
                   label=f"partial credit from {series.partial_from:g}")
    if series.threshold is not None or series.partial_from is not None:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    ax.set_xlabel(series.name + ("" if series.higher_is_better else " (lower is better)"))
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{check_id}: measured {series.name}"
                 + (f" ({series.missing} not measured)" if series.missing else ""))
    return _svg(fig)
