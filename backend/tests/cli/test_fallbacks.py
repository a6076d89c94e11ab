"""``analyze fallbacks`` and ``fallbacks list|show|export`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli.main import app as cli_app
from tests.cli.test_readme import demo_data_dir

__all__ = ["demo_data_dir"]


def test_fallbacks_commands_store_show_export_and_refuse_bad_input(demo_data_dir: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(cli_app, ["analyze", "fallbacks", "--days-ahead", "7", "--json"])
    assert made.exit_code == 0, made.output
    summaries = json.loads(made.stdout)["fallbacks"]
    assert len(summaries) == 7 and all(s["created"] for s in summaries)
    listed = json.loads(runner.invoke(cli_app, ["fallbacks", "list", "--json"]).stdout)
    assert {r["id"] for r in listed} == {s["id"] for s in summaries}
    assert not any(r["stale"] for r in listed)
    table = runner.invoke(cli_app, ["fallbacks", "list"], env={"COLUMNS": "80"}).stdout
    assert all(s["scenario"] in table for s in summaries)  # names crisis --scenario takes
    pcs = next(s["id"] for s in summaries if s["scenario"] == "pcs_season")
    shown = json.loads(runner.invoke(cli_app, ["fallbacks", "show", str(pcs), "--json"]).stdout)
    assert shown["result"]["scenario"]["name"] == "pcs_season"
    out = demo_data_dir / "cal"
    written = runner.invoke(cli_app, ["fallbacks", "export", str(pcs), "-o", str(out)])
    assert written.exit_code == 0, written.output
    people = {m["person_id"] for m in shown["result"]["moves"]}
    assert {p.stem for p in out.glob("*.ics")} == people
    as_csv = runner.invoke(cli_app, ["fallbacks", "export", str(pcs), "--format", "csv", "-o", "-"])
    assert len(as_csv.stdout.splitlines()) == 1 + len(shown["result"]["moves"])

    missing = runner.invoke(cli_app, ["fallbacks", "show", "999"])
    assert missing.exit_code == 3 and "no fallback with id 999" in missing.stderr
    bad = runner.invoke(cli_app, ["fallbacks", "export", str(pcs), "--format", "pdf", "-o", "x"])
    assert bad.exit_code == 2 and "--format" in bad.stderr


def test_what_if_repair_proposes_and_a_wrong_proposal_is_refused(demo_data_dir: Path) -> None:
    runner = CliRunner()
    span = ["--person", "F004", "--from", "2026-12-07", "--to", "2026-12-09"]
    shown = runner.invoke(cli_app, ["what-if", "absence", *span, "--repair", "--json"])
    assert shown.exit_code == 0, shown.output
    repair = json.loads(shown.stdout)["repair"]
    assert len(repair["proposal"]) == 12 and {"moves", "gaps_left", "n1_left"} <= set(repair)
    refused = runner.invoke(cli_app, ["absences", "add", *span, "--apply-repair", "0" * 12])
    assert refused.exit_code == 2 and "changed since proposal" in refused.stderr
    listed = runner.invoke(cli_app, ["absences", "list", *span])
    assert "2026-12-07" not in listed.stdout
    applied = runner.invoke(
        cli_app, ["absences", "add", *span, "--apply-repair", repair["proposal"]]
    )
    assert applied.exit_code == 0, applied.output
    assert f"{len(repair['moves'])} change(s)" in applied.stdout


def test_a_repair_with_nothing_to_change_offers_no_apply_command(demo_data_dir: Path) -> None:
    # A resident's absence opens no faculty slot: no proposal to enter, no --apply-repair line.
    span = ["--person", "R001", "--from", "2026-12-07", "--to", "2026-12-08"]
    shown = CliRunner().invoke(cli_app, ["what-if", "absence", *span, "--repair"])
    assert shown.exit_code == 0, shown.output
    assert "nothing to repair" in shown.stdout
    assert "--apply-repair" not in shown.stdout
