"""``residency-scheduler alerts list|ack|resend-failed``: alerts and their deliveries.

``list`` reads (messages as they were sent out: absence types redacted); ``ack`` and
``resend-failed`` act for the caller (``--token`` or RESIDENCY_SCHEDULER_TOKEN), who must be a
coordinator or above; the acknowledgement records the caller's user name.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from sqlalchemy import select

from app.auth.service import require_role
from app.cli.options import JsonOption
from app.cli.output import reported_errors
from app.cli.users import TokenOption, caller_from_cli
from app.core.db import session_scope
from app.models.alert import Alert, AlertStatus
from app.models.delivery import AlertDelivery, Channel
from app.models.user import Role
from app.notifications.delivery import reopen_for_resend
from app.notifications.dispatch import dispatch_deliveries
from app.notifications.render import redact
from app.notifications.service import acknowledge_alert

out = Console(soft_wrap=True, highlight=False, markup=False)  # text as it is, one line per line
alerts_app = typer.Typer(
    help="List and acknowledge alerts; send failed deliveries again.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
OPEN = (AlertStatus.ACTIVE.value, AlertStatus.ACKNOWLEDGED.value)


def shown_target(delivery: AlertDelivery) -> str:
    """Where a delivery goes, as printed: a webhook by scheme and host only (its path or
    query may hold a token)."""
    if delivery.channel == Channel.WEBHOOK.value:
        parts = urlsplit(delivery.target)
        return f"{parts.scheme}://{parts.netloc}/..."
    return delivery.target


def _delivery_json(d: AlertDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event": d.event,
        "channel": d.channel,
        "target": shown_target(d),
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "idempotency_key": d.idempotency_key,
    }


@alerts_app.command("list")
def list_cmd(
    show_all: Annotated[bool, typer.Option("--all", help="Resolved alerts too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Open alerts (or all with --all), newest first, with each delivery's status."""
    with reported_errors(), session_scope() as session:
        query = select(Alert).order_by(Alert.updated_at.desc(), Alert.id.desc())
        if not show_all:
            query = query.where(Alert.status.in_(OPEN))
        alerts = session.scalars(query).all()
        deliveries = session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.alert_id.in_([a.id for a in alerts]))
            .order_by(AlertDelivery.id)
        ).all()
        rows: list[dict[str, Any]] = [
            {
                "id": a.id,
                "level": a.level,
                "status": a.status,
                "message": redact(a.message),
                "dedup_key": a.dedup_key,
                "updated_at": a.updated_at.isoformat(),
                "acknowledged_by": a.acknowledged_by,
                "deliveries": [_delivery_json(d) for d in deliveries if d.alert_id == a.id],
            }
            for a in alerts
        ]
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    if not rows:
        out.print("no open alerts" if not show_all else "no alerts")
        return
    for r in rows:
        ack = f", acknowledged by {r['acknowledged_by']}" if r["acknowledged_by"] else ""
        out.print(f"#{r['id']} {r['level'].upper()} {r['status']}{ack}: {r['message']}")
        for d in r["deliveries"]:
            error = f" ({d['last_error']})" if d["last_error"] else ""
            out.print(
                f"    {d['event']} {d['channel']} {d['target']}: {d['status']},"
                f" {d['attempts']} attempt(s){error}"
            )


@alerts_app.command("ack")
def ack_cmd(
    alert_id: Annotated[int, typer.Argument(metavar="ID", help="The alert's id.")],
    token: TokenOption = None,
) -> None:
    """Acknowledge an alert: it stops repeating until its level rises (coordinator or above)."""
    with reported_errors(), session_scope() as session:
        caller = caller_from_cli(session, token)
        require_role(caller, Role.COORDINATOR)
        alert = acknowledge_alert(session, alert_id, caller.username)
        who = alert.acknowledged_by
    out.print(f"alert {alert_id} acknowledged by {who}", highlight=False)


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
