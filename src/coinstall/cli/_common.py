"""What every command group shares: the ``coinstall`` group, the consoles, runtime discovery,
rule-name options.  Only ``cli/`` and ``report/`` know the screen.

Start-up: this module imports only click.  rich (the consoles), runtime discovery and the rule
registry are imported by the functions that need them, and the command modules load when their
command is invoked (:class:`LazyGroup`): ``coinstall check --format json`` never imports rich,
``coinstall runtimes`` never imports the rules (benchmarks/startup_bench.py).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from coinstall.runtimes.model import Runtime

PYTHON_OPT = click.option(
    "--python", "pythons", multiple=True, metavar="PATH",
    help="Also probe this interpreter (repeatable; COINSTALL_PYTHONS adds more).")


def stdout() -> Console:
    """Colour and the terminal's width on a terminal; plain and wide when piped."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def discover(pythons: tuple[str, ...], use_installed: bool) -> list[Runtime]:
    if not use_installed:
        return []
    from coinstall.runtimes import discovery

    found, errors = discovery.discover(list(pythons))
    err = stderr()
    for e in errors:
        err.print(f"warning: {e.path}: {e.message}")
    return found


class LazyGroup(click.Group):
    """A click group whose commands live in modules imported on first use.

    :attr:`lazy` maps a command name to the module that registers it on :data:`main` (with
    ``@main.command``/``@main.group``); ``cli/__init__.py`` fills it.  A command registered
    directly (its module imported eagerly) works as in a plain group.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}

    def _load(self, name: str) -> None:
        module = self.lazy.get(name)
        if module is not None and name not in self.commands:
            importlib.import_module(module)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for name in list(self.lazy):
            self._load(name)
        return super().list_commands(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coinstall")
def main() -> None:
    """Check, plan and share Python packages across parallel runtimes."""


def rule_list(value: str | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    from coinstall.rules import REGISTRY

    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    unknown = sorted(names - set(REGISTRY))
    if unknown:
        raise click.BadParameter(f"unknown rule {', '.join(unknown)}", param_hint=what)
    return names
