"""``coinstall fix``: repair what ``check`` finds, from the same rule data."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console

from coinstall.cli._common import (
    PYTHON_OPT,
    discover,
    load_config,
    main,
    output_dir_exists,
    stderr,
    stdout,
)
from coinstall.config import profile_name
from coinstall.fix.engine import (
    FixError,
    FixResult,
    diff_lines,
    fix_target,
    needs_interpreters,
    old_content,
)
from coinstall.fix.model import FixOptions, show_path
from coinstall.report import OutputFormat, fix_json
from coinstall.report.escape import markup, printable
from coinstall.rules.profiles import PROFILES
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine


@main.command("fix")
@click.argument("targets", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="Output format (JSON: one object per target, see report/fix_json.py).",
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Show what would change and write nothing (dry run)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    callback=output_dir_exists,
    help="Where a fixed wheel is written (a file, or a directory).",
)
@click.option(
    "--profile",
    type=click.Choice(list(PROFILES)),
    help="Judge by this policy (default: from the target; a build root by its layout).",
)
@click.option(
    "--stack",
    "stack_text",
    metavar="SPEC",
    help="Supported versions and the default: default=3.12,other=3.11.",
)
@click.option("--select", metavar="RULES", help="Fix and report only these rules.")
@click.option("--ignore", metavar="RULES", help="Never report these rules.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Configuration file (as for check).",
)
@click.option(
    "--shebang-flags",
    default="",
    metavar="LETTERS",
    help="Interpreter flags to add to rewritten shebangs (Fedora: s, or sP).",
)
@click.option(
    "--drop-bytecode",
    is_flag=True,
    help="Remove bad bytecode instead of recompiling it where the profile ships none (Debian).",
)
@click.option(
    "--links",
    is_flag=True,
    help="Add a missing versioned entry point as a symbolic link, not a copy.",
)
@click.option(
    "--no-installed",
    is_flag=True,
    help="Start no interpreter (bytecode is then left, not recompiled).",
)
@PYTHON_OPT
def fix_cmd(
    targets: tuple[str, ...],
    fmt: OutputFormat,
    show_diff: bool,
    output: str | None,
    profile: str | None,
    stack_text: str | None,
    select: str | None,
    ignore: str | None,
    config_path: str | None,
    shebang_flags: str,
    drop_bytecode: bool,
    links: bool,
    no_installed: bool,
    pythons: tuple[str, ...],
) -> None:
    """Repair what check finds: shebangs, extension-module names, bytecode, versioned entry
    points, on build roots, installed trees and wheels.

    A directory is changed all-or-nothing (a journal; an interrupted run is completed or
    rolled back by the next fix); a wheel is written anew to --output with its RECORD
    recomputed; a .deb or .rpm is never modified.  Exit status: 0 nothing left, 1 findings
    left, 2 bad input.
    """
    err = stderr()
    cfg = load_config(config_path, stack_text=stack_text, select=select, ignore=ignore)
    bad = set(shebang_flags) - set("sPEIu")
    if bad:
        raise click.BadParameter(
            f"unsupported flag letters {''.join(sorted(bad))}", param_hint="--shebang-flags"
        )
    if output and len(targets) > 1 and not os.path.isdir(output):
        raise click.BadParameter(
            "with several targets, --output must be a directory", param_hint="--output"
        )
    options = FixOptions(shebang_flags, drop_bytecode, links)
    cat = catalogue_mod.load()
    # a run whose rules and fixers need no interpreter (fix --select of the shebang rules)
    # discovers none, unless --python names one
    installed = discover(pythons, not no_installed and (bool(pythons) or needs_interpreters(cfg)))
    all_rts = combine(installed, cat)
    out = stdout()
    status = 0
    results: list[FixResult] = []
    errors: list[tuple[str, str]] = []
    for t in targets:
        if not os.path.lexists(t):
            err.print(f"coinstall: {printable(t)}: no such file or directory", markup=False)
            errors.append((t, "no such file or directory"))
            status = 2
            continue
        # None: chosen as check chooses it (rules.profiles)
        cfg.profile = profile_name(profile) if profile else None
        try:
            result = fix_target(
                t, all_rts, cat, cfg, options, installed, output=output, dry_run=show_diff
            )
        except FixError as exc:
            err.print(f"coinstall: {printable(t)}: {printable(str(exc))}", markup=False)
            errors.append((t, str(exc)))
            status = 2
            continue
        results.append(result)
        if fmt == "text":
            _render(result, out, show_diff)
        if result.left and status == 0:
            status = 1
    if fmt == "json":
        click.echo(fix_json.dumps(results, errors))
    sys.exit(status)


def _render(result: FixResult, console: Console, show_diff: bool) -> None:
    """One target's text report.  Every name and message from the target is hostile text:
    shown through :func:`~coinstall.report.escape.printable` (an ESC or a newline in a file
    name is shown as an escape, never reaches the terminal, never starts a line of its own),
    as ``check`` shows them.  Members are shown rooted (``/usr/bin/x``) below a tree and
    relative in a wheel."""
    verb = "would fix" if result.dry_run else "fixed"
    archive = result.format != "tree"

    def where(p: str) -> str:
        return printable(show_path(p, archive))

    head = f"[bold]{markup(result.path)}[/] ({result.format}, profile {result.profile})"
    if result.recovered:
        head += f": an interrupted earlier run was {result.recovered}"
    console.print(head)
    if show_diff:
        for ln in diff_lines(result, lambda p: old_content(result.path, p)):
            console.out(printable(ln[:-1] if ln.endswith("\n") else ln), highlight=False)
    else:
        for e in result.edits:
            rules = ", ".join(sorted({f.rule for f in e.findings}))
            console.print(
                f"  {verb:9} {rules}  {where(e.path)}: {printable(e.note)}",
                markup=False,
                highlight=False,
            )
    for x in result.left:
        f = x.finding
        at = where(f.path) if f.path else "(package)"
        console.print(
            f"  {'left':9} {f.rule}  {at}: {printable(f.message)} -- {printable(x.reason)}",
            markup=False,
            highlight=False,
        )
    if result.written:
        console.print(f"  wrote {printable(result.written)}", markup=False, highlight=False)
    for note in result.notes:
        console.print(f"  note: {printable(note)}", markup=False, highlight=False)
    console.print(f"  {len(result.fixed)} {verb}, {len(result.left)} left", highlight=False)
