"""``generate_utilization_forecast`` through a real broker: a real worker on Redis."""

from __future__ import annotations

from datetime import date

import pytest
from celery import Celery
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.demo.generator import generate_demo_program
from app.models.resilience import UtilizationForecast
from app.programs.service import import_program
from tests.support.celery_fixtures import CeleryWorkerProcess

pytestmark = pytest.mark.redis

TASK = "app.resilience.tasks.generate_utilization_forecast"


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    with Session(engine) as session:
        doc = generate_demo_program(seed=5, faculty=12, weeks=4, start=date.today())
        import_program(session, doc, source="demo", actor="test")
        session.commit()
    return engine


@pytest.fixture
def celery_database_url(demo_engine: Engine) -> str:
    return demo_engine.url.render_as_string(hide_password=False)


def test_forecast_task_runs_through_broker_and_refuses_bad_input(
    demo_engine: Engine, celery_worker_proc: CeleryWorkerProcess, celery_client: Celery
) -> None:
    # The seed's example: generate_utilization_forecast.apply_async(kwargs={'days_ahead': 30}).
    summary = celery_client.send_task(TASK, kwargs={"days_ahead": 30}, queue="resilience").get(
        timeout=180
    )
    assert summary["created"] is True and summary["samples"] == 10_000
    with Session(demo_engine) as session:
        row = session.get(UtilizationForecast, summary["forecast_id"])
        assert row is not None
        assert len(row.result["days"]) == 30
        assert row.worst_level == summary["worst_level"]
        # Four weeks of schedule: the rest of the 30 days comes from the typical week.
        assert row.result["extrapolated"] is not None

    bad = celery_client.send_task(TASK, kwargs={"days_ahead": 0}, queue="resilience")
    with pytest.raises(Exception, match="days_ahead must be from 1"):
        bad.get(timeout=60)
    with Session(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(UtilizationForecast)) == 1
