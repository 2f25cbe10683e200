"""The text report of ``coinstall spec lint``: one line per finding, ``FILE:LINE: severity
rule: message`` (the form compilers and rpmlint use, so editors jump to the line), then the
totals line."""

from __future__ import annotations

from collections import Counter

from rich.console import Console

from coinstall.check import CheckResult
from coinstall.report.wording import SEVERITY_STYLE as _SEV_STYLE
from coinstall.report.wording import count


def render(result: CheckResult, console: Console) -> None:
    """Print every finding of every spec, then the totals."""
    for a in result.artifacts:
        for f in a.findings:
            where = f"{a.info.path}:{f.line}" if f.line else a.info.path
            console.print(
                f"{where}: [{_SEV_STYLE[f.severity]}]{f.severity}[/] {f.rule}: ",
                end="",
                highlight=False,
                soft_wrap=True,
            )
            console.print(f.message, markup=False, highlight=False, soft_wrap=True)
    n = Counter(f.severity for a in result.artifacts for f in a.findings)
    console.print(
        f"{count(len(result.artifacts), 'spec')} checked, {count(n['error'], 'error')}, "
        f"{count(n['warning'], 'warning')}, {n['info']} info, "
        f"{len(result.errors)} unreadable",
        highlight=False,
    )
