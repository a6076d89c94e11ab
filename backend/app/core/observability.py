"""Errors to Sentry when ``SENTRY_DSN`` is set: worker, beat and CLI (and the API when it lands).

``init_sentry`` is called once per process that starts: the worker's main process (its
prefork children inherit the client; sentry-sdk restarts its sending thread after a fork),
beat, and the command line. The Celery integration reports each task that fails for good
with the task's name, id and arguments; events carry no local variables and no personal data
(``send_default_pii`` off), so a password held in a variable never leaves the machine. Without
``SENTRY_DSN`` nothing is imported or sent.
"""

from __future__ import annotations

from app.core.config import get_settings


def init_sentry(component: str) -> bool:
    """Start sending errors to Sentry if ``SENTRY_DSN`` is set.

    Args:
        component: ``worker``, ``beat``, ``cli`` or ``api``; sent as the ``component`` tag.

    Returns:
        Whether Sentry was set up.
    """
    settings = get_settings()
    if not settings.SENTRY_DSN:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.ENVIRONMENT,
        integrations=[CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        # Errors only: no performance traces leave the machine.
        traces_sample_rate=0.0,
    )
    sentry_sdk.set_tag("component", component)
    return True
