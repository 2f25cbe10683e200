"""HTML tracker page of a transition plan (filled in below)."""

from __future__ import annotations

from typing import Any


def render(plan: dict[str, Any]) -> str:
    """Not written yet: the CLI's ``--format html`` fails clearly until it is."""
    raise NotImplementedError("HTML output")
