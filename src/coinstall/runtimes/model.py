"""The runtime record: what one Python runtime is, as far as installed files are concerned.

A *runtime* is one build of one implementation at one language version: CPython 3.12, CPython
3.12 debug, CPython 3.13 free-threaded, PyPy 7.3 implementing Python 3.9.  A runtime decides
which bytecode files it reads (magic number, cache tag, header layout: PEP 3147, PEP 552) and
which extension modules it imports (the ordered ``importlib.machinery.EXTENSION_SUFFIXES`` list,
PEP 3149, PEP 384, PEP 803).

This module imports nothing else of coinstall's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import TypedDict

#: pyc header sizes in bytes by layout.  Source: CPython ``Lib/importlib/_bootstrap_external.py``
#: and PEP 552: magic + mtime (8, up to 3.2); + source size (12, magic 3210 to 3391);
#: flags + 8 bytes of mtime/size or hash (16, magic 3392 and later, i.e. 3.7+).
PYC_HEADER_SIZES = (8, 12, 16)


class RuntimeJSON(TypedDict):
    """A ``runtimes[]`` object of the JSON report (docs/json-format.md): :class:`Runtime`'s
    fields of the same names, ``version`` as ``"X.Y"``, tuples as lists."""

    id: str
    implementation: str
    version: str
    full_version: str | None
    implementation_version: str | None
    abiflags: str
    vendor: str
    executable: str | None
    magic: int | None
    cache_tag: str | None
    pyc_header_size: int
    soabi: str | None
    extension_suffixes: list[str]
    multiarch: str | None
    platform: str
    machine: str | None
    commands: list[str]
    default: bool
    purelib: str | None
    platlib: str | None
    stdlib: str | None
    provides: list[str]


def pyc_header_size(implementation: str, version: tuple[int, int], magic: int | None) -> int:
    """The pyc header size in bytes: 8, 12 or 16 (:data:`PYC_HEADER_SIZES`).

    CPython, from the magic number (``importlib._bootstrap_external``, PEP 552): 2.x magics
    (>= 20000) and magics below 3210 have 8 bytes (magic + mtime), 3210 to 3391 have 12
    (+ source size), 3392 and later 16 (+ flags).  PyPy numbers its magics on its own and ships
    CPython's importlib, so it (and CPython with an unknown magic) gets the layout of the
    language version it implements: 3.7+ 16, 3.3-3.6 12, older 8.
    """
    if implementation == "cpython" and magic is not None:
        if magic >= 20000 or magic < 3210:
            return 8
        return 12 if magic < 3392 else 16
    if version >= (3, 7):
        return 16
    return 12 if version >= (3, 3) else 8


@dataclass(frozen=True)
class Runtime:
    """One Python runtime, known from the catalogue or found on this machine.

    Attributes:
        id: stable identifier, ``{implementation}-{X.Y}{flags}`` with the ABI flags other than
            ``m`` (``cpython-3.12``, ``cpython-3.11d``, ``cpython-3.13t``, ``cpython-2.7u``),
            ``pypy-{X.Y}-pp{NN}`` for PyPy, ``+debian`` for a Debian-patched build whose
            behaviour differs from upstream, and ``@{full version}`` for an installed runtime
            that shares its catalogue id with another installed one.
        implementation: ``sys.implementation.name``: ``"cpython"`` or ``"pypy"``.
        version: the Python language version as ``(major, minor)``.
        abiflags: ``sys.abiflags`` (3.2+), or for 2.x the flags packaging's ``_cpython_abis``
            derives (``d`` Py_DEBUG, ``m`` pymalloc, ``u`` UCS-4); ``t`` marks free-threading.
        magic: the pyc magic number this runtime writes and accepts, as the little-endian
            uint16 in the first two bytes of a pyc (``3531`` for 3.12); None if unknown.
        release_magic: every magic number some *release* of this line writes (the catalogue
            lists 3350 and 3351 for CPython 3.5); see :attr:`accepted_magic`.
        cache_tag: ``sys.implementation.cache_tag`` (``cpython-312``), None before PEP 3147.
        pyc_header_size: 8, 12 or 16 bytes (see :data:`PYC_HEADER_SIZES`).
        soabi: ``sysconfig.get_config_var("SOABI")`` (``cpython-312-x86_64-linux-gnu``).
        extension_suffixes: ``importlib.machinery.EXTENSION_SUFFIXES`` in search order; the
            first suffix that names an existing file wins (CPython ``FileFinder``).
        multiarch: the multiarch triplet (``x86_64-linux-gnu``) or None.
        platform: ``sys.platform``: ``"linux"``, ``"darwin"``, ``"win32"``.
        machine: the CPU a catalogue runtime of macOS or Windows stands for, in wheel-tag
            terms (``"arm64"``, ``"x86_64"``; ``"win_amd64"``, ``"win32"``, ``"win_arm64"``);
            None where the multiarch triplet says it (Linux) or it is unknown.
        vendor: ``"upstream"`` or a distribution that patches import behaviour (``"debian"``).
        full_version: ``platform.python_version()`` for an installed runtime.
        implementation_version: PyPy's own version (``"7.3.11"``), None for CPython.
        executable: the interpreter's real path, None for a catalogue entry.
        commands: the command names on this machine that start it (``python3``, ``python3.11``).
        default: True when ``/usr/bin/python3`` starts it.
        purelib, platlib, stdlib: ``sysconfig.get_paths()`` values of an installed runtime.
        sys_path: the runtime's ``sys.path`` at start-up (installed runtimes only).
        stable_abi_missing: the stable-ABI symbols (CPython ``Misc/stable_abi.toml``) this
            interpreter does not export, as its probe found with ``ctypes.pythonapi``; None
            for catalogue runtimes and where the probe could not tell.
        sources: where each fact comes from (catalogue citations, or ``"probe"``).
    """

    id: str
    implementation: str
    version: tuple[int, int]
    abiflags: str
    magic: int | None
    cache_tag: str | None
    pyc_header_size: int
    soabi: str | None
    extension_suffixes: tuple[str, ...]
    multiarch: str | None
    platform: str
    vendor: str = "upstream"
    release_magic: tuple[int, ...] = ()
    full_version: str | None = None
    implementation_version: str | None = None
    executable: str | None = None
    commands: tuple[str, ...] = ()
    default: bool = False
    purelib: str | None = None
    platlib: str | None = None
    stdlib: str | None = None
    sys_path: tuple[str, ...] = ()
    machine: str | None = None
    stable_abi_missing: frozenset[str] | None = field(default=None, compare=False)
    sources: tuple[str, ...] = field(default=(), compare=False)

    @property
    def version_str(self) -> str:
        """The language version as ``"X.Y"``."""
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def installed(self) -> bool:
        """True for a runtime found on this machine (it has an executable)."""
        return self.executable is not None

    @property
    def debug(self) -> bool:
        """True for a debug build (``d`` in the ABI flags)."""
        return "d" in self.abiflags

    @property
    def free_threaded(self) -> bool:
        """True for a free-threaded build (``t`` in the ABI flags, CPython 3.13+, PEP 703)."""
        return "t" in self.abiflags

    @functools.cached_property  # asked for each pyc and runtime (frozen: set once, in __dict__)
    def accepted_magic(self) -> frozenset[int]:
        """Magic numbers some release of this runtime loads.

        An installed runtime loads exactly its own magic.  A catalogue runtime stands for
        every release of its line, so it also accepts the release values listed in
        ``release_magic`` (CPython 3.5.0-3.5.2 wrote 3350, 3.5.3+ 3351; each PyPy release
        series its own value).
        """
        own = {self.magic} if self.magic is not None else set()
        if self.installed:
            return frozenset(own)
        return frozenset(own | set(self.release_magic))

    @property
    def magic_bytes(self) -> bytes | None:
        """The four bytes a pyc starts with: uint16 LE magic + ``b"\\r\\n"``."""
        if self.magic is None:
            return None
        return self.magic.to_bytes(2, "little") + b"\r\n"

    @property
    def provides(self) -> tuple[str, ...]:
        """What a distribution's package of this runtime provides.

        ``python(abi) = X.Y`` (Fedora python-rpm-generators ``python.attr``: a file
        ``/usr/bin/pythonX.Y`` provides it) and ``python-abi-X.Y-MAGIC``, the form that names
        the bytecode magic as well (openSUSE/ALT style), for CPython only.
        """
        if self.implementation != "cpython":
            return ()
        out = [f"python(abi) = {self.version_str}"]
        if self.magic is not None:
            out.append(f"python-abi-{self.version_str}-{self.magic}")
        return tuple(out)

    def with_id(self, new_id: str) -> Runtime:
        """A copy of this record under another id."""
        return replace(self, id=new_id)

    def to_json(self) -> RuntimeJSON:
        """The record as the ``runtimes[]`` object of the JSON report (docs/json-format.md)."""
        return {
            "id": self.id,
            "implementation": self.implementation,
            "version": self.version_str,
            "full_version": self.full_version,
            "implementation_version": self.implementation_version,
            "abiflags": self.abiflags,
            "vendor": self.vendor,
            "executable": self.executable,
            "magic": self.magic,
            "cache_tag": self.cache_tag,
            "pyc_header_size": self.pyc_header_size,
            "soabi": self.soabi,
            "extension_suffixes": list(self.extension_suffixes),
            "multiarch": self.multiarch,
            "platform": self.platform,
            "machine": self.machine,
            "commands": list(self.commands),
            "default": self.default,
            "purelib": self.purelib,
            "platlib": self.platlib,
            "stdlib": self.stdlib,
            "provides": list(self.provides),
        }
