"""``coinstall check --release``: the coverage grid of one release (not a command of its own:
cli/check.py hands over here, importing this module only when the option is given)."""

from __future__ import annotations

import click

from coinstall.cli._common import discover, stderr, stdout
from coinstall.config import Config


def run_release(
    targets: tuple[str, ...], fmt: str, cfg: Config, no_installed: bool, pythons: tuple[str, ...]
) -> int:
    """Build and print the grid; the exit status: 2 if a target was unreadable or no wheel
    was given, 1 if the release has inconsistencies of severity error (notes such as
    free-threaded-source-only do not count), else 0."""
    from coinstall.release import grid
    from coinstall.runtimes import catalogue as catalogue_mod
    from coinstall.runtimes.inventory import combine

    if fmt == "sarif":
        stderr().print("coinstall: --release writes text, json or html", markup=False)
        return 2
    if not targets:
        stderr().print("coinstall: --release needs wheels or directories of wheels", markup=False)
        return 2
    cat = catalogue_mod.load()
    release = grid(targets, combine(discover(pythons, not no_installed), cat), cat, cfg)
    if fmt == "json":
        import json

        from coinstall.report.json import SCHEMA_VERSION

        click.echo(
            json.dumps({"schema_version": SCHEMA_VERSION, "release": release.to_json()}, indent=2)
        )
    elif fmt == "html":
        from coinstall.report import release_html

        click.echo(release_html.render(release), nl=False)
    else:
        from coinstall.report import release_text

        release_text.render(release, stdout())
    if fmt != "json":
        for path, message in release.errors:
            stderr().print(f"coinstall: {path}: {message}", markup=False)
    if release.errors or not release.wheels:
        return 2
    return 1 if any(i.severity == "error" for i in release.inconsistencies) else 0
