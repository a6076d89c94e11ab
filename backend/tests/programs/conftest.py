"""A command-line app with the program commands, as ``app.cli.main`` registers them."""

from __future__ import annotations

import pytest
import typer

from app.cli.programs import absences_app, export_cmd, import_cmd


@pytest.fixture
def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)
    app.add_typer(absences_app, name="absences")
    return app
