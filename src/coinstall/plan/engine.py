"""The transition planner: which sources to rebuild, in which order, and what blocks.

Three transitions, after the way distributions move from Python 3.X to 3.Y (Debian: the
release team's python3.Y "add", default switch and "drop" trackers, Debian Python Policy and
debian-python 2020-07 "binNMU plan"; Fedora/EPEL: ``python3_other`` stacks, mass rebuild, switch
of ``/usr/bin/python3``, retirement):

* ``add`` NEW (from OLD): every source with a binary built for OLD but not NEW is rebuilt so that
  it is built for both.  Debian sources built for the default version only (Build-Depends on
  ``python3-dev``/``python3``, not ``python3-all``/``python3-all-dev``: dh-python
  ``dh/pybuild.pm`` picks the interpreter set from those) cannot gain NEW before the default
  switches: they are ``blocked``.
* ``default`` NEW (from OLD): every source with a binary built for OLD but not NEW, including
  default-only ones, is rebuilt before ``/usr/bin/python3`` points to NEW.
* ``drop`` OLD (keeping NEW): a binary built only for OLD, or naming ``python3.X`` outright,
  blocks the retirement; sources built for both are rebuilt to drop OLD.

A source's status is ``rebuild`` (can be rebuilt now: wave 1), ``blocked`` (waits for sources
of an earlier wave, or cannot be built for NEW in this transition), ``no-action`` (already built
for NEW, or version-independent: pure modules, stable-ABI modules) or ``not-affected``.  Waves
are topological levels of the build-dependency graph among the sources to rebuild; each
strongly connected component of more than one source is a bootstrap group, reported with the
DFS back edges that close its cycles.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from coinstall.names import Version
from coinstall.plan.evidence import BinaryEvidence, Classifier, stack_key
from coinstall.plan.indices import Index, IndexProblem, SourceRecord

TRANSITIONS = ("add", "default", "drop")
STATUSES = ("rebuild", "blocked", "no-action", "not-affected")

#: Sources that are the runtimes themselves: CPython (``python3.11``, Fedora ``python3.11``,
#: openSUSE ``python311``) and Debian's ``python3-defaults`` (which defines the supported and
#: default versions).  They are the transition's subject, not packages to rebuild.
_RUNTIME_SOURCE = re.compile(r"^(?:python\d\.\d+|python3\d\d?|python3-defaults|python3)$")
#: Debian Build-Depends naming the all-versions interpreter packages (dh-python pybuild.pm).
_ALL_VERSIONS = re.compile(r"(?:^|[\s,|])(?:lib)?python3-all(?:-dev|-dbg)?(?=[\s,:(\[<|]|$)")
_DEFAULT_ONLY = re.compile(r"(?:^|[\s,|])(?:lib)?python3(?:-dev|-dbg)?(?=[\s,:(\[<|]|$)")
_BD_NAME = re.compile(r"^\s*([a-z0-9][a-z0-9+.\-]*)")
#: Debian Build-Depends naming one runtime by version (``python3.13-dev``, ``libpython3.13-dev``,
#: ``python3.13-dbg:any``): the source builds for the versions it names, whatever
#: python3-defaults supports (python3-stdlib-extensions and kdevelop-python in trixie; both
#: needed a sourceful upload for 3.14 in sid, not a binNMU).
_NAMED_RUNTIME = re.compile(
    r"(?:^|[\s,|])((?:lib)?python(\d)\.(\d+)(?:-dev|-dbg|-minimal)?)(?=[\s,:(\[<|]|$)"
)


def vstr(v: Version) -> str:
    """``(3, 12)`` -> ``"3.12"``."""
    return f"{v[0]}.{v[1]}"


def parse_version(text: str) -> Version:
    """``"3.12"`` -> ``(3, 12)``.

    Raises:
        ValueError: not ``X.Y``.
    """
    m = re.fullmatch(r"(\d+)\.(\d+)", text.strip())
    if not m:
        raise ValueError(f"not a Python version X.Y: {text!r}")
    return (int(m[1]), int(m[2]))


class BinaryJSON(TypedDict):
    """A source's ``binaries[]`` object (docs/plan-format.md)."""

    name: str
    version: str
    arch: str
    verdict: str
    built_for: str
    reasons: list[str]


#: A ``sources[]`` object (docs/plan-format.md); ``class`` (a keyword: functional syntax) only
#: in a free-threaded plan.
SourceJSON = TypedDict(
    "SourceJSON",
    {
        "name": str,
        "version": str,
        "status": str,
        "reasons": list[str],
        "wave": int | None,
        "waits_for": list[str],
        "group": int | None,
        "progress": str | None,
        "binaries": list[BinaryJSON],
        "class": NotRequired[str],
    },
)


class GroupJSON(TypedDict):
    """A ``groups[]`` object: a bootstrap group."""

    members: list[str]
    wave: int
    closing_edges: list[list[str]]  # [source, build-dependency source]
    profile_edges: list[list[str]]


class ReadJSON(TypedDict):
    """The plan's ``read`` object: what was read."""

    binaries: int
    sources: int
    distinct_sources: int
    skipped: int


class WaveJSON(TypedDict):
    """A ``waves[]`` object."""

    wave: int
    sources: list[str]


class WaveProgressJSON(TypedDict):
    """A ``progress[]`` object (:func:`progress`): ``wave`` is ``"none"`` for sources in no
    wave."""

    wave: int | str
    done: int
    total: int


class LayoutJSON(TypedDict):
    """A free-threaded plan's module-directory layout
    (:data:`coinstall.plan.freethreaded.LAYOUTS`)."""

    name: str
    shared: bool
    directory: str
    note: str


class FreeThreadingJSON(TypedDict):
    """A free-threaded plan's ``free_threading`` object."""

    runtime: str
    layout: LayoutJSON | None
    classes: dict[str, int]


class PlanJSON(TypedDict):
    """The whole plan (docs/plan-format.md, ``format`` ``coinstall-plan/1``); ``progress``
    and ``later_inputs`` after :func:`progress`."""

    format: str
    transition: str
    new: str
    old: str
    inputs: list[str]
    suite: str | None
    read: ReadJSON
    problems: list[str]
    warnings: list[str]
    counts: dict[str, int]
    waves: list[WaveJSON]
    groups: list[GroupJSON]
    sources: list[SourceJSON]
    free_threading: NotRequired[FreeThreadingJSON]
    progress: NotRequired[list[WaveProgressJSON]]
    later_inputs: NotRequired[list[str]]


@dataclass
class BinaryPlan:
    """One Python-related binary package in the plan.

    Attributes:
        name, version, arch: from the index.
        verdict: ``needs-build`` (built for OLD, not NEW), ``ready`` (built for NEW),
            ``independent`` (no version tie), ``uses-old`` (a program using OLD's interpreter
            by name; ``add`` only), ``pinned`` (needs OLD and has no build for NEW; ``drop``
            only), ``other`` (built for other runtimes only).
        built_for: human summary of the runtimes (``"3.11"``, ``">= 3.11, < 3.12"``, ``"any"``).
        reasons: the evidence lines.
    """

    name: str
    version: str
    arch: str
    verdict: str
    built_for: str
    reasons: list[str]

    def to_json(self) -> BinaryJSON:
        return {
            "name": self.name,
            "version": self.version,
            "arch": self.arch,
            "verdict": self.verdict,
            "built_for": self.built_for,
            "reasons": self.reasons,
        }


@dataclass
class SourcePlan:
    """One source package in the plan (see the module docstring for ``status``).

    Attributes:
        wave: 1-based rebuild wave for ``rebuild``/``blocked`` sources in the build order; None
            when the source cannot be built in this transition.
        waits_for: sources of earlier waves (or unbuildable ones) it build-depends on.
        group: index into :attr:`Plan.groups` when the source is in a bootstrap group.
        progress: after :func:`progress`: ``done``, ``remaining`` or ``removed``.
    """

    name: str
    version: str
    status: str
    reasons: list[str] = field(default_factory=list)
    binaries: list[BinaryPlan] = field(default_factory=list)
    wave: int | None = None
    waits_for: list[str] = field(default_factory=list)
    group: int | None = None
    progress: str | None = None
    ft_class: str | None = None

    def to_json(self) -> SourceJSON:
        out: SourceJSON = {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "reasons": self.reasons,
            "wave": self.wave,
            "waits_for": self.waits_for,
            "group": self.group,
            "progress": self.progress,
            "binaries": [b.to_json() for b in self.binaries],
        }
        if self.ft_class is not None:
            out["class"] = self.ft_class
        return out


@dataclass
class BootstrapGroup:
    """A build-dependency cycle among sources to rebuild.

    Attributes:
        members: source names, sorted.
        closing_edges: ``(source, build-dependency source)`` edges whose removal breaks every
            cycle: the edges a build profile removes when that suffices, else the back edges
            of a depth-first search from the first member (sorted order).
        wave: the wave the group is built in.
        profile_edges: the closing edges that a build profile removes (every Build-Depends
            behind them carries ``<!nocheck>``, ``<!nodoc>``, ``<!stage1>`` or ``<!stage2>``).
    """

    members: list[str]
    closing_edges: list[tuple[str, str]]
    wave: int
    profile_edges: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> GroupJSON:
        return {
            "members": self.members,
            "wave": self.wave,
            "closing_edges": [list(e) for e in self.closing_edges],
            "profile_edges": [list(e) for e in self.profile_edges],
        }


@dataclass
class Plan:
    """A transition plan (JSON layout: ``docs/plan-format.md``)."""

    transition: str
    new: Version
    old: Version
    sources: dict[str, SourcePlan]
    waves: list[list[str]]
    groups: list[BootstrapGroup]
    problems: list[IndexProblem]
    inputs: list[str]
    binaries_read: int
    sources_read: int
    unaffected_sources: int
    distinct_sources: int = 0
    suite: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: ``add 3.14t`` (:mod:`coinstall.plan.freethreaded`): ``new`` is the free-threaded build.
    free_threaded: bool = False
    #: for a free-threaded plan: the target's module-directory layout (``LAYOUTS``).
    layout: LayoutJSON | None = None

    @classmethod
    def of_index(
        cls,
        transition: str,
        new: Version,
        old: Version,
        plans: dict[str, SourcePlan],
        needed_bins: dict[str, str],
        index: Index,
        warnings: list[str],
        **extra: Any,
    ) -> Plan:
        """The plan of the sources ``plans`` classified from ``index``: waves and bootstrap
        groups ordered by :func:`_order` (``needed_bins``: binary name -> the source whose
        rebuild provides it for NEW); the counts of what was read come from ``index``, and every
        source name it knows without a plan is unaffected.  ``extra``: the free-threaded
        fields."""
        waves, groups = _order(plans, index.sources, needed_bins)
        # Distinct sources: every name a Sources file lists (Extra-Source-Only and older
        # versions not counted twice), the RPM source packages, and the sources binaries name.
        names = index.source_names | set(index.sources) | set(plans)
        return cls(
            transition,
            new,
            old,
            plans,
            waves,
            groups,
            index.problems,
            index.files,
            max(index.binaries_total, len(index.binaries)),
            max(index.sources_total, len(index.sources)),
            len(names) - len(plans),
            len(names),
            index.suite,
            warnings,
            **extra,
        )

    def counts(self) -> dict[str, int]:
        """Distinct sources per status (``not-affected`` includes sources with no Python at
        all); they add up to ``distinct_sources``.  A free-threaded plan adds
        ``cannot-tell``."""
        c = dict.fromkeys(STATUSES + (("cannot-tell",) if self.free_threaded else ()), 0)
        for s in self.sources.values():
            c[s.status] += 1
        c["not-affected"] += self.unaffected_sources
        return c

    def to_json(self) -> PlanJSON:
        out: PlanJSON = {
            "format": "coinstall-plan/1",
            "transition": self.transition,
            "new": vstr(self.new) + ("t" if self.free_threaded else ""),
            "old": vstr(self.old),
            "inputs": self.inputs,
            "suite": self.suite,
            "read": {
                "binaries": self.binaries_read,
                "sources": self.sources_read,
                "distinct_sources": self.distinct_sources,
                "skipped": len(self.problems),
            },
            "problems": [str(p) for p in self.problems],
            "warnings": self.warnings,
            "counts": self.counts(),
            "waves": [{"wave": i + 1, "sources": w} for i, w in enumerate(self.waves)],
            "groups": [g.to_json() for g in self.groups],
            "sources": [self.sources[k].to_json() for k in sorted(self.sources)],
        }
        if self.free_threaded:
            classes: dict[str, int] = {}
            for sp in self.sources.values():
                if sp.ft_class is not None:
                    classes[sp.ft_class] = classes.get(sp.ft_class, 0) + 1
            out["free_threading"] = {
                "runtime": f"cpython-{vstr(self.new)}t",
                "layout": self.layout,
                "classes": classes,
            }
        return out


def _built_for(ev: BinaryEvidence) -> str:
    parts = [vstr(v) for v in sorted(ev.pins)]
    if (ev.high is not None or ev.low is not None) and ev.compat_high is None:
        rng = []
        if ev.low is not None:
            rng.append(f">= {vstr(ev.low)}")
        if ev.high is not None:
            rng.append(f"< {vstr(ev.high)}")
        parts.append(", ".join(rng))
    parts.extend(f"uses python{vstr(v)}" for v in sorted(ev.uses))
    if ev.floor is not None and (ev.low is None or ev.floor > ev.low):
        parts.append(f"needs python3 >= {vstr(ev.floor)}")
    if ev.compat_high is not None:
        lo = f">= {vstr(ev.low)}, " if ev.low is not None else ""
        parts.append(f"any (version-independent; compatible {lo}< {vstr(ev.compat_high)})")
    if not parts:
        return "any (version-independent)"
    return "; ".join(parts)


def _single_version(ev: BinaryEvidence) -> bool:
    """Its modules are built for exactly one runtime (``python3 (>= 3.14~), python3 (<<
    3.15)``, one pin, one ``-py314``): what a build for the default runtime alone gives."""
    built = set(ev.pins)
    if ev.high is not None:
        lo = max((v for v in (ev.low, ev.floor) if v is not None), default=None)
        if lo is None or ev.high != (lo[0], lo[1] + 1):
            return False
        built.add(lo)
    return len(built) == 1


def binary_verdict(ev: BinaryEvidence, transition: str, new: Version, old: Version) -> str:
    """The verdict for one binary (see :class:`BinaryPlan`).

    Modules (a version range or pins) need a build for NEW in ``add`` and ``default``; a
    program that uses OLD's interpreter by name (``python3.11``, ``libpython3.11``) keeps
    working while OLD is installed (``uses-old`` in ``add``), is rebuilt for the new default
    (``default``) and blocks ``drop``.
    """
    if not ev.tied:
        # Version-independent from ``low`` on (a stable-ABI baseline, ``python3 (>= 3.8)``),
        # up to the end of an Architecture: all package's compatibility range.
        if ev.compat_high is not None and new >= ev.compat_high:
            if transition == "drop" and old < ev.compat_high:
                return "pinned"
            return "needs-build"
        return "independent" if ev.low is None or new >= ev.low else "needs-build"
    uses_old = old in ev.uses and new not in ev.uses
    if transition == "drop":
        if uses_old or (ev.modules_tied and ev.covers(old) and not ev.covers(new)):
            return "pinned"
        if ev.modules_tied and ev.covers(old):
            return "needs-build"
        return "ready" if new in ev.uses or (ev.modules_tied and ev.covers(new)) else "other"
    if ev.modules_tied:
        if ev.covers(new):
            return "needs-build" if transition == "default" and uses_old else "ready"
        if ev.covers(old):
            return "needs-build"
        if not uses_old:
            return "other"
    if uses_old:
        return "uses-old" if transition == "add" else "needs-build"
    return "ready" if new in ev.uses else "other"


def _bd_names(text: str) -> set[str]:
    """Package names in a Build-Depends value (arch qualifiers, restrictions dropped)."""
    out = set()
    for group in text.split(","):
        for alt in group.split("|"):
            m = _BD_NAME.match(alt)
            if m:
                out.add(m[1])
    return out


#: Build profiles that drop a Build-Depends for a bootstrap build (Debian BuildProfileSpec:
#: ``nocheck`` skips tests, ``nodoc`` documentation; ``stage1``/``stage2`` cut features).
_PROFILE = re.compile(r"<\s*!(nocheck|nodoc|stage1|stage2)\b[^>]*>")


def named_runtimes(build_depends: str) -> dict[Version, list[str]]:
    """The runtimes a Debian Build-Depends value names by version -> the names, in order.

    ``"debhelper, libpython3.13-dev, python3.13-dev:any (>= 3.13.4-1~)"`` ->
    ``{(3, 13): ["libpython3.13-dev", "python3.13-dev"]}``.  Unversioned names
    (``python3-dev``, ``python3-all-dev``) are not in it.
    """
    out: dict[Version, list[str]] = {}
    for m in _NAMED_RUNTIME.finditer(build_depends):
        names = out.setdefault((int(m[2]), int(m[3])), [])
        if m[1] not in names:
            names.append(m[1])
    return out


def _names_others(srec: SourceRecord | None, new: Version) -> str:
    """The runtime names of a Debian source's Build-Depends (``"libpython3.13-dev,
    python3.13-dev"``) when it names runtimes by version and NEW is not one of them; ``""``
    otherwise (no source record, an RPM source, or no name with a version)."""
    if srec is None or srec.syntax != "deb" or not srec.build_depends:
        return ""
    named = named_runtimes(srec.build_depends)
    if not named or new in named:
        return ""
    return ", ".join(x for names in named.values() for x in names)


def _bd_relations(text: str) -> dict[str, bool]:
    """Build-Depends names -> True when every mention is dropped by a build profile
    (``python3-numpy <!nocheck>``)."""
    out: dict[str, bool] = {}
    for group in text.split(","):
        soft = bool(_PROFILE.search(group))
        for alt in group.split("|"):
            m = _BD_NAME.match(alt)
            if m:
                out[m[1]] = out.get(m[1], True) and soft
    return out


def _sccs(nodes: Iterable[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative: the graph is deep enough to overflow
    Python's recursion limit).  Glue: no dependency of ours offers SCCs (graphlib only sorts)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def _back_edges(members: list[str], edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Back edges of a DFS inside one component, from its first member (sorted order)."""
    inside = set(members)
    state: dict[str, int] = {}  # 1 on path, 2 done
    back: list[tuple[str, str]] = []
    for root in members:
        if root in state:
            continue
        state[root] = 1
        work = [(root, iter(sorted(edges.get(root, set()) & inside)))]
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is None:
                state[v] = 2
                work.pop()
                continue
            s = state.get(nxt)
            if s == 1:
                back.append((v, nxt))
            elif s is None:
                state[nxt] = 1
                work.append((nxt, iter(sorted(edges.get(nxt, set()) & inside))))
    return back


def python_evidence(
    index: Index, classifier: Classifier, progress: Callable[[int, int], None] | None
) -> Iterator[BinaryEvidence]:
    """The evidence of each binary of ``index`` that has Python in it, in index order.  Only a
    binary whose name, relations, RPM provides or file list mention Python (or that has a file
    list at all) is classified; ``progress(done, total)`` is called every 5,000 binaries and at
    the end."""
    total = len(index.binaries)
    for i, rec in enumerate(index.binaries):
        if progress is not None and i % 5000 == 0:
            progress(i, total)
        if (
            "python" not in rec.depends
            and "python" not in rec.name
            and not (rec.syntax == "rpm" and "python" in rec.provides)
            and not rec.files
        ):
            continue
        ev = classifier.classify(rec)
        if ev.python:
            yield ev
    if progress is not None:
        progress(total, total)


def plan_transition(
    index: Index,
    classifier: Classifier,
    transition: str,
    new: Version,
    old: Version,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Plan one transition over an index.

    Args:
        index: binaries and sources (Debian indices, RPM repodata or artifacts).
        classifier: reads each binary's evidence.
        transition: ``"add"``, ``"default"`` or ``"drop"``.
        new: the runtime added / made default / kept (for ``drop``).
        old: the runtime added beside / previous default / dropped.
        progress: called as ``progress(done, total)`` while binaries are classified.

    Raises:
        ValueError: unknown transition.
    """
    if transition not in TRANSITIONS:
        raise ValueError(f"unknown transition {transition!r}")
    by_source: dict[str, list[tuple[BinaryEvidence, str]]] = defaultdict(list)
    for ev in python_evidence(index, classifier, progress):
        by_source[ev.record.source].append((ev, binary_verdict(ev, transition, new, old)))
    for evs in by_source.values():
        _counterparts(evs, new)

    plans: dict[str, SourcePlan] = {}
    needed_bins: dict[str, str] = {}  # binary name or provided name -> source needing it
    for src, evs in by_source.items():
        srec = index.sources.get(src)
        sp = SourcePlan(src, srec.version if srec else evs[0][0].record.version, "")
        seen: set[tuple[str, str]] = set()
        for ev, verdict in evs:
            r = ev.record
            if (r.name, r.arch) in seen:
                continue
            seen.add((r.name, r.arch))
            sp.binaries.append(
                BinaryPlan(
                    r.name,
                    r.version,
                    r.arch,
                    verdict,
                    _built_for(ev),
                    ev.reasons
                    or [
                        f"{ev.plain} (unversioned)" if ev.plain else "no versioned Python relation"
                    ],
                )
            )
        sp.binaries.sort(key=lambda b: (b.name, b.arch))
        to_build = [ev for ev, v in evs if v == "needs-build"]
        _decide(
            sp,
            srec,
            transition,
            new,
            old,
            one_version=bool(to_build) and all(_single_version(ev) for ev in to_build),
        )
        plans[src] = sp
        if sp.status in ("rebuild", "blocked"):
            need = {ev.record.name for ev, v in evs if v in ("needs-build", "pinned")}
            # Same-source packages that pull one of those in (python3-pandas -> the
            # rebuilt python3-pandas-lib) are needed for the new runtime too.
            for ev, _ in evs:
                if ev.record.name not in need and need & _bd_names(ev.record.depends):
                    need.add(ev.record.name)
            for ev, _ in evs:
                if ev.record.name in need:
                    needed_bins[ev.record.name] = src
                    if ev.record.syntax == "deb" and ev.record.provides:
                        for p in _bd_names(ev.record.provides):
                            needed_bins.setdefault(p, src)

    warnings = []
    if plans and not has_source_index(index):
        warnings.append(
            "no source index (Sources, .src RPMs) given: no build dependencies, "
            "so one wave, and default-only builds not told apart"
        )
    return Plan.of_index(transition, new, old, plans, needed_bins, index, warnings)


def _counterparts(evs: list[tuple[BinaryEvidence, str]], new: Version) -> None:
    """A stack binary built for OLD (``python3.11-foo``) needs no build when its source already
    ships the counterpart for NEW (``python3.12-foo``): mark it ``ready``, in place."""
    ready = {stack_key(ev.record.name) for ev, v in evs if v == "ready"}
    if not ready:
        return
    for i, (ev, verdict) in enumerate(evs):
        if (
            verdict == "needs-build"
            and stack_key(ev.record.name) in ready
            and stack_key(ev.record.name) != ev.record.name
        ):
            ev.reasons.append(
                f"its source also builds {stack_key(ev.record.name)} for "
                f"{vstr(new)} (stack counterpart)"
            )
            evs[i] = (ev, "ready")


def _decide(
    sp: SourcePlan,
    srec: SourceRecord | None,
    transition: str,
    new: Version,
    old: Version,
    one_version: bool = False,
) -> None:
    """Set ``sp.status`` and its reasons.  ``one_version``: every binary that needs a build
    is built for exactly one runtime (see :func:`_single_version`)."""
    verdicts = {b.verdict for b in sp.binaries}
    n, o = vstr(new), vstr(old)
    if _RUNTIME_SOURCE.match(sp.name):
        sp.status = "not-affected"
        sp.reasons.append(
            "provides the runtimes or the default itself: the subject of the "
            "transition, uploaded by hand"
        )
        return
    if transition == "drop":
        pinned = [b for b in sp.binaries if b.verdict == "pinned"]
        if pinned:
            sp.status = "blocked"
            sp.reasons.extend(
                f"{b.name}: still needs {o} and has no build for {n} ({'; '.join(b.reasons[:2])})"
                for b in pinned
            )
            return
        if "needs-build" in verdicts:
            sp.status = "rebuild"
            sp.reasons.append(f"built for {o} and {n}: rebuild to drop {o}")
            return
    elif "needs-build" in verdicts:
        need = [b for b in sp.binaries if b.verdict == "needs-build"]
        sp.status = "rebuild"
        named = _names_others(srec, new)
        if named:
            # A binNMU installs the same python3.X-dev and builds for it again: the source is
            # rebuilt in its wave, by a sourceful upload (like an Architecture: all one).
            sp.reasons.append(
                f"Build-Depends names its runtimes by version ({named}), not {n}: "
                f"needs a source change for {n} (a sourceful upload), not a binNMU"
            )
        sp.reasons.extend(
            f"{b.name} [{b.arch}]: built for {b.built_for}, not {n} ({'; '.join(b.reasons[:2])})"
            for b in need
        )
        if named:
            return
        if all(b.arch == "all" for b in need):
            sp.reasons.append("Architecture: all only: needs a sourceful upload, not a binNMU")
        if (
            transition == "add"
            and srec is not None
            and srec.syntax == "deb"
            and srec.build_depends
            and not _ALL_VERSIONS.search(srec.build_depends)
        ):
            # dh-python (dh/pybuild.pm) and py3versions build for every supported runtime
            # only with python3-all* installed; without it, what is built is the default's.
            if _DEFAULT_ONLY.search(srec.build_depends):
                why = "Build-Depends python3/python3-dev, not python3-all*"
            elif one_version:
                why = "no python3-all* in Build-Depends, and its binaries are built for one runtime"
            else:
                return
            sp.status = "blocked"
            sp.reasons.insert(
                0,
                f"builds for the default runtime only ({why}): gains {n} when the default switches",
            )
        return
    if "uses-old" in verdicts:
        sp.status = "no-action"
        named = _names_others(srec, new)
        then = (
            f"needs a source change at the default switch (its Build-Depends name {named})"
            if named
            else "rebuilt at the default switch"
        )
        sp.reasons.extend(
            f"{b.name}: uses python{o} by name ({'; '.join(b.reasons[:2])}): "
            f"keeps working beside {n}; {then}"
            for b in sp.binaries
            if b.verdict == "uses-old"
        )
    elif "ready" in verdicts:
        sp.status = "no-action"
        sp.reasons.append(f"already built for {n}")
    elif "independent" in verdicts:
        sp.status = "no-action"
        k = sum(b.verdict == "independent" for b in sp.binaries)
        sp.reasons.append(
            f"version-independent ({k} binar{'y' if k == 1 else 'ies'}: "
            "pure Python or stable ABI): shared by every runtime"
        )
    else:
        sp.status = "not-affected"
        sp.reasons.append(f"built for other runtimes only ({sp.binaries[0].built_for})")


def _group(
    comp: list[str], sub: dict[str, set[str]], soft: set[tuple[str, str]], wave: int
) -> BootstrapGroup:
    """A bootstrap group and an inclusion-minimal set of edges closing its cycles, preferring
    edges a build profile removes (build those sources once with ``nocheck``/``nodoc``/
    ``stage1``) over ordinary ones (DFS back edges of what profiles leave)."""
    inside = set(comp)

    def acyclic_without(cut: set[tuple[str, str]]) -> bool:
        g = {m: {d for d in sub[m] & inside if (m, d) not in cut} for m in comp}
        return len(_sccs(comp, g)) == len(comp)

    closing_set = {(m, d) for m in comp for d in sub[m] & inside if (m, d) in soft}
    hard = {m: {d for d in sub[m] & inside if (m, d) not in soft} for m in comp}
    closing_set |= set(_back_edges(comp, hard))  # cycles no build profile breaks
    # Inclusion-minimal: try to keep each edge (ordinary ones first, so that the cut prefers
    # what a build profile removes); drop it from the cut if the rest still breaks every cycle.
    for e in sorted(closing_set, key=lambda e: (e in soft, e)):
        if acyclic_without(closing_set - {e}):
            closing_set.discard(e)
    closing = sorted(closing_set)
    return BootstrapGroup(comp, closing, wave, sorted(e for e in closing if e in soft))


def has_source_index(index: Index) -> bool:
    """Whether ``index`` holds source records with build dependencies: a Debian source record
    comes only from a Sources file, an RPM one with a version only from a .src package (the
    others are the sourcerpm names of binaries).  Without one, a plan has one wave."""
    return bool(index.source_names) or any(
        s.syntax == "deb" or s.version for s in index.sources.values()
    )


def _order(
    plans: dict[str, SourcePlan], sources: dict[str, SourceRecord], needed_bins: dict[str, str]
) -> tuple[list[list[str]], list[BootstrapGroup]]:
    todo = {s for s, p in plans.items() if p.status in ("rebuild", "blocked")}
    cannot = {s for s in todo if plans[s].status == "blocked"}
    edges: dict[str, set[str]] = {}
    soft: set[tuple[str, str]] = set()  # edges a build profile removes
    module_edges: dict[str, set[str]] = {}
    for s in todo:
        srec = sources.get(s)
        if srec is None or not srec.build_depends:
            continue
        rels = _bd_relations(srec.build_depends)
        names = set(rels)
        deps = {needed_bins[b] for b in names if b in needed_bins} - {s}
        if deps:
            edges[s] = deps
            for d in deps:
                if all(rels[b] for b in names if needed_bins.get(b) == d):
                    soft.add((s, d))
            # Only Python modules (Debian python3-foo, Policy "Module Package Names") must
            # exist for the new runtime to build and test; a tool built for the default
            # runtime (gdb, an application) still runs in the build.
            module_edges[s] = {
                needed_bins[b]
                for b in names
                if b in needed_bins and b.startswith(("python3-", "python3dist("))
            } - {s}
    # Sources that need (transitively) a module that cannot be built are blocked too.
    changed = True
    while changed:
        changed = False
        for s in sorted(todo - cannot):
            bad = sorted(module_edges.get(s, set()) & cannot)
            if bad:
                cannot.add(s)
                p = plans[s]
                p.status = "blocked"
                p.waits_for = bad
                p.reasons.insert(
                    0,
                    "build-depends on Python modules of sources that cannot "
                    f"be built for the new runtime now: {', '.join(bad)}",
                )
                changed = True
    buildable = todo - cannot
    sub = {s: edges.get(s, set()) & buildable for s in buildable}
    comps = _sccs(buildable, sub)
    comp_of = {m: i for i, c in enumerate(comps) for m in c}
    level: dict[int, int] = {}
    # Tarjan emits components in reverse topological order: dependencies first.
    for i, comp in enumerate(comps):
        dep_comps = {comp_of[d] for m in comp for d in sub[m]} - {i}
        level[i] = 1 + max((level[d] for d in dep_comps), default=0)
    groups: list[BootstrapGroup] = []
    waves: dict[int, list[str]] = defaultdict(list)
    for i, comp in enumerate(comps):
        w = level[i]
        gid = None
        if len(comp) > 1:
            gid = len(groups)
            groups.append(_group(comp, sub, soft, w))
        for m in comp:
            p = plans[m]
            p.wave = w
            p.group = gid
            waits = sorted(d for d in sub[m] if comp_of[d] != i)
            p.waits_for = waits
            if w > 1:
                p.status = "blocked"
                p.reasons.insert(
                    0, f"wave {w}: waits for {', '.join(waits) or 'its bootstrap group'}"
                )
            waves[w].append(m)
    return [sorted(waves[w]) for w in sorted(waves)], groups


def progress(plan: dict[str, Any], later: Index, classifier: Classifier) -> dict[str, Any]:
    """Mark each ``rebuild``/``blocked`` source of a plan (its JSON form, :class:`PlanJSON`)
    ``done``, ``remaining`` or ``removed`` against a later snapshot of the same repository.
    ``plan`` stays an open mapping: it may be a saved plan read back from a file, whose
    shape only its ``format`` vouches for.

    A source is done when none of its Python binaries in ``later`` still needs a build (same
    verdict rules as the plan, stack counterparts included), removed when it has none left.
    Returns the plan with ``progress`` filled in and a ``progress`` summary per wave:
    ``{"wave": n, "done": k, "total": t}``.
    """
    transition = plan["transition"]
    new, old = parse_version(plan["new"]), parse_version(plan["old"])
    wanted = {s["name"] for s in plan["sources"] if s["status"] in ("rebuild", "blocked")}
    later_evs: dict[str, list[tuple[BinaryEvidence, str]]] = defaultdict(list)
    for rec in later.binaries:
        if rec.source in wanted:
            ev = classifier.classify(rec)
            if ev.python:
                later_evs[rec.source].append((ev, binary_verdict(ev, transition, new, old)))
    by_name: dict[str, set[str]] = {}
    for src, evs in later_evs.items():
        _counterparts(evs, new)
        by_name[src] = {v for _, v in evs}
    per_wave: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for s in plan["sources"]:
        if s["name"] not in wanted:
            continue
        verdicts = by_name.get(s["name"])
        if verdicts is None:
            s["progress"] = "removed"
        elif verdicts & {"needs-build", "pinned"}:
            s["progress"] = "remaining"
        else:
            s["progress"] = "done"
        key = s["wave"] if s["wave"] is not None else "none"
        per_wave[key][1] += 1
        if s["progress"] != "remaining":
            per_wave[key][0] += 1
    plan["progress"] = [
        {"wave": k, "done": v[0], "total": v[1]}
        for k, v in sorted(
            per_wave.items(),
            key=lambda kv: (isinstance(kv[0], str), kv[0] if isinstance(kv[0], int) else 0),
        )
    ]
    plan["later_inputs"] = later.files
    return plan
