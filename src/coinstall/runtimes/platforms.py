"""Platforms a wheel is built for, and the known runtimes of each.

A wheel's platform tag (PEP 425, PEP 600, PEP 656; the platform compatibility tags
specification) names an operating system and one or more CPU architectures: ``win_amd64``,
``macosx_11_0_arm64``, ``macosx_10_9_universal2`` (x86_64 and arm64), ``manylinux_2_17_aarch64``,
``musllinux_1_2_x86_64``.  :func:`platforms_of_tag` turns a tag into :class:`Platform` records;
:func:`catalogue_runtimes` gives the catalogue's runtimes of one platform, with ids qualified by
the platform (``cpython-3.12/win_amd64``) wherever it is not this machine's, so runtimes of
several platforms can be judged and reported in one run.

This module imports nothing else of coinstall's but :mod:`coinstall.runtimes`.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from coinstall.runtimes.catalogue import HOST_PLATFORM, HOST_TRIPLET, Catalogue
from coinstall.runtimes.model import Runtime

#: Multi-architecture macOS tags -> the architectures they contain (pypa/packaging
#: ``tags._mac_binary_formats``, read in reverse: universal2 = x86_64 + arm64, ...).
MAC_MULTI_ARCH: dict[str, tuple[str, ...]] = {
    "universal2": ("x86_64", "arm64"),
    "intel": ("x86_64", "i386"),
    "fat64": ("x86_64", "ppc64"),
    "fat32": ("i386", "ppc"),
    "fat": ("i386", "ppc"),
    "fat3": ("x86_64", "i386", "ppc"),
    "universal": ("x86_64", "i386", "ppc64", "ppc"),
}

#: Linux wheel architecture -> multiarch triplet CPU part (CPython Misc/platform_triplet.c;
#: auditwheel's architecture table).
_LINUX_CPU = {
    "x86_64": "x86_64",
    "i686": "i386",
    "aarch64": "aarch64",
    "armv7l": "arm",
    "ppc64le": "powerpc64le",
    "ppc64": "powerpc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}

#: Windows PYD platform tag -> a triplet CPU that makes the catalogue pick that tag.
_WIN_CPU = {"win_amd64": "x86_64", "win32": "i686", "win_arm64": "aarch64", "win_arm32": "arm"}

_LINUX_TAG = re.compile(
    r"^(?:manylinux_\d+_\d+|manylinux1|manylinux2010|manylinux2014|linux)"
    r"_(?P<arch>.+)$"
)
_MUSL_TAG = re.compile(r"^musllinux_\d+_\d+_(?P<arch>.+)$")
_MAC_TAG = re.compile(r"^macosx_\d+_\d+_(?P<arch>.+)$")


@dataclass(frozen=True, order=True)
class Platform:
    """One operating system and CPU that wheels target.

    Attributes:
        key: a short stable name: ``manylinux_x86_64`` (glibc Linux, also ``linux_*`` tags),
            ``musllinux_aarch64``, ``macosx_arm64``, ``win_amd64``, ``win32``, ``win_arm64``.
        system: ``sys.platform`` of its runtimes: ``linux``, ``darwin``, ``win32``.
        arch: the architecture in wheel-tag terms (``x86_64``, ``arm64``, ``win_amd64``).
        triplet: the multiarch triplet on Linux (``aarch64-linux-musl``), None elsewhere.
        label: how people name it: ``Linux x86_64 (glibc)``, ``macOS arm64``,
            ``Windows win_amd64``.
    """

    key: str
    system: str
    arch: str
    triplet: str | None
    label: str

    @property
    def is_host(self) -> bool:
        """True for this machine's platform (its runtimes keep their plain ids)."""
        return self.system == HOST_PLATFORM and self.triplet == HOST_TRIPLET


def linux(arch: str, libc: str = "gnu") -> Platform:
    """The Linux platform of a wheel architecture (``x86_64``) and C library (gnu, musl)."""
    cpu = _LINUX_CPU.get(arch, arch)
    abi = (
        "gnueabihf" if cpu == "arm" and libc == "gnu" else ("musleabihf" if cpu == "arm" else libc)
    )
    triplet = f"{cpu}-linux-{abi}"
    key = f"{'manylinux' if libc == 'gnu' else 'musllinux'}_{arch}"
    return Platform(
        key, "linux", arch, triplet, f"Linux {arch} ({'glibc' if libc == 'gnu' else 'musl'})"
    )


def macos(arch: str) -> Platform:
    """The macOS platform of one architecture (``arm64``, ``x86_64``)."""
    return Platform(f"macosx_{arch}", "darwin", arch, None, f"macOS {arch}")


def windows(tag: str) -> Platform:
    """The Windows platform of a PYD platform tag (``win_amd64``, ``win32``, ``win_arm64``)."""
    return Platform(tag, "win32", tag, None, f"Windows {tag}")


#: The platforms a release's coverage grid shows by default: the ones CPython's installers
#: and the manylinux/musllinux images build for on the common CPUs.
DEFAULT_GRID: tuple[Platform, ...] = (
    linux("x86_64"),
    linux("aarch64"),
    linux("x86_64", "musl"),
    linux("aarch64", "musl"),
    macos("x86_64"),
    macos("arm64"),
    windows("win_amd64"),
    windows("win32"),
    windows("win_arm64"),
)


def platforms_of_tag(tag: str) -> list[Platform]:
    """The platforms one wheel platform tag serves; ``[]`` for ``any`` and for platforms this
    module does not model (iOS, Android, ...).

    ``macosx_10_9_universal2`` gives macOS x86_64 and arm64; ``manylinux2014_aarch64`` glibc
    Linux aarch64; ``win32`` 32-bit Windows.
    """
    tag = tag.lower()
    if tag in _WIN_CPU:
        return [windows(tag)]
    if m := _MUSL_TAG.match(tag):
        return [linux(m["arch"], "musl")]
    if m := _LINUX_TAG.match(tag):
        return [linux(m["arch"])]
    if m := _MAC_TAG.match(tag):
        arch = m["arch"]
        return [macos(a) for a in MAC_MULTI_ARCH.get(arch, (arch,))]
    return []


def platforms_of_tags(tags: Iterable[str]) -> list[Platform]:
    """Every platform of several platform tags, de-duplicated, in order."""
    out: list[Platform] = []
    for t in tags:
        for p in platforms_of_tag(t):
            if p not in out:
                out.append(p)
    return out


def qualify(runtime_id: str, platform: Platform) -> str:
    """``cpython-3.12`` -> ``cpython-3.12/win_amd64`` (unchanged on this machine's platform)."""
    return runtime_id if platform.is_host else f"{runtime_id}/{platform.key}"


_BY_PLATFORM: weakref.WeakKeyDictionary[Catalogue, dict[Platform, list[Runtime]]] = (
    weakref.WeakKeyDictionary()
)


def catalogue_runtimes(catalogue: Catalogue, platform: Platform) -> list[Runtime]:
    """The catalogue's upstream runtimes of ``platform``, ids qualified by :func:`qualify`,
    ``machine`` set on macOS and Windows (a cached list: callers must not modify it)."""
    per = _BY_PLATFORM.setdefault(catalogue, {})
    if platform not in per:
        per[platform] = _catalogue_runtimes(catalogue, platform)
    return per[platform]


def _catalogue_runtimes(catalogue: Catalogue, platform: Platform) -> list[Runtime]:
    if platform.system == "win32":
        triplet: str | None = f"{_WIN_CPU.get(platform.arch, 'x86_64')}-pc-windows"
    else:
        triplet = platform.triplet
    known = catalogue.known(platform.system, triplet, vendors=("upstream",))
    machine = platform.arch if platform.system in ("darwin", "win32") else None
    return [replace(rt, id=qualify(rt.id, platform), machine=machine) for rt in known]


def matches(runtime: Runtime, platform: Platform) -> bool:
    """True if an installed runtime runs on ``platform`` (same system; same triplet on Linux,
    same machine elsewhere where known)."""
    if runtime.platform != platform.system:
        return False
    if platform.system == "linux":
        return runtime.multiarch == platform.triplet
    return runtime.machine is None or runtime.machine == platform.arch


def runtimes_for_wheel(
    platform_tags: Sequence[str], default: Sequence[Runtime], catalogue: Catalogue
) -> list[Runtime]:
    """The runtimes a wheel with these platform tags is judged against.

    ``default`` (this machine's installed runtimes and its platform's catalogue) is kept
    whole when the wheel is for every platform (``any``) or for this machine's; otherwise the
    installed runtimes of ``default`` that run on one of the wheel's platforms are kept and
    the catalogue runtimes of each foreign platform are added.
    """
    plats = platforms_of_tags(platform_tags)
    if not plats or any(t.lower() == "any" for t in platform_tags):
        return list(default)
    out: list[Runtime] = []
    if any(p.is_host for p in plats):
        out += default
    else:
        out += [rt for rt in default if rt.installed and any(matches(rt, p) for p in plats)]
    for p in plats:
        if not p.is_host:
            out += catalogue_runtimes(catalogue, p)
    unique: dict[str, Runtime] = {}
    for rt in out:
        unique.setdefault(rt.id, rt)
    return list(unique.values())
