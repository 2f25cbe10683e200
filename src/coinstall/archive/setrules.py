"""Set-scope rules (``scope="set"``) over an archive, from compact per-artifact indexes.

A set-scope rule (``scope="set"``: :func:`coinstall.rules.set_rules`) looks at the artifacts
checked together, so its findings are known only once every artifact is read.  A worker
therefore returns, besides the artifact's result, its :class:`~coinstall.rules.ArtifactContext`
stripped of what no set-scope rule reads (:func:`index_of`): the verdicts, the bytes read for
hash-based pycs, the runtimes and the catalogue, and of each file every field but those the
set-scope rules declare (:func:`coinstall.rules.kept_record_fields`).  The parent keeps these
compressed, and once every artifact is in, rebuilds the contexts
(:func:`context_of`) and runs the set-scope rules through :func:`coinstall.rules.run_set_rules`,
exactly as :func:`coinstall.check.check` does; the test suite checks that both give the same
bytes.

A pairwise rule (:attr:`coinstall.rules.Rule.pairwise`, such as the one for file conflicts)
compares every pair of artifacts; over 4,000 packages that is 8 million pairs.  Artifacts that
share no install path are never compared, so it runs once per connected component of artifacts
linked by a shared install path (union-find), the other rules once over all:
the same findings, in the same order per artifact (rules in registry order, pairs in target
order).

The index is a zlib-compressed pickle: it is made and read by the same code (the result cache
keys it by coinstall's code digest, :func:`coinstall.archive.cache.code_digest`) and never
comes from elsewhere.
"""

from __future__ import annotations

import gc
import pickle
import zlib
from collections.abc import Sequence
from dataclasses import fields, replace
from operator import attrgetter

from coinstall.check import ArtifactResult
from coinstall.config import Config
from coinstall.files.extension import ElfInfo
from coinstall.files.verdict import FileRecord, Judgement, install_path
from coinstall.relations import relations, remember, stack_of
from coinstall.rules import (
    ArtifactContext,
    FindingJSON,
    kept_record_fields,
    run_set_rules,
    set_rules,
)
from coinstall.rules.profiles import PROFILES
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime


def active(config: Config | None) -> list[str]:
    """The set-scope rules a run with ``config`` runs, in registry order."""
    return [r.name for r in set_rules(config)]


def index_of(result: ArtifactResult) -> bytes:
    """The compact index of one checked artifact (see the module docstring).

    Each file is a tuple of the fields :func:`~coinstall.rules.kept_record_fields` names
    (``import_path`` None when it is the path; the ELF identification without its symbol sets).
    Files of a directory share one :class:`~coinstall.files.location.Scope` object
    (:func:`~coinstall.files.location.scope_of`), which pickle writes once: faster to make and
    to read back than pickled ``FileRecord`` objects, half their bytes, and zlib-compressed,
    which costs little CPU and saves the memory the parent holds per package (measured:
    benchmarks/MEASUREMENTS.md, 'set-rule indexes').
    """
    ctx = result.context
    assert ctx is not None
    names = kept_record_fields()
    # one attrgetter call per record (names holds the four identity fields at least), then
    # the two fields kept in a compact form (a function call per field was slower, same bytes)
    get = attrgetter(*names)
    at_import = names.index("import_path")
    at_elf = names.index("elf") if "elf" in names else -1
    records = []
    for r in ctx.records:
        row = list(get(r))
        if row[at_import] == r.path:
            row[at_import] = None
        if at_elf >= 0 and row[at_elf] is not None:
            row[at_elf] = _no_symbols(row[at_elf])
        records.append(tuple(row))
    # the parsed relations and package stack go along (memoised here by the rules that ran):
    # parsing them again for every package was a third of set_findings' time over bookworm
    data = (
        ctx.info,
        records,
        ctx.vendor,
        ctx.triplet,
        ctx.profile.name,
        ctx.stack,
        ctx.links,
        sorted(ctx.owners),
        relations(ctx.info),
        stack_of(ctx),
    )
    return zlib.compress(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _no_symbols(elf: ElfInfo) -> ElfInfo:
    if not elf.python_imports and not elf.init_exports:
        return elf
    return replace(elf, python_imports=frozenset(), init_exports=frozenset())


def _leading_fields(names: Sequence[str]) -> int:
    """How many of ``names`` are :class:`FileRecord`'s first fields, in its order."""
    own = [f.name for f in fields(FileRecord)]
    n = 0
    while n < min(len(names), len(own)) and names[n] == own[n]:
        n += 1
    return n


def context_of(index: bytes, runtimes: dict[str, Runtime], catalogue: Catalogue) -> ArtifactContext:
    """The context :func:`index_of` kept, with the run's runtimes and catalogue."""
    info, rows, vendor, triplet, profile, stack, links, owners, rel, pkg_stack = pickle.loads(
        zlib.decompress(index)
    )
    names = kept_record_fields()
    # the kept fields that lead FileRecord's own (the identity fields) are passed by position,
    # the others by name: a dict of every field per record was a third of this function's
    # time
    lead = _leading_fields(names)
    rest = names[lead:]
    records = []
    for row in rows:
        rec = FileRecord(*row[:lead], **dict(zip(rest, row[lead:], strict=True)))
        if rec.import_path is None:
            rec.import_path = rec.path
        records.append(rec)
    ctx = ArtifactContext(
        info=info,
        records=records,
        judgement=Judgement(),
        runtimes=runtimes,
        catalogue=catalogue,
        vendor=vendor,
        triplet=triplet,
        owners={o: runtimes[o] for o in owners if o in runtimes},
        profile=PROFILES[profile],
        stack=stack,
        links=links,
    )
    remember(ctx, rel, pkg_stack)
    return ctx


def _components(ctxs: Sequence[ArtifactContext]) -> list[list[int]]:
    """Groups (of two or more, in target order) of artifacts linked by shared install paths."""
    parent = list(range(len(ctxs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, int] = {}
    for n, ctx in enumerate(ctxs):
        for r in ctx.records:
            first = owner.setdefault(install_path(ctx.info.format, r), n)
            if first != n:
                a, b = find(first), find(n)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    del owner
    groups: dict[int, list[int]] = {}
    for n in range(len(ctxs)):
        groups.setdefault(find(n), []).append(n)
    return [g for g in groups.values() if len(g) > 1]


def set_findings(
    indexes: Sequence[bytes],
    runtimes: Sequence[Runtime],
    catalogue: Catalogue,
    config: Config | None,
) -> dict[int, list[FindingJSON]]:
    """Findings of the set-scope rules: position in ``indexes`` -> that artifact's extra
    findings (JSON objects, in the order :func:`coinstall.check.check` appends them)."""
    rts = {r.id: r for r in runtimes}
    # Tens of thousands of records and no reference cycle among them: the cyclic collector,
    # triggered by the allocations, would walk the growing heap again and again (more than
    # twice the time to rebuild the contexts; benchmarks/MEASUREMENTS.md, 'set-rule indexes').
    collecting = gc.isenabled()
    gc.disable()
    try:
        ctxs = [context_of(ix, rts, catalogue) for ix in indexes]
    finally:
        if collecting:
            gc.enable()
    where = {id(c): n for n, c in enumerate(ctxs)}
    out: dict[int, list[FindingJSON]] = {}
    base = config or Config()
    for r in set_rules(config):
        only = replace(base, select=frozenset({r.name}))
        groups = _components(ctxs) if r.pairwise else [list(range(len(ctxs)))]
        for group in groups:
            for ctx, finding in run_set_rules([ctxs[n] for n in group], only):
                # plain JSON objects (a new dict each) from here on: they round-trip
                # through the cache
                out.setdefault(where[id(ctx)], []).append(finding.to_json())
    return out
