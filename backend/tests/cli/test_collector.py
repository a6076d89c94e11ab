"""A command runs with the cyclic collector off and leaves it as it found it."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from app.cli import main as cli_main


class _Recorder:
    """Stands for the click command: records whether the collector ran during the call."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.collecting: list[bool] = []

    def __call__(self, **_: Any) -> None:
        self.collecting.append(gc.isenabled())
        if self.fail:
            raise SystemExit(2)


@pytest.mark.parametrize("fail", [False, True], ids=["ends", "exits-2"])
@pytest.mark.parametrize("before", [True, False], ids=["enabled", "disabled"])
def test_command_runs_without_collector_and_restores_it(
    monkeypatch: pytest.MonkeyPatch, fail: bool, before: bool
) -> None:
    recorder = _Recorder(fail)
    monkeypatch.setattr("typer.main.get_command", lambda _app: recorder)
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
    assert recorder.collecting == [False]
    assert after is before
