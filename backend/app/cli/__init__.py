"""The ``residency-scheduler`` command line: Typer and Rich live here and nowhere else."""

from app.cli.main import app, main

__all__ = ["app", "main"]
