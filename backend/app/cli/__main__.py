"""``python -m app.cli``: the same as the ``residency-scheduler`` command."""

from app.cli.main import main

main()
