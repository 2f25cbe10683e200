"""``coinstall runtimes``: the interpreters on this machine, or the catalogue."""

from __future__ import annotations

import json

import click

from coinstall.cli._common import PYTHON_OPT, discover, main, stdout
from coinstall.report import OutputFormat
from coinstall.runtimes import catalogue as catalogue_mod


@main.command()
@click.option("--known", is_flag=True, help="List the catalogue (every runtime coinstall knows).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@PYTHON_OPT
def runtimes(known: bool, fmt: OutputFormat, pythons: tuple[str, ...]) -> None:
    """List the Python runtimes on this machine (or, with --known, every one coinstall knows)."""
    cat = catalogue_mod.load()
    rts = cat.known() if known else discover(pythons, True)
    if fmt == "json":
        click.echo(json.dumps([rt.to_json() for rt in rts], indent=2))
    else:
        from coinstall.report import text as text_report  # rich and the report: text only

        text_report.render_runtimes(rts, stdout())
