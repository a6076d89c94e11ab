"""The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, driven
by selenium; nothing is downloaded): every page's content, and the coordinator's flow: sign
in, enter a leave, see its what-if, save it, see the findings change.

Screenshots at desktop and phone width are kept under the test's tmp dir
(``screenshots/``), whose path the test prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.core.config import get_settings
from app.core.db import session_scope
from app.models.base import utcnow
from app.models.user import Role
from app.resilience.clock import program_clock
from app.resilience.contingency.service import run_contingency_report
from app.resilience.health.service import run_health_check

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESKTOP = (1280, 900)
PHONE = (390, 844)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path / 'chromium-profile'}"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_window_size(*DESKTOP)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    print(f"screenshots in {folder}")
    return folder


def _shoot(driver: WebDriver, folder: Path, name: str) -> None:
    """A screenshot of the page at desktop and at phone width."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        driver.set_window_size(*size)
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(size[0], max(size[1], min(int(height) + 120, 6000)))
        assert driver.save_screenshot(str(folder / f"{name}-{label}.png"))
    driver.set_window_size(*DESKTOP)


def _replaced(page: Any) -> Any:
    """Whether ``page`` (the old page's root element) has left the document. Mid-navigation
    chromedriver may answer "Node with given id does not belong to the document" (a plain
    WebDriverException) instead of a stale-element error: both mean the page was replaced."""

    def check(driver: WebDriver) -> bool:
        try:
            page.is_enabled()
        except WebDriverException:
            return True
        return False

    return check


def _go(driver: WebDriver, by: str, what: str) -> None:
    """Click what navigates, and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, what).click()
    WebDriverWait(driver, 30).until(_replaced(page))


def _sign_in(driver: WebDriver, base: str, token: str) -> None:
    driver.get(f"{base}/signin")
    driver.find_element(By.ID, "token").send_keys(token)
    _go(driver, By.CSS_SELECTOR, "form button[type=submit]")


def _text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text)


def _critical_exposure(demo: dict[str, Any]) -> tuple[str, str, str]:
    """A faculty member and a coming half-day that only they hold up (an N-1 finding): by
    the model's definition, their absence that day opens a gap."""
    with session_scope() as session:
        today = program_clock(session, get_settings()).today(utcnow())
        report = run_contingency_report(session, start=today + timedelta(days=1), days_ahead=5)
    table = report.report["exposures"]
    for critical in report.report["critical_faculty"]:
        for position in critical["exposures"]:
            return critical["person_id"], table[position]["date"], table[position]["half"]
    raise AssertionError("the demo program has no critical faculty in the coming days")


def test_every_page_in_chromium(
    server: str, browser: WebDriver, tokens: dict[Role, str], demo_program: Any, shots: Path
) -> None:
    with session_scope() as session:
        health = run_health_check(session)
    assert health.report is not None
    person, _, _ = _critical_exposure(demo_program)
    browser.get(f"{server}/")
    assert browser.current_url == f"{server}/signin"
    _shoot(browser, shots, "signin")
    _sign_in(browser, server, "rs_not-a-token")
    assert "not valid" in browser.find_element(By.ID, "signin-error").text
    _sign_in(browser, server, tokens[Role.VIEWER])
    assert browser.current_url == f"{server}/"
    banner = browser.find_element(By.ID, "defense").text
    assert f"Defense level {health.report.defense.level.value}" in banner
    assert browser.find_element(By.ID, "utilization-chart").is_displayed()
    assert "Shortfall probability: not available" in _text(browser)
    assert browser.find_element(By.ID, "crisis-state").text == "none"
    assert not browser.find_elements(By.LINK_TEXT, "Leave")  # a viewer enters no leave
    _shoot(browser, shots, "overview")
    _go(browser, By.LINK_TEXT, "Findings")
    assert "Critical faculty" in _text(browser)
    _shoot(browser, shots, "findings")
    _go(browser, By.CSS_SELECTOR, f'a[href="/people/{person}"]')
    assert browser.find_element(By.ID, "calendar").is_displayed()
    _shoot(browser, shots, "person")
    _go(browser, By.LINK_TEXT, "Alerts")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Alerts"
    _shoot(browser, shots, "alerts")
    _go(browser, By.LINK_TEXT, "Fallbacks")
    states = browser.find_elements(By.CSS_SELECTOR, "#fallbacks td.state")
    assert states and {s.text for s in states} == {"missing"}  # none computed yet
    _shoot(browser, shots, "fallbacks")
    _go(browser, By.LINK_TEXT, "Crisis")
    assert "No crisis is active." in browser.find_element(By.ID, "no-crisis").text
    assert not browser.find_elements(By.ID, "activate-form")  # a viewer has no controls
    _shoot(browser, shots, "crisis")
    browser.get(f"{server}/leave")
    assert "needs the coordinator role" in _text(browser)
    browser.get(f"{server}/")
    _go(browser, By.CSS_SELECTOR, ".signout button")
    browser.get(f"{server}/")
    assert browser.current_url == f"{server}/signin"
    assert {p.name for p in shots.iterdir()} >= {"overview-desktop.png", "overview-phone.png"}


def test_coordinator_enters_leave_sees_what_if_and_findings_change(
    server: str, browser: WebDriver, tokens: dict[Role, str], demo_program: Any, shots: Path
) -> None:
    person, day, half = _critical_exposure(demo_program)
    with session_scope() as session:
        before = run_health_check(session)
    assert before.report is not None
    gaps_before = before.report.gap_slots
    _sign_in(browser, server, tokens[Role.COORDINATOR])
    _go(browser, By.LINK_TEXT, "Leave")
    Select(browser.find_element(By.ID, "person_id")).select_by_value(person)
    for field in ("start", "end"):  # a date input's typing depends on the locale: set its value
        element = browser.find_element(By.ID, field)
        browser.execute_script("arguments[0].value = arguments[1]", element, day)
    Select(browser.find_element(By.ID, "half")).select_by_value(half)
    browser.find_element(By.ID, "reason").send_keys("family matter")
    browser.find_element(By.ID, "repair").click()
    _go(browser, By.CSS_SELECTOR, "#leave-form button[type=submit]")

    what_if = browser.find_element(By.ID, "what-if").text
    new_gaps = browser.find_elements(By.CSS_SELECTOR, "#new-gaps li")
    assert new_gaps, what_if
    assert all(g.text.startswith(f"{day} {half}") for g in new_gaps)
    repair = browser.find_element(By.ID, "repair-proposal").text
    assert "How to fix it" in repair and "--apply-repair" in repair
    _shoot(browser, shots, "what-if")
    _go(browser, By.ID, "save")

    assert browser.current_url.startswith(f"{server}/findings")
    assert "Leave saved" in browser.find_element(By.ID, "saved").text
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#gaps tbody tr")]
    for gap in new_gaps_text(what_if):
        assert any(row.startswith(gap) for row in rows), (gap, rows)
    _shoot(browser, shots, "findings-after-leave")
    _go(browser, By.LINK_TEXT, "Overview")
    shown = int(browser.find_element(By.ID, "gap-count").text)
    assert shown >= gaps_before + len(new_gaps)


def new_gaps_text(what_if: str) -> list[str]:
    """``DATE HALF @SITE`` of each new gap line in the what-if's text, as the findings table
    shows it (``DATE HALF`` then the site)."""
    out = []
    for line in what_if.splitlines():
        if " @" in line and ": " in line and " short " in line:
            where = line.split(":", 1)[0]
            date_half, site = where.split(" @")
            out.append(f"{date_half} {site}")
    return out
