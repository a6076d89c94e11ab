"""Celery tasks of the resilience engine (queue ``resilience``).

Tasks are thin (CONVENTIONS.md rule 2): they take primitives, open one transaction, call the
service layer and return a small JSON dict. Only tasks that are fully real are defined here;
the beat entries of the others are switched on as their tasks arrive.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

import redis.exceptions
from celery import Task, chord
from celery.exceptions import Ignore
from kombu.exceptions import OperationalError as BrokerOperationalError
from sqlalchemy.exc import DBAPIError, OperationalError

from app.auth.service import user_with_role
from app.core import metrics
from app.core.celery_app import TRANSIENT_ERRORS, celery_app
from app.core.celery_app import BackoffTask as ResilienceTask
from app.core.claims import ClaimMissing, ClaimStore, claim_store
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import NoSchedule
from app.domain.snapshot import require_schedule
from app.domain.snapshot_json import snapshot_from_json, snapshot_to_json
from app.models.base import utcnow
from app.models.user import Role
from app.notifications.dispatch import dispatch_alert_notifications
from app.notifications.messages import check_details, check_level, check_message
from app.notifications.service import raise_alert
from app.resilience.contingency.chord import (
    ChordPlan,
    analyze_payload,
    merge_and_store,
    plan_chord,
)
from app.resilience.contingency.chunks import chunk_dates
from app.resilience.contingency.service import (
    contingency_window,
    is_standard_window,
    run_contingency_report,
)
from app.resilience.contingency.stream import open_stream
from app.resilience.crisis.autoshed import apply_auto_shedding
from app.resilience.crisis.service import activate_crisis, crisis_json
from app.resilience.fallbacks.scenarios import SCENARIOS, Ranking, scenario_named
from app.resilience.fallbacks.service import (
    fallback_summary,
    fallback_window,
    prepare_fallbacks,
    solver_options,
    store_scenario_fallback,
)
from app.resilience.forecast.service import publish_forecast_metrics, run_forecast
from app.resilience.health.service import (
    publish_health_metrics,
    run_health_check,
)
from app.resilience.reports import (
    ReportOutcome,
    has_report_of,
    publish_contingency_metrics,
)
from app.resilience.retention import prune_old_records as prune_records

logger = logging.getLogger(__name__)


class HealthCheckTask(ResilienceTask):
    """The health check: one failure counted per task that finally fails, not per attempt."""

    def on_failure(self, exc: BaseException, *args: Any, **kwargs: Any) -> None:
        metrics.health_check_failures.labels(reason=_failure_reason(exc)).inc()
        super().on_failure(exc, *args, **kwargs)


class ContingencyTask(ResilienceTask):
    """The daily analysis and its merge: when one finally fails on a passing error (its retries
    spent on a database or broker outage) or the merge finds its chunks' claims gone
    (``ClaimMissing``), the analysis is started again later, at most
    ``CONTINGENCY_RERUN_MAX`` times, ``CONTINGENCY_RERUN_DELAY_S`` apart, so that an outage
    longer than the retry budget does not cost the day's report."""

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        super().on_failure(exc, task_id, args, kwargs, einfo)
        # A passing outage, or the merge's inputs gone from the result backend (expired, or a
        # Redis restarted without them): a new run reads and sends them again.
        if isinstance(exc, (*TRANSIENT_ERRORS, ClaimMissing)):
            days_ahead, start = _horizon_of(self.name, args, kwargs)
            alerts = kwargs.get("alerts")
            _rerun_analysis(
                days_ahead,
                start,
                int(kwargs.get("rerun", 0)),
                None if alerts is None else bool(alerts),
            )


def _horizon_of(
    task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[int | None, str | None]:
    """``(days_ahead, start)`` of the analysis a failed call of ``task_name`` belongs to."""
    if task_name == merge_contingency_chunks.name:
        first, last = (date.fromisoformat(d) for d in args[1:3])
        return (last - first).days + 1, first.isoformat()
    call = dict(zip(("days_ahead", "start"), args, strict=False)) | kwargs
    return call.get("days_ahead"), call.get("start")


def _rerun_analysis(
    days_ahead: int | None, start: str | None, rerun: int, alerts: bool | None = None
) -> None:
    """Send the analysis of that horizon again, later, if re-runs are left (``alerts``: as
    the failed run decided, so that a re-run of the standard horizon still reconciles them)."""
    settings = get_settings()
    again: dict[str, Any] = {"days_ahead": days_ahead, "start": start}
    if alerts is not None:
        again["alerts"] = alerts
    if rerun >= settings.CONTINGENCY_RERUN_MAX:
        logger.error("contingency analysis %s failed; no re-run left (%s made)", again, rerun)
        return
    try:
        run_contingency_analysis.apply_async(
            kwargs=again | {"rerun": rerun + 1}, countdown=settings.CONTINGENCY_RERUN_DELAY_S
        )
    except Exception:  # the broker may be the thing that is down: say so, do not mask exc
        logger.exception("contingency analysis %s: re-run not sent", again)
        return
    logger.warning(
        "contingency analysis %s failed; re-run %s of %s in %s s",
        again,
        rerun + 1,
        settings.CONTINGENCY_RERUN_MAX,
        settings.CONTINGENCY_RERUN_DELAY_S,
    )


RETRY_POLICY: dict[str, Any] = {
    "base": ResilienceTask,
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": get_settings().TASK_RETRY_MAX,
    "retry_backoff": False,
}


def _failure_reason(exc: BaseException) -> str:
    """A bounded label value for the failure counter."""
    if isinstance(exc, OperationalError | DBAPIError):
        return "database"
    if isinstance(exc, redis.exceptions.RedisError | BrokerOperationalError):
        return "broker"
    if type(exc).__name__ in {"SoftTimeLimitExceeded", "TimeLimitExceeded"}:
        return "timeout"
    return "error"


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.periodic_health_check",
    bind=True,
    **(RETRY_POLICY | {"base": HealthCheckTask}),
)
def periodic_health_check(self: Task) -> dict[str, Any]:
    """Check utilization, gaps, N-1/N-2 and the defense level of the coming days.

    Stores a health-check record, updates the Prometheus gauges and raises an alert when the
    defense level is YELLOW or worse. Returns the record's summary. A redelivered message (the
    same task id) finds its record and changes nothing: no second record, no alert bump.
    With no published schedule (``NoSchedule``) there is nothing to judge: no record, no
    alert, no gauge; a warning is logged and ``{"status": "no_schedule", ...}`` returned.
    """
    try:
        with session_scope() as session:
            outcome = run_health_check(session, task_id=self.request.id)
    except NoSchedule as exc:
        return _no_schedule("health check", exc)
    dispatch_alert_notifications(outcome.alerts)
    publish_health_metrics(outcome)
    settings = get_settings()
    if settings.AUTO_SHED_LOAD:  # after the record is committed: it is the newest observation
        with session_scope() as session:
            apply_auto_shedding(session, settings, utcnow())
    summary = outcome.summary()
    logger.info(
        "health check: defense %s, utilization %s (%s), %s gap slot(s), N-1 %s, N-2 %s",
        summary["defense_level"],
        summary["utilization"],
        summary["utilization_level"],
        summary["gap_slots"],
        summary["n1_status"],
        summary["n2_status"],
    )
    return summary


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.run_contingency_analysis",
    bind=True,
    **(RETRY_POLICY | {"base": ContingencyTask}),
)
def run_contingency_analysis(
    self: Task,
    days_ahead: int | None = None,
    start: str | None = None,
    rerun: int = 0,
    alerts: bool | None = None,
) -> dict[str, Any]:
    """Exact N-1/N-2 analysis of the next ``days_ahead`` days, stored as a report.

    ``days_ahead`` None means ``CONTINGENCY_DAYS`` (90); ``start`` None means today on the
    program's clock. ``alerts``: reconcile the N-1 alerts with the result (None: only for the
    standard horizon, ``is_standard_window``; a re-run after a failure carries the decision).
    This task reads the schedule's rows once and takes their fingerprint first: on unchanged
    input it returns the stored report's summary and sends nothing. With no report of the
    window stored at all (the day's first run), there is nothing to reuse: the chord is sent
    first and the rows are read as its chunks run (``contingency.stream``). A
    horizon longer than ``CONTINGENCY_CHUNK_DAYS`` is split into date chunks analysed as a
    Celery chord across the workers: each chunk gets its part of the rows as JSON
    (``ScheduleRows.to_json``: assignments grouped), so the report describes one state; this
    task is replaced by the chord, so its result is the merged report's summary. Shorter
    horizons run here in one piece. ``rerun`` counts the times the analysis was started again
    after a failure (``ContingencyTask``). With no published schedule it stores nothing, logs
    a warning and returns ``{"status": "no_schedule", ...}``.
    """
    settings = get_settings()
    store = _claim_store()
    with session_scope() as session:
        first, last = contingency_window(
            session,
            settings,
            days_ahead=days_ahead,
            start=date.fromisoformat(start) if start else None,
            now=utcnow(),
        )
        try:
            require_schedule(session)  # checked again by either path below: stop here
        except NoSchedule as exc:
            return _no_schedule("contingency analysis", exc)
        chunks = chunk_dates(first, last, settings.CONTINGENCY_CHUNK_DAYS)
        days = (last - first).days + 1
        if alerts is None:
            alerts = is_standard_window(
                settings, days_ahead, date.fromisoformat(start) if start else None
            )
        planned: ReportOutcome | ChordPlan
        if len(chunks) == 1:
            planned = run_contingency_report(session, start=first, days_ahead=days, alerts=alerts)
        elif (
            store is not None
            and not self.request.is_eager
            and not has_report_of(session, first, last)
        ):
            # Nothing to reuse: the chord goes first, its chunks start as their parts are read.
            stream = open_stream(session, first, last, chunks, store)
            try:
                raise self.replace(_chord(first, last, chunks, stream.plan, rerun, alerts))
            except Ignore:  # replaced: the chord is sent and owns this task's result
                try:
                    stream.read(session)
                except Exception:  # its chunks fail at once; the chord's errback runs again
                    logger.exception(
                        "contingency analysis %s..%s: reading the schedule failed", first, last
                    )
                raise
            except Exception as exc:  # not sent, or only in part: this task is retried
                stream.abort(f"sending its chord failed: {type(exc).__name__}")
                raise
        else:
            planned = plan_chord(session, first, last, chunks, alerts=alerts, store=store)
    if isinstance(planned, ReportOutcome):
        dispatch_alert_notifications(planned.alerts)
        publish_contingency_metrics(planned)
        return planned.summary()
    raise self.replace(_chord(first, last, chunks, planned, rerun, alerts))


def _chord(
    first: date,
    last: date,
    chunks: list[tuple[date, date]],
    plan: ChordPlan,
    rerun: int,
    alerts: bool,
) -> Any:
    """The chord of ``plan``: a chunk task per date range, then the merge."""
    callback = merge_contingency_chunks.s(
        first.isoformat(),
        last.isoformat(),
        plan.fingerprint,
        plan.names,
        plan.unscheduled,
        rerun=rerun,
        alerts=alerts,
        claims=plan.claims,
        unscheduled_before=plan.unscheduled_before,
    ).on_error(contingency_chord_failed.s(first.isoformat(), last.isoformat(), rerun, alerts))
    header = [
        analyze_contingency_chunk.s(a.isoformat(), b.isoformat(), payload)
        for (a, b), payload in zip(chunks, plan.payloads, strict=True)
    ]
    return chord(header, callback)


def _no_schedule(what: str, exc: NoSchedule) -> dict[str, Any]:
    """What a periodic task does with no published schedule: nothing stored, a warning."""
    logger.warning("%s skipped: %s", what, exc)
    return {"status": "no_schedule", "reason": str(exc)}


def _claim_store() -> ClaimStore | None:
    """Where the contingency chord keeps its payloads: the result backend if it is Redis."""
    return claim_store(celery_app.backend, get_settings().RESULT_CHORD_EXPIRES_S)


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.analyze_contingency_chunk", bind=True, **RETRY_POLICY
)
def analyze_contingency_chunk(
    self: Task,
    start: str,
    end: str,
    snapshot: dict[str, Any],
) -> dict[str, Any]:
    """Analyse one date chunk of the horizon: pure, no database (safe to run twice).

    Args:
        start, end: the chunk's first and last date (ISO).
        snapshot: the schedule of those dates, ``ScheduleRows.to_json(start, end)`` (the form
            ``snapshot_to_json`` writes), or ``{"claims": [shared, window]}``: claims
            (``app.core.claims``) of its ``shared_json`` and ``window_json`` parts.

    Returns:
        ``ChunkAnalysis.to_json()``: the chunk's result and grant effects; with a Redis result
        backend, a claim of it (the merge reads it from there).
    """
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return analyze_payload(first, last, snapshot, _claim_store())


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.merge_contingency_chunks",
    bind=True,
    **(RETRY_POLICY | {"base": ContingencyTask}),
)
def merge_contingency_chunks(
    self: Task,
    chunks: list[dict[str, Any]],
    start: str,
    end: str,
    fingerprint: str,
    names: dict[str, Any],
    unscheduled: list[str] | None = None,
    rerun: int = 0,
    alerts: bool = True,
    claims: list[dict[str, str]] | None = None,
    unscheduled_before: list[str] | None = None,
) -> dict[str, Any]:
    """Merge the chunk analyses of a chord, store the report and reconcile alerts (idempotent;
    ``alerts`` False: the window is not the standard horizon, the alerts are left alone).

    Reads no schedule: the result and cross-training ranking come from the chunks (their
    ``ChunkAnalysis`` JSON, or claims of it), the input ``fingerprint`` and ``names`` (person
    id to name, to word the alerts, or a claim of that map) from the parent's rows.
    ``claims``: the chunks' payloads and the names kept in the result backend, deleted with
    the chunks' own once the report is stored.
    """
    return merge_and_store(
        chunks,
        date.fromisoformat(start),
        date.fromisoformat(end),
        fingerprint=fingerprint,
        names=names,
        unscheduled=unscheduled,
        unscheduled_before=unscheduled_before,
        alerts=alerts,
        claims=claims or [],
        store=_claim_store(),
    )


@celery_app.task(name="app.resilience.tasks.contingency_chord_failed")  # type: ignore[untyped-decorator]
def contingency_chord_failed(
    request: Any,
    exc: BaseException,
    traceback: Any,
    start: str,
    end: str,
    rerun: int = 0,
    alerts: bool | None = None,
) -> None:
    """Error callback of the daily chord: a chunk failed for good, so start the analysis again.

    Celery calls it in the worker that saw the failure with the failed request, the exception
    and its traceback. A failure of the merge itself is handled by the merge
    (``ContingencyTask``); only a failed chunk (Celery's ``ChordError``) is handled here, so a
    horizon is never started twice for one failure. At most ``CONTINGENCY_RERUN_MAX`` times.
    """
    if type(exc).__name__ != "ChordError":
        return
    logger.warning("contingency chunk of %s..%s failed: %s", start, end, exc)
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    _rerun_analysis((last - first).days + 1, start, rerun, alerts)


# --- Fallback schedules (RESILIENCE_MODEL.md section 6) -----------------------------------------


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.precompute_fallback_schedules", bind=True, **RETRY_POLICY
)
def precompute_fallback_schedules(
    self: Task, days_ahead: int | None = None, start: str | None = None
) -> dict[str, Any]:
    """Prepare every scenario's fallback for the next ``days_ahead`` days (weekly, Sunday 03:00).

    ``days_ahead`` None means ``FALLBACK_DAYS`` (90); ``start`` None today on the program's
    clock. Loads the schedule once, finds the contingency ranking, and fans the scenarios out
    as a Celery group (one task per scenario, each handed the same schedule as JSON) whose
    callback returns the summary; the task is replaced by that chord. A scenario whose input
    is unchanged reuses its stored fallback.
    """
    with session_scope() as session:
        first, last = fallback_window(
            session,
            get_settings(),
            days_ahead=days_ahead,
            start=date.fromisoformat(start) if start else None,
            now=utcnow(),
        )
        snapshot, ranking = prepare_fallbacks(session, first, last)
    data = snapshot_to_json(snapshot, first, last)
    losses = {"critical": list(ranking.critical), "pair": list(ranking.pair)}
    header = [
        compute_scenario_fallback.s(s.name, first.isoformat(), last.isoformat(), data, losses)
        for s in SCENARIOS
    ]
    raise self.replace(chord(header, summarize_fallbacks.s(first.isoformat(), last.isoformat())))


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.compute_scenario_fallback", bind=True, **RETRY_POLICY
)
def compute_scenario_fallback(
    self: Task,
    scenario: str,
    start: str,
    end: str,
    snapshot: dict[str, Any],
    losses: dict[str, list[str]],
) -> dict[str, Any]:
    """Compute and store one scenario's fallback (idempotent: same input, same stored row)."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    ranking = Ranking(tuple(losses["critical"]), tuple(losses["pair"]))
    with session_scope() as session:
        row, created = store_scenario_fallback(
            session,
            scenario_named(scenario),
            snapshot_from_json(snapshot),
            first,
            last,
            ranking,
            solver_options(get_settings()),
        )
        summary = fallback_summary(row, stale=False, created=created)
    return summary


@celery_app.task(name="app.resilience.tasks.summarize_fallbacks")  # type: ignore[untyped-decorator]
def summarize_fallbacks(results: list[dict[str, Any]], start: str, end: str) -> dict[str, Any]:
    """The summary of a precomputation: one line per scenario."""
    metrics.last_success.labels(task="precompute_fallback_schedules").set(time.time())
    logger.info(
        "fallbacks %s..%s: %s",
        start,
        end,
        ", ".join(f"{r['scenario']} {r['uncovered_slots']} uncovered" for r in results),
    )
    return {"start": start, "end": end, "fallbacks": results}


# --- Crisis response (RESILIENCE_MODEL.md sections 5 and 8) -------------------------------------


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.activate_crisis_response", bind=True, **RETRY_POLICY
)
def activate_crisis_response(
    self: Task, severity: str, reason: str, approved_by: str, scenario: str | None = None
) -> dict[str, Any]:
    """Activate the crisis response, approved by the user ``approved_by``.

    ``approved_by`` must name an enabled user with the program director or admin role; an
    unknown severity, scenario or approver, a crisis already active or a stale fallback is
    refused (``PermissionDenied`` or ``InputError``, not retried) and nothing is written. The
    same activation sent twice activates once (the second returns the crisis in force).
    """
    with session_scope() as session:
        approver = user_with_role(session, approved_by, Role.PROGRAM_DIRECTOR)
        outcome = activate_crisis(session, severity, reason, approver, scenario)
        summary = {**crisis_json(session, outcome.crisis), "activated_now": outcome.created}
    dispatch_alert_notifications(outcome.alerts)
    return summary


# --- Utilization forecast (RESILIENCE_MODEL.md section 7) ---------------------------------------


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.generate_utilization_forecast", bind=True, **RETRY_POLICY
)
def generate_utilization_forecast(self: Task, days_ahead: int | None = None) -> dict[str, Any]:
    """Forecast utilization, level and shortfall probability of the next ``days_ahead`` days.

    ``days_ahead`` None means ``FORECAST_DAYS`` (90). Stores a forecast record with its
    high-risk periods and raises (or resolves) the forecast alert in the same transaction. A
    redelivered message (the same task id) finds its record and changes nothing. A bad
    ``days_ahead`` fails at once (``InputError``, not retried) and stores nothing. With no
    published schedule it stores nothing, logs a warning and returns ``{"status":
    "no_schedule", ...}``.
    """
    try:
        with session_scope() as session:
            outcome = run_forecast(session, days_ahead=days_ahead, task_id=self.request.id)
    except NoSchedule as exc:
        return _no_schedule("forecast", exc)
    dispatch_alert_notifications(outcome.alerts)
    publish_forecast_metrics(outcome)
    summary = outcome.summary()
    logger.info(
        "forecast %s..%s: worst level %s, max shortfall probability %s, %s high-risk day(s)",
        summary["start"],
        summary["end"],
        summary["worst_level"],
        summary["max_shortfall_probability"],
        summary["high_risk_days"],
    )
    return summary


# --- retention (issue 12) ----------------------------------------------------------------------


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.prune_old_records", bind=True, **RETRY_POLICY
)
def prune_old_records(self: Task) -> dict[str, Any]:
    """Delete health checks, old contingency reports, resolved alerts (and what else
    ``app.resilience.retention.PRUNED`` lists) older than ``RETENTION_DAYS``.

    Idempotent: a second run finds nothing older than the cutoff. Returns rows deleted per table.
    """
    with session_scope() as session:
        deleted = prune_records(session, utcnow(), get_settings().RETENTION_DAYS)
    logger.info("pruned records older than %s days: %s", get_settings().RETENTION_DAYS, deleted)
    return deleted


# --- alerts (issue 10) ---------------------------------------------------------------------------


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.send_resilience_alert", bind=True, **RETRY_POLICY
)
def send_resilience_alert(
    self: Task, level: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Store an alert and, when it should notify, send it to its channels by level.

    The alert goes through ``raise_alert`` (dedup key ``details['dedup_key']``, else derived
    from the message; RESILIENCE_MODEL.md section 8 decides whether it notifies), and its
    deliveries are sent after the commit (``dispatch_alert_notifications``). Bad input (an
    unknown level, details that are not a JSON object) fails with ``InputError``: nothing is
    stored or sent.

    Returns:
        ``{"alert_id", "created", "notified", "deliveries"}``.
    """
    level = check_level(level)
    message = check_message(message)
    details = check_details(details)
    with session_scope() as session:
        outcome = raise_alert(session, level, message, details)
    queued = dispatch_alert_notifications([outcome])
    return {
        "alert_id": outcome.alert_id,
        "created": outcome.created,
        "notified": outcome.should_notify,
        "deliveries": queued,
    }
