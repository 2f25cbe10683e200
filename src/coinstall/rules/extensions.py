"""Extension-module rules."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import replace

from coinstall.artifacts.base import wheel_tags
from coinstall.files import extension as ext
from coinstall.files.extension import ext_name
from coinstall.files.location import in_scope
from coinstall.files.objfile import ObjectInfo
from coinstall.files.verdict import FileRecord
from coinstall.relations import multi_arch_same
from coinstall.rules import ArtifactContext, Finding, Rule, _abi, rule
from coinstall.runtimes.model import Runtime
from coinstall.runtimes.platforms import Platform, platforms_of_tags
from coinstall.stable_abi import symbol_added


def _owner(ctx: ArtifactContext, impl: str, version: tuple[int, int], ft: bool) -> Runtime | None:
    """The runtime that owns a versioned directory: an installed one if the artifact is its
    tree, else the catalogue's release (or free-threaded) build for the artifact's vendor."""
    for rt in ctx.owners.values():
        if rt.implementation == impl and rt.version == version and rt.free_threaded == ft:
            return rt
    for rt in ctx.catalogue.known(triplet=ctx.triplet, vendors=("upstream", ctx.vendor)):
        if (
            rt.implementation == impl
            and rt.version == version
            and rt.free_threaded == ft
            and not rt.debug
            and rt.vendor == ctx.vendor
        ):
            return rt
    for rt in ctx.catalogue.known(triplet=ctx.triplet, vendors=("upstream",)):
        if (
            rt.implementation == impl
            and rt.version == version
            and rt.free_threaded == ft
            and not rt.debug
        ):
            return rt
    return None


def _debug_builds(
    ctx: ArtifactContext, impl: str, version: tuple[int, int], ft: bool
) -> list[Runtime]:
    """The debug builds that share a versioned directory with its release build: Debian's
    python3.X-dbg and Fedora's python3-debug install their ``cpython-3Xd`` modules into the same
    ``lib-dynload`` and site directories (an installed tree's own debug interpreter first)."""
    found = [
        rt
        for rt in ctx.owners.values()
        if rt.implementation == impl
        and rt.version == version
        and rt.free_threaded == ft
        and rt.debug
    ]
    found += [
        rt
        for rt in ctx.catalogue.known(triplet=ctx.triplet, vendors=("upstream", ctx.vendor))
        if rt.implementation == impl
        and rt.version == version
        and rt.free_threaded == ft
        and rt.debug
    ]
    return found


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
        owner = _owner(
            ctx, r.scope.implementation or "cpython", r.scope.version, r.scope.free_threaded
        )
        if owner is None:
            continue
        name = posixpath.basename(r.import_path)
        if ext.module_name(name, owner) is None:
            impl, ver, ft = (
                r.scope.implementation or "cpython",
                r.scope.version,
                r.scope.free_threaded,
            )
            if any(ext.module_name(name, d) is not None for d in _debug_builds(ctx, impl, ver, ft)):
                continue  # the debug build's module, in the directory it shares
            yield self.finding(
                r.path,
                f"{owner.id} will not import {name}: its suffixes are "
                f"{', '.join(owner.extension_suffixes)}",
            )
            continue
        # A readable ELF object of the wrong machine is extension-arch-mismatch's finding; this
        # rule keeps the file-name verdict and objects the loader cannot read at all.
        reason = r.elf_problem or (
            "not an ELF object" if r.elf is None and owner.platform == "linux" else None
        )
        if reason:
            yield self.finding(r.path, f"{owner.id} will not load {name}: {reason}")


def _in_shared_tree(ctx: ArtifactContext, r: FileRecord) -> str | None:
    """Why several runtimes share the directory of an extension module, or None.

    Debian's ``/usr/lib/python3/dist-packages`` is on every CPython 3's path (Debian Python
    Policy, "Module Path"); a wheel whose tags admit several runtimes (``abi3``, ``none``, more
    than one interpreter tag: PEP 425) may be installed for any of them.
    """
    if r.scope.kind == "shared" and r.scope.version and r.scope.version[0] == 3:
        return f"{r.scope.describe()} is shared by every {r.scope.implementation} 3 runtime"
    for d in ctx.profile.shared_dirs:
        if r.import_path.startswith(d.rstrip("/") + "/"):
            return f"/{d}/ is shared by every runtime of the distribution"
    if ctx.info.format == "wheel":
        tags = wheel_tags(ctx.info)
        interps = {t[0] for t in tags}
        abis = {t[1] for t in tags}
        if abis & {"abi3", "abi3t", "none"} or len(interps) > 1:
            text = ctx.info.fields.get("Tag", "")
            return f"the wheel's tags ({text}) admit several runtimes"
    return None


@rule(
    "extension-untagged",
    headline="ship extension modules without an ABI tag",
    headline_rank=60,
    severity="warning",
    summary="An extension module named without an ABI tag (foo.so) in a tree several runtimes "
    "share.",
    why="Every runtime of the platform tries NAME.so after its own tags (PEP 3149: the bare "
    "suffix stays in EXTENSION_SUFFIXES), so all of them load a module that was built for "
    "one: the others crash or fail with undefined symbols.  It also blocks shipping a "
    "second build beside it.",
    example="/usr/lib/python3/dist-packages/foo/_speedups.so",
    fix="Let the build name the module with the interpreter's EXT_SUFFIX "
    "(sysconfig.get_config_var('EXT_SUFFIX'); dh_python3 renames bare .so files to "
    "foo.cpython-3XY-<triplet>.so), or build it for the stable ABI as foo.abi3.so.",
    source="PEP 3149; Debian Python Policy (extension module names); dh-python fs.py "
    "Scan.rename_ext / interpreter.py check_extname",
    peers=(),
    fixer="extensions:fix",
)
def extension_untagged(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    for r in ctx.records:
        if r.kind != "extension":
            continue
        n = ext_name(r.import_path)
        if n is None or n.kind != "untagged" or r.elf_problem:
            continue
        if r.binary is not None and r.binary.format == "pe" and r.binary.python_dll:
            # Windows has no abi3 file-name tag (a stable-ABI .pyd links python3.dll), and
            # dynload_win.c refuses a module linked to another version's pythonXY.dll
            continue
        why = _in_shared_tree(ctx, r)
        if (
            not why
            and ctx.info.format == "wheel"
            and any((_abi.tag_version(i) or (3, 0))[0] >= 3 for i, _a, _p in wheel_tags(ctx.info))
        ):
            # (Python 2 has no ABI tags in module names: a cp27 wheel's NAME.so is its norm)
            why = (
                "a wheel's modules go to whichever site directory it is installed into, "
                "where every CPython 3 tries NAME.so"
            )
        if not why and ctx.info.format == "tree":
            # the runtimes whose path has the file and whose suffixes take the name
            finders = [
                i
                for i, rt in ctx.runtimes.items()
                if rt.implementation == "cpython"
                and ext.module_name(posixpath.basename(r.import_path), rt) is not None
                and in_scope(r.scope, rt, r.abs_path) is None
            ]
            if len(finders) > 1:
                why = f"{len(finders)} runtimes here find it ({_some(sorted(finders), 3)})"
        if why:
            name = posixpath.basename(r.import_path)
            evidence = ""
            if r.elf is not None and r.elf.symbols_read:
                evidence = f"; its symbols say: {ext.built_for(r.elf.python_imports)}"
            yield self.finding(r.path, f"{name} has no ABI tag and {why}{evidence}")


@rule(
    "stable-abi-missing-multiarch",
    headline="ship stable-ABI modules without the multiarch triplet",
    headline_rank=70,
    severity="warning",
    summary="A stable-ABI module (.abi3.so, .abi3t.so) without the multiarch triplet in its "
    "name, in a Multi-Arch: same package or a directory every architecture shares.",
    why="foo.abi3.so has the same path on amd64 and i386 but different bytes, so two "
    "architectures of the package cannot be installed together (dpkg refuses differing "
    "shared files of Multi-Arch: same packages).  CPython accepts "
    ".abi3-<triplet>.so from 3.15 (gh-122931) and Debian's python3.13+ carries that patch; "
    "dh_python3 leaves stable-ABI names alone.",
    example="/usr/lib/python3/dist-packages/cryptography/hazmat/bindings/_rust.abi3.so",
    fix="Where every supported runtime accepts it (Debian python3.13+, CPython 3.15+), rename "
    "to foo.abi3-<DEB_HOST_MULTIARCH>.so; until then do not declare the package "
    "Multi-Arch: same.",
    source="cpython gh-122931 / gh-122917 / gh-152461; PEP 3149; PEP 803; Debian Multi-Arch "
    "spec (wiki.debian.org/Multiarch/Implementation: shared files must be identical)",
    peers=(),
    profiles=("debian",),
    fixer="extensions:fix",
)
def stable_abi_missing_multiarch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    ma_same = multi_arch_same(ctx.info)
    for r in ctx.records:
        if r.kind != "extension":
            continue
        n = ext_name(r.import_path)
        if n is None or n.kind not in ("abi3", "abi3t") or n.triplet:
            continue
        name = posixpath.basename(r.import_path)
        want = name.replace(f".{n.kind}.", f".{n.kind}-{ctx.triplet}.")
        if ma_same:
            yield self.finding(
                r.path,
                f"{name} in a Multi-Arch: same package has no multiarch triplet (expected {want})",
            )
        elif r.scope.kind == "shared":
            yield self.finding(
                r.path,
                f"{name} in {r.scope.describe()} (shared by every "
                f"architecture) has no multiarch triplet "
                f"(expected {want}): the package cannot become "
                f"Multi-Arch: same",
            )


def _stable_modules(ctx: ArtifactContext) -> Iterator[tuple[FileRecord, ext.LinkInfo]]:
    """Stable-ABI modules whose symbols were read: ELF and Mach-O named ``.abi3.so`` /
    ``.abi3t.so``; PE ``.pyd`` files linked to ``python3.dll`` (Windows has no abi3 file-name
    tag, PEP 384)."""
    for r in ctx.records:
        if r.kind != "extension":
            continue
        obj: ext.LinkInfo | None = r.elf if r.elf is not None else r.binary
        if obj is None or not obj.symbols_read:
            continue
        if r.binary is not None and r.binary.format == "pe":
            if r.binary.stable_abi:
                yield r, obj
            continue
        n = ext_name(r.import_path)
        if n is not None and n.kind in ("abi3", "abi3t"):
            yield r, obj


def _abi3_wheel(ctx: ArtifactContext) -> bool:
    return ctx.info.format == "wheel" and any(
        abi in ("abi3", "abi3t") for _i, abi, _p in wheel_tags(ctx.info)
    )


def _some(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


@rule(
    "stable-abi-symbol-violation",
    headline="ship stable-ABI modules that use symbols outside it",
    headline_rank=80,
    severity="error",
    summary="A module named for the stable ABI (.abi3.so; on Windows a .pyd linked to "
    "python3.dll, or any .pyd of an abi3 wheel) that imports interpreter symbols outside "
    "it.",
    why="A stable-ABI name promises that every later CPython loads the module; a symbol "
    "outside the stable ABI (a private _Py* function, a non-limited API) may change or "
    "vanish in the next release, and the module then fails with an undefined symbol or "
    "corrupts memory.",
    example="_foo.abi3.so importing _PyObject_GetDictPtr or PyUnicode_AsUTF8 (before 3.13)",
    fix="Build with Py_LIMITED_API defined to the lowest supported version (setuptools "
    "py_limited_api=True, PyO3 abi3-py3X), replace the non-limited calls, or ship "
    "version-specific modules instead.",
    source="PEP 384; PEP 652; CPython Misc/stable_abi.toml (via abi3info); CPython "
    "Python/dynload_win.c (the pythonXY.dll check)",
    peers=("abi3audit:non-abi3-symbols",),
)
def stable_abi_symbol_violation(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    for r, obj in _stable_modules(ctx):
        bad = sorted(s for s in obj.python_imports if symbol_added(s) is None)
        if bad:
            name = posixpath.basename(r.import_path)
            yield self.finding(
                r.path, f"{name} imports {len(bad)} symbol(s) outside the stable ABI: {_some(bad)}"
            )
    if _abi3_wheel(ctx):
        # Windows: a module of an abi3 wheel must link python3.dll; one linked to pythonXY.dll
        # loads on X.Y only (CPython Python/dynload_win.c checks the version DLL).
        for r in ctx.records:
            b = r.binary
            if (
                r.kind == "extension"
                and b is not None
                and b.format == "pe"
                and b.python_dll is not None
                and not b.stable_abi
            ):
                name = posixpath.basename(r.import_path)
                yield self.finding(
                    r.path,
                    f"{name} links {b.python_dll}, not python3.dll, in "
                    f"a wheel tagged {ctx.info.fields.get('Tag', '')}: "
                    "it loads on one CPython version only",
                )


def _lowest_installed(ctx: ArtifactContext, low: tuple[int, int]) -> Runtime | None:
    """An installed release CPython of version ``low`` that reported its missing stable-ABI
    symbols (runtimes/probe_script.py), if any."""
    for rt in sorted(ctx.runtimes.values(), key=lambda r: r.id):
        if (
            rt.installed
            and rt.implementation == "cpython"
            and rt.version == low
            and not rt.debug
            and not rt.free_threaded
            and rt.stable_abi_missing is not None
        ):
            return rt
    return None


@rule(
    "stable-abi-baseline-too-new",
    severity="error",
    summary="A stable-ABI module that uses symbols added to the stable ABI after the lowest "
    "runtime the package supports (wheel tag cpXY-abi3, Depends, python(abi), stack).",
    why="The stable ABI is forward compatible only: a function added to it in 3.10 is "
    "guaranteed from 3.10 on.  Older runtimes either lack it (the import fails with an "
    "undefined symbol) or export it outside their stable ABI (it loads, but nothing "
    "promised it).  Where an installed interpreter of the lowest version tells which, the "
    "finding says so and is an error only if the symbol is really missing there.",
    example="procmaps-0.5.0-cp36-abi3: procmaps.abi3.so imports PyUnicode_AsUTF8AndSize "
    "(stable ABI since 3.10; CPython 3.6-3.9 export it anyway)",
    fix="Define Py_LIMITED_API to the lowest supported version so the compiler rejects newer "
    "calls, or raise the wheel tag (cp310-abi3) / the package's lowest supported version.",
    source="PEP 384; PEP 425 (cpXY-abi3 = CPython X.Y and later); CPython "
    "Misc/stable_abi.toml 'added' (via abi3info); the interpreter's own exports",
    peers=("abi3audit:abi3-version-mismatch",),
)
def stable_abi_baseline_too_new(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    mods = list(_stable_modules(ctx))
    if not mods:
        return
    sup = _abi.support(ctx)
    if sup.lowest is None:
        return
    low = sup.lowest
    real = _lowest_installed(ctx, low)
    for r, obj in mods:
        newer = sorted(
            (v, s) for s in obj.python_imports if (v := symbol_added(s)) is not None and v > low
        )
        if not newer:
            continue
        name = posixpath.basename(r.import_path)
        top = newer[-1][0]
        syms = [f"{s} ({v[0]}.{v[1]})" for v, s in reversed(newer)]
        message = (
            f"{name} uses the {top[0]}.{top[1]} stable ABI but the package supports "
            f"{low[0]}.{low[1]} ({sup.describe()}): {_some(syms)}"
        )
        if real is None:
            yield self.finding(r.path, message)
            continue
        assert real.stable_abi_missing is not None
        lacking = sorted(s for _v, s in newer if s in real.stable_abi_missing)
        if lacking:
            yield self.finding(
                r.path,
                f"{message}; {real.id} ({real.executable}) does not "
                f"export {_some(lacking)}: the import fails there",
            )
        else:
            yield replace(
                self.finding(
                    r.path,
                    f"{message}; {real.id} ({real.executable}) exports them anyway, "
                    f"outside its stable ABI",
                ),
                severity="warning",
            )


@rule(
    "extension-arch-mismatch",
    severity="error",
    summary="An extension module whose ELF machine, class or byte order (Mach-O slices, PE "
    "machine) is not the architecture the package (or the module's file name) "
    "declares.",
    why="The dynamic loader refuses an object built for another machine (wrong ELF class, "
    "e_machine or endianness): the import fails on every runtime of the declared "
    "architecture.",
    example="bcrypt-4.2.1-cp39-abi3-manylinux_2_28_x86_64.whl holding an EM_AARCH64 "
    "_bcrypt.abi3.so",
    fix="Build the package on (or cross-compile for) the architecture it declares, and tag it "
    "from the build (auditwheel repair, dpkg-buildpackage, rpmbuild --target).",
    source="ELF gABI (e_ident EI_CLASS/EI_DATA, e_machine); Mach-O <mach/machine.h> cputype; "
    "PE/COFF Machine; CPython Misc/platform_triplet.c; PEP 600 (manylinux platform "
    "tags); the platform compatibility tags specification (macosx_*_universal2); "
    "auditwheel architecture table",
    peers=("auditwheel:show (platform tag vs ELF architecture)",),
)
def extension_arch_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    declared = _abi.declared_triplet(ctx)
    independent = _abi.arch_independent(ctx) and ctx.info.format in ("deb", "rpm")
    foreign = (
        platforms_of_tags((ctx.info.arch or "").split(".")) if ctx.info.format == "wheel" else []
    )
    non_linux = bool(foreign) and all(p.system != "linux" for p in foreign)
    for r in ctx.records:
        if r.kind == "extension" and r.binary is not None and foreign:
            yield from _object_arch_mismatch(self, ctx, r, r.binary, foreign)
        if r.kind != "extension" or r.elf is None:
            continue
        if non_linux:  # an ELF object in a wheel for macOS or Windows only
            yield self.finding(
                r.path,
                f"{posixpath.basename(r.import_path)} is "
                f"{r.elf.describe()} but the wheel's platform tag says "
                f"{foreign[0].label} ({ctx.info.arch})",
            )
            continue
        name = posixpath.basename(r.import_path)
        if independent:
            yield self.finding(
                r.path,
                f"{name} is {r.elf.describe()} in an "
                f"architecture-independent package "
                f"({ctx.info.arch})",
            )
            continue
        n = ext_name(r.import_path)
        checks = [(declared, f"the package's architecture {ctx.info.arch}")]
        if n is not None and n.triplet in ext.TRIPLET_ELF:
            checks.append((n.triplet, "its file name"))
        for triplet, origin in checks:
            want = ext.TRIPLET_ELF.get(triplet or "")
            if want is None:
                continue
            if (r.elf.elfclass, r.elf.little_endian, r.elf.machine) != want:
                cls, little, machine = want
                yield self.finding(
                    r.path,
                    f"{name} is {r.elf.describe()} but {origin} says {triplet} "
                    f"(ELF {cls}-bit {'LSB' if little else 'MSB'} {machine})",
                )
                break


def _object_arch_mismatch(
    self: Rule, ctx: ArtifactContext, r: FileRecord, obj: ObjectInfo, platforms: list[Platform]
) -> Iterator[Finding]:
    """A Mach-O or PE module against the macOS/Windows platforms of the wheel's tags: every
    tagged architecture must be a slice of the Mach-O file (universal2 = x86_64 + arm64), the
    PE machine must be the one Windows platform tagged."""
    name = posixpath.basename(r.import_path)
    for p in platforms:
        if p.system not in ("darwin", "win32"):
            continue
        want = "macho" if p.system == "darwin" else "pe"
        if obj.format != want or p.arch not in obj.machines:
            yield self.finding(
                r.path,
                f"{name} is {obj.describe()} but the wheel's platform tag "
                f"says {p.label} ({ctx.info.arch})",
            )
            return


def _module_key(r: FileRecord) -> tuple[str, str] | None:
    n = ext_name(r.import_path)
    if n is None:
        return None
    rel = r.import_path[len(r.scope.root) :] if r.scope.root else r.import_path
    return posixpath.dirname(rel), n.stem


@rule(
    "extension-missing-for-runtime",
    severity="error",
    summary="A package that supports several CPython versions ships an extension module built "
    "for only some of them.",
    why="On the versions without their build the import falls through to nothing (or to a "
    "slower pure-Python fallback): the package installs but is broken or degraded there.  "
    "Policy puts every supported version's build in the one package (Debian: pybuild "
    "builds each version in debian/python3-foo; Fedora: one %{python3} stack per package).",
    example="python3-foo Depends python3 (>= 3.11~), python3 (<< 3.13) but ships only "
    "_foo.cpython-311-x86_64-linux-gnu.so",
    fix="Build the extension with every supported interpreter (pybuild --all / "
    "`py3versions -s`, %{python3_other_pkgversion} subpackages), or narrow the package's "
    "supported range.",
    source="Debian Python Policy §3.1.1 (supported versions) and dh-python pybuild; Fedora and "
    "EPEL Python packaging guidelines (one package per stack)",
    peers=(),
)
def extension_missing_for_runtime(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    cover: dict[tuple[str, str], set[tuple[int, int]]] = {}
    example: dict[tuple[str, str], str] = {}
    everywhere: set[tuple[str, str]] = set()
    for r in ctx.records:
        if r.kind != "extension":
            continue
        key = _module_key(r)
        n = ext_name(r.import_path)
        if key is None or n is None:
            continue
        if n.kind == "soabi":
            if (
                n.implementation != "cpython"
                or n.version is None
                or n.version[0] != 3
                or "d" in n.flags
                or "t" in n.flags
            ):
                continue
            cover.setdefault(key, set()).add(n.version)
            example.setdefault(key, r.path)
        elif (
            n.kind == "untagged"
            and r.scope.kind == "versioned"
            and r.scope.version
            and r.scope.implementation == "cpython"
            and not r.scope.free_threaded
        ):
            cover.setdefault(key, set()).add(r.scope.version)
            example.setdefault(key, r.path)
        else:
            everywhere.add(key)  # stable ABI or shared untagged: one file for all
    if not cover:
        return
    sup = _abi.support(ctx)
    wanted = {v for v in sup.versions if v[0] == 3}
    for key, have in sorted(cover.items()):
        if key in everywhere:
            continue
        missing = wanted - have
        if missing:
            d, stem = key
            mod = f"{d}/{stem}" if d else stem
            yield self.finding(
                example[key],
                f"{mod} is built for {_abi.fmt_versions(have)} only; missing "
                f"for {_abi.fmt_versions(missing)} ({sup.describe()})",
            )


def _wheel_abis(ctx: ArtifactContext) -> set[str]:
    return {abi for _i, abi, _p in wheel_tags(ctx.info)}


def _module_disagrees(r: FileRecord, abis: set[str]) -> str | None:
    """Why an extension module contradicts the wheel's ABI tags, or None (see the rule)."""
    n = ext_name(r.import_path)
    if n is None or r.elf_problem:
        return None
    imports = r.elf.python_imports if r.elf is not None and r.elf.symbols_read else None
    name = posixpath.basename(r.import_path)
    if abis == {"none"}:
        return (
            f"{name} is an extension module, but the wheel's ABI tag is none: installers "
            "put it on every Python of the platform, whatever it was built for"
        )
    if abis <= {"abi3", "abi3t"}:
        if n.kind == "soabi":
            return (
                f"{name} is version-specific ({n.soabi_tag or n.implementation}) inside "
                f"a wheel tagged {'/'.join(sorted(abis))}: installers put it on every "
                "later CPython"
            )
        if n.kind == "untagged" and imports and not ext.module_abi(imports).limited:
            return (
                f"{name} uses the full C-API (its symbols say: "
                f"{ext.built_for(imports)}) inside a wheel tagged "
                f"{'/'.join(sorted(abis))}"
            )
        return None
    cp = {a for a in abis if a.startswith("cp") and a[2:3].isdigit()}
    if not cp:
        return None
    ft_tag = all(a.rstrip("d").endswith("t") for a in cp)
    gil_tag = not any(a.rstrip("d").endswith("t") for a in cp)
    if n.kind == "soabi" and n.implementation == "cpython":
        ft_name = "t" in n.flags
        tags = ", ".join(sorted(cp))
        if ft_tag and not ft_name:
            return f"{name} is a GIL build's module inside a free-threaded wheel ({tags})"
        if gil_tag and ft_name:
            return f"{name} is a free-threaded module inside a GIL build's wheel ({tags})"
        if imports and n.version is not None:
            # name and tag agree; the build markers of its symbols may not (a GIL build's
            # module renamed .cpython-313t-...so in a cp313t wheel)
            why = ext.build_mismatch(
                imports,
                ft_name,
                "d" in n.flags,
                n.version,
                r.elf.module_def if r.elf is not None else None,
            )
            if why is not None and not isinstance(why, ext.CannotTell):
                return (
                    f"{name}: its name and the wheel's tag ({tags}) say one build, its "
                    f"binary another: {why}"
                )
        return None
    if n.kind in ("abi3", "untagged") and imports:
        m = ext.module_abi(imports)
        if ft_tag and (n.kind == "abi3" or m.limited or not m.freethreaded) and not m.pypy:
            return (
                f"{name} is built for a GIL-enabled CPython ({ext.built_for(imports)}) "
                f"inside a free-threaded wheel ({', '.join(sorted(cp))})"
            )
        if gil_tag and m.freethreaded:
            return (
                f"{name} is built for a free-threaded CPython (imports {m.freethreaded}) "
                f"inside a GIL build's wheel ({', '.join(sorted(cp))})"
            )
    return None


@rule(
    "wheel-tag-module-mismatch",
    severity="error",
    summary="A wheel whose ABI tag says something its extension modules contradict: an abi3 "
    "tag over a version-specific or full-API module, a none-ABI wheel holding an "
    "extension module, a cp313t wheel with a GIL build's module or the reverse.",
    why="Installers choose a wheel by its tags alone (pip, uv: packaging.tags): an abi3 wheel "
    "goes to every later CPython, a none-ABI platform wheel to every Python of the "
    "platform, a cp313t wheel to the free-threaded build.  A module built for another "
    "ABI then fails to import (undefined symbol) or crashes the interpreter (a GIL "
    "build's module on a free-threaded one, PEP 703/803).",
    example="foo-1.0-cp39-abi3-manylinux_2_28_x86_64.whl holding foo/_core.cpython-312-"
    "x86_64-linux-gnu.so, or foo-1.0-cp313-cp313t-...whl holding foo/_core.abi3.so",
    fix="Tag the wheel for what its modules are (let the build backend compute the tag), or "
    "build the modules for the tagged ABI (Py_LIMITED_API for abi3; the free-threaded "
    "interpreter for cp313t).",
    source="PEP 425, PEP 427 (wheel tags); PEP 384 (abi3); PEP 703, PEP 803 (free-threaded "
    "builds, abi3t); abi3audit (an abi3 wheel's modules must be abi3)",
    peers=("abi3audit:non-abi3-symbols",),
    profiles=("wheel",),
)
def wheel_tag_module_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    if ctx.info.format != "wheel":
        return
    abis = _wheel_abis(ctx)
    if not abis:
        return
    for r in ctx.records:
        if r.kind != "extension":
            continue
        why = _module_disagrees(r, abis)
        if why:
            yield self.finding(r.path, why)


@rule(
    "stable-abi-in-free-threaded-tree",
    severity="error",
    summary="An abi3 module (.abi3.so) inside a free-threaded runtime's own directory "
    "(lib/python3.13t/).",
    why="Free-threaded CPython 3.13 and 3.14 list .abi3.so among their suffixes, so the "
    "module is found, but the stable ABI is the GIL build's: the import fails or crashes "
    "(PEP 803: extensions built for GIL-enabled builds will fail to load, or crash, on "
    "free-threaded builds).  From 3.15 the free-threaded build loads .abi3t.so only.",
    example="/usr/lib64/python3.13t/site-packages/cryptography/hazmat/bindings/_rust.abi3.so",
    fix="Install the project's cp313t wheel (or build it with the free-threaded interpreter); "
    "from 3.15 build for abi3t (Py_TARGET_ABI3T, PEP 803).",
    source="PEP 703; PEP 803; CPython Python/dynload_shlib.c (3.13/3.14 free-threaded "
    "suffixes); python/cpython#120901",
    peers=(),
)
def stable_abi_in_free_threaded_tree(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    for r in ctx.records:
        if r.kind != "extension" or r.scope.kind != "versioned" or not r.scope.free_threaded:
            continue
        n = ext_name(r.import_path)
        if n is None or n.kind != "abi3" or r.scope.version is None:
            continue
        v = r.scope.version
        if v >= ext.ABI3T_SINCE:
            continue  # 3.15t does not list .abi3.so: extension-tag-mismatch's finding
        yield self.finding(
            r.path,
            f"{posixpath.basename(r.import_path)} is an abi3 module in "
            f"{r.scope.describe()}: CPython {v[0]}.{v[1]}t finds it but "
            "cannot load the GIL build's stable ABI",
        )
