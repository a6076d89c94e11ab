"""The ``residency-scheduler`` command line: Typer and Rich live here and nowhere else."""

from app.core.gcpause import imports_frozen

# Importing the command line builds thousands of classes and functions and no garbage: the
# cyclic collector, paused meanwhile, would walk that growing heap again and again.
with imports_frozen():
    from app.cli.main import app, main

__all__ = ["app", "main"]
