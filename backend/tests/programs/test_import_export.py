"""Import and export: exact round trips, idempotent imports, and bad files changing nothing."""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.core.errors import ValidationFailed
from app.models.audit import AuditRecord
from app.models.schedule import Assignment
from app.programs.document import dump_program, validate_program
from app.programs.service import export_program, import_program
from tests.programs.factories import random_program, small_program, with_change


@pytest.mark.parametrize("seed", range(4))
def test_export_equals_canonical_document_when_imported(session: Session, seed: int) -> None:
    doc = random_program(random.Random(seed)) if seed else small_program()
    summary = import_program(session, doc, source="p.json", actor="tester")
    session.commit()
    exported = export_program(session)
    assert summary.changed
    assert exported == validate_program(doc, source="p.json")
    assert exported is not None
    import_program(session, json.loads(dump_program(exported)), source="e.json", actor=None)
    session.commit()
    again = export_program(session)
    assert again is not None
    assert dump_program(again) == dump_program(exported)


def test_import_changes_no_row_when_same_file_comes_twice(session: Session) -> None:
    import_program(session, small_program(), source="p.json", actor="tester")
    session.commit()
    ids_before = sorted(session.scalars(select(Assignment.id)))
    summary = import_program(session, small_program(), source="p.json", actor="tester")
    session.commit()
    assert not summary.changed
    assert sorted(session.scalars(select(Assignment.id))) == ids_before
    audits = session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
    assert [a.details["changed"] for a in audits] == [True, False]
    assert audits[1].actor == "tester"


def test_import_replaces_everything_when_program_differs(session: Session) -> None:
    import_program(session, random_program(random.Random(7)), source="a.json", actor=None)
    session.commit()
    second = random_program(random.Random(8), people=5)
    import_program(session, second, source="b.json", actor=None)
    session.commit()
    assert export_program(session) == validate_program(second, source="b.json")


def test_import_writes_nothing_when_document_is_bad(session: Session) -> None:
    import_program(session, small_program(), source="p.json", actor=None)
    session.commit()
    before = export_program(session)
    bad = with_change(random_program(random.Random(3)), "assignments.0.activity_id", "none")
    with pytest.raises(ValidationFailed):
        import_program(session, bad, source="bad.json", actor=None)
    session.rollback()
    assert export_program(session) == before
    assert session.scalar(select(func.count()).select_from(AuditRecord)) == 1


def test_export_returns_none_when_nothing_was_imported(session: Session) -> None:
    assert export_program(session) is None


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_cli_import_exits_2_and_changes_nothing_when_file_is_bad(
    configured_database: Engine, cli_app: typer.Typer, tmp_path: Path
) -> None:
    runner = CliRunner()
    good = write(tmp_path / "good.json", small_program())
    assert runner.invoke(cli_app, ["import", str(good)]).exit_code == 0
    before = runner.invoke(cli_app, ["export", "-"]).stdout
    bad = write(
        tmp_path / "bad.json", with_change(small_program(), "assignments.17.person_id", "F999")
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": \n  oops}', encoding="utf-8")
    cases = [
        (bad, "assignments[17].person_id: no person with id 'F999'"),
        (broken, "line 2 column 3: invalid JSON"),
        (tmp_path / "missing.json", "cannot read"),
    ]
    for path, message in cases:
        result = runner.invoke(cli_app, ["import", str(path)])
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert "nothing was changed" in result.stderr or "cannot read" in result.stderr
    assert runner.invoke(cli_app, ["export", "-"]).stdout == before


def test_cli_export_writes_same_bytes_when_run_twice(
    configured_database: Engine, cli_app: typer.Typer, tmp_path: Path
) -> None:
    runner = CliRunner()
    source = write(tmp_path / "p.json", random_program(random.Random(5)))
    first = runner.invoke(cli_app, ["import", str(source)])
    assert first.exit_code == 0 and "imported" in first.stdout
    out = tmp_path / "out.json"
    assert runner.invoke(cli_app, ["export", str(out)]).exit_code == 0
    again = runner.invoke(cli_app, ["import", str(out)])
    assert again.exit_code == 0 and "unchanged" in again.stdout
    assert runner.invoke(cli_app, ["export", "-"]).stdout == out.read_text(encoding="utf-8")
    # The file holds private absence reasons: owner-only, like the database.
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_cli_export_fails_when_nothing_was_imported(
    configured_database: Engine, cli_app: typer.Typer
) -> None:
    result = CliRunner().invoke(cli_app, ["export", "-"])
    assert result.exit_code == 2
    assert "no program" in result.stderr


def test_import_reports_a_note_when_activity_with_qualification_says_not_releasable(
    session: Session,
) -> None:
    summary = import_program(session, small_program(), source="p.json", actor=None)
    session.commit()
    assert summary.notes == (
        "activities[0].releasable: an activity with a qualification is always releasable; "
        "read as true",
    )
    exported = export_program(session)
    assert exported is not None
    clinic = next(a for a in exported["activities"] if a["id"] == "clinic")
    assert clinic["releasable"] is True
    audit = session.scalars(select(AuditRecord)).one()
    assert audit.details["notes"] == list(summary.notes)


def test_export_keeps_schedule_end_when_file_states_it(session: Session) -> None:
    doc = small_program()
    doc["schedule_end"] = "2027-06-30"
    import_program(session, doc, source="p.json", actor=None)
    session.commit()
    exported = export_program(session)
    assert exported is not None
    assert exported["schedule_end"] == "2027-06-30"
    assert list(exported)[:4] == ["format", "version", "program", "schedule_end"]
    assert exported == validate_program(doc, source="p.json")


def test_export_leaves_schedule_end_out_when_file_has_none(session: Session) -> None:
    text = dump_program(validate_program(small_program(), source="p.json"))
    import_program(session, json.loads(text), source="p.json", actor=None)
    session.commit()
    exported = export_program(session)
    assert exported is not None and "schedule_end" not in exported
    assert dump_program(exported) == text


def test_cli_import_refuses_unstorable_input_with_exit_2_on_both_databases(
    configured_database: Engine, cli_app: typer.Typer, tmp_path: Path
) -> None:
    runner = CliRunner()
    good = write(tmp_path / "good.json", small_program())
    assert runner.invoke(cli_app, ["import", str(good)]).exit_code == 0
    before = runner.invoke(cli_app, ["export", "-"]).stdout
    secret = "private: chemotherapy"
    with_reason = small_program()
    with_reason["absences"][0]["reason"] = secret + "\u0000"
    nested = tmp_path / "nested.json"
    nested.write_text('{"format": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    cases = [
        (nested, "document: invalid JSON: lists or objects nested too deeply"),
        (
            write(
                tmp_path / "surrogate.json",
                with_change(small_program(), "people.2.name", "Dr. \ud800 Lee"),
            ),  # fmt: skip
            "people[2].name: contains a lone surrogate U+D800 (at character 5)",
        ),
        (
            write(tmp_path / "nul.json", with_change(small_program(), "sites.0.name", "Re\x00")),
            "sites[0].name: contains a NUL character (at character 3)",
        ),
        (
            write(tmp_path / "reason.json", with_reason),
            "absences[0].reason: contains a NUL character (at character 22)",
        ),
    ]
    for path, message in cases:
        result = runner.invoke(cli_app, ["import", str(path)])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert message in result.stderr
        assert "nothing was changed" in result.stderr
        assert secret not in result.output and "Traceback" not in result.output
    assert runner.invoke(cli_app, ["export", "-"]).stdout == before
