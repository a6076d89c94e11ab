"""The overview's 90-day chart: levels, days to watch, geometry, and when it is rebuilt."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.models.user import Role
from app.resilience.health.levels import UtilizationThresholds
from app.web.chart import BOTTOM, HEIGHT, TOP, build_chart
from tests.api.conftest import bearer
from tests.web.conftest import sign_in

DAY = date(2027, 3, 1)


def test_levels_and_days_to_watch_follow_the_thresholds() -> None:
    rates = {DAY: 0.5, DAY + timedelta(1): 0.85, DAY + timedelta(3): 0.97, DAY + timedelta(4): 0.79}
    chart = build_chart(DAY, 5, rates, UtilizationThresholds(), [DAY + timedelta(2)])
    assert [d.level for d in chart.days] == ["GREEN", "ORANGE", "GREEN", "BLACK", "YELLOW"]
    # ORANGE or worse, or a day with a finding (day 2 has no rate at all).
    assert [d.day for d in chart.days_to_watch] == [DAY + timedelta(n) for n in (1, 2, 3)]
    assert chart.peak is not None and chart.peak.day == DAY + timedelta(3)
    assert len(chart.points.split()) == 4  # the day without a rate is left out
    bottom = HEIGHT - BOTTOM
    zero = build_chart(DAY, 1, {DAY: 0.0}, UtilizationThresholds())
    assert zero.days[0].y == bottom
    full = build_chart(DAY, 1, {DAY: zero.y_max}, UtilizationThresholds())
    assert full.days[0].y == TOP
    assert [b.level for b in chart.bands] == ["YELLOW", "ORANGE", "RED", "BLACK"]
    assert all(b.height > 0 for b in chart.bands)


def test_chart_is_rebuilt_after_a_schedule_change_only(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    sign_in(client, tokens[Role.COORDINATOR])
    cache = client.app.state.chart_cache  # type: ignore[attr-defined]
    client.get("/")
    first = cache["chart"]
    client.get("/")
    assert cache["chart"] is first
    person = next(p["id"] for p in demo_program["people"] if p["kind"] == "faculty")
    day = (first.days[0].day + timedelta(days=1)).isoformat()
    body = {"person_id": person, "start": day, "end": day, "type": "vacation"}
    added = client.post("/api/v1/absences", json=body, headers=bearer(tokens[Role.COORDINATOR]))
    assert added.status_code == 201
    client.get("/")
    assert cache["chart"] is not first
