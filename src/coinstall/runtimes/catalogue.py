"""The runtime catalogue: every runtime coinstall knows, from ``data/catalogue.toml``.

The facts live in the data file, each with its citation; this module only expands the suffix
templates for a platform and multiarch triplet and answers questions about them:

* :meth:`Catalogue.known` -- the catalogue's runtimes for one platform, as :class:`Runtime`
  records (``executable`` is None);
* :meth:`Catalogue.predict` -- what the catalogue says a given build must report (used to
  check the catalogue against every real interpreter, and to give a found runtime its id);
* :meth:`Catalogue.magic_origin` -- which implementation and version wrote a magic number,
  including development values no release accepts.

This module imports nothing else of coinstall's but :mod:`coinstall.runtimes.model`.
"""

from __future__ import annotations

import functools
import pkgutil
import tomllib
from dataclasses import dataclass
from typing import Any

from coinstall.runtimes.model import Runtime

#: Windows platform tag per multiarch triplet's CPU (CPython ``PC/pyconfig.h.in``
#: ``PYD_PLATFORM_TAG``).
_WINPLAT = {
    "x86_64": "win_amd64",
    "i386": "win32",
    "i686": "win32",
    "aarch64": "win_arm64",
    "arm": "win_arm32",
}

HOST_PLATFORM = "linux"
HOST_TRIPLET = "x86_64-linux-gnu"


@dataclass(frozen=True)
class MagicOrigin:
    """Who wrote a pyc magic number.

    Attributes:
        implementation: ``"cpython"`` or ``"pypy"``.
        version: language version ``"X.Y"``.
        release: True if a release of that version writes it, False for a development value.
        label: human-readable origin, e.g. ``"CPython 3.12"`` or ``"CPython 3.12 pre-release"``.
    """

    implementation: str
    version: str
    release: bool
    label: str


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def build_kind(abiflags: str) -> str:
    """The suffix-list key for a build: ``release``, ``debug``, ``freethreaded`` or
    ``freethreaded-debug`` (``t`` and ``d`` in ABI flags, CPython ``configure.ac``)."""
    t = "t" in abiflags
    d = "d" in abiflags
    if t:
        return "freethreaded-debug" if d else "freethreaded"
    return "debug" if d else "release"


def cpython_id(version: str, abiflags: str, vendor: str = "upstream") -> str:
    """``cpython-X.Y`` plus the ABI flags other than ``m`` (``cpython-3.11d``, ``cpython-2.7u``),
    plus ``+vendor`` for a patched build the catalogue lists separately."""
    flags = abiflags.replace("m", "")
    suffix = f"+{vendor}" if vendor != "upstream" else ""
    return f"cpython-{version}{flags}{suffix}"


def pypy_id(version: str, pp: str) -> str:
    """``pypy-X.Y-ppAB`` (PyPy's SOABI release tag, ``pypy/module/sys/version.py``)."""
    return f"pypy-{version}-pp{pp}"


class Catalogue:
    """The parsed catalogue.  Construct with :func:`load`.

    Raises:
        KeyError, ValueError: from the constructor, if the data file is malformed (a bug in
            coinstall, caught by the test-suite).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self.citations: dict[str, str] = data["citations"]
        self._schemes: dict[str, dict[str, Any]] = data["schemes"]
        self._cpython: list[dict[str, Any]] = data["cpython"]
        self._pypy: list[dict[str, Any]] = data["pypy"]
        self._musl_since = _version_key(data["musl"]["soabi_since"])
        self._musl_cite: list[str] = data["musl"]["cite"]
        self._magic: dict[int, MagicOrigin] = {}
        self._known: dict[tuple[str, str | None, tuple[str, ...]], list[Runtime]] = {}
        for entry in self._cpython:
            v = entry["version"]
            for lo, hi in entry.get("dev_magic", []):
                for m in range(lo, hi + 1):
                    self._magic.setdefault(
                        m, MagicOrigin("cpython", v, False, f"CPython {v} pre-release")
                    )
            for alt in entry.get("magic_by_micro", []):
                self._magic[alt["magic"]] = MagicOrigin("cpython", v, True, f"CPython {v}")
            if entry["magic"]:
                self._magic[entry["magic"]] = MagicOrigin("cpython", v, True, f"CPython {v}")
        for entry in self._pypy:
            v = entry["version"]
            for rel in entry["releases"]:
                label = f"PyPy {rel['first']}-{rel['last']} (Python {v})"
                self._magic[rel["magic"]] = MagicOrigin("pypy", v, True, label)

    # -- lookups ---------------------------------------------------------------------------

    def magic_origin(self, magic: int) -> MagicOrigin | None:
        """Who writes pyc magic ``magic`` (uint16); None if no catalogued runtime does."""
        return self._magic.get(magic)

    def cite(self, keys: list[str]) -> tuple[str, ...]:
        """The citation texts for citation keys."""
        return tuple(self.citations[k] for k in keys)

    def _suffixes(
        self, scheme: str, platform: str, abiflags: str, subst: dict[str, str]
    ) -> tuple[str, ...] | None:
        table = self._schemes[scheme].get(platform)
        if table is None:
            return None
        kind = build_kind(abiflags)
        templates = table.get(kind)
        if templates is None:
            return None
        return tuple(t.format(**subst) for t in templates)

    @staticmethod
    def _subst(
        version: str, abiflags: str, triplet: str | None, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        cpu = (triplet or HOST_TRIPLET).split("-")[0]
        out = {
            "XY": version.replace(".", ""),
            "abiflags": abiflags,
            "alt": abiflags.replace("d", ""),
            "triplet": triplet or "",
            "winplat": _WINPLAT.get(cpu, "win_amd64"),
        }
        out.update(extra or {})
        return out

    def _cpython_record(
        self,
        entry: dict[str, Any],
        abiflags: str,
        platform: str,
        triplet: str | None,
        vendor: str,
        magic: int,
    ) -> Runtime | None:
        v = entry["version"]
        scheme = entry["scheme"]
        cite: list[str] = entry["cite"]
        # CPython <= 3.10 on musl names the glibc triplet in SOABI and its suffixes
        soabi_triplet = triplet
        if triplet and "-linux-musl" in triplet and _version_key(v) < self._musl_since:
            soabi_triplet = triplet.replace("-linux-musl", "-linux-gnu")
            cite = cite + self._musl_cite
        if vendor == "debian" and platform == "linux" and "debian_scheme" in entry:
            scheme = entry["debian_scheme"]
        else:
            vendor = "upstream"
        subst = self._subst(v, abiflags, soabi_triplet)
        suffixes = self._suffixes(scheme, platform, abiflags, subst)
        if suffixes is None:
            return None
        major, minor = _version_key(v)
        soabi = None
        if major == 3 and minor >= 2 and platform != "win32":
            soabi = f"cpython-{subst['XY']}{abiflags}"
            if minor >= 5 and platform == "linux" and soabi_triplet:
                soabi += f"-{soabi_triplet}"
            elif minor >= 5 and platform == "darwin":
                soabi += "-darwin"
        alt = tuple(a["magic"] for a in entry.get("magic_by_micro", []))
        releases = tuple(sorted({m for m in (*alt, entry["magic"]) if m}))
        return Runtime(
            id=cpython_id(v, abiflags, vendor),
            implementation="cpython",
            version=(major, minor),
            abiflags=abiflags,
            magic=magic,
            release_magic=releases,
            cache_tag=entry["cache_tag"] or None,
            pyc_header_size=entry["header"],
            soabi=soabi,
            extension_suffixes=suffixes,
            multiarch=triplet if platform == "linux" else None,
            platform=platform,
            vendor=vendor,
            sources=self.cite(cite + self._schemes[scheme]["cite"]),
        )

    def _pypy_record(
        self,
        entry: dict[str, Any],
        platform: str,
        triplet: str | None,
        magic: int,
        impl_version: str | None,
    ) -> Runtime | None:
        v = entry["version"]
        subst = self._subst(v, "", triplet, {"pyXY": entry["py_tag"], "ppXY": "pp" + entry["pp"]})
        suffixes = self._suffixes(entry["scheme"], platform, "", subst)
        if suffixes is None:
            return None
        major, minor = _version_key(v)
        # PyPy's SOABI has no platform part (observed: Debian PyPy 7.3.11 reports
        # "pypy39-pp73"); the suffix adds the triplet (pypy/module/imp/importing.py).
        soabi = None
        if major == 3:
            soabi = entry["py_tag"] + ("-pp" + entry["pp"] if entry["scheme"] == "pypy3" else "")
        return Runtime(
            id=pypy_id(v, entry["pp"]),
            implementation="pypy",
            version=(major, minor),
            abiflags="",
            magic=magic,
            release_magic=tuple(sorted(r["magic"] for r in entry["releases"])),
            cache_tag=entry["cache_tag"] or None,
            pyc_header_size=entry["header"],
            soabi=soabi,
            extension_suffixes=suffixes,
            multiarch=triplet if platform == "linux" else None,
            platform=platform,
            implementation_version=impl_version,
            sources=self.cite(entry["cite"] + self._schemes[entry["scheme"]]["cite"]),
        )

    # -- public ----------------------------------------------------------------------------

    def known(
        self,
        platform: str = HOST_PLATFORM,
        triplet: str | None = HOST_TRIPLET,
        *,
        vendors: tuple[str, ...] = ("upstream", "debian"),
    ) -> list[Runtime]:
        """Every catalogued runtime for one platform, newest release magic for each.

        Args:
            platform: ``"linux"``, ``"darwin"`` or ``"win32"``.
            triplet: the multiarch triplet on Linux (its CPU also picks the Windows tag).
            vendors: which distribution-patched variants to include besides upstream; a
                vendor variant is listed only where its behaviour differs (id ``...+debian``).

        Returns:
            Runtime records sorted by implementation, version and ABI flags (a cached list:
            callers must not modify it).
        """
        key = (platform, triplet, vendors)
        if key not in self._known:
            self._known[key] = self._build_known(platform, triplet, vendors)
        return self._known[key]

    def _build_known(
        self, platform: str, triplet: str | None, vendors: tuple[str, ...]
    ) -> list[Runtime]:
        out: list[Runtime] = []
        for entry in self._cpython:
            for flags in entry["builds"]:
                rec = self._cpython_record(
                    entry, flags, platform, triplet, "upstream", entry["magic"]
                )
                if rec is not None:
                    out.append(rec)
                if "debian" in vendors and "debian_scheme" in entry:
                    deb = self._cpython_record(
                        entry, flags, platform, triplet, "debian", entry["magic"]
                    )
                    if deb is not None and deb.vendor == "debian":
                        out.append(deb)
        for entry in self._pypy:
            last = entry["releases"][-1]
            rec = self._pypy_record(entry, platform, triplet, last["magic"], None)
            if rec is not None:
                out.append(rec)
        return out

    def predict(
        self,
        implementation: str,
        version: tuple[int, int],
        abiflags: str,
        *,
        platform: str,
        triplet: str | None,
        vendor: str = "upstream",
        full_version: str | None = None,
        implementation_version: str | None = None,
    ) -> Runtime | None:
        """What the catalogue says a given build reports: magic, cache tag, suffix list.

        Args:
            implementation: ``"cpython"`` or ``"pypy"``.
            version: language ``(major, minor)``.
            abiflags: the build's ABI flags (see :class:`Runtime`).
            platform, triplet: ``sys.platform`` and the multiarch triplet.
            vendor: ``"debian"`` selects Debian's patched suffix list where one is catalogued.
            full_version: ``"3.5.2"``; picks per-micro magic values (3.5).
            implementation_version: PyPy's version (``"7.3.11"``); picks the release's magic.

        Returns:
            The predicted record, or None if the catalogue does not know this build.
        """
        v = f"{version[0]}.{version[1]}"
        if implementation == "cpython":
            for entry in self._cpython:
                if entry["version"] != v or abiflags not in entry["builds"]:
                    continue
                magic = entry["magic"]
                if full_version:
                    micro = _micro(full_version)
                    for alt in entry.get("magic_by_micro", []):
                        lo, hi = alt["micro"]
                        if micro is not None and lo <= micro <= hi:
                            magic = alt["magic"]
                return self._cpython_record(entry, abiflags, platform, triplet, vendor, magic)
            return None
        if implementation == "pypy":
            for entry in self._pypy:
                if entry["version"] != v:
                    continue
                release = entry["releases"][-1]
                if implementation_version:
                    iv = _version_key(implementation_version)
                    for rel in entry["releases"]:
                        if _version_key(rel["first"]) <= iv <= _version_key(rel["last"]):
                            release = rel
                    pp = "".join(str(p) for p in iv[:2])
                    if pp != entry["pp"]:
                        continue
                return self._pypy_record(
                    entry, platform, triplet, release["magic"], implementation_version
                )
            return None
        return None


def _micro(full_version: str) -> int | None:
    parts = full_version.split(".")
    if len(parts) < 3:
        return None
    digits = ""
    for ch in parts[2]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None


@functools.cache
def load() -> Catalogue:
    """The catalogue shipped with coinstall (``coinstall/runtimes/data/catalogue.toml``).

    Raises:
        OSError, tomllib.TOMLDecodeError: if the data file is missing or malformed.
    """
    # pkgutil.get_data reads through the package's loader (a zip import works) without
    # importing importlib.resources (tempfile, random, shutil, zipfile: on every start;
    # measured: benchmarks/startup_bench.py)
    data = pkgutil.get_data("coinstall.runtimes", "data/catalogue.toml")
    if data is None:
        raise OSError("coinstall.runtimes has no loader that reads data/catalogue.toml")
    text = data.decode("utf-8")
    return Catalogue(tomllib.loads(text))
