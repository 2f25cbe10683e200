"""The rule catalogue: each rule is data (name, severity, profiles, explanation, source, peers)
plus one function.

A rule function takes an :class:`ArtifactContext` (or, for rules over several artifacts checked
together, the list of them) and yields :class:`Finding` objects; it prints nothing and knows no
output format.  Rule names are kebab-case, like rpmlint's and lintian's.  Every module of this
package except :mod:`profiles` and private (``_``) helpers is one policy area and is imported
by :func:`load_all`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from coinstall.artifacts.base import ArtifactInfo, Member
from coinstall.files.verdict import FileRecord, Judgement
from coinstall.rules.profiles import PROFILES, Profile
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime
from coinstall.runtimes.stack import Stack

if TYPE_CHECKING:
    from coinstall.config import Config

SEVERITIES = ("error", "warning", "info")
#: Every profile name, the default of :attr:`Rule.profiles`.
ALL_PROFILES = tuple(PROFILES)


@dataclass(frozen=True)
class Finding:
    """One policy problem: ``rule`` name, ``severity``, the member ``path`` (None for the
    artifact as a whole) and a one-line ``message`` naming the offending values."""

    rule: str
    severity: str
    path: str | None
    message: str

    def to_json(self) -> dict[str, str | None]:
        """The ``findings[]`` object of the JSON report."""
        return {"rule": self.rule, "severity": self.severity, "path": self.path,
                "message": self.message}


@dataclass
class ArtifactContext:
    """What a rule sees of one artifact.

    Attributes:
        info: the artifact's header data.
        records: its regular files, classified.
        judgement: which runtimes can use each file.
        runtimes: every runtime considered, by id.
        catalogue: the runtime catalogue.
        vendor: ``"debian"`` for .deb files (Debian-patched runtimes apply), else ``"upstream"``.
        triplet: the multiarch triplet the artifact targets.
        owners: for an installed tree, the installed runtimes whose directory it is.
        profile: the policy the artifact is judged by.
        stack: the supported versions and the default (may be empty: :attr:`Stack.known`).
        contents: member path -> bytes for the files the engine read in full for the rules:
            the sources of hash-based pycs (PEP 552), whose hash only the bytes can confirm.
        links: its symbolic and hard links (members of type ``symlink``/``hardlink``, with
            ``link_target``), which are not in ``records``: entry points are often links
            (``/usr/bin/miniterm-3.5.py -> miniterm.py-3``).
    """

    info: ArtifactInfo
    records: list[FileRecord]
    judgement: Judgement
    runtimes: dict[str, Runtime]
    catalogue: Catalogue
    vendor: str = "upstream"
    triplet: str = "x86_64-linux-gnu"
    owners: dict[str, Runtime] = field(default_factory=dict)
    profile: Profile = PROFILES["wheel"]
    stack: Stack = field(default_factory=Stack)
    links: list[Member] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A rule's data.

    Attributes:
        name: kebab-case rule name.
        severity: default severity, one of :data:`SEVERITIES`.
        summary: one line: what it finds.
        why: why it matters.
        example: a file or line that triggers it.
        fix: how to fix it.
        source: the policy, PEP or code the rule comes from.
        peers: equivalent checks of other tools (``rpmlint:python-bytecode-wrong-magic-value``,
            ``lintian:…``, ``taskotron:…``, ``abi3audit:…``).
        check: the function; for ``scope == "set"`` it takes every artifact's context and
            yields ``(context, finding)`` pairs.
        profiles: the profiles it applies to.
        area: the policy area (the module's name: ``bytecode``, ``naming``, …).
        scope: ``"artifact"`` (one artifact at a time) or ``"set"`` (the artifacts checked
            together, such as ``file-conflict``).
        autofix: ``"auto"`` when ``coinstall fix`` has a safe repair for the rule's findings
            (it may still leave a finding it cannot repair safely, with the reason), ``""``
            when only a person can fix them (ruff's fix availability, as data).
        fixer: the repair, as ``"module:function"`` below :mod:`coinstall.fix` (a name, not an
            import: rules/ does not depend on fix/; :mod:`coinstall.fix.engine` resolves it).
    """

    name: str
    severity: str
    summary: str
    why: str
    example: str
    fix: str
    source: str
    peers: tuple[str, ...]
    check: Callable[[Any], Iterable[Any]]
    profiles: tuple[str, ...] = ALL_PROFILES
    area: str = ""
    scope: str = "artifact"
    autofix: str = ""
    fixer: str = ""

    @property
    def fixable(self) -> bool:
        """True when ``coinstall fix`` repairs this rule's findings."""
        return self.autofix == "auto"

    def finding(self, path: str | None, message: str) -> Finding:
        """A finding of this rule at its default severity."""
        return Finding(self.name, self.severity, path, message)

    def to_json(self) -> dict[str, Any]:
        """The rule's data for ``coinstall rules --format json``."""
        return {"name": self.name, "severity": self.severity, "area": self.area,
                "profiles": list(self.profiles), "summary": self.summary, "why": self.why,
                "example": self.example, "fix": self.fix, "source": self.source,
                "peers": list(self.peers), "scope": self.scope, "autofix": self.autofix or None}


REGISTRY: dict[str, Rule] = {}


def rule(
    name: str, *, severity: str, summary: str, why: str, example: str, fix: str, source: str,
    peers: tuple[str, ...] = (), profiles: tuple[str, ...] = ALL_PROFILES,
    scope: str = "artifact", autofix: str = "", fixer: str = "",
) -> Callable[[Callable[[Rule, Any], Iterable[Any]]], Rule]:
    """Register a rule: decorate ``def check(rule, ctx) -> Iterable[Finding]`` (or, with
    ``scope="set"``, ``def check(rule, ctxs) -> Iterable[tuple[ArtifactContext, Finding]]``).
    ``autofix="auto"`` with ``fixer="module:function"`` declares a repair (:class:`Rule`)."""
    assert severity in SEVERITIES, severity
    assert scope in ("artifact", "set"), scope
    assert all(p in PROFILES for p in profiles), profiles
    assert name not in REGISTRY, name
    assert autofix in ("", "auto") and bool(autofix) == bool(fixer), (name, autofix, fixer)

    def wrap(fn: Callable[[Rule, Any], Iterable[Any]]) -> Rule:
        holder: list[Rule] = []

        def bound(ctx: Any) -> Iterable[Any]:
            return fn(holder[0], ctx)

        area = fn.__module__.rsplit(".", 1)[-1]
        r = Rule(name, severity, summary, why, example, fix, source, peers, bound, profiles,
                 area, scope, autofix, fixer)
        holder.append(r)
        REGISTRY[name] = r
        return r

    return wrap


_LOADED = False


def load_all() -> None:
    """Import every policy-area module of this package (each registers its rules)."""
    global _LOADED
    if _LOADED:
        return
    for mod in pkgutil.iter_modules(__path__):
        if mod.name != "profiles" and not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    _LOADED = True


def _apply(r: Rule, f: Finding, ctx: ArtifactContext, config: Config | None) -> Finding | None:
    if config is None:
        return f
    if config.ignored_at(r.name, (ctx.info.path, ctx.info.path.rsplit("/", 1)[-1], f.path)):
        return None
    sev = config.severity.get(r.name)
    return replace(f, severity=sev) if sev and sev != f.severity else f


def _active(ctx: ArtifactContext, config: Config | None) -> Iterator[Rule]:
    for r in REGISTRY.values():
        if ctx.profile.name not in r.profiles:
            continue
        if config is not None and not config.enabled(r.name):
            continue
        yield r


def run_rules(ctx: ArtifactContext, config: Config | None = None) -> Iterator[Finding]:
    """Every applicable rule's findings for one artifact, rule by rule: rules of the artifact's
    profile, filtered and re-graded by ``config``."""
    load_all()
    for r in _active(ctx, config):
        if r.scope != "artifact":
            continue
        for f in r.check(ctx):
            g = _apply(r, f, ctx, config)
            if g is not None:
                yield g


def run_set_rules(ctxs: Sequence[ArtifactContext], config: Config | None = None,
                  ) -> Iterator[tuple[ArtifactContext, Finding]]:
    """The findings of rules over all artifacts checked together (``scope == "set"``), each
    with the artifact it belongs to."""
    load_all()
    rules = [r for r in REGISTRY.values() if r.scope == "set"
             and (config is None or config.enabled(r.name))]
    for r in rules:
        for ctx, f in r.check(ctxs):
            if ctx.profile.name not in r.profiles:
                continue
            g = _apply(r, f, ctx, config)
            if g is not None:
                yield ctx, g


def all_rules(profile: str | None = None) -> list[Rule]:
    """The registered rules (of one profile, if given), sorted by name."""
    load_all()
    return sorted((r for r in REGISTRY.values() if profile is None or profile in r.profiles),
                  key=lambda r: r.name)
