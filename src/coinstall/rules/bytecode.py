"""Bytecode and layout rules."""

from __future__ import annotations

from collections.abc import Iterator

from coinstall.rules import ArtifactContext, Finding, Rule, rule


def _expected_magic(ctx: ArtifactContext, impl: str, version: tuple[int, int]) -> set[int]:
    """Every release magic the catalogue gives the runtimes of one versioned directory."""
    return {
        m for rt in ctx.catalogue.known(vendors=("upstream",))
        if rt.implementation == impl and rt.version == version
        for m in rt.accepted_magic
    }


@rule(
    "bytecode-magic-mismatch",
    severity="error",
    summary="A .pyc below a runtime's directory holds another runtime's magic number.",
    why="The runtime that owns the directory rejects the file (bad magic number) and "
        "recompiles the source on every import, or fails outright where there is no source; "
        "the package was byte-compiled with the wrong interpreter.",
    example="/usr/lib/python3.11/site-packages/foo/__pycache__/bar.cpython-311.pyc starting "
            "with cb 0d 0d 0a (3531, CPython 3.12)",
    fix="Byte-compile with the interpreter of the directory (%py_byte_compile with "
        "%{python3}, py_compile run by python3.11), or let the build root policy do it.",
    source="CPython importlib _classify_pyc (magic must match exactly); rpmlint FilesCheck "
           "python-bytecode-wrong-magic-value",
    peers=("rpmlint:python-bytecode-wrong-magic-value",),
)
def bytecode_magic_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    cache: dict[tuple[str, tuple[int, int]], set[int]] = {}
    for r in ctx.records:
        if r.kind != "bytecode" or r.scope.kind != "versioned":
            continue
        h = r.pyc_header
        if h is None or h.magic is None or r.scope.version is None:
            continue
        key = (r.scope.implementation or "cpython", r.scope.version)
        if key not in cache:
            cache[key] = _expected_magic(ctx, *key)
        expected = cache[key]
        if not expected or h.magic in expected:
            continue
        origin = ctx.catalogue.magic_origin(h.magic)
        found = origin.label if origin else "unknown"
        want = " or ".join(str(m) for m in sorted(expected))
        impl = "python" if key[0] == "cpython" else "pypy"
        yield self.finding(
            r.path, f"magic {h.magic} ({found}) in {r.scope.describe()}: "
                    f"{impl}{key[1][0]}.{key[1][1]} expects {want}")
