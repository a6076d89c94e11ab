"""Absences: add, remove, list and CSV import, all or nothing."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.core.errors import NotFound, ValidationFailed
from app.demo.generator import generate_demo_program
from app.domain.schedule import Half
from app.models.audit import AuditRecord
from app.models.schedule import Absence
from app.programs.absences import (
    AbsenceEntry,
    add_absence,
    import_absences_csv,
    list_absences,
    remove_absence,
)
from app.programs.service import export_program, import_program
from tests.programs.factories import small_program

DAY = date(2027, 1, 10)


@pytest.fixture
def program(session: Session) -> Session:
    import_program(session, small_program(), source="p.json", actor=None)
    session.commit()
    return session


def entry(**changes: object) -> AbsenceEntry:
    fields: dict[str, object] = {"person_id": "F1", "start": DAY, "end": DAY, "type": "sick"}
    fields.update(changes)
    return AbsenceEntry(**fields)  # type: ignore[arg-type]


def test_add_absence_stores_it_when_valid(program: Session) -> None:
    row = add_absence(program, entry(half=Half.PM, reason="flu"), actor="c").row
    program.commit()
    assert row.id not in {"A1", "A2", "A3"}
    stored = program.get(Absence, row.id)
    assert stored is not None
    assert (stored.half, stored.type, stored.reason, stored.blocking) == ("PM", "sick", "flu", None)


def test_add_absence_names_fields_when_invalid(program: Session) -> None:
    with pytest.raises(ValidationFailed) as info:
        add_absence(program, entry(end=DAY - timedelta(days=1), type="nap"), actor=None)
    assert [p.where for p in info.value.problems] == ["end", "type"]


def test_add_absence_raises_not_found_when_person_is_unknown(program: Session) -> None:
    with pytest.raises(NotFound, match="no person with id 'nobody'"):
        add_absence(program, entry(person_id="nobody", type="nap"), actor=None)
    with pytest.raises(NotFound, match="no person with id 'nobody'"):
        list_absences(program, person_id="nobody")


def test_add_absence_writes_nothing_when_the_same_absence_is_recorded(program: Session) -> None:
    first = add_absence(program, entry(half=Half.PM), actor="c")
    program.commit()
    audits_before = program.scalar(select(func.count()).select_from(AuditRecord))
    again = add_absence(program, entry(half=Half.PM, reason="other words"), actor="c")
    program.commit()
    assert (first.created, again.created, again.row.id) == (True, False, first.row.id)
    assert program.scalar(select(func.count()).select_from(AuditRecord)) == audits_before
    other_half = add_absence(program, entry(half=Half.AM), actor="c")
    other_type = add_absence(program, entry(half=Half.PM, type="vacation"), actor="c")
    assert other_half.created and other_type.created


def test_add_absence_refuses_when_id_is_taken(program: Session) -> None:
    with pytest.raises(ValidationFailed, match="already exists"):
        add_absence(program, entry(id="A1"), actor=None)


def test_remove_absence_deletes_it_when_present(program: Session) -> None:
    remove_absence(program, "A1", actor="c")
    program.commit()
    assert program.get(Absence, "A1") is None
    with pytest.raises(NotFound):
        remove_absence(program, "A1", actor="c")


@pytest.mark.parametrize("seed", range(3))
def test_list_absences_matches_overlap_rule_when_filtered(program: Session, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(15):
        first = DAY + timedelta(days=rng.randint(0, 20))
        add_absence(
            program,
            entry(person_id=rng.choice(["F1", "F2", "R1"]), start=first,
                  end=first + timedelta(days=rng.randint(0, 5))),
            actor=None,
        )  # fmt: skip
    program.commit()
    everything = list_absences(program)
    for _ in range(10):
        lo = DAY + timedelta(days=rng.randint(-5, 25))
        hi = lo + timedelta(days=rng.randint(0, 6))
        person = rng.choice([None, "F1", "R1"])
        expected = {
            a.id
            for a in everything
            if a.start <= hi and a.end >= lo and person in (None, a.person_id)
        }
        got = list_absences(program, person_id=person, start=lo, end=hi)
        assert {a.id for a in got} == expected
        assert [a.start for a in got] == sorted(a.start for a in got)


def write_csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_csv_adds_then_changes_nothing_when_repeated(
    program: Session, tmp_path: Path
) -> None:
    leave = write_csv(
        tmp_path / "leave.csv",
        "id,person_id,start,end,half,type,blocking,reason",
        "L1,F1,2027-01-04,2027-01-08,,vacation,,",
        ",F2,2027-01-05,2027-01-05,am,conference,false,Boards",
        ",R1,2027-02-01,2027-02-03,,parental,,private note",
    )
    first = import_absences_csv(program, leave, actor="c")
    program.commit()
    assert (first.added, first.replaced, first.unchanged) == (3, 0, 0)
    after_first = export_program(program)
    second = import_absences_csv(program, leave, actor="c")
    program.commit()
    assert (second.added, second.replaced, second.unchanged) == (0, 0, 3)
    assert export_program(program) == after_first
    stored = [a for a in list_absences(program, person_id="F2") if a.type == "conference"]
    assert [(a.half, a.blocking, a.reason) for a in stored] == [("AM", False, "Boards")]


def test_import_csv_replaces_absence_when_id_exists(program: Session, tmp_path: Path) -> None:
    leave = write_csv(
        tmp_path / "leave.csv", "id,person_id,start,end,type", "A1,F1,2026-12-21,2026-12-22,tdy"
    )
    summary = import_absences_csv(program, leave, actor=None)
    program.commit()
    assert summary.replaced == 1
    row = program.get(Absence, "A1")
    assert row is not None and (row.start, row.type) == (date(2026, 12, 21), "tdy")


def test_import_csv_changes_nothing_when_a_row_is_bad(program: Session, tmp_path: Path) -> None:
    before = export_program(program)
    leave = write_csv(
        tmp_path / "leave.csv",
        "id,person_id,start,end,half,type,blocking,reason",
        "L1,F1,2027-01-04,2027-01-08,,vacation,,",
        "L2,F999,2027-01-04,2027-01-08,,vacation,,",
        "L3,F1,2027-01-09,2027-01-08,,vacation,,",
        "L4,F1,2027-13-01,2027-01-08,XM,nap,maybe,",
        "L1,F2,2027-01-04,2027-01-08,,vacation,,",
    )
    with pytest.raises(ValidationFailed) as info:
        import_absences_csv(program, leave, actor=None)
    program.rollback()
    assert [p.where for p in info.value.problems] == [
        "leave.csv:3:person_id",
        "leave.csv:4:end",
        "leave.csv:5:start",
        "leave.csv:5:half",
        "leave.csv:5:blocking",
        "leave.csv:6:id",
    ]
    assert export_program(program) == before


def test_import_csv_names_columns_when_header_is_wrong(program: Session, tmp_path: Path) -> None:
    leave = write_csv(tmp_path / "leave.csv", "who,start,end,type", "F1,2027-01-04,2027-01-08,sick")
    with pytest.raises(ValidationFailed) as info:
        import_absences_csv(program, leave, actor=None)
    assert [str(p) for p in info.value.problems] == [
        "leave.csv:1:person_id: missing column",
        "leave.csv:1:who: unknown column",
    ]


def test_cli_absences_commands_work_when_used_in_turn(
    configured_database: Engine, cli_app: typer.Typer, tmp_path: Path
) -> None:
    with Session(configured_database) as session:
        import_program(session, small_program(), source="p.json", actor=None)
        session.commit()
    runner = CliRunner(env={"COLUMNS": "200"})  # rich would wrap the table at 80 columns
    added = runner.invoke(
        cli_app,
        ["absences", "add", "--person", "F2", "--from", "2027-03-01", "--to", "2027-03-02"]
        + ["--type", "tdy"],
    )
    assert added.exit_code == 0, added.output
    new_id = added.stdout.split()[-1]
    listing = runner.invoke(cli_app, ["absences", "list", "--person", "F2"])
    assert (
        listing.exit_code == 0 and new_id in listing.stdout and "appointment" not in listing.stdout
    )
    assert "appointment" in runner.invoke(cli_app, ["absences", "list", "--reasons"]).stdout
    assert runner.invoke(cli_app, ["absences", "remove", new_id]).exit_code == 0
    assert runner.invoke(cli_app, ["absences", "remove", new_id]).exit_code == 3
    bad_person = runner.invoke(
        cli_app, ["absences", "add", "--person", "F9", "--from", "2027-03-01", "--to", "2027-03-01"]
    )
    assert bad_person.exit_code == 3 and "no person with id 'F9'" in bad_person.stderr
    leave = write_csv(tmp_path / "leave.csv", "person_id,start,end,type", "F1,2027-01-04,x,sick")
    bad_csv = runner.invoke(cli_app, ["absences", "import-csv", str(leave)])
    assert bad_csv.exit_code == 2 and "leave.csv:2:end" in bad_csv.stderr


def test_cli_absences_refuse_unstorable_text_with_exit_2_on_both_databases(
    configured_database: Engine, cli_app: typer.Typer, tmp_path: Path
) -> None:
    with Session(configured_database) as session:
        import_program(session, small_program(), source="p.json", actor=None)
        session.commit()
    runner = CliRunner()
    secret = "private: chemotherapy"
    nul = runner.invoke(
        cli_app, ["absences", "add", "F2", "2027-03-01", "2027-03-02", "--reason", secret + "\x00"]
    )
    # An argument with bytes that are not UTF-8 reaches Python as lone surrogates.
    undecodable = runner.invoke(
        cli_app, ["absences", "add", "F2", "2027-03-01", "2027-03-02", "--reason", "x\udcff"]
    )
    bad_person = runner.invoke(cli_app, ["absences", "add", "F\x002", "2027-03-01", "2027-03-02"])
    bad_id = runner.invoke(
        cli_app, ["absences", "add", "F2", "2027-03-01", "2027-03-02", "--id", "A\x001"]
    )
    leave = tmp_path / "leave.csv"
    leave.write_text(
        f"person_id,start,end,type,reason\nF1,2027-01-04,2027-01-05,sick,{secret}\x00\n"
        "F\x001,2027-01-04,2027-01-05,sick,\n",
        encoding="utf-8",
    )
    csv_result = runner.invoke(cli_app, ["absences", "import-csv", str(leave)])
    expected = [
        (nul, "reason: contains a NUL character (at character 22)"),
        (undecodable, "reason: contains a lone surrogate U+DCFF (at character 2)"),
        (bad_person, "person_id: expected 1-64 of A-Z a-z 0-9 _ . -"),
        (bad_id, "id: expected 1-64 of A-Z a-z 0-9 _ . -"),
        (csv_result, "leave.csv:2:reason: contains a NUL character (at character 22)"),
        (csv_result, "leave.csv:3:person_id: expected 1-64 of A-Z a-z 0-9 _ . -"),
    ]
    for result, message in expected:
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert message in result.stderr
        assert secret not in result.output
    with Session(configured_database) as session:
        assert export_program(session) == export_program_after_import(small_program())


def export_program_after_import(doc: dict[str, object]) -> object:
    from app.programs.document import validate_program

    return validate_program(doc, source="p.json")


def test_new_absence_ids_follow_the_demo_ids_when_added_to_the_demo(
    session: Session, tmp_path: Path
) -> None:
    demo = generate_demo_program(seed=1, weeks=4)
    import_program(session, demo, source="demo", actor=None)
    demo_ids = [a["id"] for a in demo["absences"]]
    assert demo_ids and all(re.fullmatch(r"A\d{4}", i) for i in demo_ids)
    count = len(demo_ids)  # the demo numbers its absences A0001, A0002, ...
    person = next(p["id"] for p in demo["people"] if p["kind"] == "faculty")

    added = add_absence(session, entry(person_id=person), actor="c").row.id
    leave = write_csv(tmp_path / "leave.csv", "person_id,start,end,type",
                      f"{person},2027-01-11,2027-01-11,sick",
                      f"{person},2027-01-12,2027-01-12,vacation")  # fmt: skip
    import_absences_csv(session, leave, actor="c")
    session.commit()

    expected = ["A" + str(count + n).rjust(4, "0") for n in (1, 2, 3)]
    assert added == expected[0]
    assert sorted(session.scalars(select(Absence.id))) == sorted(demo_ids) + expected


def test_new_absence_ids_number_past_every_id_when_padding_differs(
    program: Session, tmp_path: Path
) -> None:
    # The factory's A1-A3, a demo-style A0120 and an A00121 from an older version.
    leave = write_csv(tmp_path / "leave.csv", "id,person_id,start,end,type",
                      "A0120,F1,2027-01-04,2027-01-04,sick",
                      "A00121,F1,2027-01-05,2027-01-05,sick",
                      "LEAVE-99999,F1,2027-01-06,2027-01-06,sick")  # fmt: skip
    import_absences_csv(program, leave, actor=None)
    assert add_absence(program, entry(), actor=None).row.id == "A0122"

    wide = write_csv(tmp_path / "wide.csv", "id,person_id,start,end,type",
                     "A9999,F2,2027-01-04,2027-01-04,sick")  # fmt: skip
    import_absences_csv(program, wide, actor=None)
    beyond = add_absence(program, entry(person_id="F2", type="vacation"), actor=None).row.id
    assert beyond == "A10000"  # wider only when the number needs it, as the demo's
    ids = list(program.scalars(select(Absence.id)))
    assert len(ids) == len(set(ids)) == 9
