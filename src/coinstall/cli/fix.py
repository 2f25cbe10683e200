"""``coinstall fix``: repair what ``check`` finds, from the same rule data."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

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

# rich only where a report needs its layout (a terminal, or text report/plain.py declines):
# fix --select <shebang rules> piped into a build log writes plain text without it
if TYPE_CHECKING:
    from rich.console import Console


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
    out: list[Console] = []  # rich's console, made on first use
    status = 0
    results: list[FixResult] = []
    errors: list[tuple[str, str]] = []
    for t in targets:
        if not os.path.lexists(t):
            _error(f"coinstall: {printable(t)}: no such file or directory")
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
            _error(f"coinstall: {printable(t)}: {printable(str(exc))}")
            errors.append((t, str(exc)))
            status = 2
            continue
        results.append(result)
        if fmt == "text":
            _show(result, out, show_diff)
        if result.left and status == 0:
            status = 1
    if fmt == "json":
        click.echo(fix_json.dumps(results, errors))
    sys.exit(status)


def _error(line: str) -> None:
    """One error line on stderr, as ``stderr().print(line, markup=False)`` writes it: the
    same bytes without rich when stderr is not a terminal."""
    from coinstall.report import plain

    try:
        if plain.piped(sys.stderr):
            sys.stderr.write(plain.check(line, measured=False) + "\n")
            sys.stderr.flush()
            return
    except plain.NotPlain:
        pass
    stderr().print(line, markup=False)


def _show(result: FixResult, out: list[Console], show_diff: bool) -> None:
    """One target's text report on stdout: plain when piped (:func:`_plain_report`), else
    rich's :func:`_render` on the console kept in ``out``."""
    from coinstall.report import plain

    if plain.piped():
        try:
            sys.stdout.write(_plain_report(result, show_diff))
            sys.stdout.flush()
            return
        except plain.NotPlain:
            pass
    if not out:
        out.append(stdout())
    _render(result, out[0], show_diff)


def _lines(result: FixResult, show_diff: bool) -> list[tuple[str, str]]:
    """The report's lines, each ``(how, text)``: ``"out"`` for ``Console.out`` (no markup, no
    wrapping), ``"line"`` for a ``print`` without markup; the first line (``"head"``) is the
    target's name and format, in bold.  Every name and message from the target is hostile
    text: shown through :func:`~coinstall.report.escape.printable` (an ESC or a newline in a
    file name is shown as an escape, never reaches the terminal, never starts a line of its
    own), as ``check`` shows them.  Members are shown rooted (``/usr/bin/x``) below a tree and
    relative in a wheel."""
    verb = "would fix" if result.dry_run else "fixed"
    archive = result.format != "tree"

    def where(p: str) -> str:
        return printable(show_path(p, archive))

    head = f" ({result.format}, profile {result.profile})"
    if result.recovered:
        head += f": an interrupted earlier run was {result.recovered}"
    lines = [("head", head)]
    if show_diff:
        for ln in diff_lines(result, lambda p: old_content(result.path, p)):
            lines.append(("out", printable(ln[:-1] if ln.endswith("\n") else ln)))
    else:
        for e in result.edits:
            rules = ", ".join(sorted({f.rule for f in e.findings}))
            lines.append(("line", f"  {verb:9} {rules}  {where(e.path)}: {printable(e.note)}"))
    for x in result.left:
        f = x.finding
        at = where(f.path) if f.path else "(package)"
        lines.append(
            (
                "line",
                f"  {'left':9} {f.rule}  {at}: {printable(f.message)} -- {printable(x.reason)}",
            )
        )
    if result.written:
        lines.append(("line", f"  wrote {printable(result.written)}"))
    for note in result.notes:
        lines.append(("line", f"  note: {printable(note)}"))
    lines.append(("line", f"  {len(result.fixed)} {verb}, {len(result.left)} left"))
    return lines


def _plain_report(result: FixResult, show_diff: bool) -> str:
    """What :func:`_render` prints on a console that is not a terminal, without rich.

    Raises:
        coinstall.report.plain.NotPlain: a line rich would wrap or change.
    """
    from coinstall.report import plain

    out = []
    for how, text in _lines(result, show_diff):
        if how == "head":  # rich markup after the escaped name: coinstall's own words
            if "[" in text:
                raise plain.NotPlain(text)
            out.append(plain.line(printable(result.path) + text))
        elif how == "out":
            out.append(plain.check(text, measured=False))
        else:
            out.append(plain.line(text))
    return "".join(ln + "\n" for ln in out)


def _render(result: FixResult, console: Console, show_diff: bool) -> None:
    """One target's text report on a rich console (:func:`_lines`)."""
    for how, text in _lines(result, show_diff):
        if how == "head":
            console.print(f"[bold]{markup(result.path)}[/]{text}")
        elif how == "out":
            console.out(text, highlight=False)
        else:
            console.print(text, markup=False, highlight=False)
