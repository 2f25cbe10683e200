"""Which CPython runtimes a binary package is built for, and the evidence.

A binary package is *tied* to runtimes when something in it names a minor version:

* Debian relations written by dh-python (``dhpython/depends.py``; Debian Python Policy §3.2,
  "Dependencies"): an extension or a package byte-compiled for a fixed set of versions gets
  ``python3 (>= 3.X~), python3 (<< 3.Y)`` — the supported range it was built for; a package
  that needs one interpreter (``#!/usr/bin/python3.X``, an embedded ``libpython3.X``) depends on
  ``python3.X``/``libpython3.X``.  Unbounded ``python3``/``python3:any`` is what a pure package
  gets: version-independent.
* RPM relations (Fedora Python packaging guidelines, "Automatically generated dependencies";
  ``python-rpm-generators`` ``pythondistdeps.py``): ``python(abi) = 3.X`` for anything installed
  in ``/usr/lib*/python3.X/``, ``python3.Xdist(foo)`` provides/requires, ``libpython3.X.so``.
* Names of parallel stacks: openSUSE ``python311-foo`` (python-rpm-macros ``%pythons``),
  EPEL/RHEL ``python3.11-foo`` (``python3_other``).
* Files, when the index lists them (RPM filelists, artifacts): ``lib*/python3.X/`` directories
  (:func:`coinstall.files.location.scope_of`) and extension modules tagged with a CPython SOABI
  from the runtime catalogue (``foo.cpython-311-x86_64-linux-gnu.so``, PEP 3149); a stable-ABI
  module (``.abi3.so``, PEP 384) is loadable by every later runtime and does not tie.

Versions are ``(major, minor)`` tuples.  Readers give raw relation strings; this module splits
them into atoms with light regexes (Debian Policy §7.1 syntax; RPM ``name op evr``: much faster
than python-debian's ``PkgRelation`` on a whole index) and reads what each name refers to with
the vocabulary the rules use (:mod:`coinstall.names`); extension and bytecode file names are
read with :func:`coinstall.files.extension.ext_name` and :func:`coinstall.files.pyc.locate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from coinstall.files.extension import ExtName, ext_name
from coinstall.files.location import scope_of
from coinstall.files.pyc import locate
from coinstall.names import Version, dist_name, parallel_stack, versioned_runtime
from coinstall.plan.indices import BinaryRecord
from coinstall.runtimes.catalogue import Catalogue

_DEB_ATOM = re.compile(
    r"^\s*([a-z0-9][a-z0-9+.\-]*)(?::[a-z0-9\-]+)?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?"
)
_RPM_ATOM = re.compile(r"^\s*(\S+)(?:\s+(<=|>=|=|<|>)\s+(\S+))?")
#: dh-python's spelling of a lower bound on the runtimes built for: ``X.Y~``.
_DH_LOWER = re.compile(r"^\d+\.\d+~$")
#: Debian's per-version virtual packages: ``libboost-python1.92.0-py315`` (a library built
#: once per supported runtime provides one ``-pyXY`` name per runtime; boost's
#: ``debian/control``, Debian Python Policy "Provides" of extension-specific names).
_PY_PROVIDES = re.compile(r"^\s*[a-z0-9][a-z0-9+.\-]*-py(3)(\d{1,2})\s*(?:\(|$)")
#: The unversioned interpreter packages dh-python writes version ranges on.
_UNVERSIONED = frozenset(
    {"python3", "python3-minimal", "python3-dev", "python3-all", "python3-all-dev", "python3-any"}
)


def stack_key(name: str) -> str:
    """A binary name with its stack version removed: ``python3.11-foo`` and ``python312-foo``
    -> ``python3-foo``; other names unchanged.  Binaries of one source with the same key are
    the same package built for different runtimes."""
    st = parallel_stack(name)
    return f"python3-{st[1]}" if st else name


def _soabi(n: ExtName) -> str | None:
    """The CPython SOABI tag of a parsed extension name, ``cpython-311``; None for PyPy."""
    if n.implementation != "cpython" or n.version is None:
        return None
    return f"cpython-{n.version[0]}{n.version[1]}{n.flags}"


def _version(text: str) -> Version | None:
    m = re.match(r"(?:\d+:)?(\d+)\.(\d+)", text)
    return (int(m[1]), int(m[2])) if m else None


def _next(v: Version) -> Version:
    return (v[0], v[1] + 1)


@dataclass
class BinaryEvidence:
    """What one binary package says about the runtimes it is built for.

    Attributes:
        record: the index record.
        python: it is a Python package at all (any relation or file naming Python 3).
        low, high: the supported range ``[low, high)`` from ``python3`` relations (None: open).
        pins: versions the package's modules are built for, named outright
            (``python(abi) = 3.11``, ``python3.11dist(foo)``, a tagged extension, a
            ``python3.11/`` directory, a ``python311-`` name).
        uses: interpreters it needs by name (``python3.11``, ``libpython3.11``): an
            application with a versioned shebang or a program embedding that interpreter.
        stable_abi: it ships stable-ABI extension modules (``.abi3.so``).
        stable_abi_baseline: the oldest runtime those modules load on (PEP 384 manifest,
            from the ELF imports), when an artifact was read; it raises ``low``.
        floor: from a lower bound without ``~`` (``python3 (>= 3.14.7-2)``): the package is
            not used with a runtime older than this; not the start of a build range.
        compat_high: the upper end of an ``Architecture: all`` package's compatibility range
            (``python3:any (<< 4.0)``): no build per runtime, but not usable from there on.
        plain: the first unversioned interpreter relation (``"Depends: python3-dev:any"``).
        reasons: one line per fact, ``"Depends: python3 (<< 3.12)"``.
    """

    record: BinaryRecord
    python: bool = False
    low: Version | None = None
    high: Version | None = None
    pins: set[Version] = field(default_factory=set)
    uses: set[Version] = field(default_factory=set)
    stable_abi: bool = False
    stable_abi_baseline: Version | None = None
    floor: Version | None = None
    compat_high: Version | None = None
    plain: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def tied(self) -> bool:
        """Tied to particular versions (a bounded range, a pin or a versioned interpreter),
        not version-independent."""
        return bool(self.pins) or self.high is not None or bool(self.uses)

    @property
    def modules_tied(self) -> bool:
        """Its modules are built for particular versions (range or pins)."""
        return bool(self.pins) or self.high is not None

    def covers(self, v: Version) -> bool:
        """True if the package's modules are built for runtime ``v``."""
        if v in self.pins:
            return True
        if self.floor is not None and v < self.floor:
            return False
        if self.high is None:
            # Pinned to other versions only, or version-independent from ``low`` on.
            return not self.pins and (self.low is None or v >= self.low)
        return (self.low is None or v >= self.low) and v < self.high


class Classifier:
    """Reads :class:`BinaryEvidence` from index records, using the runtime catalogue.

    Args:
        catalogue: the runtime catalogue; CPython SOABI tags (``cpython-311``) found in file
            names are looked up in its extension-suffix lists.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.soabi: dict[str, Version] = {}
        for rt in catalogue.known():
            if rt.implementation != "cpython" or rt.debug:
                continue
            for suffix in rt.extension_suffixes:
                n = ext_name("x" + suffix)
                tag = _soabi(n) if n is not None and n.kind == "soabi" else None
                if tag is not None and not rt.free_threaded:
                    self.soabi.setdefault(tag, (rt.version[0], rt.version[1]))

    def classify(self, rec: BinaryRecord) -> BinaryEvidence:
        """The evidence for one binary record (never raises on odd relation strings)."""
        ev = BinaryEvidence(rec)
        if "python" in rec.depends:
            if rec.syntax == "rpm":
                self._rpm_relations(ev, rec.depends, "Requires")
            else:
                self._deb_relations(ev, rec.depends)
        if rec.syntax == "rpm" and "python" in rec.provides:
            self._rpm_relations(ev, rec.provides, "Provides")
        elif rec.syntax == "deb" and "-py3" in rec.provides:
            for atom in rec.provides.split(","):
                m = _PY_PROVIDES.match(atom)
                if m:
                    ev.python = True
                    ev.pins.add((int(m[1]), int(m[2])))
                    ev.reasons.append(f"Provides: {atom.strip()} (built for {m[1]}.{int(m[2])})")
        if rec.syntax == "deb" and rec.arch == "all" and ev.high is not None and not ev.pins:
            # An Architecture: all package holds nothing built per runtime: its range is
            # what it declares itself compatible with (X-Python3-Version), not builds.
            ev.compat_high, ev.high = ev.high, None
            ev.reasons.append("Architecture: all: a compatibility range, not a build per runtime")
        st = parallel_stack(rec.name)
        if st:
            v = st[0]
            if v[0] == 3:
                ev.python = True
                ev.pins.add(v)
                ev.reasons.append(f"name {rec.name}: the python{v[0]}.{v[1]} stack")
        if rec.files:
            self._files(ev, rec.files)
        if rec.stable_abi_baseline and ev.stable_abi:
            bl = _version(rec.stable_abi_baseline)
            if bl is not None:
                ev.stable_abi_baseline = bl
                ev.reasons.append(
                    f"stable-ABI baseline {rec.stable_abi_baseline} (newest "
                    "limited-API symbol its modules import)"
                )
                ev.low = bl if ev.low is None else max(ev.low, bl)
        return ev

    def _deb_relations(self, ev: BinaryEvidence, text: str) -> None:
        for group in text.split(","):
            if "python" not in group:
                continue
            alts = group.split("|")
            if len(alts) > 1:
                # A disjunction constrains nothing unless every choice is a versioned
                # interpreter (python3.11 | python3.12): then it uses one of them.
                names = [m[1] for a in alts if (m := _DEB_ATOM.match(a))]
                vers = [vm for n in names if (vm := versioned_runtime(n))]
                if len(vers) == len(alts) and all(v[0] == 3 for v in vers):
                    ev.python = True
                    ev.uses |= set(vers)
                    ev.reasons.append(f"Depends: {group.strip()}")
                elif any(n in _UNVERSIONED or n.startswith("python3") for n in names):
                    ev.python = True
                continue
            m = _DEB_ATOM.match(group)
            if m:
                if (
                    m[1] in _UNVERSIONED
                    and m[2] in (">=", ">>")
                    and m[3]
                    and not _DH_LOWER.match(m[3])
                ):
                    # python3 (>= 3.14.7-2), python3 (>= 3.14): a python3-defaults release
                    # the package needs, not dh-python's lower bound of what it is built for
                    # (python3 (>= 3.14~), dhpython/depends.py).  dpkg-gencontrol keeps the
                    # stronger of two bounds on one package, so the builds start at or
                    # below it; it is not used with an older default: a floor, not a build.
                    ev.python = True
                    v = _version(m[3])
                    if v is not None:
                        ev.floor = v if ev.floor is None else max(ev.floor, v)
                        ev.reasons.append(
                            f"Depends: {group.strip()}: needs a python3 of at "
                            f"least {v[0]}.{v[1]} (not a build range)"
                        )
                    continue
                self._relation(ev, m[1], m[2], m[3], f"Depends: {group.strip()}")

    def _rpm_relations(self, ev: BinaryEvidence, text: str, what: str) -> None:
        for atom in text.split(", "):
            if "python" not in atom:
                continue
            m = _RPM_ATOM.match(atom)
            if not m:
                continue
            name, op, ver = m[1], m[2], m[3]
            label = f"{what}: {atom.strip()}"
            if name == "python(abi)" and ver:
                v = _version(ver)
                if v and op == "=":
                    ev.python = True
                    ev.pins.add(v)
                    ev.reasons.append(label)
                continue
            dn = dist_name(name)
            dist = dn if dn and dn.kind == "dist" and dn.implementation == "cpython" else None
            if dist and dist.major and dist.minor is not None:  # python3.11dist(foo)
                ev.python = True
                if dist.major == 3:
                    ev.pins.add((dist.major, dist.minor))
                    ev.reasons.append(label)
                continue
            if (dist and dist.major == 3) or name in ("/usr/bin/python3", "python3"):
                ev.python = True
                if op:
                    self._relation(ev, "python3", {"<": "<<", ">": ">>"}.get(op, op), ver, label)
                continue
            if what == "Requires":
                self._relation(ev, name, None, None, label)

    def _relation(
        self, ev: BinaryEvidence, name: str, op: str | None, ver: str | None, label: str
    ) -> None:
        if name in _UNVERSIONED:
            ev.python = True
            v = _version(ver) if ver else None
            if op is None or v is None:
                ev.plain = ev.plain or label
                return
            if op in ("<<", "<"):
                ev.high = v if ev.high is None else min(ev.high, v)
            elif op == "<=":
                hv = _next(v)
                ev.high = hv if ev.high is None else min(ev.high, hv)
            elif op in (">=", ">>", ">"):
                ev.low = v if ev.low is None else max(ev.low, v)
            else:
                return
            ev.reasons.append(label)
            return
        # Every versioned runtime name has a dot (python3.11): skip the call on the hot path.
        vr = versioned_runtime(name) if "." in name else None
        if vr and vr[0] == 3:
            ev.python = True
            ev.uses.add(vr)
            ev.reasons.append(label)

    def _files(self, ev: BinaryEvidence, files: tuple[str, ...]) -> None:
        seen_dirs: set[Version] = set()
        tags: set[Version] = set()
        for path in files:
            if "python" not in path:
                continue
            if path.endswith(".so"):
                n = ext_name(path)
                tag = _soabi(n) if n is not None and n.kind == "soabi" else None
                if tag is not None and tag in self.soabi:
                    v = self.soabi[tag]
                    if v not in tags:
                        tags.add(v)
                        ev.reasons.append(f"file {path}: extension tagged {tag}")
                    ev.python = True
                    continue
                if n is not None and n.kind in ("abi3", "abi3t"):
                    if not ev.stable_abi:
                        ev.reasons.append(f"file {path}: stable-ABI extension (PEP 384)")
                    ev.stable_abi = True
                    ev.python = True
            elif path.endswith(".pyc"):
                loc = locate(path)
                tag = loc.cache_tag if loc is not None else None
                # PEP 3147 cache tag cpython-3XY (sys.implementation.cache_tag).
                if tag and tag.startswith("cpython-3") and tag[9:].isdecimal():
                    tags.add((3, int(tag[9:])))
            sc = scope_of(path)
            if (
                sc.kind == "versioned"
                and sc.implementation == "cpython"
                and sc.version
                and sc.version[0] == 3
                and not sc.free_threaded
            ):
                ev.python = True
                if sc.version not in seen_dirs:
                    seen_dirs.add(sc.version)
                    ev.reasons.append(f"file {path}: in {sc.describe()}")
            elif sc.kind == "shared" and sc.implementation == "cpython":
                ev.python = True
        ev.pins |= seen_dirs | tags
