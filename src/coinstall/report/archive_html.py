"""One self-contained HTML page for an archive's check results (jinja2).

Same conventions as the plan tracker (:mod:`coinstall.report.plan_html`): nothing is loaded from
the network (CSS and script inline).  The page shows the headline numbers, a bar chart of
findings per rule (CSS bars, widths relative to the most frequent rule), tables per rule and
per profile, the artifacts with the most findings (``top``: most errors, then most findings, as
in the text report), every artifact with its counts and rules, and the unreadable targets.  A
filter box hides artifact rows whose text does not contain what is typed (``?q=`` presets it);
clicking a column heading sorts its table (numbers numerically; again to reverse; ``?sort=N``
presets the artifact table's column N, ``?sort=-N`` descending); the visible-row count is in
``#shown``.
"""

from __future__ import annotations

from typing import Any

import jinja2

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("coinstall.report", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(summary: dict[str, Any], title: str = "coinstall archive report") -> str:
    """The page for ``summary`` (:func:`coinstall.report.archive_summary.summarise`)."""
    top = max((r["findings"] for r in summary["by_rule"]), default=0)
    bars = [
        {**r, "width": round(100 * r["findings"] / top, 1) if top else 0.0}
        for r in summary["by_rule"]
    ]
    return _ENV.get_template("archive.html.j2").render(s=summary, title=title, bars=bars)
