"""Utilization levels and the defense level (RESILIENCE_MODEL.md section 4)."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.clock import HalfDayClock
from app.domain.coverage import Gap, faculty_demand
from app.domain.schedule import Category, Half, HalfDay
from app.resilience.health.levels import Level, Utilization, UtilizationThresholds, worst
from app.resilience.health.verdict import VerdictPolicy, defense_level

CLOCK = HalfDayClock(timezone="America/New_York")
# 2026-12-01 09:00 in New York is 14:00 UTC.
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)


def _gap(day: date, half: Half, category: Category = Category.CONTINUITY_OF_CARE) -> Gap:
    return Gap(HalfDay(day, half), "main", "clinic", category, "clinic_preceptor", 1)


@given(
    st.integers(0, 6),
    st.integers(0, 30),
    st.integers(0, 30),
    st.one_of(st.none(), st.integers(1, 6)),
    st.one_of(st.none(), st.integers(1, 6)),
)
def test_faculty_demand_equals_exact_fraction_ceiling(
    minimum: int, n1: int, n2: int, r1: int | None, r2: int | None
) -> None:
    exact = Fraction(0)
    if r1:
        exact += Fraction(n1, r1)
    if r2:
        exact += Fraction(n2, r2)
    assert faculty_demand(minimum, n1, n2, r1, r2) == max(minimum, math.ceil(exact))


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0.0, Level.GREEN),
        (0.6999, Level.GREEN),
        (0.70, Level.YELLOW),
        (0.7999, Level.YELLOW),
        (0.80, Level.ORANGE),
        (0.90, Level.RED),
        (0.9499, Level.RED),
        (0.95, Level.BLACK),
        (math.inf, Level.BLACK),
    ],
)
def test_utilization_level_at_thresholds(rate: float, expected: Level) -> None:
    assert UtilizationThresholds().level(rate) is expected


def test_utilization_rate_when_no_pool() -> None:
    assert Utilization(0, 0).rate == 0.0
    assert math.isinf(Utilization(3, 0).rate)
    assert Utilization(3, 0).to_json()["rate"] is None
    assert Utilization(8, 10).buffer_remaining == pytest.approx(0.2)


def _level(gaps=(), n1=None, n2=None, util=Level.GREEN) -> Level:  # type: ignore[no-untyped-def]
    return defense_level(
        now=NOW,
        clock=CLOCK,
        utilization_level=util,
        gaps=list(gaps),
        n1_halfdays=n1,
        n2_halfdays=n2,
    ).level


def test_defense_black_when_patient_safety_gap_within_48_hours() -> None:
    assert (
        _level([_gap(TODAY + timedelta(days=1), Half.PM, Category.PATIENT_SAFETY)]) is Level.BLACK
    )
    # The same gap of a less protected category is RED.
    assert _level([_gap(TODAY + timedelta(days=1), Half.PM)]) is Level.RED


def test_defense_red_when_patient_safety_gap_after_48_hours_within_7_days() -> None:
    assert _level([_gap(TODAY + timedelta(days=4), Half.AM, Category.PATIENT_SAFETY)]) is Level.RED


def test_defense_orange_when_gap_later_or_n1_near() -> None:
    assert _level([_gap(TODAY + timedelta(days=20), Half.AM)]) is Level.ORANGE
    assert _level(n1=[HalfDay(TODAY + timedelta(days=10), Half.AM)]) is Level.ORANGE


def test_defense_yellow_when_n1_later_or_fatal_pair_near() -> None:
    assert _level(n1=[HalfDay(TODAY + timedelta(days=30), Half.AM)], n2=[]) is Level.YELLOW
    assert _level(n1=[], n2=[HalfDay(TODAY + timedelta(days=3), Half.PM)]) is Level.YELLOW
    assert _level(n1=[], n2=[HalfDay(TODAY + timedelta(days=30), Half.PM)]) is Level.GREEN


def test_defense_ignores_gap_already_over() -> None:
    # This morning's session ended at 12:00 New York time; it is 16:00 there.
    later = NOW + timedelta(hours=7)
    result = defense_level(
        now=later,
        clock=CLOCK,
        utilization_level=Level.GREEN,
        gaps=[_gap(TODAY, Half.AM, Category.PATIENT_SAFETY)],
        n1_halfdays=None,
        n2_halfdays=None,
    )
    assert result.level is Level.GREEN


def test_defense_takes_utilization_level() -> None:
    assert _level(util=Level.RED) is Level.RED
    assert _level([_gap(TODAY + timedelta(days=20), Half.AM)], util=Level.YELLOW) is Level.ORANGE


def _random_findings(rng: random.Random):  # type: ignore[no-untyped-def]
    gaps = [
        _gap(
            TODAY + timedelta(days=rng.randrange(60)),
            rng.choice(list(Half)),
            rng.choice(list(Category)),
        )
        for _ in range(rng.randrange(3))
    ]
    n1 = [
        HalfDay(TODAY + timedelta(days=rng.randrange(60)), Half.AM) for _ in range(rng.randrange(3))
    ]
    n2 = [
        HalfDay(TODAY + timedelta(days=rng.randrange(60)), Half.PM) for _ in range(rng.randrange(3))
    ]
    util = rng.choice(list(Level))
    return gaps, n1, n2, util


def test_defense_level_is_monotone_in_findings_on_random_cases() -> None:
    rng = random.Random(7)
    for _ in range(500):
        g1, a1, b1, u1 = _random_findings(rng)
        g2, a2, b2, u2 = _random_findings(rng)
        base = _level(g1, a1, b1, u1)
        more = _level(g1 + g2, a1 + a2, b1 + b2, worst([u1, u2]))
        assert more.rank >= base.rank


def test_defense_gap_counts_at_least_as_much_as_n1_at_same_time() -> None:
    for days in range(0, 60, 3):
        for half in Half:
            hd = HalfDay(TODAY + timedelta(days=days), half)
            for cat in Category:
                gap_level = _level([Gap(hd, "main", "a", cat, "q", 1)])
                n1_level = _level(n1=[hd], n2=[])
                assert gap_level.rank >= n1_level.rank


# --- Boundaries of section 4 (hand-written expectations) ----------------------------------------
# NOW is 09:00 in New York on Tuesday 2026-12-01; AM half-days start at 08:00, PM at 13:00.


def test_defense_urgent_gap_at_47_hours_is_black_and_at_49_hours_red() -> None:
    dec3_am = _gap(TODAY + timedelta(days=2), Half.AM, Category.PATIENT_SAFETY)
    # 2026-12-03 08:00 New York is 47 h after 09:00 on 12-01 ...
    assert _level([dec3_am]) is Level.BLACK
    # ... and 49 h after 07:00 on 12-01 (12:00 UTC).
    at_seven = defense_level(
        now=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        clock=CLOCK,
        utilization_level=Level.GREEN,
        gaps=[dec3_am],
        n1_halfdays=[],
        n2_halfdays=[],
    )
    assert at_seven.level is Level.RED
    # ACGME work is urgent too; continuity of care is not.
    assert _level([_gap(TODAY + timedelta(days=2), Half.AM, Category.ACGME_REQUIREMENTS)]) is (
        Level.BLACK
    )
    assert _level([_gap(TODAY + timedelta(days=2), Half.AM)]) is Level.RED


def test_defense_gap_on_day_6_is_red_and_on_day_7_orange() -> None:
    assert _level([_gap(TODAY + timedelta(days=6), Half.PM)]) is Level.RED
    assert _level([_gap(TODAY + timedelta(days=7), Half.AM)]) is Level.ORANGE


def test_defense_n1_on_day_13_is_orange_and_on_day_14_yellow() -> None:
    assert _level(n1=[HalfDay(TODAY + timedelta(days=13), Half.PM)], n2=[]) is Level.ORANGE
    assert _level(n1=[HalfDay(TODAY + timedelta(days=14), Half.AM)], n2=[]) is Level.YELLOW


def test_defense_fatal_pair_on_day_13_is_yellow_and_on_day_14_green() -> None:
    assert _level(n1=[], n2=[HalfDay(TODAY + timedelta(days=13), Half.PM)]) is Level.YELLOW
    assert _level(n1=[], n2=[HalfDay(TODAY + timedelta(days=14), Half.AM)]) is Level.GREEN


def test_defense_windows_follow_the_policy() -> None:
    short = VerdictPolicy(near_days=3, contingency_days=5, urgent_window=timedelta(hours=12))
    gap_day_4 = _gap(TODAY + timedelta(days=4), Half.AM)
    urgent_tomorrow = _gap(TODAY + timedelta(days=1), Half.AM, Category.PATIENT_SAFETY)

    def level(**kw):  # type: ignore[no-untyped-def]
        args = {"gaps": [], "n1_halfdays": [], "n2_halfdays": [], **kw}
        return defense_level(
            now=NOW, clock=CLOCK, utilization_level=Level.GREEN, policy=short, **args
        ).level

    assert level(gaps=[gap_day_4]) is Level.ORANGE  # beyond 3 days
    assert level(gaps=[urgent_tomorrow]) is Level.RED  # 23 h away, beyond 12 h
    assert level(n1_halfdays=[HalfDay(TODAY + timedelta(days=5), Half.AM)]) is Level.YELLOW
    assert level(n1_halfdays=[HalfDay(TODAY + timedelta(days=4), Half.AM)]) is Level.ORANGE


def test_defense_ignores_findings_of_ended_half_days() -> None:
    # 13:30 in New York: this morning has ended, this afternoon has not.
    after_lunch = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    this_am, this_pm = HalfDay(TODAY, Half.AM), HalfDay(TODAY, Half.PM)

    def level(**kw):  # type: ignore[no-untyped-def]
        args = {"gaps": [], "n1_halfdays": [], "n2_halfdays": [], **kw}
        return defense_level(
            now=after_lunch, clock=CLOCK, utilization_level=Level.GREEN, **args
        ).level

    assert level(n1_halfdays=[this_am]) is Level.GREEN
    assert level(n2_halfdays=[this_am]) is Level.GREEN
    assert level(gaps=[_gap(TODAY, Half.AM, Category.PATIENT_SAFETY)]) is Level.GREEN
    assert level(n1_halfdays=[this_pm]) is Level.ORANGE
    assert level(n2_halfdays=[this_pm]) is Level.YELLOW
    assert level(gaps=[_gap(TODAY, Half.PM, Category.PATIENT_SAFETY)]) is Level.BLACK


def test_defense_reasons_name_every_rule_that_fired_with_counts() -> None:
    result = defense_level(
        now=NOW,
        clock=CLOCK,
        utilization_level=Level.YELLOW,
        gaps=[_gap(TODAY + timedelta(days=20), Half.AM), _gap(TODAY + timedelta(days=9), Half.PM)],
        n1_halfdays=[HalfDay(TODAY + timedelta(days=30), Half.AM)],
        n2_halfdays=[],
    )
    assert result.level is Level.ORANGE
    assert result.reasons == (
        "ORANGE: gap later in the horizon: clinic at main on 2026-12-10 PM and 1 more",
        "YELLOW: utilization of the next 7 days",
        "YELLOW: N-1 failure later in the horizon: 2026-12-31 AM",
    )


def test_defense_half_day_ends_at_its_clock_end_not_a_minute_later() -> None:
    # This morning ends at 12:00 New York (17:00 UTC): at 11:59 its findings count, at 12:00
    # they count for nothing (an ended half-day, model section 4).
    this_am = HalfDay(TODAY, Half.AM)
    urgent_gap = _gap(TODAY, Half.AM, Category.PATIENT_SAFETY)

    def level(now: datetime, **kw):  # type: ignore[no-untyped-def]
        args = {"gaps": [], "n1_halfdays": [], "n2_halfdays": [], **kw}
        return defense_level(now=now, clock=CLOCK, utilization_level=Level.GREEN, **args).level

    before_noon = datetime(2026, 12, 1, 16, 59, tzinfo=UTC)
    noon = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert level(before_noon, gaps=[urgent_gap]) is Level.BLACK
    assert level(noon, gaps=[urgent_gap]) is Level.GREEN
    assert level(before_noon, n1_halfdays=[this_am]) is Level.ORANGE
    assert level(noon, n1_halfdays=[this_am]) is Level.GREEN
    assert level(before_noon, n2_halfdays=[this_am]) is Level.YELLOW
    assert level(noon, n2_halfdays=[this_am]) is Level.GREEN


def test_defense_urgent_gap_starting_in_exactly_48_hours_is_red() -> None:
    # 2026-12-03 AM starts at 08:00 New York (13:00 UTC). "Within 48 hours" is strict: from
    # 08:00 on 12-01 it is exactly 48 h away (RED), from 08:01 it is 47 h 59 min away (BLACK).
    gap = _gap(TODAY + timedelta(days=2), Half.AM, Category.PATIENT_SAFETY)

    def level(now: datetime) -> Level:
        return defense_level(
            now=now,
            clock=CLOCK,
            utilization_level=Level.GREEN,
            gaps=[gap],
            n1_halfdays=[],
            n2_halfdays=[],
        ).level

    assert level(datetime(2026, 12, 1, 13, 0, tzinfo=UTC)) is Level.RED
    assert level(datetime(2026, 12, 1, 13, 1, tzinfo=UTC)) is Level.BLACK
