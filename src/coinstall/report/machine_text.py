"""The text of ``coinstall check`` with no target (:mod:`coinstall.machine`): the Pythons
table, then only the sections that have something to say."""

from __future__ import annotations

import posixpath
from collections import Counter

from rich.console import Console

from coinstall.check import CheckResult
from coinstall.machine import MachineView
from coinstall.report.tables import table
from coinstall.report.wording import SEVERITY_STYLE as _SEV_STYLE
from coinstall.report.wording import count

#: Files listed per section entry before "and N more".
_SHOW = 3


def _some(items: list[str] | tuple[str, ...], n: int = _SHOW) -> str:
    head = ", ".join(items[:n])
    return head + (f" and {len(items) - n} more" if len(items) > n else "")


def render_machine(view: MachineView, result: CheckResult, console: Console) -> None:
    """Print the machine view; ``--verbose`` adds the per-tree matrices after it (the caller
    prints those)."""
    t = table("Pythons on this machine", title_style="bold")
    for col in ("id", "executable", "default", "site directories", "distributions"):
        t.add_column(col, justify="right" if col == "distributions" else "left", overflow="fold")
    for p in view.pythons:
        t.add_row(
            p.id,
            p.executable,
            "yes" if p.default else "",
            "\n".join(p.site_dirs) or "-",
            str(p.distributions),
        )
    console.print(t)
    said = False
    if view.shared:
        said = True
        console.print("\n[bold]Site directories on more than one runtime's path[/]")
        for s in view.shared:
            console.print(f"  {s.path}", highlight=False)
            for rid, (n, total) in s.usable.items():
                why = ""
                if rid in s.example:
                    path, reason = s.example[rid]
                    kinds = ", ".join(f"{c} {k}" for k, c in sorted(s.missing[rid].items()))
                    why = f"; cannot use {kinds} files (first: {path}: {reason})"
                console.print(
                    f"    {rid}: uses {n}/{total} files{why}", highlight=False, soft_wrap=True
                )
                mods = s.cannot_load.get(rid, ())
                if mods:
                    shown = [f"{posixpath.relpath(p, s.path)} ({why})" for p, why in mods]
                    console.print(
                        f"      cannot load {count(len(mods), 'extension module')}: {_some(shown)}",
                        highlight=False,
                        soft_wrap=True,
                    )
    if view.pth_hooks:
        said = True
        console.print("\n[bold].pth files that put another runtime's directory on the path[/]")
        for h in view.pth_hooks:
            console.print(
                f"  {h.pth}: {h.line!r} adds {h.added} ({', '.join(h.belongs_to)}) "
                f"to {', '.join(h.runtimes)}",
                highlight=False,
                soft_wrap=True,
            )
    for kind, title, noun, verb in (
        ("extension", "Extension modules built for another runtime", "modules", "usable"),
        ("bytecode", "Bytecode no runtime of its directory loads", "files", "loadable"),
    ):
        group = [f for f in view.foreign if f.kind == kind]
        if not group:
            continue
        said = True
        console.print(f"\n[bold]{title}[/]")
        for f in group:
            users = _some(list(f.usable_by)) or "no known runtime"
            console.print(
                f"  {f.tree} ({', '.join(f.owners)}): {len(f.paths)} {noun}, "
                f"{_some(list(f.paths))}; {f.reason}; {verb} by {users}",
                highlight=False,
                soft_wrap=True,
            )
    if view.findings:
        said = True
        console.print("\n[bold]Findings[/]")
        for tree, fd in view.findings:
            where = f" {tree}/{fd.path}" if fd.path else f" {tree}"
            console.print(
                f"  [{_SEV_STYLE[fd.severity]}]{fd.severity}[/] {fd.rule}{where}: {fd.message}",
                highlight=False,
                soft_wrap=True,
            )
    if not said:
        console.print(
            "\nNothing crosses runtimes: every site directory is on one runtime's "
            "path, and every module in it is for that runtime."
        )
    sev = Counter(f.severity for _, f in view.findings)
    console.print(
        f"\n{count(len(view.pythons), 'Python')}, "
        f"{count(view.trees, 'site directory', 'site directories')} checked, "
        f"{count(sev['error'], 'error')}, {count(sev['warning'], 'warning')}, "
        f"{sev['info']} info, "
        f"{len(result.errors)} unreadable (--verbose: a matrix per directory)",
        highlight=False,
    )
