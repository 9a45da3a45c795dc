"""'Review before uploading': the students the instructor must look at, each with the reason in
one line. Errors and integrity flags first, then late hand-ins, then students the worksheet
lists who are not in the download.

Flags nobody here knows (a later check's) are listed too, so a new integrity flag is never
silently left out; only flags that need no action are skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..model import Result
from .class_report import display_name
from .safe_text import clean_text

#: (category, label) in the order the list shows them
CATEGORIES = {
    "error": "Error", "timeout": "Timeout", "invalid": "Invalid notebook",
    "no_notebook": "No notebook", "probe_forgery": "Forged probe result",
    "claimed": "Claimed ≠ reproduced", "locked": "Edited locked cells",
    "similar": "Similar code", "flag": "Flag", "late": "Late", "missing": "No submission",
}
#: flags that need no action (or are already said by the status)
QUIET_FLAGS = {"no_claimed_accuracy", "claimed_accuracy_unverified", "late", "timeout",
               "memory_limit", "cell_errors"}
REASON_CHARS = 240


@dataclass
class ReviewItem:
    participant_id: str
    name: str
    category: str  # a key of CATEGORIES
    reason: str  # one line
    link: str | None = None  # e.g. the similarity report

    @property
    def label(self) -> str:
        return CATEGORIES[self.category]


@dataclass
class MissingStudent:
    """In the worksheet, not in the download."""

    participant_id: str
    name: str
    moodle_status: str
    has_submission: bool


def _status_item(r: Result) -> ReviewItem:
    lines = r.detail.strip().splitlines()
    why = r.message or (lines[-1] if lines else "")
    extra = [f for f in ("memory_limit", "timeout") if f in r.flags and f != r.status]
    if extra:
        why = f"{why} ({', '.join(extra)})"
    return ReviewItem(r.participant_id, display_name(r), r.status, clean_text(why, REASON_CHARS) or r.status)


def _claimed(r: Result) -> str:
    claimed, again = r.metrics.get("claimed_accuracy"), r.metrics.get("reproduced_public_accuracy")
    if isinstance(claimed, (int, float)) and isinstance(again, (int, float)):
        return (f"the notebook claims {claimed:.4g}, its re-run reproduces {again:.4g} "
                "(public test split)")
    chk = next((c for c in r.checks if c.id == "claimed_accuracy"), None)
    return chk.message if chk else "claimed metric differs from the re-run"


def _locked(r: Result) -> str:
    chk = next((c for c in r.checks if c.id == "locked_cells" or "locked" in c.id), None)
    if chk is None:
        return "locked or test cells were edited"
    return " ".join([chk.message, *chk.details])


def _late(r: Result) -> str:
    from ..policy import late_text

    when = r.submitted_at or "?"
    try:
        when = datetime.fromisoformat(when).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        pass
    text = f"submitted {when}, {late_text(r.hours_late, 'en')} late"
    if r.late_penalty:
        text += f"; penalty {r.late_penalty:g} points ({r.raw_score:g} before it)"
    return text


def review_items(results: list[Result], missing: list[MissingStudent] | None = None,
                 names: dict[str, str] | None = None, similarity_link: str | None = None) -> list[ReviewItem]:
    """Everything to look at before uploading, most serious first. `names`: participant id ->
    name, to name the other student of a `similar_to:<id>` flag."""
    names = names or {r.participant_id: display_name(r) for r in results}
    items: list[ReviewItem] = []
    for r in results:
        if r.status != "graded":
            items.append(_status_item(r))
        for flag in r.flags:
            if flag in QUIET_FLAGS:
                continue
            if flag == "probe_forgery":
                items.append(ReviewItem(r.participant_id, display_name(r), "probe_forgery",
                                        "the notebook displayed the grader's probe message itself"))
            elif flag == "claimed_accuracy_mismatch":
                items.append(ReviewItem(r.participant_id, display_name(r), "claimed",
                                        clean_text(_claimed(r), REASON_CHARS)))
            elif flag == "edited_locked_cells":
                items.append(ReviewItem(r.participant_id, display_name(r), "locked",
                                        clean_text(_locked(r), REASON_CHARS)))
            elif flag.startswith("similar_to:"):
                other = flag.split(":", 1)[1]
                who = names.get(other)
                items.append(ReviewItem(r.participant_id, display_name(r), "similar", clean_text(
                    f"code similar to {who} ({other})" if who else f"code similar to participant {other}",
                    REASON_CHARS), similarity_link))
            else:
                items.append(ReviewItem(r.participant_id, display_name(r), "flag", clean_text(flag, REASON_CHARS)))
        if r.late:
            items.append(ReviewItem(r.participant_id, display_name(r), "late", _late(r)))
    for m in missing or []:
        why = ("Moodle says 'submitted', but nothing of theirs is in this download: download "
               "it again?" if m.has_submission else
               f"in the worksheet, no submission in the download (Moodle: {m.moodle_status or 'no status'})")
        items.append(ReviewItem(m.participant_id, m.name, "missing", clean_text(why, REASON_CHARS)))
    order = list(CATEGORIES)
    items.sort(key=lambda i: order.index(i.category))  # stable: class order within a category
    for i in items:
        i.name = clean_text(i.name, 300)
    return items


def missing_from_worksheet(path: Path, present: set[str]) -> tuple[list[MissingStudent], str | None]:
    """The worksheet's participants without a result, read from the worksheet `grader grade`
    wrote (Moodle's own rows when the instructor gave one). (students, a note if unreadable)."""
    from ..export.worksheet_io import WorksheetError, read_worksheet

    if not Path(path).exists():
        return [], None
    try:
        ws = read_worksheet(path)
    except WorksheetError as e:
        return [], f"could not read {Path(path).name} for the students without a submission: {e}"
    return [MissingStudent(row.participant_id, row.full_name, row.status, row.has_submission)
            for row in ws.rows if row.participant_id not in present], None
