"""The ``residency-scheduler`` command line: Typer and Rich live here and nowhere else."""

import gc

# Importing the command line builds thousands of classes and functions and no garbage: the
# cyclic collector, paused meanwhile, would walk that growing heap again and again.
_collecting = gc.isenabled()
gc.disable()
try:
    from app.cli.main import app, main
finally:
    if _collecting:
        gc.enable()

__all__ = ["app", "main"]
