"""The one look of the text reports' tables: no box, a bold header, no padding at the edges,
the title (if any) on the left."""

from __future__ import annotations

from rich.table import Table


def table(title: str | None = None, *, title_style: str | None = None) -> Table:
    """A :class:`rich.table.Table` in the reports' look; ``title_style`` None is rich's
    default title style."""
    return Table(
        box=None,
        header_style="bold",
        pad_edge=False,
        title=title,
        title_justify="left",
        title_style=title_style,
    )
