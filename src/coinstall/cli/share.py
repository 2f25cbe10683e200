"""``coinstall share``: install version-independent packages once for many runtimes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from coinstall.cli._common import discover, main, stderr, stdout
from coinstall.report import OutputFormat

_T = TypeVar("_T")


def _share_run(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)``; a ShareError becomes one line on stderr and exit status 2."""
    from coinstall.report.escape import printable
    from coinstall.share.site import ShareError

    try:
        return fn(*args, **kwargs)
    except ShareError as exc:
        stderr().print(f"coinstall share: {printable(str(exc))}", markup=False, highlight=False)
        sys.exit(2)


_SHARE_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format (JSON: docs/share-format.md).",
)


def _print_json(data: object) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2) + "\n")


_SHARE_TIMEOUT = click.option(
    "--lock-timeout",
    type=float,
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another coinstall process working on the same site.",
)


@main.group("share")
def share_cmd() -> None:
    """Install version-independent packages once for many runtimes."""


def _share_pythons(runtimes_opt: str | None, pythons: tuple[str, ...]) -> list[str]:
    """Interpreters for ``share init``: ``--python`` paths as given, plus the discovered
    runtimes ``--runtimes`` selects: CPython 3 by version or id, PyPy 3 by id
    (``pypy-3.9-pp73``); every CPython 3 found when neither option is given (PyPy takes no
    stable-ABI wheel, so it is served when named)."""
    if pythons and runtimes_opt is None:
        return list(pythons)
    found = [
        rt
        for rt in discover((), True)
        if rt.implementation in ("cpython", "pypy") and rt.version[0] == 3 and rt.executable
    ]
    if runtimes_opt is not None:
        wanted = [w.strip() for w in runtimes_opt.split(",") if w.strip()]

        def named(rt: Any, w: str) -> bool:
            return bool(w == rt.id or (w == rt.version_str and rt.implementation == "cpython"))

        unknown = [w for w in wanted if not any(named(rt, w) for rt in found)]
        if unknown:
            raise click.BadParameter(
                f"no runtime {', '.join(unknown)} found", param_hint="--runtimes"
            )
        found = [rt for rt in found if any(named(rt, w) for w in wanted)]
    else:
        found = [rt for rt in found if rt.implementation == "cpython"]
    return list(pythons) + [rt.executable for rt in found if rt.executable]


@share_cmd.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--runtimes",
    "runtimes_opt",
    metavar="X.Y,...",
    help="CPython versions or runtime ids (pypy-3.9-pp73) to serve (default: every "
    "CPython 3 found).",
)
@click.option(
    "--python",
    "pythons",
    multiple=True,
    metavar="PATH",
    help="Serve this interpreter (a venv's python: its site-packages gets the hook).",
)
@_SHARE_TIMEOUT
def share_init(
    directory: str, runtimes_opt: str | None, pythons: tuple[str, ...], lock_timeout: float
) -> None:
    """Create shared site DIRECTORY and hook it into each runtime's site-packages."""
    from coinstall.report import share_text
    from coinstall.share import site as share_site

    result = _share_run(
        share_site.init, directory, _share_pythons(runtimes_opt, pythons), timeout=lock_timeout
    )
    share_text.render_init(result, stdout())


@share_cmd.command("install")
@click.argument("requirements", nargs=-1, required=True)
@click.option(
    "--into", "directory", required=True, type=click.Path(file_okay=False), help="The shared site."
)
@click.option(
    "-c",
    "--constraint",
    "constraints",
    multiple=True,
    type=click.Path(),
    help="pip constraints file (repeatable).",
)
@click.option(
    "-U",
    "--upgrade",
    is_flag=True,
    help="Replace installed distributions by the versions pip picks now (one "
    "transaction); refused where another installed distribution excludes "
    "the new version.",
)
@_SHARE_TIMEOUT
def share_install(
    requirements: tuple[str, ...],
    directory: str,
    constraints: tuple[str, ...],
    upgrade: bool,
    lock_timeout: float,
) -> None:
    """Install REQUIREMENTs or wheel files that every target runtime can use.

    Exit status: 0 installed (or already there), 1 refused, 2 error.
    """
    from coinstall.report import share_text
    from coinstall.share import install as share_install_mod

    err = stderr()
    result = _share_run(
        share_install_mod.install,
        directory,
        requirements,
        constraints,
        timeout=lock_timeout,
        progress=lambda m: err.print(f"... {m}"),
        upgrade=upgrade,
    )
    share_text.render_install(result, stdout())
    sys.exit(1 if result.refused else 0)


@share_cmd.command("list")
@click.argument("directory", type=click.Path(file_okay=False))
@_SHARE_FORMAT
def share_list(directory: str, fmt: OutputFormat) -> None:
    """List the distributions installed in shared site DIRECTORY."""
    from coinstall.share.site import SharedSite

    state = _share_run(SharedSite(directory).load)
    if fmt == "json":
        from coinstall.report import share_json

        _print_json(share_json.list_json(state))
        return
    from coinstall.report import share_text

    share_text.render_list(state, stdout())


@share_cmd.command("verify")
@click.argument("directory", type=click.Path(file_okay=False))
@_SHARE_FORMAT
@_SHARE_TIMEOUT
def share_verify(directory: str, fmt: OutputFormat, lock_timeout: float) -> None:
    """Import every top-level module with every target runtime; exit 1 on any failure."""
    from coinstall.share import install as share_install_mod
    from coinstall.share.site import SharedSite

    result = _share_run(share_install_mod.verify, directory, timeout=lock_timeout)
    if fmt == "json":
        from coinstall.report import share_json

        _print_json(share_json.verify_json(result, SharedSite(directory).dir))
    else:
        from coinstall.report import share_text

        share_text.render_verify(result, stdout())
    sys.exit(0 if result.ok else 1)


@share_cmd.command("remove")
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--from", "directory", required=True, type=click.Path(file_okay=False), help="The shared site."
)
@click.option("--force", is_flag=True, help="Remove even what other distributions need.")
@_SHARE_TIMEOUT
def share_remove(names: tuple[str, ...], directory: str, force: bool, lock_timeout: float) -> None:
    """Remove distributions NAMES and every runtime's bytecode of them."""
    from coinstall.report import share_text
    from coinstall.share import install as share_install_mod

    result = _share_run(
        share_install_mod.remove, directory, names, timeout=lock_timeout, force=force
    )
    share_text.render_remove(result, stdout())


@share_cmd.command("status")
@click.argument("directory", type=click.Path(file_okay=False))
@_SHARE_FORMAT
def share_status(directory: str, fmt: OutputFormat) -> None:
    """Show the targets, their hooks and where each real interpreter puts the site."""
    from coinstall.share import site as share_site

    result = _share_run(share_site.status, directory)
    if fmt == "json":
        from coinstall.report import share_json

        _print_json(share_json.status_json(result))
    else:
        from coinstall.report import share_text

        share_text.render_status(result, stdout())
    sys.exit(0 if all(t.ok for t in result.targets) else 1)


@share_cmd.command("uninit")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--purge", is_flag=True, help="Also remove every installed distribution.")
@_SHARE_TIMEOUT
def share_uninit(directory: str, purge: bool, lock_timeout: float) -> None:
    """Remove the hooks and the state of shared site DIRECTORY."""
    from coinstall.share import site as share_site

    removed = _share_run(share_site.uninit, directory, purge, timeout=lock_timeout)
    out = stdout()
    for p in removed:
        out.print(f"removed {p}")
