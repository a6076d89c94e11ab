"""The fallback precomputation through a real broker: a group of scenario tasks on two workers
stores exactly what a one-process run stores."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.demo.generator import generate_demo_program
from app.models.fallback import FallbackSchedule
from app.programs.service import import_program
from app.resilience.fallbacks.scenarios import SCENARIOS
from app.resilience.fallbacks.service import precompute_in_process
from tests.support.celery_fixtures import StartWorker

pytestmark = pytest.mark.redis

START = date(2026, 11, 30)
DAYS = 14


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _stored(session: Session) -> dict[str, tuple[str, dict[str, Any]]]:
    rows = session.scalars(select(FallbackSchedule)).all()
    return {
        r.scenario: (r.fingerprint, {k: v for k, v in r.result.items() if k != "timings"})
        for r in rows
    }


def test_precompute_group_on_two_workers_equals_one_process_run(
    engine: Engine, start_celery_worker: StartWorker
) -> None:
    with Session(engine) as session:
        doc = generate_demo_program(seed=5, faculty=12, weeks=4, start=START)
        import_program(session, doc, source="demo", actor="test")
        session.commit()
    extra = {"FALLBACK_SOLVER_WORKERS": "1", "FALLBACK_SOLVER_SEED": "0"}
    first = start_celery_worker(_url(engine), extra_env=extra)
    second = start_celery_worker(_url(engine), extra_env=extra)
    summary = (
        first.client()
        .send_task(
            "app.resilience.tasks.precompute_fallback_schedules",
            kwargs={"days_ahead": DAYS, "start": START.isoformat()},
            queue="resilience",
        )
        .get(timeout=300)
    )
    assert [f["scenario"] for f in summary["fallbacks"]] == [s.name for s in SCENARIOS]
    assert summary["start"] == START.isoformat()
    scenario_task = "app.resilience.tasks.compute_scenario_fallback"
    assert sum(w.log().count(f"{scenario_task}[") for w in (first, second)) >= len(SCENARIOS)
    with Session(engine) as session:
        by_group = _stored(session)
        session.execute(delete(FallbackSchedule))
        settings = Settings(FALLBACK_SOLVER_WORKERS=1, FALLBACK_SOLVER_SEED=0)
        precompute_in_process(session, settings, START, START + timedelta(days=DAYS - 1))
        assert _stored(session) == by_group
        session.rollback()
