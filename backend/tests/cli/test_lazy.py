"""The command line imports the module of the command it runs and no other command's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer import _click as click
from typer.testing import CliRunner

from app.cli.lazy import LazyCommand, LazyGroup
from app.cli.main import AnalyzeCommands, Commands
from app.cli.main import app as cli_app
from app.core.config import BACKEND_DIR

COMMAND_MODULES = {
    "app.cli.alerts",
    "app.cli.analyze",
    "app.cli.crisis",
    "app.cli.demo",
    "app.cli.fallbacks",
    "app.cli.forecast",
    "app.cli.programs",
    "app.cli.users",
}

# Runs the real entry point, then writes the names of every module it imported.
PROBE = """
import json, sys
from app.cli.main import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(sorted(sys.modules), f)
"""


def _modules_imported_by(args: list[str], tmp_path: Path) -> set[str]:
    listing = tmp_path / "modules.json"
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(listing), *args],
        cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Usage: residency-scheduler" in done.stdout + done.stderr  # no args: help on stderr
    return set(json.loads(listing.read_text(encoding="utf-8")))


RUNS = [
    (["--help"], set()),
    ([], set()),
    (["analyze", "--help"], set()),
    (["analyze", "contingency", "--help"], {"app.cli.analyze"}),
    (["what-if", "--help"], {"app.cli.analyze"}),
    (["analyze", "forecast", "--help"], {"app.cli.forecast"}),
    (["users", "list", "--help"], {"app.cli.users"}),
    (["absences", "--help"], {"app.cli.programs"}),
]
"""Arguments, and the command modules that their run must import (no other)."""


@pytest.mark.parametrize(
    ("args", "expected"),
    [pytest.param(args, expected, id=" ".join(args) or "no arguments") for args, expected in RUNS],
)
def test_command_line_imports_only_the_command_module_it_runs(
    args: list[str], expected: set[str], tmp_path: Path
) -> None:
    imported = _modules_imported_by(args, tmp_path)
    assert imported & COMMAND_MODULES == expected


def test_analyze_contingency_imports_neither_the_auth_service_nor_the_fallback_solver(
    tmp_path: Path,
) -> None:
    imported = _modules_imported_by(["analyze", "contingency", "--help"], tmp_path)
    assert "app.resilience.contingency.service" in imported  # the probe saw the command load
    assert not {"app.auth.service", "app.resilience.fallbacks.service", "ortools"} & imported


def _groups() -> list[tuple[list[str], type[LazyGroup]]]:
    return [([], Commands), (["analyze"], AnalyzeCommands)]


@pytest.mark.parametrize(("path", "group_class"), _groups(), ids=["top", "analyze"])
def test_registry_summary_is_the_first_paragraph_of_the_loaded_commands_help(
    path: list[str], group_class: type[LazyGroup]
) -> None:
    group = typer.main.get_command(cli_app)
    for name in path:
        assert isinstance(group, LazyGroup)
        group = group.commands[name]
    assert isinstance(group, group_class)
    entries = [e for e in group_class.registry if isinstance(e, LazyCommand)]
    assert entries
    for entry in entries:
        command = group.commands[entry.name]
        assert command.help is not None, entry.name
        first_paragraph = command.help.split("\n\n")[0]
        assert " ".join(first_paragraph.split()) == entry.summary, entry.name
        assert not (command.short_help or command.hidden or command.deprecated), entry.name


@pytest.mark.parametrize("width", [50, 80, 200])
@pytest.mark.parametrize(("path", "group_class"), _groups(), ids=["top", "analyze"])
def test_group_help_lists_the_same_lines_before_and_after_its_commands_load(
    path: list[str], group_class: type[LazyGroup], width: int
) -> None:
    def help_text(load_all: bool) -> str:
        group = typer.main.get_command(cli_app)
        for name in path:
            assert isinstance(group, LazyGroup)
            group = group.commands[name]
        assert isinstance(group, group_class)
        if load_all:
            loaded = list(group.commands.values())
            assert len(loaded) == len(group_class.registry)
        ctx = click.Context(group, info_name=" ".join(["x", *path]), terminal_width=width)
        return group.get_help(ctx)

    unloaded = help_text(load_all=False)
    assert unloaded == help_text(load_all=True)
    for entry in group_class.registry:
        name = entry if isinstance(entry, str) else entry.name
        assert f"\n  {name} " in unloaded


def test_mistyped_command_is_answered_with_the_nearest_lazy_one() -> None:
    result = CliRunner().invoke(cli_app, ["user", "list"])
    assert result.exit_code == 2
    assert "No such command 'user'. Did you mean 'users'?" in result.output


def test_group_refuses_a_registry_naming_a_command_it_cannot_find() -> None:
    class Broken(LazyGroup):
        registry = ("nowhere",)

    broken = typer.Typer(cls=Broken)
    broken.command("here")(lambda: None)
    broken.command("there")(lambda: None)
    with pytest.raises(RuntimeError, match="nowhere"):
        typer.main.get_command(broken)
