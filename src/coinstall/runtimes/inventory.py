"""The runtimes a run considers: those installed here plus the catalogue's others."""

from __future__ import annotations

from collections.abc import Sequence

from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime


def base_id(runtime_id: str) -> str:
    """The catalogue id of a runtime id: ``cpython-3.11@3.11.7`` -> ``cpython-3.11``."""
    return runtime_id.split("@", 1)[0]


def combine(
    installed: Sequence[Runtime],
    catalogue: Catalogue,
    *,
    platform: str = "linux",
    triplet: str | None = "x86_64-linux-gnu",
) -> list[Runtime]:
    """Installed runtimes first, then every catalogue runtime no installed one stands for.

    An installed runtime replaces the catalogue entry of the same id: when the two disagree,
    the interpreter is right.
    """
    taken = {base_id(rt.id) for rt in installed}
    known = [rt for rt in catalogue.known(platform, triplet) if rt.id not in taken]
    return [*installed, *known]
