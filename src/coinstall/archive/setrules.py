"""Set-scope rules (``scope="set"``) over an archive, from compact per-artifact indexes.

A set-scope rule (``file-conflict``, ``name-missing-implementation-prefix``,
``requires-unversioned-python``, ``entry-point-missing-versioned``) looks at the artifacts
checked together, so its findings are known only once every artifact is read.  A worker
therefore returns, besides the artifact's result, its :class:`~coinstall.rules.ArtifactContext`
stripped of what no set-scope rule reads (:func:`index_of`): the verdicts, the bytes read for
hash-based pycs, the extension modules' symbol sets, the runtimes and the catalogue.  The
parent keeps these compressed, and once every artifact is in, rebuilds the contexts
(:func:`context_of`) and runs the set-scope rules through :func:`coinstall.rules.run_set_rules`,
exactly as :func:`coinstall.check.check` does; the test suite checks that both give the same
bytes.

``file-conflict`` compares every pair of artifacts; over 4,000 packages that is 8 million pairs.
Artifacts that share no install path cannot conflict, so it runs once per connected component
of artifacts linked by a shared install path (union-find), the other rules once over all:
the same findings, in the same order per artifact (rules in registry order, pairs in target
order).

The index is a zlib-compressed pickle: it is made and read by the same code (the result cache
keys it by coinstall's code digest, :func:`coinstall.archive.cache.code_digest`) and never
comes from elsewhere.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from coinstall.check import ArtifactResult
from coinstall.config import Config
from coinstall.files.verdict import Judgement
from coinstall.rules import REGISTRY, ArtifactContext, load_all, run_set_rules
from coinstall.rules.coinstallability import _install_path
from coinstall.rules.profiles import PROFILES
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime

#: Set-scope rules that compare artifacts pairwise and only where they share an install path.
PAIRWISE = frozenset({"file-conflict"})


def active(config: Config | None) -> list[str]:
    """The set-scope rules a run with ``config`` runs, in registry order."""
    load_all()
    return [r.name for r in REGISTRY.values()
            if r.scope == "set" and (config is None or config.enabled(r.name))]


def index_of(result: ArtifactResult) -> bytes:
    """The compact index of one checked artifact (see the module docstring)."""
    ctx = result.context
    assert ctx is not None
    records = [replace(r, elf=replace(r.elf, python_imports=frozenset(),
                                      init_exports=frozenset()))
               if r.elf is not None else r for r in ctx.records]
    data = (ctx.info, records, ctx.vendor, ctx.triplet, ctx.profile.name, ctx.stack, ctx.links,
            sorted(ctx.owners))
    return zlib.compress(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), 1)


def context_of(index: bytes, runtimes: dict[str, Runtime],
               catalogue: Catalogue) -> ArtifactContext:
    """The context :func:`index_of` kept, with the run's runtimes and catalogue."""
    info, records, vendor, triplet, profile, stack, links, owners = pickle.loads(
        zlib.decompress(index))
    return ArtifactContext(info=info, records=records, judgement=Judgement(), runtimes=runtimes,
                           catalogue=catalogue, vendor=vendor, triplet=triplet,
                           owners={o: runtimes[o] for o in owners if o in runtimes},
                           profile=PROFILES[profile], stack=stack, links=links)


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
            first = owner.setdefault(_install_path(ctx, r), n)
            if first != n:
                a, b = find(first), find(n)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    del owner
    groups: dict[int, list[int]] = {}
    for n in range(len(ctxs)):
        groups.setdefault(find(n), []).append(n)
    return [g for g in groups.values() if len(g) > 1]


def set_findings(indexes: Sequence[bytes], runtimes: Sequence[Runtime], catalogue: Catalogue,
                 config: Config | None) -> dict[int, list[dict[str, Any]]]:
    """Findings of the set-scope rules: position in ``indexes`` -> that artifact's extra
    findings (JSON objects, in the order :func:`coinstall.check.check` appends them)."""
    rts = {r.id: r for r in runtimes}
    ctxs = [context_of(ix, rts, catalogue) for ix in indexes]
    where = {id(c): n for n, c in enumerate(ctxs)}
    out: dict[int, list[dict[str, Any]]] = {}
    base = config or Config()
    for name in active(config):
        only = replace(base, select=frozenset({name}))
        groups = _components(ctxs) if name in PAIRWISE else [list(range(len(ctxs)))]
        for group in groups:
            for ctx, finding in run_set_rules([ctxs[n] for n in group], only):
                out.setdefault(where[id(ctx)], []).append(finding.to_json())
    return out
