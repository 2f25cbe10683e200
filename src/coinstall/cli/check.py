"""``coinstall check``, ``rules`` and ``explain``: packages judged by the rule catalogue."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

import click

from coinstall.archive import DEFAULT_TIMEOUT, FEW_TARGETS, POOL_MIN_BYTES, wanted
from coinstall.check import TargetError, check, default_targets
from coinstall.cli._common import (
    LIMIT_OPT,
    PYTHON_OPT,
    apply_limits,
    discover,
    load_config,
    main,
    stderr,
    stdout,
    write_plain,
)
from coinstall.rules import REGISTRY, all_rules
from coinstall.rules.profiles import PROFILES
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine

if TYPE_CHECKING:
    from coinstall.check import CheckResult
    from coinstall.config import Config
    from coinstall.machine import MachineView
    from coinstall.runtimes.catalogue import Catalogue
    from coinstall.runtimes.model import Runtime


@main.command("check")
@click.argument("targets", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "jsonl", "sarif", "html"]),
    default="text",
    help="Output format (JSON and JSON Lines: docs/json-format.md; SARIF 2.1.0; html: "
    "with --release only).",
)
@click.option(
    "--release",
    is_flag=True,
    help="The targets (wheels, directories of wheels) are one release: show its "
    "coverage grid, runtimes x platforms.",
)
@click.option("--summary", is_flag=True, help="One line per artifact instead of the matrices.")
@click.option(
    "--profile",
    type=click.Choice(list(PROFILES)),
    help="Judge every artifact by this policy (default: chosen per artifact).",
)
@click.option(
    "--stack",
    "stack_text",
    metavar="SPEC",
    help="Supported versions and the default: default=3.11,other=3.12.",
)
@click.option("--select", metavar="RULES", help="Run only these rules (comma-separated).")
@click.option("--ignore", metavar="RULES", help="Never run these rules (comma-separated).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Configuration file (default: coinstall.toml or pyproject.toml "
    "[tool.coinstall] found from the current directory up).",
)
@click.option(
    "--no-installed", is_flag=True, help="Judge against the catalogue only; start no interpreter."
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="List every known runtime in each matrix; with no TARGETS, print a matrix "
    "per site directory.",
)
@LIMIT_OPT
@PYTHON_OPT
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Check in N processes (default: the cores, when the packages a second process "
    f"would read add up to {POOL_MIN_BYTES // 2**20} MB or more; 1 for up to {FEW_TARGETS} "
    "targets).  "
    "Results and their order are the serial run's.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on an existing Dask cluster (tcp://host:8786); the workers read the "
    "targets from the same paths.",
)
@click.option(
    "--repo",
    "repo",
    metavar="INDEX",
    type=click.Path(exists=True),
    help="Check every package a Debian Packages file (any compression) or an RPM "
    "repodata/repomd.xml lists, read from --mirror.",
)
@click.option(
    "--mirror",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="The mirror (or repository) root the --repo index's file names are relative to.",
)
@click.option(
    "--select-packages",
    metavar="GLOB",
    help="With --repo: only packages whose name matches (python3-*).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds one target may take (0: no limit); retried once, then reported.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Neither read nor write the result cache (see `coinstall cache`).",
)
def check_cmd(
    targets: tuple[str, ...],
    fmt: str,
    summary: bool,
    profile: str | None,
    stack_text: str | None,
    select: str | None,
    ignore: str | None,
    config_path: str | None,
    no_installed: bool,
    verbose: bool,
    limits: tuple[str, ...],
    pythons: tuple[str, ...],
    release: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    repo: str | None = None,
    mirror: str | None = None,
    select_packages: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    no_cache: bool = False,
) -> None:
    """Check packages (wheel, .deb, .rpm, directory) without running them.

    With no TARGETS, checks the site-packages of every Python installation found and shows
    the Pythons, then only what crosses runtimes or is wrong (-v: a matrix per directory).
    Exit status: 0 no error findings, 1 error findings, 2 a target could not be read or a
    usage/configuration error, 3 an internal error of coinstall.
    """
    cfg = load_config(
        config_path, profile=profile, stack_text=stack_text, select=select, ignore=ignore
    )
    apply_limits(cfg.limits, limits)
    if release:
        from coinstall.cli.release import run_release

        sys.exit(run_release(targets, fmt, cfg, no_installed, pythons))
    if fmt == "html":
        raise click.BadParameter("html is the format of --release", param_hint="--format")
    cat = catalogue_mod.load()
    installed = discover(pythons, not no_installed)
    all_rts = combine(installed, cat)
    # a repository check checks the repository (and any TARGETS), not this machine's
    # site directories; their runtimes still judge it unless --no-installed
    paths = list(targets) if targets or repo else default_targets(installed)
    # with no target, the machine view (below) unless parallel work is asked for explicitly;
    # a few packages go through the one-by-one engine without importing the archive machinery
    if wanted(jobs, scheduler, repo, fmt, len(paths) if targets else 0) or mirror:
        from coinstall.cli import check_archive

        sys.exit(
            check_archive.run_check(
                paths,
                cfg,
                all_rts,
                cat,
                fmt=fmt,
                summary=summary,
                verbose=verbose,
                jobs=jobs,
                scheduler=scheduler,
                repo=repo,
                mirror=mirror,
                select_packages=select_packages,
                timeout=timeout,
                use_cache=not no_cache,
            )
        )
    result = _check_paths(paths, all_rts, cat, cfg)
    # No target: the machine view (coinstall.machine) instead of a matrix per directory.
    view = None if targets else _machine_view(result, installed)
    stack = str(cfg.stack) if cfg.stack.known else None
    _render(result, view, fmt=fmt, summary=summary, verbose=verbose, stack=stack)
    if fmt == "text":
        _print_errors(result)
    sys.exit(result.exit_status)


def _check_paths(
    paths: list[str], runtimes: list[Runtime], cat: Catalogue, cfg: Config
) -> CheckResult:
    """The one-by-one engine over ``paths``; a path that does not exist is its error."""
    missing = [t for t in paths if not os.path.exists(t)]
    result = check([t for t in paths if t not in missing], runtimes, cat, cfg)
    for t in missing:
        result.errors.append(TargetError(t, "no such file or directory"))
    return result


def _machine_view(result: CheckResult, installed: list[Runtime]) -> MachineView:
    from coinstall import machine as machine_mod

    return machine_mod.machine_view(result, installed)


def _render(
    result: CheckResult,
    view: MachineView | None,
    *,
    fmt: str,
    summary: bool,
    verbose: bool,
    stack: str | None,
) -> None:
    """Write the report on stdout: each renderer is imported only when chosen (rich is not
    needed for JSON or SARIF)."""
    if fmt == "json":
        from coinstall.report import json as json_report

        if view is None:
            json_report.dump(result, sys.stdout, stack)
        else:
            from coinstall import machine as machine_mod

            doc = json_report.to_json(result, stack)
            doc["machine"] = machine_mod.to_json(view)
            json_report.dump_doc(doc, sys.stdout)
    elif fmt == "sarif":
        from coinstall.report import sarif as sarif_report

        click.echo(sarif_report.dumps(result))
    elif summary:
        from coinstall.report import text as text_report

        text_report.render_summary(result, stdout())
    elif view is not None and not verbose:
        from coinstall.report import machine_text

        machine_text.render_machine(view, result, stdout())
    else:
        from coinstall.report import text as text_report

        # piped (a build log): the same bytes without importing rich, where the report allows
        if not write_plain(lambda: text_report.render_plain(result, verbose=verbose)):
            text_report.render(result, stdout(), verbose=verbose)


def _print_errors(result: CheckResult) -> None:
    """One line on stderr per target that could not be read (the text format's errors)."""
    if not result.errors:
        return
    from coinstall.report.escape import printable

    err = stderr()
    for e in result.errors:
        err.print(f"coinstall: {printable(e.path)}: {printable(e.message)}", markup=False)


@main.command("rules")
@click.option("--profile", type=click.Choice(list(PROFILES)), help="Only this profile's rules.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
def rules_cmd(profile: str | None, fmt: str) -> None:
    """List the rule catalogue: name, severity, profiles, what each rule finds."""
    from coinstall.report import text as text_report

    rules = all_rules(profile)
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in rules], indent=2))
    elif fmt == "markdown":
        click.echo(text_report.rules_markdown(rules), nl=False)
    else:
        text_report.render_rules(rules, stdout())


@main.command("explain")
@click.argument("name")
def explain_cmd(name: str) -> None:
    """Explain one rule: what it finds, why it matters, an example, the fix, its source."""
    from coinstall.report import text as text_report

    all_rules()
    r = REGISTRY.get(name)
    if r is None:
        close = [n for n in sorted(REGISTRY) if name in n or n in name]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        stderr().print(
            f"coinstall: no rule named {name!r}{hint}; `coinstall rules` lists them", markup=False
        )
        sys.exit(2)
    text_report.render_explain(r, stdout())
