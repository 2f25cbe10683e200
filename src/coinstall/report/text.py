"""The text report: per artifact a header, the runtime compatibility matrix, the findings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from coinstall.artifacts.base import ArtifactInfo
from coinstall.check import ArtifactResult, CheckResult, MatrixRow, matrix
from coinstall.report import plain
from coinstall.report.escape import markup, printable
from coinstall.report.paths import shown_path
from coinstall.report.wording import SEVERITY_STYLE as _SEV_STYLE
from coinstall.report.wording import count
from coinstall.rules import Rule
from coinstall.rules.profiles import PROFILES
from coinstall.runtimes.model import Runtime

# rich is imported by the functions that draw with it: a piped check report is written by
# render_plain without it (report/plain.py)
if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

_STYLE = {"full": "green", "partial": "yellow", "none": "red", "n/a": "dim"}


def _header(a: ArtifactResult, esc: Callable[[str], str] = markup) -> str:
    """The artifact's header line, its names through ``esc`` (rich markup, or
    :func:`~coinstall.report.escape.printable` for the plain report)."""
    i = a.info
    parts = [p for p in (i.name, i.version, i.arch) if p]
    kinds = Counter(r.kind for r in a.records)
    counted = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    desc = esc(f"[{i.format}{': ' + ' '.join(parts) if parts else ''}]")
    return f"{esc(i.path)}  {desc}  ({counted})"


def _label(ids: list[str]) -> str:
    if len(ids) <= 5:
        return ", ".join(ids)
    return f"{', '.join(ids[:3])} and {len(ids) - 3} more"


_MATRIX_HEADERS = ("runtime", "use", "files", "why not (first file)")


def _matrix_rows(
    rows: list[MatrixRow], verbose: bool, info: ArtifactInfo
) -> list[tuple[str, str, str, str]]:
    """The matrix's rows, unescaped: runtime label, verdict, usable/total, why not.
    Installed runtimes one row each; known runtimes grouped by identical outcome."""
    out = []
    groups: list[tuple[list[MatrixRow], tuple[object, ...]]] = []
    for r in rows:
        key: tuple[object, ...] = (r.verdict, r.usable, r.total, r.example)
        if r.runtime.installed or verbose:
            groups.append(([r], ("single", r.runtime.id)))
            continue
        for members, k in groups:
            if k == key:
                members.append(r)
                break
        else:
            groups.append(([r], key))
    for members, _ in groups:
        first = members[0]
        ids = [m.runtime.id for m in members]
        label = _label(ids) + ("" if first.runtime.installed else " (known)")
        why = (
            f"{shown_path(info, first.example)}: {first.reason}"
            if first.reason and first.example
            else ""
        )
        out.append((label, first.verdict, f"{first.usable}/{first.total}", why))
    return out


def _matrix_table(rows: list[MatrixRow], verbose: bool, info: ArtifactInfo) -> Table:
    """The matrix as a rich table (:func:`_matrix_rows`)."""
    from rich.table import Table

    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column(_MATRIX_HEADERS[0])
    t.add_column(_MATRIX_HEADERS[1])
    t.add_column(_MATRIX_HEADERS[2], justify="right")
    t.add_column(_MATRIX_HEADERS[3], overflow="fold")
    for label, verdict, files, why in _matrix_rows(rows, verbose, info):
        t.add_row(label, f"[{_STYLE[verdict]}]{verdict}[/]", files, markup(why))
    return t


def _totals_line(result: CheckResult) -> str:
    """The last line of every check report: counts by severity and unreadable targets."""
    n = Counter(f.severity for a in result.artifacts for f in a.findings)
    return (
        f"{count(len(result.artifacts), 'artifact')} checked, "
        f"{count(n['error'], 'error')}, "
        f"{count(n['warning'], 'warning')}, {n['info']} info, "
        f"{len(result.errors)} unreadable"
    )


def _totals(result: CheckResult, console: Console) -> None:
    console.print(_totals_line(result), highlight=False)


def _rule_header(console: Console, header: str) -> None:
    """The artifact's header in a rule, or, when the rule would cut it short (rich ends a long
    title with an ellipsis: a long wheel name loses its counts and profile), as a whole line
    above a plain rule, so piped output keeps every word."""
    from rich.text import Text

    if Text.from_markup(header).cell_len + 6 <= console.width:
        console.rule(header, align="left", style="bold")
    else:
        console.print(f"[bold]{header}[/]", soft_wrap=True, highlight=False)
        console.rule(style="bold")


def render(result: CheckResult, console: Console, *, verbose: bool = False) -> None:
    """Print the report.  ``verbose`` lists every known runtime in each matrix."""
    for a in result.artifacts:
        _rule_header(console, _header(a) + f"  profile {a.profile.name}")
        console.print(_matrix_table(matrix(a, result.runtimes), verbose, a.info))
        if a.findings:
            console.print()
        for f in a.findings:
            where = f" {markup(shown_path(a.info, f.path))}" if f.path else ""
            console.print(
                f"  [{_SEV_STYLE[f.severity]}]{f.severity}[/] {f.rule}{where}: {markup(f.message)}",
                highlight=False,
                soft_wrap=True,
            )
        console.print()
    _totals(result, console)


def render_plain(result: CheckResult, *, verbose: bool = False) -> str:
    """What :func:`render` prints on a console that is not a terminal (no style, width
    :data:`~coinstall.report.plain.PIPE_WIDTH`), byte for byte, without importing rich.

    Raises:
        coinstall.report.plain.NotPlain: the report needs rich's layout (a name that is not
            printable ASCII, a matrix wider than the page, ...): render it with :func:`render`.
    """
    width = plain.PIPE_WIDTH
    out: list[str] = []
    for a in result.artifacts:
        header = _header(a, printable) + f"  profile {a.profile.name}"
        if len(plain.check(header)) + 6 <= width:
            out.append(plain.rule(header, width))
        else:  # _rule_header's whole line (soft_wrap) above a plain rule
            out += [plain.check(header, measured=False), "─" * width]
        rows = _matrix_rows(matrix(a, result.runtimes), verbose, a.info)
        if any("[" in label for label, *_ in rows):  # unescaped in the rich table
            raise plain.NotPlain("markup in a runtime's name")
        out += plain.table(
            _MATRIX_HEADERS,
            [(label, verdict, files, printable(why)) for label, verdict, files, why in rows],
            right=frozenset({2}),
            width=width,
        )
        if a.findings:
            out.append("")
        for f in a.findings:
            where = f" {printable(shown_path(a.info, f.path))}" if f.path else ""
            line = f"  {f.severity} {f.rule}{where}: {printable(f.message)}"
            out.append(plain.check(line, measured=False))  # soft_wrap: never wrapped
        out.append("")
    out.append(plain.line(_totals_line(result), width))
    return "".join(ln + "\n" for ln in out)


def render_runtimes(runtimes: list[Runtime], console: Console) -> None:
    """The ``coinstall runtimes`` table."""
    from rich.table import Table

    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("id", "version", "magic", "cache tag", "extension suffixes", "executable"):
        t.add_column(col)
    for rt in runtimes:
        exe = rt.executable or ""
        if rt.default:
            exe += " (default python3)"
        t.add_row(
            rt.id,
            rt.full_version or rt.version_str,
            str(rt.magic),
            rt.cache_tag or "-",
            " ".join(rt.extension_suffixes),
            exe,
        )
    console.print(t)


def render_summary(result: CheckResult, console: Console) -> None:
    """``--summary``: one line per artifact (profile, counts by severity, rules fired), then the
    totals."""
    from rich.table import Table

    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("artifact", "profile", "errors", "warnings", "info", "rules"):
        t.add_column(col, justify="right" if col in ("errors", "warnings", "info") else "left")
    for a in result.artifacts:
        sev = Counter(f.severity for f in a.findings)
        rules = Counter(f.rule for f in a.findings)
        fired = ", ".join(f"{r} ({n})" if n > 1 else r for r, n in sorted(rules.items()))
        # A package file by its name; a directory by its path (many are "site-packages").
        label = a.info.path if a.info.format == "tree" else a.info.path.rsplit("/", 1)[-1]
        t.add_row(
            markup(label),
            a.profile.name,
            f"[{_SEV_STYLE['error']}]{sev['error']}[/]" if sev["error"] else "0",
            str(sev["warning"]),
            str(sev["info"]),
            fired or "-",
        )
    console.print(t)
    _totals(result, console)


def render_rules(rules: list[Rule], console: Console) -> None:
    """``coinstall rules``: name, severity, profiles, one-line summary, grouped by area."""
    from rich.table import Table

    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("rule", "severity", "fix", "profiles", "what it finds"):
        t.add_column(col, overflow="fold")
    area = None
    for r in sorted(rules, key=lambda r: (r.area, r.name)):
        if r.area != area:
            area = r.area
            t.add_row(f"[bold]{area}[/]", "", "", "", "")
        profiles = "all" if set(r.profiles) == set(PROFILES) else ",".join(r.profiles)
        t.add_row(
            f"  {r.name}",
            f"[{_SEV_STYLE[r.severity]}]{r.severity}[/]",
            "auto" if r.fixable else "-",
            profiles,
            r.summary,
        )
    console.print(t)
    fixable = sum(1 for r in rules if r.fixable)
    console.print(
        f"{count(len(rules), 'rule')}, {fixable} fixable with `coinstall fix`",
        highlight=False,
        markup=False,
    )


def render_explain(r: Rule, console: Console) -> None:
    """``coinstall explain NAME``: the rule's documentation (what, why, example, fix, source,
    peers), in the manner of ruff's rule pages."""
    console.print(
        f"[bold]{r.name}[/] ([{_SEV_STYLE[r.severity]}]{r.severity}[/], area {r.area}, "
        f"profiles: {', '.join(r.profiles)})"
    )
    for title, body in (
        ("What it finds", r.summary),
        ("Why it matters", r.why),
        ("Example", r.example),
        ("How to fix it", r.fix),
        ("Source", r.source),
        ("Peers", ", ".join(r.peers) if r.peers else "none"),
    ):
        console.print(f"\n[bold]{title}[/]")
        console.print(body, highlight=False, markup=False)


def rules_markdown(rules: list[Rule]) -> str:
    """The rule catalogue as Markdown (``docs/rules.md``): per area, per rule, what it finds,
    why, an example, the fix, the source and the peers, in the manner of ruff's rule pages."""
    out = [
        "# Rule catalogue",
        "",
        "Generated by `coinstall rules --format markdown`; do not edit by hand.",
        "",
    ]
    by_area: dict[str, list[Rule]] = {}
    for r in sorted(rules, key=lambda r: (r.area, r.name)):
        by_area.setdefault(r.area, []).append(r)
    for area, members in by_area.items():
        out += [f"## {area}", ""]
        for r in members:
            profiles = "all" if set(r.profiles) == set(PROFILES) else ", ".join(r.profiles)
            out += [
                f"### `{r.name}`",
                "",
                f"Severity **{r.severity}**; profiles: {profiles}"
                + ("; checks the artifacts together" if r.scope == "set" else "")
                + ".",
                "",
                f"**What it finds.** {r.summary}",
                "",
                f"**Why it matters.** {r.why}",
                "",
                f"**Example.** `{r.example}`",
                "",
                f"**Fix.** {r.fix}"
                + (" `coinstall fix` repairs it (automatic fix)." if r.fixable else ""),
                "",
                f"**Source.** {r.source}",
                "",
                f"**Peers.** {', '.join(f'`{p}`' for p in r.peers) if r.peers else 'none'}",
                "",
            ]
    return "\n".join(out)
