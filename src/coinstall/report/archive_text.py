"""The archive summary (:mod:`coinstall.report.archive_summary`) as text tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from coinstall.config import SEVERITIES
from coinstall.report.tables import table
from coinstall.report.wording import SEVERITY_STYLE as _SEV_STYLE
from coinstall.report.wording import count


def render(summary: dict[str, Any], console: Console) -> None:
    """Headlines, findings per rule, per profile, the packages with the most findings."""
    s = summary
    sev = s["by_severity"]
    console.print(
        f"{count(s['artifacts'], 'artifact')}, {s['unreadable']} unreadable, "
        f"{count(s['findings'], 'finding')}: {count(sev['error'], 'error')}, "
        f"{count(sev['warning'], 'warning')}, {sev['info']} info",
        highlight=False,
    )
    console.print()
    t = table("Headlines")
    t.add_column("artifacts", justify="right")
    t.add_column("%", justify="right")
    t.add_column("that")
    for h in s["headlines"]:
        t.add_row(str(h["artifacts"]), f"{h['percent']:.1f}", h["label"])
    console.print(t)
    console.print()
    t = table("Findings per rule")
    for col in ("rule", "severity", "findings", "artifacts"):
        t.add_column(col, justify="right" if col in ("findings", "artifacts") else "left")
    for r in s["by_rule"]:
        t.add_row(
            r["rule"],
            f"[{_SEV_STYLE[r['severity']]}]{r['severity']}[/]",
            str(r["findings"]),
            str(r["artifacts"]),
        )
    console.print(t)
    console.print()
    t = table("Per profile")
    for col in ("profile", "artifacts", "findings", *SEVERITIES):
        t.add_column(col, justify="left" if col == "profile" else "right")
    for p, c in s["by_profile"].items():
        t.add_row(p, *(str(c[k]) for k in ("artifacts", "findings", *SEVERITIES)))
    console.print(t)
    console.print()
    t = table(f"Most findings (top {len(s['top'])})")
    for col in ("artifact", *SEVERITIES, "rules"):
        t.add_column(col, justify="right" if col in SEVERITIES else "left", overflow="fold")
    for a in s["top"]:
        rules = ", ".join(f"{r} ({n})" if n > 1 else r for r, n in a["rules"])
        t.add_row(a["artifact"], str(a["error"]), str(a["warning"]), str(a["info"]), rules)
    console.print(t)
    if s["errors"]:
        console.print()
        console.print(f"Unreadable ({len(s['errors'])}):", style="bold")
        for e in s["errors"][:50]:
            console.print(f"  {e['path']}: {e['message']}", markup=False, highlight=False)
        if len(s["errors"]) > 50:
            console.print(f"  … and {len(s['errors']) - 50} more", highlight=False)
