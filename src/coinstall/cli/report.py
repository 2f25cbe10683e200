"""``coinstall report``: the archive view of ``coinstall check`` results."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from coinstall.cli._common import main, output_dir_exists, stderr, stdout, write_output
from coinstall.report import OutputFormat, archive_html, archive_text
from coinstall.report.archive_summary import ResultsError, read_results, summarise


@main.command("report")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    help="Text tables, the summary as JSON (docs/json-format.md), or one self-contained HTML page.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    callback=output_dir_exists,
    help="Write here instead of standard output.",
)
def report_cmd(results: tuple[str, ...], fmt: OutputFormat, output: str | None) -> None:
    """Summarise check results (`coinstall check --format json` or `jsonl` files): findings
    per rule, severity and profile, the packages with the most findings, headline numbers.

    Exit status: 0, or 2 if a file is not check results.
    """
    from coinstall.artifacts import ArtifactError, open_regular
    from coinstall.artifacts import limits as limits_mod

    cap = limits_mod.default().index_mb << 20

    def items() -> Iterator[tuple[str, dict[str, Any]]]:
        for path in results:
            try:  # stat before open: a FIFO or /dev/zero is refused, not waited on or read
                fd = open_regular(path)
            except ArtifactError as exc:
                raise ResultsError(f"{path}: {exc}") from None
            with os.fdopen(fd, encoding="utf-8") as f:
                if os.fstat(fd).st_size > cap:
                    raise ResultsError(
                        f"{path}: {os.fstat(fd).st_size >> 20} MB, above the "
                        f"{cap >> 20} MB read (limit index-mb)"
                    )
                yield from read_results(f, path, cap)

    try:
        summary = summarise(items(), list(results))
    except (ResultsError, OSError, UnicodeDecodeError) as exc:
        stderr().print(f"coinstall: {exc}", markup=False)
        sys.exit(2)
    if fmt == "html":
        text = archive_html.render(summary)
    elif fmt == "json":
        text = json.dumps(summary, indent=2) + "\n"
    else:
        if output is None:
            archive_text.render(summary, stdout())
            return
        from io import StringIO

        from rich.console import Console

        buf = StringIO()
        archive_text.render(summary, Console(file=buf, highlight=False, width=200))
        text = buf.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        write_output(output, text)
