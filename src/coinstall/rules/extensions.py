"""Extension-module rules."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from coinstall.files import extension as ext
from coinstall.rules import ArtifactContext, Finding, Rule, rule
from coinstall.runtimes.model import Runtime


def _owner(ctx: ArtifactContext, impl: str, version: tuple[int, int], ft: bool) -> Runtime | None:
    """The runtime that owns a versioned directory: an installed one if the artifact is its
    tree, else the catalogue's release (or free-threaded) build for the artifact's vendor."""
    for rt in ctx.owners.values():
        if rt.implementation == impl and rt.version == version and rt.free_threaded == ft:
            return rt
    for rt in ctx.catalogue.known(triplet=ctx.triplet, vendors=("upstream", ctx.vendor)):
        if (rt.implementation == impl and rt.version == version and rt.free_threaded == ft
                and not rt.debug and rt.vendor == ctx.vendor):
            return rt
    for rt in ctx.catalogue.known(triplet=ctx.triplet, vendors=("upstream",)):
        if rt.implementation == impl and rt.version == version and rt.free_threaded == ft \
                and not rt.debug:
            return rt
    return None


@rule(
    "extension-tag-mismatch",
    severity="error",
    summary="An extension module inside a runtime's own directory that this runtime will not "
            "import.",
    why="The import system only loads files whose name ends in one of the runtime's "
        "EXTENSION_SUFFIXES; a module tagged for another version, build or architecture is "
        "invisible to it and the import fails (or falls back to a slower pure-Python module).",
    example="/usr/lib64/python3.12/site-packages/foo/_speedups.cpython-311-x86_64-linux-gnu.so",
    fix="Build the extension with the interpreter that owns the directory (the "
        "%{python3} of the stack, or pybuild for each supported version).",
    source="PEP 3149; CPython importlib FileFinder and Python/dynload_shlib.c",
)
def extension_tag_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    for r in ctx.records:
        if r.kind != "extension" or r.scope.kind != "versioned" or r.scope.version is None:
            continue
        owner = _owner(ctx, r.scope.implementation or "cpython", r.scope.version,
                       r.scope.free_threaded)
        if owner is None:
            continue
        name = posixpath.basename(r.import_path)
        if ext.module_name(name, owner) is None:
            yield self.finding(
                r.path, f"{owner.id} will not import {name}: its suffixes are "
                        f"{', '.join(owner.extension_suffixes)}")
            continue
        reason = r.elf_problem or ext.elf_mismatch(r.elf, owner)
        if reason:
            yield self.finding(r.path, f"{owner.id} will not load {name}: {reason}")
