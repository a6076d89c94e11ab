"""docs/operations.md's backup and restore runbook, tried: pg_dump of a migrated database with
data, pg_restore into a new scratch database, and the engine finds the same records there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from app.core.config import BACKEND_DIR
from app.core.migrate import upgrade_database
from app.models.resilience import HealthCheckRecord
from tests.conftest import _create_postgres_database
from tests.resilience.test_retention import NOW, _check

pytestmark = pytest.mark.postgres

RUNBOOK = (BACKEND_DIR.parent / "docs" / "operations.md").read_text()


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as pg_dump/pg_restore take it (no ``+psycopg``)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_backup_restores_into_a_scratch_database_when_runbook_is_followed(tmp_path: Path) -> None:
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump/pg_restore missing: apt-get install -y postgresql-client")
    source, drop_source = _create_postgres_database()
    target, drop_target = _create_postgres_database()
    try:
        upgrade_database(source)
        engine = create_engine(source)
        with engine.begin() as conn:
            for n in range(3):
                conn.execute(
                    HealthCheckRecord.__table__.insert(),
                    {**_row(f"kept-{n}"), "finished_at": NOW},
                )
        engine.dispose()
        dump = tmp_path / "scheduler.dump"
        # The runbook's commands, as written there.
        backup = ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}"]
        restore = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction"]
        assert " ".join(backup[:3]) in RUNBOOK and " ".join(restore) in RUNBOOK
        subprocess.run([*backup, _libpq(source)], check=True, capture_output=True, timeout=120)
        subprocess.run(
            [*restore, f"--dbname={_libpq(target)}", str(dump)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        probe = subprocess.run(
            [sys.executable, "-m", "app.core.probe", "schema"],
            cwd=BACKEND_DIR,
            env={"DATABASE_URL": target, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        restored = create_engine(target)
        with restored.connect() as conn:
            count = conn.scalar(select(func.count()).select_from(HealthCheckRecord))
            ids = set(conn.scalars(text("SELECT task_id FROM health_check_record")))
        restored.dispose()
    finally:
        drop_source()
        drop_target()

    assert probe.returncode == 0, probe.stdout  # the restored schema is at the code's head
    assert count == 3
    assert ids == {"kept-0", "kept-1", "kept-2"}


def _row(task_id: str) -> dict[str, object]:
    record = _check(task_id, 0)
    return {
        c.key: getattr(record, c.key) for c in HealthCheckRecord.__table__.columns if c.key != "id"
    }
