"""Command line: ``coinstall runtimes``, ``coinstall check``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

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


# --------------------------------------------------------------------------------------------
# coinstall share (issue 5): one contiguous block; the engine is coinstall.share.


_T = TypeVar("_T")


def _share_run(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)``; a ShareError becomes one line on stderr and exit status 2."""
    from coinstall.share.site import ShareError
    try:
        return fn(*args, **kwargs)
    except ShareError as exc:
        _stderr().print(f"coinstall share: {exc}")
        sys.exit(2)


_SHARE_TIMEOUT = click.option(
    "--lock-timeout", type=float, default=60.0, show_default=True, metavar="SECONDS",
    help="How long to wait for another coinstall process working on the same site.")


@main.group("share")
def share_cmd() -> None:
    """Install version-independent packages once for many runtimes."""


def _share_pythons(runtimes_opt: str | None, pythons: tuple[str, ...]) -> list[str]:
    """Interpreters for ``share init``: ``--python`` paths as given, plus the discovered
    CPython 3 runtimes ``--runtimes`` selects (all of them when neither option is given)."""
    if pythons and runtimes_opt is None:
        return list(pythons)
    found = [rt for rt in _discover((), True)
             if rt.implementation == "cpython" and rt.version[0] == 3 and rt.executable]
    if runtimes_opt is not None:
        wanted = [w.strip() for w in runtimes_opt.split(",") if w.strip()]
        unknown = [w for w in wanted if not any(w in (rt.version_str, rt.id) for rt in found)]
        if unknown:
            raise click.BadParameter(f"no CPython runtime {', '.join(unknown)} found",
                                     param_hint="--runtimes")
        found = [rt for rt in found if rt.version_str in wanted or rt.id in wanted]
    return list(pythons) + [rt.executable for rt in found if rt.executable]


@share_cmd.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--runtimes", "runtimes_opt", metavar="X.Y,...",
              help="CPython versions or runtime ids to serve (default: every CPython 3 found).")
@click.option("--python", "pythons", multiple=True, metavar="PATH",
              help="Serve this interpreter (a venv's python: its site-packages gets the hook).")
@_SHARE_TIMEOUT
def share_init(directory: str, runtimes_opt: str | None, pythons: tuple[str, ...],
               lock_timeout: float) -> None:
    """Create shared site DIRECTORY and hook it into each runtime's site-packages."""
    from coinstall.report import share_text
    from coinstall.share import site as share_site
    result = _share_run(share_site.init, directory, _share_pythons(runtimes_opt, pythons),
                         timeout=lock_timeout)
    share_text.render_init(result, _stdout())


@share_cmd.command("install")
@click.argument("requirements", nargs=-1, required=True)
@click.option("--into", "directory", required=True, type=click.Path(file_okay=False),
              help="The shared site.")
@click.option("-c", "--constraint", "constraints", multiple=True, type=click.Path(),
              help="pip constraints file (repeatable).")
@_SHARE_TIMEOUT
def share_install(requirements: tuple[str, ...], directory: str, constraints: tuple[str, ...],
                  lock_timeout: float) -> None:
    """Install REQUIREMENTs or wheel files that every target runtime can use.

    Exit status: 0 installed (or already there), 1 refused, 2 error.
    """
    from coinstall.report import share_text
    from coinstall.share import install as share_install_mod
    err = _stderr()
    result = _share_run(share_install_mod.install, directory, requirements, constraints,
                         timeout=lock_timeout, progress=lambda m: err.print(f"... {m}"))
    share_text.render_install(result, _stdout())
    sys.exit(1 if result.refused else 0)


@share_cmd.command("list")
@click.argument("directory", type=click.Path(file_okay=False))
def share_list(directory: str) -> None:
    """List the distributions installed in shared site DIRECTORY."""
    from coinstall.report import share_text
    from coinstall.share.site import SharedSite
    state = _share_run(SharedSite(directory).load)
    share_text.render_list(state, _stdout())


@share_cmd.command("verify")
@click.argument("directory", type=click.Path(file_okay=False))
@_SHARE_TIMEOUT
def share_verify(directory: str, lock_timeout: float) -> None:
    """Import every top-level module with every target runtime; exit 1 on any failure."""
    from coinstall.report import share_text
    from coinstall.share import install as share_install_mod
    result = _share_run(share_install_mod.verify, directory, timeout=lock_timeout)
    share_text.render_verify(result, _stdout())
    sys.exit(0 if result.ok else 1)


@share_cmd.command("remove")
@click.argument("names", nargs=-1, required=True)
@click.option("--from", "directory", required=True, type=click.Path(file_okay=False),
              help="The shared site.")
@click.option("--force", is_flag=True, help="Remove even what other distributions need.")
@_SHARE_TIMEOUT
def share_remove(names: tuple[str, ...], directory: str, force: bool,
                 lock_timeout: float) -> None:
    """Remove distributions NAMES and every runtime's bytecode of them."""
    from coinstall.report import share_text
    from coinstall.share import install as share_install_mod
    result = _share_run(share_install_mod.remove, directory, names, timeout=lock_timeout,
                         force=force)
    share_text.render_remove(result, _stdout())


@share_cmd.command("status")
@click.argument("directory", type=click.Path(file_okay=False))
def share_status(directory: str) -> None:
    """Show the targets, their hooks and where each real interpreter puts the site."""
    from coinstall.report import share_text
    from coinstall.share import site as share_site
    result = _share_run(share_site.status, directory)
    share_text.render_status(result, _stdout())
    sys.exit(0 if all(t.ok for t in result.targets) else 1)


@share_cmd.command("uninit")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--purge", is_flag=True, help="Also remove every installed distribution.")
@_SHARE_TIMEOUT
def share_uninit(directory: str, purge: bool, lock_timeout: float) -> None:
    """Remove the hooks and the state of shared site DIRECTORY."""
    from coinstall.share import site as share_site
    removed = _share_run(share_site.uninit, directory, purge, timeout=lock_timeout)
    out = _stdout()
    for p in removed:
        out.print(f"removed {p}")


if __name__ == "__main__":  # pragma: no cover
    main()
