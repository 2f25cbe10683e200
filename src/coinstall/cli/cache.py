"""``coinstall cache``: the result cache of ``coinstall check`` (coinstall.archive.cache) and
the parsed-index cache of ``coinstall plan`` (coinstall.plan.load), in one directory
(coinstall.cachedir)."""

from __future__ import annotations

import sys

import click

from coinstall.archive.cache import ResultCache, cache_dir
from coinstall.cli._common import main, stderr
from coinstall.report.escape import printable


def _fail(message: str) -> None:
    """One ``coinstall:`` line, exit 2 (the file is the problem, not coinstall)."""
    stderr().print(f"coinstall: {printable(message)}", markup=False)
    sys.exit(2)


@main.group("cache")
def cache_group() -> None:
    """The caches: check's results (SQLite) and plan's parsed indices (plan/), under
    $COINSTALL_CACHE_DIR, $XDG_CACHE_HOME/coinstall or ~/.cache/coinstall."""


@cache_group.command("info")
def cache_info() -> None:
    """Where the caches are, what they hold, their size on disk: check's results and plan's
    parsed indices."""
    from coinstall.plan import load

    path = cache_dir()
    if not path.exists():
        click.echo(f"{path}: no cache yet")
        return
    c = ResultCache()  # a damaged database is discarded here, with one warning
    s = c.stats()
    c.close()
    if not s["usable"]:
        _fail(f"{s['path']}: cannot be used")
    click.echo(
        f"{s['path']}: {s['results']} results, {s['files']} file digests, {s['bytes'] / 1e6:.1f} MB"
    )
    n, size = load.cache_stats()
    click.echo(f"{load.cache_dir()}: {n} parsed indices, {size / 1e6:.1f} MB")


@cache_group.command("clear")
def cache_clear() -> None:
    """Delete every cached result and parsed index."""
    from coinstall.plan import load

    c = ResultCache()
    try:
        n, m = c.clear()
        indices = load.clear_cache()
    except OSError as exc:  # read-only, or not even a new cache can be made there
        _fail(str(exc))
    finally:
        c.close()
    click.echo(f"{c.path}: removed {n} results and {m} file digests")
    click.echo(f"{load.cache_dir()}: removed {indices} parsed indices")
