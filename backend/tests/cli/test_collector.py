"""The cyclic collector around commands: on by default; off to the end for the commands that
ask for it (``collector_off_for_command``), then everything frozen and the collector restored
by the command line's ``main``; restored at once when there is no ``main`` (a test's runner)."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import main as cli_main
from app.cli.main import app as cli_app
from app.core import gcpause
from app.core.gcpause import collector_off_for_command


class _Command:
    """Stands for the click command: records the collector's state, inside an opted-in block
    when ``opts_in``, and after it."""

    def __init__(self, opts_in: bool, fail: bool) -> None:
        self.opts_in, self.fail = opts_in, fail
        self.collecting: list[bool] = []

    def __call__(self, **_: Any) -> None:
        self.collecting.append(gc.isenabled())
        if self.opts_in:
            with collector_off_for_command():
                self.collecting.append(gc.isenabled())
            self.collecting.append(gc.isenabled())  # left off: main ends it
        if self.fail:
            raise SystemExit(2)


@pytest.mark.parametrize("fail", [False, True], ids=["ends", "exits-2"])
@pytest.mark.parametrize("opts_in", [False, True], ids=["default", "opts-in"])
@pytest.mark.parametrize("before", [True, False], ids=["enabled", "disabled"])
def test_main_restores_the_collector_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch, fail: bool, opts_in: bool, before: bool
) -> None:
    command = _Command(opts_in, fail)
    monkeypatch.setattr("typer.main.get_command", lambda _app: command)
    (gc.enable if before else gc.disable)()
    try:
        if fail:
            with pytest.raises(SystemExit):
                cli_main(["anything"])
        else:
            cli_main(["anything"])
        after = gc.isenabled()
    finally:
        gc.enable()
    assert command.collecting == ([before, False, False] if opts_in else [before])
    assert after is before
    assert not gcpause.freeze_at_exit


def test_collector_is_back_at_once_without_main() -> None:
    assert gc.isenabled()
    with collector_off_for_command():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_contingency_command_analyses_with_the_collector_off(
    demo_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import analyze

    seen: list[bool] = []
    real = analyze.run_contingency_report

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(analyze, "run_contingency_report", recording)
    done = CliRunner().invoke(
        cli_app, ["analyze", "contingency", "--start", "2026-11-30", "--days-ahead", "7", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert seen == [False]
    assert gc.isenabled()  # no main here: back on when the command's work ended
