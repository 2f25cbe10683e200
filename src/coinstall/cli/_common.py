"""What every command group shares: the ``coinstall`` group, the consoles, runtime discovery,
rule-name options.  Only ``cli/`` and ``report/`` know the screen."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from coinstall.rules import REGISTRY
from coinstall.runtimes import discovery
from coinstall.runtimes.model import Runtime

PYTHON_OPT = click.option(
    "--python", "pythons", multiple=True, metavar="PATH",
    help="Also probe this interpreter (repeatable; COINSTALL_PYTHONS adds more).")


def stdout() -> Console:
    """Colour and the terminal's width on a terminal; plain and wide when piped."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def discover(pythons: tuple[str, ...], use_installed: bool) -> list[Runtime]:
    if not use_installed:
        return []
    found, errors = discovery.discover(list(pythons))
    err = stderr()
    for e in errors:
        err.print(f"warning: {e.path}: {e.message}")
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coinstall")
def main() -> None:
    """Check, plan and share Python packages across parallel runtimes."""


def rule_list(value: str | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    unknown = sorted(names - set(REGISTRY))
    if unknown:
        raise click.BadParameter(f"unknown rule {', '.join(unknown)}", param_hint=what)
    return names
