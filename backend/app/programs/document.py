"""Program documents (docs/program-format.md): parse, validate fully, put in canonical form.

``validate_program`` checks everything a file can get wrong before anything is written and
returns the document in canonical form: every optional field present with its default,
lists sorted, key order fixed. Export produces the same form, which is what makes a round
trip exact and lets an import of unchanged data be recognised as such.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.core.errors import InputError, Problem, ValidationFailed
from app.programs.program_checks import FORMAT_NAME, FORMAT_VERSION, ProgramChecker

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "dump_program",
    "load_program_file",
    "parse_program_text",
    "validate_program",
    "validate_program_with_notes",
]


def parse_program_text(text: str, source: str) -> Any:
    """Parse JSON text; syntax errors become a ``ValidationFailed`` naming line and column."""
    duplicates: list[Problem] = []

    def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                duplicates.append(Problem("document", f"key {key!r} appears twice in an object"))
            out[key] = value
        return out

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not allowed in JSON")

    try:
        value = json.loads(text, object_pairs_hook=no_duplicate_keys, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ValidationFailed(source, [Problem(where, f"invalid JSON: {exc.msg}")]) from None
    except ValueError as exc:
        raise ValidationFailed(source, [Problem("document", str(exc))]) from None
    except RecursionError:
        # The parser recurses once per nested list or object; no program file nests deeply.
        reason = "invalid JSON: lists or objects nested too deeply"
        raise ValidationFailed(source, [Problem("document", reason)]) from None
    if duplicates:
        raise ValidationFailed(source, duplicates)
    return value


def load_program_file(path: Path) -> Any:
    """Read and parse a program file (not yet validated)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: cannot read: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    return parse_program_text(text, path.name)


def dump_program(document: dict[str, Any]) -> str:
    """The text of a canonical document: stable, so equal documents give equal bytes.

    One list element per line keeps files of a year of half-days compact and easy to diff.
    """
    lines = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {_compact(item)}" for item in value)
            lines.append(f"  {_compact(key)}: [\n{items}\n  ]")
        else:
            lines.append(f"  {_compact(key)}: {_compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def validate_program(document: Any, *, source: str) -> dict[str, Any]:
    """Check a parsed program document and return it in canonical form.

    Args:
        document: the parsed JSON.
        source: the file name, used in the error.

    Raises:
        ValidationFailed: with every problem found, each at its place in the document.
    """
    return validate_program_with_notes(document, source=source)[0]


def validate_program_with_notes(
    document: Any, *, source: str
) -> tuple[dict[str, Any], list[Problem]]:
    """Like ``validate_program``, also returning the notes: what was accepted but read
    differently from how it is written (see docs/program-format.md).

    Raises:
        ValidationFailed: with every problem found, each at its place in the document.
    """
    checker = ProgramChecker()
    canonical = checker.check(document)
    if checker.problems:
        raise ValidationFailed(source, checker.problems)
    return canonical, checker.notes
