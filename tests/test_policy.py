"""The course policy: properties of the final-grade function (hypothesis), every worked example
of the README's policy table, the status rules, the late policy and the course config."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course import CourseError, Late, Policy, load_course, parse_course
from grader.model import CheckResult, Result
from grader.policy import apply_late, assignment_grade, final_grade, hours_late, late_penalty

ROOT = Path(__file__).resolve().parent.parent
A3 = ["mnist_cnn", "imagenet_cnn", "rnn_text"]
MADRID = ZoneInfo("Europe/Madrid")
DEADLINE = datetime(2026, 3, 31, 23, 59, tzinfo=MADRID)

grade = st.decimals(min_value=0, max_value=10, places=2)
maybe = st.one_of(st.none(), grade)
policies = st.builds(Policy, round_up=st.sampled_from(["when_all_handed_in", "always", "never"]),
                     rounding_step=st.sampled_from(["1", "0.5", "0.1"]))


def cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), ROUND_HALF_UP)  # as the README says: to the cent, half up


def fg(values, policy=Policy()):
    return final_grade(dict(zip(A3, values)), policy, A3, 10)


# --------------------------------------------------------------------------- properties


@given(st.tuples(maybe, maybe, maybe), policies)
def test_the_counted_are_the_best_and_the_grade_stays_on_the_scale(values, policy):
    f = fg(values, policy)
    handed = {a: g for a, g in zip(A3, values) if g is not None}
    assert sorted(f.handed_in) == sorted(handed)
    assert len(f.counted) == min(2, len(handed))
    assert f.missing == (2 - len(f.counted) if handed else 0)
    if f.counted and f.dropped:
        assert min(handed[a] for a in f.counted) >= max(handed[a] for a in f.dropped)
    if handed:
        assert Decimal(0) <= f.grade <= Decimal(10)
    else:
        assert f.grade is None and f.flags == ["no_handins"]


@given(st.tuples(grade, grade, grade), policies)
def test_all_three_handed_in_best_two_rounded_up(values, policy):
    f = fg(values, policy)
    best2 = sorted(values, reverse=True)[:2]
    mean = sum(best2) / 2
    assert f.mean == mean and f.rule == "all"
    if policy.round_up == "never":
        assert f.grade == cents(mean)
    else:
        step = policy.step
        assert f.rounded_up and f.grade >= mean and f.grade - mean < step
        assert f.grade % step == 0  # a multiple of the step


@given(st.permutations([0, 1, 2]), grade, grade, policies)
def test_two_handed_in_is_the_plain_mean_unless_always(order, a, b, policy):
    values = [None] * 3
    values[order[0]], values[order[1]] = a, b
    f = fg(values, policy)
    mean = (a + b) / 2
    assert f.rule == "some" and not f.flags
    if policy.round_up == "always":
        assert f.grade >= mean and f.grade - mean < policy.step
    else:
        assert not f.rounded_up and f.grade == cents(mean)


@given(st.sampled_from(A3), grade, st.decimals(min_value=0, max_value=10, places=1))
def test_one_handed_in_counts_a_gap_and_is_flagged(which, g, missing):
    policy = Policy(missing_counts_as=float(missing))
    f = final_grade({which: g}, policy, A3, 10)
    assert f.flags == ["incomplete"] and f.missing == 1 and f.counted == [which]
    assert f.grade == cents((g + missing) / 2)


@settings(max_examples=200)
@given(st.tuples(maybe, maybe, maybe), st.sampled_from(A3), grade, policies)
def test_a_better_grade_never_lowers_the_final_one(values, which, better, policy):
    i = A3.index(which)
    old = values[i]
    if old is None or better < old:
        return
    raised = list(values)
    raised[i] = better
    assert fg(raised, policy).grade >= fg(values, policy).grade


@given(grade)
def test_handing_in_a_third_one_never_hurts_under_the_default_policy(third):
    two = fg([Decimal("6.5"), Decimal("8.2"), None])
    assert fg([Decimal("6.5"), Decimal("8.2"), third]).grade >= two.grade


# --------------------------------------------------------------------------- the README table


def readme_examples() -> list[dict[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- policy-examples", 1)[1].split("\n\n", 1)[0]
    lines = [ln for ln in block.splitlines()[1:] if ln.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(head, (c.strip() for c in ln.strip("|").split("|")))) for ln in lines[2:]]


EXAMPLES = readme_examples()


def test_the_readme_has_the_worked_examples():
    assert len(EXAMPLES) >= 10
    assert {e["setting"] for e in EXAMPLES} >= {"", "`rounding_step: 0.5`", "`round_up: always`"}


@pytest.mark.parametrize("row", EXAMPLES, ids=[f"{i}" for i in range(len(EXAMPLES))])
def test_readme_policy_example(row):
    values, statuses = [], []
    for a in A3:
        cell = row[a]
        m = re.fullmatch(r"([\d.]+)(?: \(`(\w+)`\))?", cell)
        values.append(None if cell == "—" else Decimal(m.group(1)))
        statuses.append(m.group(2) if m else None)
    kw = {}
    if row["setting"]:
        key, _, val = row["setting"].strip("`").partition(": ")
        kw[key] = val
    # the statuses in the table go through the status rules, not straight into the policy
    for i, (a, status) in enumerate(zip(A3, statuses)):
        if status:
            res = _result(a, status, float(values[i]))
            values[i] = assignment_grade(a, res, 10).grade
    f = fg(values, Policy(**kw))
    assert f.counted == [a for a in row["counted"].split(" + ") if a in A3]
    assert f.missing == row["counted"].count("missing")
    assert (f.mean is None and row["mean"] == "") or f.mean == Decimal(row["mean"])
    assert (f.grade is None and row["final"] == "-") or f.grade == Decimal(row["final"])
    assert f.flags == re.findall(r"`(\w+)`", row["flags"])


# --------------------------------------------------------------------------- status rules


def _result(assignment, status, score, late=0.0):
    checks = [CheckResult("a", score, 10, score == 10, "")] if status != "no_notebook" else []
    return Result(assignment, "1", "Ana", status, 10.0, checks=checks, late_penalty=late)


@pytest.mark.parametrize("status", ["graded", "error", "timeout", "invalid"])
def test_scored_statuses_count_as_handed_in_with_their_score(status):
    g = assignment_grade("mnist_cnn", _result("mnist_cnn", status, 6.5), 10)
    assert g.handed_in and g.grade == Decimal("6.50")
    assert (status in g.flags) == (status != "graded")


def test_no_notebook_counts_as_handed_in_with_zero_and_a_flag():
    g = assignment_grade("mnist_cnn", _result("mnist_cnn", "no_notebook", 0), 10)
    assert g.handed_in and g.grade == 0 and g.flags == ["no_notebook"]
    assert not assignment_grade("mnist_cnn", None, 10).handed_in


def test_grades_are_put_on_the_course_scale():
    res = Result("x", "1", "Ana", "graded", 20.0, checks=[CheckResult("a", 15, 20, False, "")])
    assert assignment_grade("x", res, 10).grade == Decimal("7.50")


# --------------------------------------------------------------------------- late


def test_hours_late_follows_moodles_strict_rule():
    assert hours_late(DEADLINE, DEADLINE) == 0
    assert hours_late(DEADLINE - timedelta(minutes=1), DEADLINE) == 0
    assert hours_late(DEADLINE + timedelta(minutes=5), DEADLINE) == pytest.approx(5 / 60, abs=0.01)
    assert hours_late(None, DEADLINE) == 0


@given(st.floats(min_value=0.001, max_value=24 * 20), st.floats(min_value=0, max_value=3))
def test_penalty_per_started_day(hours, per_day):
    pen = late_penalty(hours, Late(policy="penalty", penalty_per_day=per_day), 10, 10)
    days = -(-hours // 24)
    assert pen == pytest.approx(min(10, days * per_day), abs=0.011)
    assert late_penalty(hours, Late(policy="flag"), 10, 10) == 0
    assert late_penalty(hours, Late(policy="reject"), 10, 10) == 10


@pytest.mark.parametrize("policy,score,in_message", [
    ("flag", 8.0, None), ("reject", 0.0, "se califica con 0"), ("penalty", 6.0, "se restan 2")])
def test_apply_late(policy, score, in_message):
    res = _result("mnist_cnn", "graded", 8)
    when = DEADLINE + timedelta(hours=30)  # a day and a bit: two started days
    apply_late(res, when, "worksheet", DEADLINE, Late(policy=policy, penalty_per_day=1), 10, "es")
    assert res.late and res.hours_late == 30 and "late" in res.flags
    assert res.submitted_at_source == "worksheet" and res.submitted_at == when.isoformat()
    assert res.score == score and res.raw_score == 8
    assert (in_message is None and not res.message) or in_message in res.message
    row = res.to_row()
    assert row["score"] == score and row["raw_score"] == 8
    assert Result.from_row(row).score == score  # survives results.jsonl


def test_on_time_is_not_late():
    res = _result("mnist_cnn", "graded", 8)
    apply_late(res, DEADLINE - timedelta(hours=1), "zip", DEADLINE, Late(policy="reject"), 10, "es")
    assert not res.late and res.score == 8 and "late" not in res.flags


# --------------------------------------------------------------------------- course config


def test_the_course_config_has_the_course_text_as_defaults():
    c = load_course(ROOT / "rubrics" / "course.yaml")
    assert c.assignments == A3 and c.policy == Policy() and c.late.policy == "flag"
    assert c.deadline_for("mnist_cnn") == DEADLINE
    assert c.gradebook.grade_item == "Prácticas"


@pytest.mark.parametrize("raw,needle", [
    ({"policy": {"cuont": 2}}, "unknown key 'cuont' (did you mean 'count'?)"),
    ({"policy": {"rounding_step": 0.25}}, "policy.rounding_step"),
    ({"policy": {"count": 4}}, "more than the 3 assignments"),
    ({"deadline": "31/03 23:59"}, "deadline: '31/03 23:59' is not a date"),
    ({"timezone": "Europe/Madird"}, "unknown time zone"),
    ({"late": {"policy": "ignore"}}, "late.policy"),
    ({"deadlines": {"nlp": "2026-04-07 23:59"}}, "deadlines.nlp: not one of the assignments"),
])
def test_bad_course_config_names_the_key(raw, needle):
    base = {"year": 2026, "assignments": A3}
    with pytest.raises(CourseError) as e:
        parse_course({**base, **raw}, "course.yaml")
    assert needle in str(e.value)


def test_per_assignment_deadline_and_overrides_from_the_command_line(tmp_path):
    p = tmp_path / "course.yaml"
    p.write_text("year: 2026\nassignments: [a, b]\ndeadlines: {b: '2026-04-07 23:59'}\n")
    c = load_course(p, {"late.policy": "reject"})
    assert c.deadline_for("b") == datetime(2026, 4, 7, 23, 59, tzinfo=MADRID)
    assert c.deadline_for("a") == DEADLINE and c.late.policy == "reject"


def test_a_command_line_late_policy_fills_an_empty_late_section(tmp_path):
    """`late:` left empty in course.yaml, then `--late-policy reject`: a clean config, not a crash."""
    from grader.course import CourseError, load_course

    p = tmp_path / "course.yaml"
    p.write_text("year: 2026\nassignments: [mnist_cnn, imagenet_cnn, rnn_text]\nlate:\n")
    assert load_course(p, {"late.policy": "reject"}).late.policy == "reject"
    p.write_text("year: 2026\nassignments: [mnist_cnn, imagenet_cnn, rnn_text]\nlate: 3\n")
    with pytest.raises(CourseError, match="'late' is not a section"):
        load_course(p, {"late.policy": "reject"})
