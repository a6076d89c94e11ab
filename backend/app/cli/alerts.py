"""``residency-scheduler alerts list|ack|resend-failed``: alerts and their deliveries.

``list`` reads (messages as they were sent out: absence types redacted); ``ack`` and
``resend-failed`` act for the caller (``--token`` or RESIDENCY_SCHEDULER_TOKEN), who must be a
coordinator or above; the acknowledgement records the caller's user name.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from app.auth.service import require_role
from app.cli.options import JsonOption
from app.cli.output import OutputConsole, reported_errors
from app.cli.users import TokenOption, caller_from_cli
from app.core.db import session_scope
from app.models.alert import AlertStatus
from app.models.base import shown_utc, utcnow
from app.models.user import Role
from app.notifications.delivery import reopen_for_resend
from app.notifications.dispatch import dispatch_deliveries
from app.notifications.listing import list_alerts
from app.notifications.service import acknowledge_alert

out = OutputConsole(
    soft_wrap=True, highlight=False, markup=False
)  # text as it is, one line per line
alerts_app = typer.Typer(
    help="List and acknowledge alerts; send failed deliveries again.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@alerts_app.command("list")
def list_cmd(
    show_all: Annotated[bool, typer.Option("--all", help="Resolved alerts too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Open alerts (or all with --all), newest first, with each delivery's status."""
    with reported_errors(), session_scope() as session:
        rows, _ = list_alerts(session, include_resolved=show_all, times=not as_json)
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    if not rows:
        out.print("no open alerts" if not show_all else "no alerts")
        return
    for r in rows:
        out.print(f"#{r['id']} {r['level'].upper()} {_state(r)}: {r['message']}")
        for d in r["deliveries"]:
            out.print(f"    {d['event']} {d['channel']} {d['target']}: {d['outcome']}")


def _state(row: dict[str, Any]) -> str:
    """Where an alert stands and, in brackets, what came before, with times in UTC:
    ``acknowledged by casey at 2026-12-07 14:05 UTC (raised 2026-12-07 09:00 UTC)``."""
    raised = f"raised {shown_utc(row['raised_at'])}"
    acknowledged = None
    if row["acknowledged_by"]:
        at = row["acknowledged_at"]  # None: acknowledged before the time was recorded
        acknowledged = f"acknowledged by {row['acknowledged_by']}" + (
            f" at {shown_utc(at)}" if at else ""
        )
    if row["status"] == AlertStatus.RESOLVED:
        before = "; ".join(p for p in (raised, acknowledged) if p)
        return f"resolved at {shown_utc(row['resolved_at'])} ({before})"
    if row["status"] == AlertStatus.ACKNOWLEDGED:
        return f"{acknowledged or 'acknowledged'} ({raised})"
    if acknowledged:  # active with an acknowledgement: its level rose since (service.py)
        return f"active again, its level rose ({raised}; {acknowledged})"
    return f"active since {shown_utc(row['raised_at'])}"


@alerts_app.command("ack")
def ack_cmd(
    alert_id: Annotated[int, typer.Argument(metavar="ID", help="The alert's id.")],
    token: TokenOption = None,
) -> None:
    """Acknowledge an alert: it stops repeating until its level rises (coordinator or above)."""
    with reported_errors(), session_scope() as session:
        caller = caller_from_cli(session, token)
        require_role(caller, Role.COORDINATOR)
        now = utcnow()
        who = acknowledge_alert(session, alert_id, caller.username, now=now).acknowledged_by
    out.print(f"alert {alert_id} acknowledged by {who} at {shown_utc(now)}")


@alerts_app.command("resend-failed")
def resend_failed_cmd(token: TokenOption = None, as_json: JsonOption = False) -> None:
    """Send again every failed delivery, and any left pending over an hour (coordinator+)."""
    with reported_errors():
        with session_scope() as session:
            require_role(caller_from_cli(session, token), Role.COORDINATOR)
        ids = reopen_for_resend()
        queued = dispatch_deliveries(ids)
    if as_json:
        print(json.dumps({"reopened": ids, "queued": queued}))
        return
    out.print(f"{queued} of {len(ids)} delivery(ies) queued again", highlight=False)
