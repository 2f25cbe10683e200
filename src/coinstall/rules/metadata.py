"""Metadata rules: what a package says about its runtimes (Requires-Python, wheel tags, WHEEL)
against the files it ships."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from coinstall.artifacts.base import wheel_tags
from coinstall.files.extension import ext_name
from coinstall.rules import ArtifactContext, Finding, Rule, _abi, rule


def _shipped_versions(ctx: ArtifactContext) -> dict[tuple[int, int], str]:
    """CPython/PyPy language versions the package ships files for, each with one example:
    versioned directories, version-specific extension tags and (wheels) interpreter tags with
    a minor version that are not stable-ABI lower bounds."""
    out: dict[tuple[int, int], str] = {}
    for r in ctx.records:
        if r.kind == "other":
            continue
        if r.scope.kind == "versioned" and r.scope.version:
            out.setdefault(r.scope.version, f"{r.path} (in {r.scope.describe()})")
        if r.kind == "extension":
            n = ext_name(r.import_path)
            if n is not None and n.kind == "soabi" and n.version is not None:
                out.setdefault(n.version, r.path)
    if ctx.info.format == "wheel":
        for interp, abi, _plat in wheel_tags(ctx.info):
            v = _abi.tag_version(interp)
            if v is not None and abi not in ("abi3", "abi3t"):
                out.setdefault(v, f"wheel tag {interp}-{abi}")
    return out


@rule(
    "requires-python-excludes-runtime",
    severity="error",
    summary="Requires-Python excludes a runtime the package ships files for.",
    why="Installers refuse the package on that runtime (pip checks Requires-Python), so the "
    "files built for it are dead weight, and tools that trust the metadata (pip check, "
    "dependency resolvers, distribution dependency generators) disagree with the files.  "
    "Usually the metadata or the build is stale.",
    example="Requires-Python: >=3.12 with _foo.cpython-311-x86_64-linux-gnu.so, or a cp38 "
    "wheel with Requires-Python >=3.9",
    fix="Make Requires-Python admit every version the package is built for, or stop building "
    "for versions it excludes (cibuildwheel CIBW_PROJECT_REQUIRES_PYTHON, the stack).",
    source="PEP 345 / core metadata Requires-Python; PEP 440 specifiers; PEP 425 tags",
    peers=(),
)
def requires_python_excludes_runtime(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    rp = _abi.requires_python(ctx)
    if rp is None:
        return
    spec, text = rp
    for v, where in sorted(_shipped_versions(ctx).items()):
        if _abi.excludes(spec, v):
            yield self.finding(
                None,
                f"Requires-Python {text} excludes {v[0]}.{v[1]}, "
                f"which the package ships files for: {where}",
            )


def _wheel_tag_problems(ctx: ArtifactContext) -> Iterator[tuple[str | None, str]]:
    tags = wheel_tags(ctx.info)
    if not tags:
        return
    abis = {t[1] for t in tags}
    interps = {t[0] for t in tags}
    pure = abis == {"none"} and {t[2] for t in tags} == {"any"}
    tag_text = ctx.info.fields.get("Tag", "")
    inner = ctx.info.fields.get("WHEEL-Tag")
    if inner is not None:
        from packaging.tags import parse_tag  # a wheel only (artifacts.base.wheel_tags)

        inner_set = {str(t) for s in inner.split(",") if s.strip() for t in parse_tag(s.strip())}
        outer_set = {"-".join(t) for t in tags}
        if inner_set != outer_set:
            yield (
                None,
                (f"the file name's tags ({tag_text}) differ from WHEEL's Tag lines ({inner})"),
            )
    purelib = ctx.info.fields.get("Root-Is-Purelib", "").strip().lower() == "true"
    for r in ctx.records:
        if r.kind != "extension":
            continue
        name = posixpath.basename(r.import_path)
        if pure:
            yield r.path, f"{name} is an extension module in a pure wheel ({tag_text})"
            continue
        if purelib and r.path == r.import_path:
            yield (
                r.path,
                (
                    f"{name} is an extension module but WHEEL says "
                    f"Root-Is-Purelib: true (it would install into purelib)"
                ),
            )
        n = ext_name(r.import_path)
        if n is None or n.kind != "soabi":
            continue
        soabi = n.soabi_tag
        if abis <= {"abi3", "abi3t"}:
            yield (
                r.path,
                (f"{name} is version-specific ({soabi}) in a stable-ABI wheel ({tag_text})"),
            )
            continue
        if (
            n.implementation == "cpython"
            and soabi is not None
            and abis - {"none"}
            and soabi not in abis
        ):
            yield (
                r.path,
                (f"{name} is {soabi} but the wheel's ABI tags are {', '.join(sorted(abis))}"),
            )
        elif (
            n.implementation == "cpython"
            and abis == {"none"}
            and n.version is not None
            and f"cp{n.version[0]}{n.version[1]}" not in interps
        ):
            yield (
                r.path,
                (
                    f"{name} is for CPython {n.version[0]}.{n.version[1]} but the "
                    f"wheel's interpreter tags are {', '.join(sorted(interps))}"
                ),
            )
        elif n.implementation == "pypy" and n.version is not None:
            want = f"pp{n.version[0]}{n.version[1]}"
            if not any(i == want for i in interps):
                yield (
                    r.path,
                    (
                        f"{name} is for PyPy {n.version[0]}.{n.version[1]} but the "
                        f"wheel's interpreter tags are {', '.join(sorted(interps))}"
                    ),
                )


@rule(
    "wheel-tag-mismatch",
    severity="error",
    summary="A wheel's tags (file name, WHEEL) disagree with the files inside: cp312 tag with "
    "a cpython-311 module, abi3 tag with a version-specific module, a pure tag or "
    "Root-Is-Purelib: true with extension modules.",
    why="Installers choose wheels by their tags only (PEP 425): a wheel tagged for one runtime "
    "but holding modules for another installs cleanly and fails at import time; a pure "
    "wheel with a compiled module is installed on every platform; Root-Is-Purelib: true "
    "puts platform files into purelib (/usr/lib instead of /usr/lib64 on RPM systems).",
    example="foo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl holding "
    "foo/_speedups.cpython-311-x86_64-linux-gnu.so",
    fix="Build the wheel with the interpreter its tag names (python -m build, cibuildwheel) "
    "and let the backend compute the tags; never rename wheel files by hand.",
    source="PEP 425; PEP 427 (WHEEL Root-Is-Purelib, Tag); PEP 3149; PEP 384",
    peers=(
        "check-wheel-contents:none (W001-W202 check the library layout, not tags)",
        "auditwheel:show (NonPlatformWheel: platform files in a pure wheel)",
    ),
    profiles=("wheel",),
)
def wheel_tag_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    if ctx.info.format != "wheel":
        return
    for path, message in _wheel_tag_problems(ctx):
        yield self.finding(path, message)
