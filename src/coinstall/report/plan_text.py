"""Text summary of a transition plan (the JSON form, ``docs/plan-format.md``) with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from coinstall.report.escape import markup as escape

_TITLES = {
    "add": "add Python {new} beside {old}",
    "default": "switch the default from Python {old} to {new}",
    "drop": "drop Python {old} (keeping {new})",
}
_STYLE = {
    "rebuild": "yellow",
    "blocked": "red",
    "no-action": "green",
    "not-affected": "dim",
    "cannot-tell": "magenta",
}
#: Free-threaded plan classes (docs/plan-format.md), in the order printed.
_CLASSES = (
    "version-specific",
    "abi3",
    "untagged",
    "unknown",
    "pure",
    "ready",
    "program",
    "runtime",
)


def render(
    plan: dict[str, Any],
    console: Console,
    *,
    blockers: int = 10,
    names_per_wave: int = 8,
    full: bool = False,
) -> None:
    """Print counts per status and wave, bootstrap groups, progress and the first blockers.

    Args:
        plan: the plan's JSON form (``Plan.to_json()``, possibly with progress filled in).
        console: where to print.
        blockers: how many blocked sources to list.
        names_per_wave: how many source names to show per wave.
        full: list every wave member and every blocked source (``--full``); the limits
            above are ignored.
    """
    if full:
        blockers = names_per_wave = 1 << 62
    title = _TITLES[plan["transition"]].format(new=plan["new"], old=plan["old"])
    read = plan["read"]
    console.print(f"[bold]Plan: {escape(title)}[/bold]")
    suite = plan.get("suite")
    distinct = read.get("distinct_sources", read["sources"])
    console.print(
        f"read {read['binaries']} binary package(s) and {read['sources']} source "
        f"paragraph(s) ({distinct} distinct source(s)) from "
        f"{len(plan['inputs'])} input(s)"
        + (f", suite {escape(suite)}" if suite else "")
        + f"; skipped {read['skipped']}"
    )
    for w in plan.get("warnings", []):
        console.print(f"[yellow]warning: {escape(w)}[/]")
    shown_problems = len(plan["problems"]) if full else 5
    for p in plan["problems"][:shown_problems]:
        console.print(f"  [red]skipped[/red] {escape(p)}")
    if len(plan["problems"]) > shown_problems:
        console.print(f"  … and {len(plan['problems']) - shown_problems} more (--full lists them)")
    counts = plan["counts"]
    console.print(
        "sources: " + ", ".join(f"[{_STYLE[k]}]{k} {v}[/{_STYLE[k]}]" for k, v in counts.items())
    )
    ft = plan.get("free_threading")
    if ft:
        cls = ft["classes"]
        console.print(
            "free-threaded "
            + escape(ft["runtime"])
            + ": "
            + ", ".join(f"{k} {cls[k]}" for k in _CLASSES if k in cls)
        )
        if ft.get("layout"):
            console.print(f"layout: {escape(ft['layout']['note'])}")
        apart = [s for s in plan["sources"] if s.get("class") == "abi3"]
        if apart:
            console.print(
                f"abi3 only (cannot load on {escape(plan['new'])}; a t build, or abi3t "
                f"from 3.15): {len(apart)} source(s): "
                + escape(", ".join(s["name"] for s in apart[:names_per_wave]))
                + (" …" if len(apart) > names_per_wave else "")
            )
        open_ = [s for s in plan["sources"] if s["status"] == "cannot-tell"]
        for s in open_[:blockers]:
            console.print(
                f"  [magenta]cannot tell[/magenta] {escape(s['name'])}: "
                + escape("; ".join(s["reasons"][1:3] or s["reasons"][:1]))
            )
        if len(open_) > blockers:
            console.print(f"  … and {len(open_) - blockers} more cannot-tell (--full lists them)")
    prog = {str(p["wave"]): p for p in plan.get("progress", [])}
    for w in plan["waves"]:
        names = w["sources"]
        shown = ", ".join(names[:names_per_wave]) + (
            f", … (+{len(names) - names_per_wave}; --full lists them)"
            if len(names) > names_per_wave
            else ""
        )
        done = prog.get(str(w["wave"]))
        extra = f" — done {done['done']}/{done['total']}" if done else ""
        console.print(f"wave {w['wave']}: {len(names)} source(s){extra}: {escape(shown)}")
    stuck = [s for s in plan["sources"] if s["status"] == "blocked" and s["wave"] is None]
    if stuck:
        p = prog.get("none")
        extra = f" — done {p['done']}/{p['total']}" if p else ""
        console.print(f"not buildable in this transition: {len(stuck)} source(s){extra}")
    for i, g in enumerate(plan["groups"]):
        prof = {tuple(e) for e in g.get("profile_edges", [])}
        edges = ", ".join(
            f"{a} -> {b}" + (" (build profile)" if (a, b) in prof else "")
            for a, b in g["closing_edges"]
        )
        console.print(
            f"bootstrap group {i + 1} (wave {g['wave']}): "
            f"{escape(', '.join(g['members']))}; closing edges: {escape(edges)}"
        )
    label = "blocks retirement" if plan["transition"] == "drop" else "blocked"
    first = [s for s in plan["sources"] if s["status"] == "blocked"]
    first.sort(key=lambda s: (s["wave"] is not None, s["wave"] or 0, s["name"]))
    for s in first[:blockers]:
        reason = s["reasons"][0] if s["reasons"] else ""
        console.print(f"  [red]{label}[/red] {escape(s['name'])}: {escape(reason)}")
    if len(first) > blockers:
        console.print(f"  … and {len(first) - blockers} more blocked (--full lists them)")
    if plan.get("later_inputs") is not None:
        rem = sum(1 for s in plan["sources"] if s.get("progress") == "remaining")
        tot = sum(1 for s in plan["sources"] if s.get("progress"))
        console.print(
            f"progress: {tot - rem}/{tot} done against {escape(', '.join(plan['later_inputs']))}"
        )
