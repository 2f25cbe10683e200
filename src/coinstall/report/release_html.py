"""One self-contained HTML page of a release's coverage grid (jinja2; no network, CSS inline):
the runtimes x platforms table coloured by what serves each cell, each cell's wheel, tag and
verdict in its title, then the wheels and the inconsistencies."""

from __future__ import annotations

import jinja2

from coinstall.release import STATUSES, Release
from coinstall.report.release_text import LEGEND, cell_text, summary

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("coinstall.report", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(release: Release) -> str:
    """The page as a string."""
    rows = []
    for rt in release.runtimes if release.cells else ():
        cells = []
        for p in release.platforms:
            c = release.cell(rt.key, p.key)
            title = " | ".join(
                x for x in (c.wheel, c.tag, c.verdict and f"files: {c.verdict}", c.reason) if x
            )
            cells.append(
                {
                    "status": c.status,
                    "text": cell_text(c),
                    "title": title or "no wheel: a source build is needed",
                    "bad": c.verdict in ("partial", "none"),
                }
            )
        rows.append({"label": rt.label, "cells": cells})
    return _ENV.get_template("release.html.j2").render(
        release=release, rows=rows, statuses=STATUSES, summary=summary(release), legend=LEGEND
    )
