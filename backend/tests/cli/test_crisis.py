"""``crisis activate|deactivate|status``: exit codes of refusals, twice activates once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from app.cli.main import app as cli_app
from tests.cli.test_readme import demo_data_dir

__all__ = ["demo_data_dir"]


def _token(runner: CliRunner, user: str, role: str) -> str:
    assert runner.invoke(cli_app, ["users", "add", user, "--role", role]).exit_code == 0
    made = runner.invoke(cli_app, ["tokens", "create", user])
    return next(line for line in made.stdout.splitlines() if line.startswith("rs_"))


def test_crisis_commands_refuse_with_exit_codes_and_activate_once(demo_data_dir: Path) -> None:
    runner = CliRunner()
    director = _token(runner, "pat", "program_director")
    coordinator = _token(runner, "casey", "coordinator")

    def crisis(*args: str, token: str | None = director) -> tuple[int, str, str]:
        argv = ["crisis", *args] + (["--token", token] if token else [])
        result = runner.invoke(cli_app, argv)
        return result.exit_code, result.stdout, result.stderr

    activate = ("activate", "--severity", "moderate", "--reason", "ice storm")
    assert crisis(*activate, token=None)[0] == 4
    code, _, err = crisis(*activate, token=coordinator)
    assert code == 4 and "program_director" in err
    code, _, err = crisis("activate", "--severity", "dire", "--reason", "x")
    assert code == 2 and "unknown severity 'dire'" in err
    code, _, err = crisis(*activate, "--scenario", "flood")
    assert code == 2 and "unknown scenario 'flood'" in err
    status = json.loads(crisis("status", "--json", token=None)[1])
    assert status == {"active": False, "crisis": None}  # the refusals wrote nothing

    code, out, _ = crisis(*activate, "--json")
    assert code == 0 and json.loads(out)["activated_now"] is True
    code, out, _ = crisis(*activate, "--json")
    assert code == 0 and json.loads(out)["activated_now"] is False
    code, _, err = crisis("activate", "--severity", "severe", "--reason", "other")
    assert code == 2 and "already active" in err
    assert json.loads(crisis("status", "--json", token=None)[1])["active"] is True
    assert crisis("deactivate", "--reason", "thawed")[0] == 0
    _assert_times_carry_utc_offset(crisis("status", "--json", token=None)[1],
                                   crisis("status", token=None)[1])  # fmt: skip
    assert crisis("deactivate", "--reason", "again")[0] == 3


def _assert_times_carry_utc_offset(as_json: str, as_text: str) -> None:
    """``crisis status`` gives its start and end with their UTC offset in JSON, and in UTC to
    the minute in text, as every readable view (``2026-12-02 11:45 UTC``)."""
    crisis = json.loads(as_json)["crisis"]
    for key in ("activated_at", "ended_at"):
        moment = datetime.fromisoformat(crisis[key])
        assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0), crisis[key]
        assert crisis[key].endswith("+00:00") and crisis[key] not in as_text
        assert f"{moment:%Y-%m-%d %H:%M} UTC" in as_text
    assert crisis["activated_at"] <= crisis["ended_at"]
