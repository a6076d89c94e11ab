"""Users, roles and API tokens, shared by the CLI and the HTTP API.

``tokens`` makes tokens and their digests; ``service`` adds and disables users, creates,
lists and revokes tokens, and turns a token into its user (``authenticate``) and a user into a
yes or no for an action (``require_role``). The CLI's caller (``--token`` or
RESIDENCY_SCHEDULER_TOKEN) is ``app.cli.users.caller_from_cli``.
"""
