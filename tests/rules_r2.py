"""Helpers shared by the naming, dependency, script and entry-point rule tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from coinstall.check import check
from coinstall.config import Config
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.stack import Stack
from corpus import RPM_DIR

CAT = catalogue_mod.load()
KNOWN = combine([], CAT)

#: (rule, member path or None, message)
Hit = tuple[str, str | None, str]


def run(
    paths: Sequence[Path | str], *, stack: str | None = None, profile: str | None = None
) -> dict[str, list[Hit]]:
    """Check ``paths`` together (set rules see all of them); package name -> findings."""
    cfg = Config(profile=profile, stack=Stack.parse(stack) if stack else Stack())
    res = check([str(p) for p in paths], KNOWN, CAT, cfg)
    assert not res.errors, res.errors
    out: dict[str, list[Hit]] = {}
    for a in res.artifacts:
        out[a.info.name or a.info.path] = [(f.rule, f.path, f.message) for f in a.findings]
    return out


def hits(paths: Sequence[Path | str], rule: str, **kw: str | None) -> list[Hit]:
    """Every finding of ``rule`` over ``paths`` checked together."""
    return [h for found in run(paths, **kw).values() for h in found if h[0] == rule]


def rpm(name: str) -> Path:
    """A file of the shared RPM corpus by its file name's start."""
    found = sorted(RPM_DIR.glob(f"{name}*.rpm"))
    assert found, name
    return found[0]


def exe(text: str) -> tuple[str, int]:
    """An executable file's content for tests/build.py."""
    return text, 0o755
