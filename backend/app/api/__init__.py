"""The HTTP API: routers in ``routes/``, typed dependencies in ``deps.py``."""
