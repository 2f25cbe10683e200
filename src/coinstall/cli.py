"""Command line: ``coinstall runtimes``, ``coinstall check``."""

from __future__ import annotations

import json
import os
import sys

import click
from rich.console import Console

from coinstall.check import TargetError, check, default_targets
from coinstall.report import json as json_report
from coinstall.report import text as text_report
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.model import Runtime

_PYTHON_OPT = click.option(
    "--python", "pythons", multiple=True, metavar="PATH",
    help="Also probe this interpreter (repeatable; COINSTALL_PYTHONS adds more).")


def _stdout() -> Console:
    """Colour and the terminal's width on a terminal; plain and wide when piped."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _discover(pythons: tuple[str, ...], use_installed: bool) -> list[Runtime]:
    if not use_installed:
        return []
    found, errors = discovery.discover(list(pythons))
    err = _stderr()
    for e in errors:
        err.print(f"warning: {e.path}: {e.message}")
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coinstall")
def main() -> None:
    """Check, plan and share Python packages across parallel runtimes."""


@main.command()
@click.option("--known", is_flag=True, help="List the catalogue (every runtime coinstall knows).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_PYTHON_OPT
def runtimes(known: bool, fmt: str, pythons: tuple[str, ...]) -> None:
    """List the Python runtimes on this machine (or, with --known, every one coinstall knows)."""
    cat = catalogue_mod.load()
    rts = cat.known() if known else _discover(pythons, True)
    if fmt == "json":
        click.echo(json.dumps([rt.to_json() for rt in rts], indent=2))
    else:
        text_report.render_runtimes(rts, _stdout())


@main.command("check")
@click.argument("targets", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="Output format (JSON: docs/json-format.md).")
@click.option("--no-installed", is_flag=True,
              help="Judge against the catalogue only; start no interpreter.")
@click.option("-v", "--verbose", is_flag=True, help="List every known runtime in each matrix.")
@_PYTHON_OPT
def check_cmd(targets: tuple[str, ...], fmt: str, no_installed: bool, verbose: bool,
              pythons: tuple[str, ...]) -> None:
    """Check packages (wheel, .deb, .rpm, directory) without running them.

    With no TARGETS, checks the site-packages of every Python installation found.
    Exit status: 0 no error findings, 1 error findings, 2 a target could not be read.
    """
    cat = catalogue_mod.load()
    installed = _discover(pythons, not no_installed)
    all_rts = combine(installed, cat)
    paths = list(targets) if targets else default_targets(installed)
    missing = [t for t in paths if not os.path.lexists(t)]
    result = check([t for t in paths if t not in missing], all_rts, cat)
    for t in missing:
        result.errors.append(TargetError(t, "no such file or directory"))
    if fmt == "json":
        click.echo(json_report.dumps(result))
    else:
        text_report.render(result, _stdout(), verbose=verbose)
        if result.errors:
            err = _stderr()
            for e in result.errors:
                err.print(f"coinstall: {e.path}: {e.message}")
    sys.exit(result.exit_status)


if __name__ == "__main__":  # pragma: no cover
    main()
