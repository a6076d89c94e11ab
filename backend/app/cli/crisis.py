"""``crisis activate|deactivate|status``: the crisis response from the command line.

Activation and deactivation act for the caller, whose token (``--token`` or
RESIDENCY_SCHEDULER_TOKEN) must belong to a program director or admin (exit 4 otherwise).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from app.cli.options import JsonOption
from app.cli.output import OutputConsole, reported_errors
from app.cli.users import TokenOption, caller_from_cli
from app.core.db import session_scope
from app.models.base import shown_time
from app.notifications.dispatch import dispatch_alert_notifications
from app.resilience.crisis.service import (
    activate_crisis,
    crisis_json,
    crisis_status,
    deactivate_crisis,
)

out = OutputConsole(soft_wrap=True, highlight=False, markup=False)
crisis_app = typer.Typer(
    help="Activate, deactivate and show the crisis response.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded and audited).")]


@crisis_app.command("activate")
def activate_cmd(
    severity: Annotated[
        str, typer.Option("--severity", help="minor, moderate, severe or critical.")
    ],
    reason: ReasonOption,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="Lay this scenario's fallback (default: best match)."),
    ] = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Activate the crisis response: shed by severity, lay a ready fallback over the schedule,
    notify the affected people. The same activation twice activates once."""
    with reported_errors(), session_scope() as session:
        caller = caller_from_cli(session, token)
        outcome = activate_crisis(session, severity, reason, caller, scenario)
        view = {**crisis_json(session, outcome.crisis), "activated_now": outcome.created}
        view["notices"] = outcome.notices
    dispatch_alert_notifications(outcome.alerts)
    if as_json:
        print(json.dumps(view, indent=1))
        return
    if not outcome.created:
        out.print(f"crisis {view['id']} is already active with this request: nothing changed")
    _print(view)


@crisis_app.command("deactivate")
def deactivate_cmd(reason: ReasonOption, token: TokenOption = None) -> None:
    """End the active crisis: restore what was suspended and replaced, notify the people."""
    with reported_errors(), session_scope() as session:
        caller = caller_from_cli(session, token)
        outcome = deactivate_crisis(session, reason, caller)
        view = crisis_json(session, outcome.crisis)
    dispatch_alert_notifications(outcome.alerts)
    out.print(f"crisis {view['id']} ended by {view['ended_by']}; {outcome.notices} notice(s)")


@crisis_app.command("status")
def status_cmd(as_json: JsonOption = False) -> None:
    """The crisis in force, or the last one."""
    with reported_errors(), session_scope() as session:
        status = crisis_status(session)
    if as_json:
        print(json.dumps(status, indent=1))
    elif status["crisis"] is None:
        out.print("no crisis has been activated")
    else:
        out.print("ACTIVE" if status["active"] else "no crisis is active; the last one:")
        _print(status["crisis"])


def _print(view: dict[str, Any]) -> None:
    out.print(
        f"crisis {view['id']}: {view['severity']} (shedding {view['shedding_level']}), approved"
        f" by {view['approved_by']} at {shown_time(view['activated_at'])}"
    )
    out.print(f"  reason: {view['reason']}")
    out.print(f"  fallback: {view['fallback_choice']}")
    suspended = view["suspended_activities"]
    out.print(f"  suspended: {', '.join(suspended) if suspended else 'nothing'}")
    if view["ended_at"]:
        ended = shown_time(view["ended_at"])
        out.print(f"  ended {ended} by {view['ended_by']}: {view['end_reason']}")
