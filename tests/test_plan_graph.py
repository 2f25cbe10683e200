"""Bootstrap groups: the closing edges break every cycle, none of them is superfluous, and
edges a build profile removes are preferred."""

from __future__ import annotations

import itertools

from coinstall.plan import engine


def _acyclic(nodes: list[str], edges: dict[str, set[str]]) -> bool:
    return len(engine._sccs(nodes, edges)) == len(nodes)


def test_closing_edges_minimal_and_prefer_profiles() -> None:
    # a <-> b (b -> a only under <!nocheck>), b -> c -> a, d -> a: one component {a, b, c}.
    sub = {"a": {"b"}, "b": {"a", "c"}, "c": {"a"}, "d": {"a"}}
    soft = {("b", "a")}
    comps = [c for c in engine._sccs(sub, sub) if len(c) > 1]
    assert comps == [["a", "b", "c"]]
    g = engine._group(comps[0], sub, soft, 1)
    cut = set(g.closing_edges)
    rest = {m: {d for d in sub[m] if (m, d) not in cut} for m in g.members}
    assert _acyclic(g.members, rest)
    for e in cut:  # inclusion-minimal
        keep = {m: {d for d in sub[m] if (m, d) not in cut - {e}} for m in g.members}
        assert not _acyclic(g.members, keep)
    assert ("b", "a") in cut and g.profile_edges == [("b", "a")]


def test_every_small_graph() -> None:
    """Exhaustive over all graphs on three nodes: the cut always breaks every cycle."""
    nodes = ["x", "y", "z"]
    pairs = [(a, b) for a, b in itertools.permutations(nodes, 2)]
    for mask in range(1 << len(pairs)):
        sub: dict[str, set[str]] = {n: set() for n in nodes}
        for i, (a, b) in enumerate(pairs):
            if mask >> i & 1:
                sub[a].add(b)
        for comp in engine._sccs(nodes, sub):
            if len(comp) < 2:
                continue
            g = engine._group(comp, sub, {pairs[0]}, 1)
            rest = {
                m: {d for d in sub[m] & set(comp) if (m, d) not in set(g.closing_edges)}
                for m in comp
            }
            assert _acyclic(comp, rest), (mask, g)
