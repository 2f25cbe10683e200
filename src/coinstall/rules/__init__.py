"""The rule catalogue: each rule is data (name, severity, explanation, source) plus one function.

A rule function takes an :class:`ArtifactContext` and yields :class:`Finding` objects; it prints
nothing and knows no output format.  Rule names are kebab-case, like rpmlint's and lintian's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from coinstall.artifacts.base import ArtifactInfo
from coinstall.files.verdict import FileRecord, Judgement
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime

SEVERITIES = ("error", "warning", "info")


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
    """

    info: ArtifactInfo
    records: list[FileRecord]
    judgement: Judgement
    runtimes: dict[str, Runtime]
    catalogue: Catalogue
    vendor: str = "upstream"
    triplet: str = "x86_64-linux-gnu"
    owners: dict[str, Runtime] = field(default_factory=dict)


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
        peers: equivalent checks of other tools (``rpmlint:python-bytecode-wrong-magic-value``).
        check: the function.
    """

    name: str
    severity: str
    summary: str
    why: str
    example: str
    fix: str
    source: str
    peers: tuple[str, ...]
    check: Callable[[ArtifactContext], Iterable[Finding]]

    def finding(self, path: str | None, message: str) -> Finding:
        """A finding of this rule at its default severity."""
        return Finding(self.name, self.severity, path, message)


REGISTRY: dict[str, Rule] = {}


def rule(
    name: str, *, severity: str, summary: str, why: str, example: str, fix: str, source: str,
    peers: tuple[str, ...] = (),
) -> Callable[[Callable[[Rule, ArtifactContext], Iterable[Finding]]], Rule]:
    """Register a rule: decorate ``def check(rule, ctx) -> Iterable[Finding]``."""
    assert severity in SEVERITIES

    def wrap(fn: Callable[[Rule, ArtifactContext], Iterable[Finding]]) -> Rule:
        holder: list[Rule] = []

        def bound(ctx: ArtifactContext) -> Iterable[Finding]:
            return fn(holder[0], ctx)

        r = Rule(name, severity, summary, why, example, fix, source, peers, bound)
        holder.append(r)
        REGISTRY[name] = r
        return r

    return wrap


def run_rules(ctx: ArtifactContext) -> Iterator[Finding]:
    """Every registered rule's findings for one artifact, rule by rule."""
    from coinstall.rules import bytecode, extensions, scripts  # noqa: F401  (registration)

    for r in REGISTRY.values():
        yield from r.check(ctx)


def all_rules() -> list[Rule]:
    """The registered rules, sorted by name."""
    from coinstall.rules import bytecode, extensions, scripts  # noqa: F401

    return sorted(REGISTRY.values(), key=lambda r: r.name)
