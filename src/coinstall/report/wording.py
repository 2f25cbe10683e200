"""Count phrases for the reports: ``1 cell``, ``2 cells``, ``1 inconsistency``; the style each
severity is shown in."""

from __future__ import annotations

#: The rich style of each severity in every text report (``[bold red]error[/]``).
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``"<n> <noun>"`` with the noun in the number ``n`` needs.

    Args:
        n: the count.
        singular: the noun for one (``"cell"``, ``"spec"``).
        plural: the noun for any other count; default ``singular + "s"`` (give
            ``"inconsistencies"``, ``"info"`` where that is wrong).
    """
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
