"""Text output of ``coinstall share``: init, install, list, verify, remove, status."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from coinstall.report.wording import count
from coinstall.share.install import InstallResult, RemoveResult, VerifyResult
from coinstall.share.site import InitResult, State, StatusResult


def _table(*columns: str) -> Table:
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    return t


def render_init(r: InitResult, out: Console) -> None:
    out.print(f"shared site {r.dir} for {len(r.targets)} runtime(s)")
    t = _table("runtime", "python", "sys.path", "hook")
    for tg in r.targets:
        si, di = r.order.get(tg.id, (None, None))
        where = (
            "after its site-packages"
            if si is not None and di is not None and si < di
            else "NOT after its site-packages"
            if tg.id in r.order
            else "(unchanged)"
        )
        t.add_row(tg.id, tg.python, where, tg.hook)
    out.print(t)
    out.print("files written outside the shared site:")
    for p in r.written_outside:
        out.print(f"  {p}")


def render_install(r: InstallResult, out: Console) -> None:
    for n in r.notes:
        out.print(f"note: {n}")
    for p in r.present:
        out.print(f"already installed: {p}")
    for ref in r.refused:
        why = (
            "an installed distribution's requirement excludes it for"
            if ref.excluded
            else "cannot be used by"
        )
        out.print(
            f"[red]refused[/red] {ref.name} {ref.version} ({ref.wheel}): "
            f"{why} {len(ref.reasons)} runtime(s)"
        )
        order = [t.id for t in r.targets]
        for rid, why in sorted(
            ref.reasons.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99
        ):
            out.print(f"  {rid}: {why}")
    if r.refused:
        out.print("nothing installed")
        return
    order = [t.id for t in r.targets]
    old = {name: v for name, v, _ in r.upgraded}
    for d in r.installed:
        tags = ", ".join(sorted(d.bytecode, key=lambda i: order.index(i) if i in order else 99))
        what = (
            f"upgraded {d.name} {old[d.name]} -> {d.version}"
            if d.name in old
            else f"installed {d.name} {d.version}"
        )
        out.print(
            f"{what} ({d.wheel}): {count(len(d.files), 'file')}, "
            f"bytecode for {tags or 'no runtime'}"
        )
        for s in d.skipped:
            out.print(f"  skipped {s}")
    for rid, fails in sorted(r.compile_failures.items()):
        for path, err in fails:
            out.print(f"warning: {rid} cannot compile {path}: {err}")
    if not r.installed and not r.present:
        out.print("nothing to install")


def render_list(state: State, out: Console) -> None:
    t = _table("distribution", "version", "wheel", "files", "bytecode for")
    for d in sorted(state.dists.values(), key=lambda d: d.name.lower()):
        t.add_row(d.name, d.version, d.wheel, str(len(d.files)), ", ".join(sorted(d.bytecode)))
    out.print(t)


def render_verify(r: VerifyResult, out: Console) -> None:
    t = _table("module", "distribution", *[tg.id for tg in r.targets])
    for m, row in r.cells.items():
        cells = []
        for tg in r.targets:
            c = row.get(tg.id)
            if c is None:
                cells.append("-")
            elif not c.ok:
                cells.append(f"[red]FAIL[/red] {c.origin}")
            elif c.shared:
                cells.append("[green]ok[/green]")
            else:
                cells.append(f"[yellow]own copy[/yellow] {c.origin}")
        t.add_row(m, r.owner[m], *cells)
    out.print(t)
    bad = sum(1 for row in r.cells.values() for c in row.values() if not c.ok)
    out.print(
        f"{len(r.cells)} module(s) x {len(r.targets)} runtime(s): "
        + ("all import" if r.ok else f"{bad} failure(s)")
    )


def render_remove(r: RemoveResult, out: Console) -> None:
    for name, version, n in r.removed:
        out.print(f"removed {name} {version} ({count(n, 'path')} incl. every runtime's bytecode)")


def render_status(r: StatusResult, out: Console) -> None:
    out.print(
        f"shared site {r.dir} ({r.arch or 'any architecture'}): "
        f"{count(r.dists, 'distribution')}, {count(r.files, 'file')}"
    )
    if r.pending:
        out.print(
            "[yellow]an interrupted transaction is pending; the next share command "
            "rolls it back[/yellow]"
        )
    t = _table("runtime", "python", "hook", "sys.path order")
    for s in r.targets:
        if s.error:
            order = f"[red]{s.error}[/red]"
        elif s.dir_index is None:
            order = "[red]shared site not on sys.path[/red]"
        elif s.site_index is None or s.site_index > s.dir_index:
            order = f"[red]shared site at {s.dir_index}, before its site-packages[/red]"
        else:
            order = f"site-packages at {s.site_index}, shared site at {s.dir_index}"
        t.add_row(s.target.id, s.target.python, "ok" if s.hook_ok else "[red]missing[/red]", order)
    out.print(t)
