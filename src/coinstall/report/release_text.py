"""The text view of a release's coverage grid (``coinstall check --release``)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from coinstall.release import Cell, Release
from coinstall.report.wording import count

_STYLE = {
    "version-specific": "green",
    "abi3": "cyan",
    "generic": "blue",
    "pure": "blue",
    "excluded": "yellow",
    "none": "red",
}


def cell_text(c: Cell) -> str:
    """The short text of one cell: ``cp312``, ``abi3 cp39``, ``pure``, ``py3 bin`` /
    ``cp38 bin`` (no ABI tag: the wheel's interpreter tag and ``bin``), ``excluded``,
    ``source``; ``!`` added when the wheel's files fail that runtime."""
    if c.status == "none":
        return "source"
    if c.status == "excluded":
        return "excluded"
    assert c.tag is not None
    interp, abi, _plat = c.tag.split("-")
    text = {
        "version-specific": abi,
        "abi3": f"{abi} {interp}",
        "pure": "pure",
        "generic": f"{interp} bin",
    }[c.status]
    return text + ("!" if c.verdict in ("partial", "none") else "")


#: what each cell text means (the legend under the grid; the HTML page shows the same)
LEGEND = (
    "cpXY: version-specific wheel; abi3 cpXY: stable-ABI wheel from X.Y; abi3t cpXY: "
    "free-threaded stable-ABI wheel (PEP 803, from 3.15); pure: "
    "py3-none-any; pyX bin, cpXY bin: binary with no ABI tag (py3-none-win_amd64, "
    "cp38-none-win_amd64); excluded: Requires-Python excludes it; source: no wheel, a "
    "source build is needed; !: the wheel's files fail that runtime"
)


def summary(release: Release) -> str:
    """The totals line: the wheels, then the grid's cells (runtime x platform) per status,
    then the inconsistencies and unreadable files."""
    n = release.counts()
    cells = ", ".join(f"{v} {'source (no wheel)' if k == 'none' else k}" for k, v in n.items() if v)
    grid = (
        f"{count(len(release.cells), 'cell')} ({len(release.runtimes)} runtimes x "
        f"{len(release.platforms)} platforms): {cells}"
        if release.cells
        else "no grid"
    )
    return (
        f"{count(len(release.wheels), 'wheel')}; {grid}; "
        f"{count(len(release.inconsistencies), 'inconsistency', 'inconsistencies')}; "
        f"{count(len(release.errors), 'unreadable file')}"
    )


def render(release: Release, console: Console) -> None:
    """Print the grid, the legend, the wheels, the inconsistencies and a totals line; with no
    wheels, say so and print no grid."""
    if not release.wheels:
        console.print(
            "no wheels among the targets: no coverage grid"
            + (f" (sdist: {', '.join(release.sdists)})" if release.sdists else ""),
            highlight=False,
        )
        console.print(summary(release), highlight=False)
        return
    versions = ", ".join(release.versions)
    console.print(
        f"[bold]{release.project} {versions}[/]: {count(len(release.wheels), 'wheel')}",
        highlight=False,
    )
    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("runtime")
    for p in release.platforms:
        t.add_column(p.label.replace(" (", "\n("), justify="center")
    for rt in release.runtimes:
        row = [rt.label]
        for p in release.platforms:
            c = release.cell(rt.key, p.key)
            row.append(f"[{_STYLE[c.status]}]{cell_text(c)}[/]")
        t.add_row(*row)
    console.print(t)
    console.print(LEGEND, highlight=False, style="dim")
    console.print()
    for w in release.wheels:
        extra = f"  Requires-Python {w.requires_python}" if w.requires_python else ""
        if w.baseline:
            extra += f"  abi3 baseline {w.baseline[0][0]}.{w.baseline[0][1]}"
        served = sum(
            1 for c in release.cells.values() if c.wheel == w.filename and c.status != "excluded"
        )
        console.print(f"  {w.filename}: serves {count(served, 'cell')}{extra}", highlight=False)
    if release.sdists:
        console.print(
            f"  sdist: {', '.join(release.sdists)}: the 'source' cells build from it",
            highlight=False,
        )
    else:
        console.print(
            "  no sdist given: the 'source' cells cannot install from this release", highlight=False
        )
    if release.inconsistencies:
        console.print()
    for i in release.inconsistencies:
        label = f"[yellow]{i.kind}[/]" if i.severity == "error" else f"{i.kind} (note)"
        console.print(f"  {label}: {i.message}", highlight=False, soft_wrap=True)
    console.print()
    console.print(summary(release), highlight=False)
