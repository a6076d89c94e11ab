"""The embedded mode: a real worker on kombu's filesystem transport, no servers at all.

The seed's operational commands (``celery inspect ping``, ``inspect registered``) travel as
fanout broadcasts; these tests show the filesystem transport's control folder carries them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.celery_fixtures import (
    APP_TASK_NAMES,
    CeleryWorkerProcess,
    embedded_env,
    start_worker,
    worker_env,
)


@pytest.fixture(scope="module")
def embedded_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CeleryWorkerProcess]:
    """One worker for the module, on the filesystem broker in a fresh DATA_DIR."""
    folder = tmp_path_factory.mktemp("embedded")
    env = worker_env(folder / "var", f"sqlite:///{folder / 'worker.db'}", embedded_env())
    worker = start_worker(env, folder / "worker.log")
    yield worker
    worker.stop()


def test_inspect_ping_answers_when_worker_uses_filesystem_broker(
    embedded_worker: CeleryWorkerProcess,
) -> None:
    worker = embedded_worker

    answer = worker.celery("inspect", "ping", "-d", worker.nodename, "-t", "10")

    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert worker.nodename in answer.stdout and "pong" in answer.stdout
    control = Path(worker.env["DATA_DIR"]) / "broker" / "control"
    assert (control / "celery.pidbox.exchange").is_file()


def test_inspect_registered_lists_app_tasks_when_worker_uses_filesystem_broker(
    embedded_worker: CeleryWorkerProcess,
) -> None:
    worker = embedded_worker

    replies = worker.client().control.inspect([worker.nodename], timeout=10).registered() or {}

    assert set(replies) == {worker.nodename}
    assert set(replies[worker.nodename]) == APP_TASK_NAMES


def test_task_result_round_trips_when_worker_uses_filesystem_broker(
    embedded_worker: CeleryWorkerProcess,
) -> None:
    worker = embedded_worker
    client = worker.client()
    assert client.conf.broker_url.startswith("filesystem://")

    # celery.accumulate is Celery's built-in echo task: a real message, a real result row.
    result = client.send_task("celery.accumulate", args=[3, "half-day"])

    assert result.get(timeout=30) == [3, "half-day"]
    data_dir = Path(worker.env["DATA_DIR"])
    assert (data_dir / "celery-results.db").is_file()
    assert not list((data_dir / "broker" / "queue").glob("*.default.msg"))


def test_embedded_folders_and_results_are_private_when_created(tmp_path: Path) -> None:
    import os
    import stat

    from app.core.celery_app import make_celery_app
    from app.core.config import Settings

    data = tmp_path / "new" / "var"
    old_umask = os.umask(0o022)  # as a login shell: world-readable unless made private
    try:
        settings = Settings(_env_file=None, EMBEDDED_BROKER=True, DATA_DIR=data)  # type: ignore[call-arg]
        make_celery_app(settings, set_as_current=False).close()
    finally:
        os.umask(old_umask)

    def mode(path: Path) -> int:
        return stat.S_IMODE(os.stat(path).st_mode)

    assert mode(data) == 0o700
    assert mode(data / "broker" / "queue") == 0o700
    assert mode(data / "celery-results.db") == 0o600
