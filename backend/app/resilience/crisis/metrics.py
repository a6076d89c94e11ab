"""The crisis metrics of RESILIENCE_MODEL.md section 9, read from the database at each scrape.

A crisis is activated or ended by the API, by a task, or by the command line, whose process
ends a moment later: a gauge set in the process that made the change lived only there (the
CLI's died with it, the API's showed on the API's /metrics alone), so a scraper of the worker
never saw it. The database holds the crisis state, so ``CrisisStateCollector`` reads it when
scraped: whichever process changed it, the next scrape of the worker's ``METRICS_PORT`` or of
the API's ``/metrics`` shows it.

* ``resilience_load_shedding_level``: the active crisis's level, else the automatic shedding in
  force (``autoshed``), else NORMAL (0).
* ``resilience_suspended_activities``: activities suspended by the sacrifice decisions in force
  (crisis and automatic: those the schedule is read without).
* ``resilience_active_fallbacks``: 1 while the active crisis has a fallback laid over the
  schedule.
* ``resilience_crisis_activations_total{severity}`` and
  ``resilience_fallback_activations_total{scenario}``: crisis events, all of them and those that
  laid a fallback (a crisis event has a scenario only then); rows are never deleted, so the
  counts only grow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.core.db import session_scope
from app.core.errors import SchemaNewerThanCode, SchemaOutOfDate
from app.core.metrics import CRISIS_SEVERITIES
from app.domain.shedding import SheddingLevel
from app.models.crisis import CrisisEvent, SacrificeDecision

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrisisState:
    """What the crisis metrics show, as read from the database."""

    shedding_level: SheddingLevel
    suspended_activities: int
    active_fallbacks: int
    activations_by_severity: dict[str, int]
    fallback_activations_by_scenario: dict[str, int]


def read_crisis_state(session: Session) -> CrisisState:
    """The crisis state the metrics show (four small queries)."""
    crisis = session.scalars(
        select(CrisisEvent).where(CrisisEvent.ended_at.is_(None)).order_by(CrisisEvent.id)
    ).first()
    in_force = session.scalars(
        select(SacrificeDecision)
        .where(SacrificeDecision.ended_at.is_(None))
        .order_by(SacrificeDecision.id)
    ).all()
    if crisis is not None:  # while a crisis is active, it decides (autoshed stands aside)
        level = SheddingLevel(crisis.shedding_level)
    else:
        automatic = [d for d in in_force if d.automatic]
        level = SheddingLevel(automatic[-1].level) if automatic else SheddingLevel.NORMAL
    suspended = {a for d in in_force for a in d.suspended_activities.get("activities", ())}
    by_severity = dict.fromkeys(CRISIS_SEVERITIES, 0)
    for severity, count in session.execute(
        select(CrisisEvent.severity, func.count()).group_by(CrisisEvent.severity)
    ):
        by_severity[severity] = count
    by_scenario = {
        str(scenario): int(count)
        for scenario, count in session.execute(
            select(CrisisEvent.scenario, func.count())
            .where(CrisisEvent.scenario.is_not(None))
            .group_by(CrisisEvent.scenario)
        )
    }
    return CrisisState(
        shedding_level=level,
        suspended_activities=len(suspended),
        active_fallbacks=int(crisis is not None and crisis.fallback_id is not None),
        activations_by_severity=by_severity,
        fallback_activations_by_scenario=by_scenario,
    )


def _families(state: CrisisState | None) -> list[Metric]:
    level = GaugeMetricFamily(
        "resilience_load_shedding_level", "Load-shedding level (0 NORMAL .. 5 CRITICAL)"
    )
    suspended = GaugeMetricFamily(
        "resilience_suspended_activities", "Activities suspended by load shedding"
    )
    fallbacks = GaugeMetricFamily("resilience_active_fallbacks", "Fallback schedules in effect")
    activations = CounterMetricFamily(
        "resilience_crisis_activations", "Crisis activations", labels=["severity"]
    )
    fallback_activations = CounterMetricFamily(
        "resilience_fallback_activations", "Fallback activations", labels=["scenario"]
    )
    if state is not None:
        level.add_metric([], state.shedding_level.rank)
        suspended.add_metric([], state.suspended_activities)
        fallbacks.add_metric([], state.active_fallbacks)
        for severity, count in sorted(state.activations_by_severity.items()):
            activations.add_metric([severity], count)
        for scenario, count in sorted(state.fallback_activations_by_scenario.items()):
            fallback_activations.add_metric([scenario], count)
    return [level, suspended, fallbacks, activations, fallback_activations]


class CrisisStateCollector(Collector):
    """The crisis metrics, read from the database at each scrape; no sample when it does not
    answer or its schema is not the code's (a wrong value would be worse than a gap)."""

    def describe(self) -> Iterator[Metric]:
        # Registration asks for the names only: no database query then.
        yield from _families(None)

    def collect(self) -> Iterator[Metric]:
        try:
            with session_scope() as session:
                state = read_crisis_state(session)
        except (SQLAlchemyError, SchemaOutOfDate, SchemaNewerThanCode) as exc:
            logger.warning("crisis metrics not read: %s", type(exc).__name__)
            return
        yield from _families(state)
