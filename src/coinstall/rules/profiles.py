"""Policy profiles: which distribution's parallel-install policy an artifact is judged by.

A profile names the packaging policy (Fedora, EPEL, openSUSE, Debian, wheels) and the few facts
rules need from it: which binary-package name prefixes mark an implementation or a stack, which
directories several runtimes share.  It is chosen from the artifact (format, vendor, release,
name) unless the user names one.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass

from coinstall.artifacts.base import ArtifactInfo
from coinstall.runtimes.stack import Stack


@dataclass(frozen=True)
class Profile:
    """One distribution's policy, as far as the rules need it.

    Attributes:
        name: ``fedora``, ``epel``, ``opensuse``, ``debian`` or ``wheel``.
        title: one line for ``coinstall rules``.
        format: the package format it governs (``rpm``, ``deb``, ``wheel``).
        shared_dirs: directories below which files are shared by every runtime of an
            implementation (Debian's ``usr/lib/python3/dist-packages``), as path prefixes
            without the leading ``/``.
        source: the policy document.
    """

    name: str
    title: str
    format: str
    shared_dirs: tuple[str, ...]
    source: str


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "fedora",
            "Fedora: one python3 stack plus alternative python3.X interpreters",
            "rpm",
            (),
            "Fedora Packaging Guidelines for Python (docs.fedoraproject.org/en-US/"
            "packaging-guidelines/Python/)",
        ),
        Profile(
            "epel",
            "EPEL/RHEL: parallel python3X stacks named with %python3_pkgversion",
            "rpm",
            (),
            "EPEL Python packaging (%python3_pkgversion, %python3_other_pkgversion); "
            "python-rpm-macros macros.python3",
        ),
        Profile(
            "opensuse",
            "openSUSE: one python3XY-foo package per flavor (python311-foo)",
            "rpm",
            (),
            "openSUSE python-rpm-macros README (flavors, %python_subpackages)",
        ),
        Profile(
            "debian",
            "Debian: one shared /usr/lib/python3/dist-packages, multiarch tags",
            "deb",
            ("usr/lib/python3/dist-packages", "usr/share/python3"),
            "Debian Python Policy; dh-python (pybuild, dh_python3)",
        ),
        Profile(
            "wheel",
            "Wheels: tags must agree with the files (PEP 425, 427, 3149, 384)",
            "wheel",
            (),
            "PEP 425, PEP 427, PEP 491, PEP 3149, PEP 384, PEP 803",
        ),
    )
}
#: The RPM distributions' profiles (:attr:`Profile.format` ``rpm``), in :data:`PROFILES` order.
RPM_PROFILES = tuple(n for n, p in PROFILES.items() if p.format == "rpm")
#: The system package distributions' profiles: every profile but ``wheel``.
SYSTEM_PROFILES = tuple(n for n, p in PROFILES.items() if p.format != "wheel")

_FEDORA_RELEASE = re.compile(r"\.fc\d+")
_EL_RELEASE = re.compile(r"\.el\d+")
_SUSE = re.compile(r"suse|obs://build\.opensuse", re.I)


def _os_release(path: str = "/etc/os-release") -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.strip().partition("=")
                if sep:
                    values[key] = value.strip('"')
    except OSError:
        pass
    return values


def host_profile(os_release: Mapping[str, str] | None = None) -> str:
    """The profile of this machine's distribution from ``/etc/os-release`` (``ID`` and
    ``ID_LIKE``): ``debian`` for Debian and Ubuntu, ``fedora``, ``epel`` for RHEL-likes,
    ``opensuse``; ``wheel`` when unknown."""
    osr = _os_release() if os_release is None else os_release
    ids = [osr.get("ID", ""), *osr.get("ID_LIKE", "").split()]
    for i in ids:
        if i in ("debian", "ubuntu"):
            return "debian"
        if i == "fedora" and osr.get("ID") == "fedora":
            return "fedora"
        if i in ("rhel", "centos", "rocky", "almalinux"):
            return "epel"
        if "suse" in i:
            return "opensuse"
    return "fedora" if "fedora" in ids else "wheel"


def build_root_profile(path: str) -> str | None:
    """The profile a build root's layout names, or None: ``debian`` when it has
    ``DEBIAN/control`` or ``usr/lib/python3/dist-packages`` (Debian Python Policy), ``fedora``
    when it has ``usr/lib[64]/python3.X/site-packages`` (Fedora's ``%python3_sitelib`` /
    ``%python3_sitearch``).  Only ``lstat``-based checks: a symbolic link in the tree is not
    followed."""
    j = os.path.join

    def is_dir(p: str) -> bool:
        try:
            return stat.S_ISDIR(os.lstat(p).st_mode)
        except OSError:
            return False

    def is_file(p: str) -> bool:
        try:
            return stat.S_ISREG(os.lstat(p).st_mode)
        except OSError:
            return False

    dist = ("usr", "lib", "python3", "dist-packages")
    if (is_dir(j(path, "DEBIAN")) and is_file(j(path, "DEBIAN", "control"))) or all(
        is_dir(j(path, *dist[:i])) for i in range(1, len(dist) + 1)
    ):
        return "debian"
    for lib in ("lib", "lib64"):
        d = j(path, "usr", lib)
        if not (is_dir(j(path, "usr")) and is_dir(d)):
            continue
        try:
            names = os.listdir(d)
        except OSError:
            continue
        if any(
            n.startswith("python3.") and is_dir(j(d, n)) and is_dir(j(d, n, "site-packages"))
            for n in names
        ):
            return "fedora"
    return None


def installed_by_pip(info: ArtifactInfo) -> bool:
    """Whether ``info`` is a directory pip installed (a virtual environment, ``pip install
    --prefix``/``--target``): a tree that is neither a build root nor below ``/usr`` (not
    ``/usr/local``), which :func:`choose_profile` judges by the ``wheel`` profile.  Its
    installer wrote the interpreter that installed it into each ``bin/`` script (PEP 427:
    ``#!python`` is rewritten at install time; ``venv`` scripts name the environment's own
    python), so those shebangs are the installation's, not a package's."""
    return info.format == "tree" and choose_profile(info).name == "wheel"


def choose_profile(info: ArtifactInfo, stack: Stack | None = None) -> Profile:
    """The profile an artifact is judged by when none is named.

    * wheels: ``wheel``; .debs: ``debian``;
    * RPMs: ``opensuse`` if the vendor or distribution says SUSE/openSUSE (OBS), ``epel`` for a
      ``.elN`` release, ``fedora`` for a ``.fcN`` release; else by name: a ``python3XY-`` name
      (``python311-foo``) is EPEL's ``%python3_pkgversion`` naming when ``stack`` (``--stack``,
      which openSUSE's flavors do not have: every flavor is alike) names version X.Y — EPEL 7
      named its default stack ``python36-foo`` and the other ``python34-foo`` — and openSUSE's
      flavor naming otherwise; other names are Fedora's;
    * directories: a build root by its layout (:func:`build_root_profile`: ``check`` and
      ``fix`` judge one tree by one profile); an installed tree below ``/usr`` (not
      ``/usr/local``) follows this machine's distribution (``/etc/os-release``); any other
      tree was installed by pip: ``wheel``.
    """
    if info.format == "wheel":
        return PROFILES["wheel"]
    if info.format == "deb":
        return PROFILES["debian"]
    if info.format == "rpm":
        origin = " ".join(info.fields.get(k, "") for k in ("vendor", "distribution"))
        release = info.version or ""
        if _SUSE.search(origin):
            return PROFILES["opensuse"]
        if _EL_RELEASE.search(release):
            return PROFILES["epel"]
        if _FEDORA_RELEASE.search(release):
            return PROFILES["fedora"]
        m = re.match(r"python(3)(\d{1,2})-", info.name or "")
        if m:
            named = (int(m[1]), int(m[2]))
            return PROFILES["epel" if stack is not None and named in stack.versions else "opensuse"]
        return PROFILES["fedora"]
    if info.format == "tree":
        layout = build_root_profile(info.path)
        if layout is not None:
            return PROFILES[layout]
    real = os.path.realpath(info.path)
    if real.startswith("/usr/") and not real.startswith("/usr/local/"):
        return PROFILES[host_profile()]
    return PROFILES["wheel"]
