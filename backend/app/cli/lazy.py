"""Command groups that import a command's module only when that command is wanted.

Every command module imports the services it drives (the ORM and its models, the auth service,
the solver, Celery...): importing them all would be most of the start-up of any command. A
group here names its commands in a registry, each by ``"module:attribute"`` and the first
paragraph of its help, and loads one when click resolves it by name. The group's own listing
(``--help`` of the group) shows those first paragraphs without loading anything.

Everything else is Typer's: a loaded command is built by Typer exactly as an ``add_typer`` or
``command`` registration on the group would build it. Written for plain click help
(``rich_markup_mode=None``), the only help this program prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from gettext import gettext as _
from importlib import import_module
from typing import Any, ClassVar

import typer

# Typer carries its own copy of click; its commands are of that copy's classes.
from typer import _click as click
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup

from app.core.gcpause import imports_frozen


@dataclass(frozen=True)
class LazyCommand:
    """A command or group of a ``LazyGroup``, loaded from ``target`` when it is wanted."""

    name: str
    target: str
    """``"module:attribute"``: a ``typer.Typer`` (a group) or a command function."""
    summary: str
    """The first paragraph of the command's help: what its parent's listing shortens to a
    line. ``tests/cli/test_lazy.py`` checks that it is the loaded command's own."""
    replaces_help: bool = False
    """Register with ``help=summary`` in place of the target's own help (its docstring, or the
    help its ``typer.Typer`` was made with)."""

    def load(self, group: TyperGroup) -> click.Command:
        """Import the target and build its command as a registration on ``group`` would."""
        module, _, attribute = self.target.partition(":")
        with imports_frozen():  # a command's modules: long-lived, no garbage (see app/cli)
            target = getattr(import_module(module), attribute)
        holder = typer.Typer(
            rich_markup_mode=group.rich_markup_mode, suggest_commands=group.suggest_commands
        )
        # add_typer(help=None) would be an explicit empty help: pass help only to replace it.
        help_given: dict[str, Any] = {"help": self.summary} if self.replaces_help else {}
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=self.name, **help_given)
        else:
            holder.command(self.name, **help_given)(target)
        return typer.main.get_group(holder).commands[self.name]


class LazyGroup(TyperGroup):
    """A Typer group whose registry's commands are imported on first use.

    Subclass it with ``registry`` set, in the order of the listing, and pass the subclass as
    ``typer.Typer(cls=...)``. A plain name in the registry is a command registered on that
    Typer as usual (it lives in a module already imported); a ``LazyCommand`` is loaded when
    named. ``commands`` maps every name: reading an entry loads it, so the group behaves as one
    holding all its commands (suggestions for a mistyped name, tools that walk the tree).
    """

    registry: ClassVar[tuple[LazyCommand | str, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self, dict(self.commands), self.registry)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The names in registry order, loading nothing (``TyperGroup`` reads every entry)."""
        return list(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands as ``TyperGroup`` does, unloaded ones by their registry summary."""
        assert isinstance(self.commands, LazyCommands)
        rows = [(name, self.commands.summary(name)) for name in self.list_commands(ctx)]
        shown = [(name, summary) for name, summary in rows if summary is not None]
        if not shown:
            return
        limit = formatter.width - 6 - max(len(name) for name, _summary in shown)
        with formatter.section(_("Commands")):
            formatter.write_dl([(name, summary(limit)) for name, summary in shown])


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name, in listing order; an unloaded one is loaded when read."""

    def __init__(
        self,
        group: TyperGroup,
        loaded: dict[str, click.Command],
        registry: tuple[LazyCommand | str, ...],
    ) -> None:
        self._group = group
        self._loaded = loaded
        self._lazy = {entry.name: entry for entry in registry if isinstance(entry, LazyCommand)}
        names = [entry if isinstance(entry, str) else entry.name for entry in registry]
        missing = set(names) - set(loaded) - set(self._lazy)
        if missing:
            raise RuntimeError(f"registry names unregistered commands: {sorted(missing)}")
        self._order = names + [name for name in loaded if name not in names]

    def summary(self, name: str) -> Callable[[int], str] | None:
        """How to shorten the command's help to a line of at most a given length, as click
        does; ``None`` for a hidden command. Loads nothing."""
        if name in self._loaded:
            command = self._loaded[name]
            return None if command.hidden else command.get_short_help_str
        text = self._lazy[name].summary
        return lambda limit: make_default_short_help(text, limit)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            self._loaded[name] = self._lazy[name].load(self._group)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._lazy

    def __setitem__(self, name: str, command: click.Command) -> None:
        if name not in self:
            self._order.append(name)
        self._loaded[name] = command
        self._lazy.pop(name, None)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._lazy.pop(name, None)
        self._order.remove(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)
