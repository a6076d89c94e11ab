"""Scrape token of /metrics, and the limit on failed sign-ins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select

from app.api.ratelimit import SignInLimiter
from app.core.config import get_settings
from app.core.db import session_scope
from app.main import create_app
from app.models.user import Role, User
from app.resilience.crisis.service import activate_crisis
from tests.api.conftest import bearer

SCRAPE_TOKEN = "scrape-token-for-the-test"


@pytest.fixture
def guarded_metrics(
    configured_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("METRICS_TOKEN", SCRAPE_TOKEN)
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        yield client
    get_settings.cache_clear()


def test_metrics_open_without_scrape_token(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "resilience_defense_level" in response.text
    assert response.headers["content-type"].startswith("text/plain")


def test_metrics_show_the_crisis_state_of_the_database(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    def shedding_level() -> float:
        text = client.get("/metrics").text
        family = next(
            f for f in text_string_to_metric_families(text)
            if f.name == "resilience_load_shedding_level"
        )  # fmt: skip
        return float(family.samples[0].value)

    assert shedding_level() == 0  # NORMAL
    with session_scope() as session:  # as another process would: nothing but the database
        wanted = select(User).where(User.role == Role.PROGRAM_DIRECTOR.value)
        director = session.scalars(wanted).one()
        activate_crisis(session, "severe", "flu outbreak", director)

    assert shedding_level() == 3  # severe sheds at RED: 3 on 0 NORMAL .. 5 CRITICAL


def test_metrics_need_the_scrape_token_when_set(guarded_metrics: TestClient) -> None:
    assert guarded_metrics.get("/metrics").status_code == 401
    assert guarded_metrics.get("/metrics", headers=bearer("wrong")).status_code == 401
    assert guarded_metrics.get("/metrics", headers=bearer(SCRAPE_TOKEN)).status_code == 200


def test_too_many_bad_tokens_are_refused_even_with_a_good_one(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    limit = get_settings().SIGNIN_MAX_FAILURES
    for _ in range(limit):
        assert client.get("/health/resilience", headers=bearer("rs_bad")).status_code == 401
    refused = client.get("/health/resilience", headers=bearer(tokens[Role.ADMIN]))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


def test_limiter_forgets_failures_after_the_window() -> None:
    limiter = SignInLimiter(max_failures=2, window_s=10)
    limiter.failed("a", now=0)
    limiter.failed("a", now=1)
    limiter.check("b", now=1)  # another address is not affected
    with pytest.raises(Exception, match="too many failed sign-ins"):
        limiter.check("a", now=9.5)
    limiter.check("a", now=10.5)  # the first failure left the window
    limiter.failed("a", now=10.5)
    with pytest.raises(Exception, match="try again in 1 s"):
        limiter.check("a", now=10.6)
