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
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict, get_args

from coinstall.artifacts.base import ArtifactInfo, Member
from coinstall.config import SEVERITIES, Severity
from coinstall.files.verdict import FileRecord, Judgement
from coinstall.rules.profiles import PROFILES, Profile
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime
from coinstall.runtimes.stack import Stack

if TYPE_CHECKING:
    from coinstall.config import Config

#: What a rule looks at (:attr:`Rule.scope`).
RuleScope = Literal["artifact", "set", "spec"]
#: Every :data:`RuleScope`.
SCOPES: tuple[RuleScope, ...] = get_args(RuleScope)
#: Every profile name, the default of :attr:`Rule.profiles`.
ALL_PROFILES = tuple(PROFILES)


class FindingJSON(TypedDict):
    """A ``findings[]`` object of the JSON report (docs/json-format.md)."""

    rule: str
    severity: Severity
    path: str | None
    message: str
    line: NotRequired[int]


class RuleJSON(TypedDict):
    """One rule of ``coinstall rules --format json``."""

    name: str
    severity: Severity
    area: str
    profiles: list[str]
    summary: str
    why: str
    example: str
    fix: str
    source: str
    peers: list[str]
    scope: RuleScope
    autofix: Literal["auto"] | None


@dataclass(frozen=True)
class Finding:
    """One policy problem: ``rule`` name, ``severity``, the member ``path`` (None for the
    artifact as a whole), a one-line ``message`` naming the offending values, and for a
    finding in a text file (a spec) its 1-based ``line``."""

    rule: str
    severity: Severity
    path: str | None
    message: str
    line: int | None = None

    def to_json(self) -> FindingJSON:
        """The ``findings[]`` object of the JSON report (``line`` only for text files)."""
        out: FindingJSON = {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }
        if self.line is not None:
            out["line"] = self.line
        return out


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
        scope: ``"artifact"`` (one artifact at a time), ``"set"`` (the artifacts checked
            together, such as ``file-conflict``) or ``"spec"`` (one RPM spec file, run by
            ``coinstall spec lint``: :mod:`coinstall.spec.lint`).
        fixer: the repair ``coinstall fix`` applies to the rule's findings (it may still leave
            a finding it cannot repair safely, with the reason), as ``"module:function"`` below
            :mod:`coinstall.fix` (a name, not an import: rules/ does not depend on fix/;
            :mod:`coinstall.fix.engine` resolves it); ``""`` when only a person can fix them
            (ruff's fix availability, as data).  The one field that makes a rule fixable.
        contents: what the rule reads in full besides the streamed heads: a function from the
            artifact's classified records to the member paths whose bytes the engine reads in
            a second pass into :attr:`ArtifactContext.contents` (``bytecode-stale``: the
            sources of hash-based pycs); None when the rule needs none.
        digests: True when the rule compares file contents across artifacts: the engine then
            keeps every regular file's SHA-256 in :attr:`FileRecord.sha256` when more than one
            package file is checked (``scope == "set"`` only).
        pairwise: True when the rule compares artifacts two by two and only where they share
            an install path (where the package manager puts the file): an archive run
            then calls it once per group of artifacts linked by a shared path
            (:mod:`coinstall.archive.setrules`) instead of once over all (``scope == "set"``).
        record_fields: the :class:`~coinstall.files.verdict.FileRecord` fields the rule reads
            besides :data:`IDENTITY_FIELDS` (``scope == "set"``): an archive run keeps only
            those in its compact per-artifact indexes, the others keep their defaults.
        heads_only: True when the rule reads of each file only what its path, mode and first
            bytes give (``kind``, ``scope``, ``shebang``, ``pyc_header``) and the artifact's
            header, never the object-file or metadata analysis (``elf``, ``binary``,
            ``elf_problem``, ``requires_python``): a run whose rules all say so and that
            needs no verdicts (``coinstall fix --select shebang-env``) reads no file whole
            and parses no ELF (:func:`heads_only`).
        headline: what an artifact with a finding of this rule does, as a phrase after "N
            artifacts" (``"start Python through env"``), for the headline numbers of
            ``coinstall report`` (:mod:`coinstall.report.archive_summary`); ``""`` when the
            rule is not a headline.
        headline_rank: where that headline goes among the summary's headlines (ascending;
            the summary's own headlines, such as "ship bytecode", have ranks too).
    """

    name: str
    severity: Severity
    summary: str
    why: str
    example: str
    fix: str
    source: str
    peers: tuple[str, ...]
    check: Callable[[Any], Iterable[Any]]
    profiles: tuple[str, ...] = ALL_PROFILES
    area: str = ""
    scope: RuleScope = "artifact"
    fixer: str = ""
    contents: Callable[[Sequence[FileRecord]], set[str]] | None = None
    digests: bool = False
    pairwise: bool = False
    record_fields: tuple[str, ...] = ()
    heads_only: bool = False
    headline: str = ""
    headline_rank: int = 0

    @property
    def fixable(self) -> bool:
        """True when ``coinstall fix`` repairs this rule's findings."""
        return bool(self.fixer)

    def finding(self, path: str | None, message: str) -> Finding:
        """A finding of this rule at its default severity."""
        return Finding(self.name, self.severity, path, message)

    def to_json(self) -> RuleJSON:
        """The rule's data for ``coinstall rules --format json``."""
        return {
            "name": self.name,
            "severity": self.severity,
            "area": self.area,
            "profiles": list(self.profiles),
            "summary": self.summary,
            "why": self.why,
            "example": self.example,
            "fix": self.fix,
            "source": self.source,
            "peers": list(self.peers),
            "scope": self.scope,
            "autofix": "auto" if self.fixable else None,
        }


REGISTRY: dict[str, Rule] = {}


class RuleError(ValueError):
    """A rule's declaration is inconsistent (raised at registration, also under ``python -O``)."""


#: Every :class:`~coinstall.files.verdict.FileRecord` field (what ``record_fields`` may name).
RECORD_FIELDS = frozenset(f.name for f in fields(FileRecord))
#: The fields every record keeps in an archive run's indexes (those without a default).
IDENTITY_FIELDS = ("path", "import_path", "kind", "scope")


def _check_declaration(
    name: str,
    severity: Severity,
    profiles: tuple[str, ...],
    scope: RuleScope,
    fixer: str,
    digests: bool,
    pairwise: bool,
    record_fields: tuple[str, ...],
    headline: str = "",
    headline_rank: int = 0,
    contents: bool = False,
) -> None:
    """Raise :class:`RuleError` when a declaration cannot be honoured."""
    problems = []
    if name in REGISTRY:
        problems.append("registered twice")
    if severity not in SEVERITIES:
        problems.append(f"severity {severity!r} is not one of {SEVERITIES}")
    if scope not in SCOPES:
        problems.append(f"scope {scope!r} is not one of {SCOPES}")
    unknown = [p for p in profiles if p not in PROFILES]
    if unknown:
        problems.append(f"unknown profiles {unknown}")
    if fixer and (fixer.count(":") != 1 or not all(fixer.split(":"))):
        problems.append(f"fixer {fixer!r} is not 'module:function'")
    if scope != "set" and (digests or pairwise or record_fields):
        problems.append("digests, pairwise and record_fields are for scope='set' rules")
    if contents and scope != "artifact":
        # the engine reads them per artifact, for the rules of its profile (wanted_contents)
        problems.append("contents is for scope='artifact' rules")
    bad = [f for f in record_fields if f not in RECORD_FIELDS]
    if bad:
        problems.append(f"record_fields {bad} are not FileRecord fields")
    if bool(headline) != bool(headline_rank):
        problems.append("headline and headline_rank go together")
    if headline_rank and any(r.headline_rank == headline_rank for r in REGISTRY.values()):
        problems.append(f"headline_rank {headline_rank} is another rule's")
    if problems:
        raise RuleError(f"rule {name}: " + "; ".join(problems))


def rule(
    name: str,
    *,
    severity: Severity,
    summary: str,
    why: str,
    example: str,
    fix: str,
    source: str,
    peers: tuple[str, ...] = (),
    profiles: tuple[str, ...] = ALL_PROFILES,
    scope: RuleScope = "artifact",
    fixer: str = "",
    contents: Callable[[Sequence[FileRecord]], set[str]] | None = None,
    digests: bool = False,
    pairwise: bool = False,
    record_fields: tuple[str, ...] = (),
    heads_only: bool = False,
    headline: str = "",
    headline_rank: int = 0,
) -> Callable[[Callable[[Rule, Any], Iterable[Any]]], Rule]:
    """Register a rule: decorate ``def check(rule, ctx) -> Iterable[Finding]`` (or, with
    ``scope="set"``, ``def check(rule, ctxs) -> Iterable[tuple[ArtifactContext, Finding]]``).
    ``fixer="module:function"`` declares a repair; ``contents``, ``digests``, ``pairwise``,
    ``record_fields`` and ``heads_only`` what the rule needs read and kept, ``headline`` and
    ``headline_rank`` its line in the archive summary (:class:`Rule`).

    Raises:
        RuleError: an inconsistent declaration (a check that ``python -O`` keeps).
    """
    _check_declaration(
        name,
        severity,
        profiles,
        scope,
        fixer,
        digests,
        pairwise,
        record_fields,
        headline,
        headline_rank,
        contents is not None,
    )

    def wrap(fn: Callable[[Rule, Any], Iterable[Any]]) -> Rule:
        holder: list[Rule] = []

        def bound(ctx: Any) -> Iterable[Any]:
            return fn(holder[0], ctx)

        area = fn.__module__.rsplit(".", 1)[-1]
        r = Rule(
            name,
            severity,
            summary,
            why,
            example,
            fix,
            source,
            peers,
            bound,
            profiles,
            area,
            scope,
            fixer,
            contents,
            digests,
            pairwise,
            record_fields,
            heads_only,
            headline,
            headline_rank,
        )
        holder.append(r)
        REGISTRY[name] = r
        return r

    return wrap


#: The light index of the policy-area modules, so that a check imports only the modules its
#: artifacts need (issue 22: one package in a build system) and a configuration's rule names
#: are checked without importing any: each module of this package that registers rules (in the
#: order :func:`load_all` imports them, which is the registry's order) -> (the names of the rules
#: it registers, the profiles its ``artifact`` and ``set`` rules apply to; ``spec`` rules run in
#: ``coinstall spec lint`` only, which imports every module).  Written by hand beside the rules;
#: tests/test_rule_declarations.py fails, printing the table to paste, when it drifts from what
#: the modules register.
AREAS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bytecode": (
        (
            "bytecode-magic-mismatch",
            "bytecode-cache-tag-mismatch",
            "bytecode-invalid-header",
            "bytecode-legacy-pyo",
            "bytecode-without-source",
            "bytecode-shipped",
            "bytecode-stale",
            "bytecode-outside-runtime-dir",
        ),
        ALL_PROFILES,
    ),
    "coinstallability": (("file-conflict",), ALL_PROFILES),
    "dependencies": (
        ("requires-mixed-implementations", "requires-unversioned-python", "requires-other-stack"),
        ("fedora", "epel", "opensuse", "debian"),
    ),
    "entry_points": (
        ("entry-point-ownership", "entry-point-missing-versioned"),
        ("fedora", "epel", "opensuse"),
    ),
    "extensions": (
        (
            "extension-tag-mismatch",
            "extension-untagged",
            "stable-abi-missing-multiarch",
            "stable-abi-symbol-violation",
            "stable-abi-baseline-too-new",
            "extension-arch-mismatch",
            "extension-missing-for-runtime",
            "wheel-tag-module-mismatch",
            "stable-abi-in-free-threaded-tree",
        ),
        ALL_PROFILES,
    ),
    "metadata": (
        ("requires-python-excludes-runtime", "wheel-tag-mismatch"),
        ALL_PROFILES,
    ),
    "naming": (
        (
            "name-missing-implementation-prefix",
            "python2-missing-unversioned-provide",
            "name-stack-mismatch",
        ),
        ("fedora", "epel", "opensuse", "debian"),
    ),
    "runtime_packages": (
        ("runtime-missing-abi-provide",),
        ("fedora", "epel", "opensuse", "debian"),
    ),
    "scripts": (
        (
            "shebang-unversioned",
            "shebang-env",
            "shebang-implementation-mismatch",
            "shebang-interpreter-not-required",
            "shebang-build-path",
            "shebang-carriage-return",
        ),
        ALL_PROFILES,
    ),
    "spec_stacks": (
        (
            "spec-hardcoded-python3",
            "spec-library-missing-other-stack",
            "spec-application-multi-stack",
            "spec-install-order",
            "spec-bindir-unversioned-other",
            "spec-bindir-missing-versioned",
            "spec-mixed-stacks",
        ),
        (),
    ),
    "spec_style": (
        (
            "spec-python-provide-deprecated",
            "spec-sitelib-glob",
            "spec-shebang-unfixed",
            "spec-port-manual",
        ),
        (),
    ),
}

_LOADED = False


def _reorder() -> None:
    """Put :data:`REGISTRY` in the order :func:`load_all` registers the rules (by module, in
    :data:`AREAS` order, then as each module declares them), whichever modules were imported
    first: the findings' order must not depend on which artifact a run read first."""
    pos = {area: i for i, area in enumerate(AREAS)}
    ordered = sorted(REGISTRY.values(), key=lambda r: pos.get(r.area, len(pos)))
    if list(REGISTRY.values()) != ordered:
        REGISTRY.clear()
        REGISTRY.update((r.name, r) for r in ordered)


def load_all() -> None:
    """Import every policy-area module of this package (each registers its rules)."""
    global _LOADED
    if _LOADED:
        return
    for mod in pkgutil.iter_modules(__path__):
        if mod.name != "profiles" and not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    _reorder()
    _LOADED = True


def load_for(profiles: Iterable[str], config: Config | None = None) -> None:
    """Import the policy-area modules with ``artifact`` or ``set`` rules of one of
    ``profiles`` (:data:`AREAS`), the ones a check of artifacts of those profiles runs; with
    ``config``, only those holding a rule it enables."""
    if _LOADED:
        return
    wanted = set(profiles)
    fresh = False
    for area, (names, area_profiles) in AREAS.items():
        module = f"{__name__}.{area}"
        if (
            module not in sys.modules
            and wanted.intersection(area_profiles)
            and (config is None or any(config.enabled(n) for n in names))
        ):
            importlib.import_module(module)
            fresh = True
    if fresh:
        _reorder()


def rule_names() -> frozenset[str]:
    """Every rule's name (:data:`AREAS`, and any rule registered outside this package's
    modules), without importing the modules."""
    return frozenset(n for names, _profiles in AREAS.values() for n in names) | set(REGISTRY)


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
    profile, filtered and re-graded by ``config`` (only that profile's modules are imported)."""
    load_for((ctx.profile.name,), config)
    for r in _active(ctx, config):
        if r.scope != "artifact":
            continue
        for f in r.check(ctx):
            g = _apply(r, f, ctx, config)
            if g is not None:
                yield g


def run_set_rules(
    ctxs: Sequence[ArtifactContext],
    config: Config | None = None,
) -> Iterator[tuple[ArtifactContext, Finding]]:
    """The findings of rules over all artifacts checked together (``scope == "set"``), each
    with the artifact it belongs to.  Only the rules of the artifacts' profiles run (a finding
    of another profile's rule would be dropped)."""
    profiles = {ctx.profile.name for ctx in ctxs}
    load_for(profiles, config)
    rules = [
        r
        for r in REGISTRY.values()
        if r.scope == "set"
        and profiles.intersection(r.profiles)
        and (config is None or config.enabled(r.name))
    ]
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
    return sorted(
        (r for r in REGISTRY.values() if profile is None or profile in r.profiles),
        key=lambda r: r.name,
    )


def _load_enabled(config: Config | None) -> None:
    """Import the policy-area modules that hold a rule ``config`` enables (every module for no
    configuration): a ``--select`` of shebang rules imports the scripts module alone, not the
    spec rules' tables (issue 22: ``fix`` of shebangs against pathfix.py)."""
    if config is None or _LOADED:
        load_all()
        return
    fresh = False
    for area, (names, _profiles) in AREAS.items():
        module = f"{__name__}.{area}"
        if module not in sys.modules and any(config.enabled(n) for n in names):
            importlib.import_module(module)
            fresh = True
    if fresh:
        _reorder()


def enabled_rules(config: Config | None) -> list[Rule]:
    """The rules a run with ``config`` runs (every rule for no configuration), in registry
    order, importing only the modules that hold them."""
    _load_enabled(config)
    return [r for r in REGISTRY.values() if config is None or config.enabled(r.name)]


def set_rules(config: Config | None = None) -> list[Rule]:
    """The set-scope rules a run with ``config`` runs, in registry order."""
    return [r for r in enabled_rules(config) if r.scope == "set"]


def wants_digests(config: Config | None = None) -> bool:
    """True when a rule the run with ``config`` runs compares file contents across artifacts
    (:attr:`Rule.digests`): the engine must hash every regular file of the package files."""
    return any(r.digests for r in set_rules(config))


def wanted_contents(
    records: Sequence[FileRecord], config: Config | None = None, profile: str | None = None
) -> set[str]:
    """The member paths whose bytes the rules the run with ``config`` runs need in full
    (:attr:`Rule.contents`), for the engine's second pass; with ``profile``, the rules of that
    profile (the artifact's: only its modules are imported), else every rule."""
    if profile is None:
        rules = enabled_rules(config)
    else:
        load_for((profile,), config)
        rules = [
            r
            for r in REGISTRY.values()
            if profile in r.profiles and (config is None or config.enabled(r.name))
        ]
    out: set[str] = set()
    for r in rules:
        if r.contents is not None:
            out |= r.contents(records)
    return out


def heads_only(config: Config | None = None) -> bool:
    """True when every artifact and set rule a run with ``config`` runs declares
    :attr:`Rule.heads_only` (a ``--select`` of shebang rules): the engine may then classify
    files from their heads alone.  False for no configuration (every rule runs)."""
    return all(r.heads_only for r in enabled_rules(config) if r.scope != "spec")


def kept_record_fields() -> tuple[str, ...]:
    """The :class:`~coinstall.files.verdict.FileRecord` fields the set-scope rules read:
    :data:`IDENTITY_FIELDS`, then each rule's :attr:`Rule.record_fields` in registry order."""
    load_all()
    out = list(IDENTITY_FIELDS)
    for r in REGISTRY.values():
        if r.scope == "set":
            out.extend(f for f in r.record_fields if f not in out)
    return tuple(out)


def headline_rules() -> list[Rule]:
    """The rules with a :attr:`Rule.headline`, by :attr:`Rule.headline_rank`."""
    load_all()
    return sorted((r for r in REGISTRY.values() if r.headline), key=lambda r: r.headline_rank)
