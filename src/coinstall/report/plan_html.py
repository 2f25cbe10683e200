"""One self-contained HTML tracker page for a transition plan (jinja2).

The page loads nothing from the network: CSS and the filter script are inline.  It shows the
counts per status, a progress bar (sources done / sources to rebuild, from ``plan progress`` or
``--later``; 0 done without a later snapshot), one table per wave, the sources that cannot be
built in this transition, bootstrap groups with their closing edges, and the sources that need
no action.  A filter box hides rows whose text does not contain what is typed; status check
boxes hide whole statuses; the visible-row count is shown in ``#shown``.
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

_TITLES = {
    "add": "Add Python {new} beside {old}",
    "default": "Switch the default from Python {old} to {new}",
    "drop": "Drop Python {old} (keeping {new})",
}


def render(plan: dict[str, Any]) -> str:
    """The page for ``plan`` (its JSON form, ``docs/plan-format.md``) as a string."""
    sources = {s["name"]: s for s in plan["sources"]}
    waves = [
        {"wave": w["wave"], "sources": [sources[n] for n in w["sources"]]} for w in plan["waves"]
    ]
    stuck = sorted(
        (s for s in plan["sources"] if s["status"] == "blocked" and s["wave"] is None),
        key=lambda s: s["name"],
    )
    settled = [s for s in plan["sources"] if s["status"] in ("no-action", "not-affected")]
    open_ = [s for s in plan["sources"] if s["status"] == "cannot-tell"]
    abi3 = [s for s in plan["sources"] if s.get("class") == "abi3"]
    tracked = [s for s in plan["sources"] if s["status"] in ("rebuild", "blocked")]
    done = sum(1 for s in tracked if s.get("progress") in ("done", "removed"))
    total = len(tracked)
    return _ENV.get_template("plan.html.j2").render(
        plan=plan,
        title=_TITLES[plan["transition"]].format(new=plan["new"], old=plan["old"]),
        waves=waves,
        stuck=stuck,
        settled=settled,
        open=open_,
        abi3=abi3,
        statuses=list(plan["counts"]),
        done=done,
        total=total,
        percent=round(100 * done / total, 1) if total else 100.0,
    )
