"""Build minimal real packages for rule tests: wheels (zipfile, with a correct RECORD), .debs
(``dpkg-deb --build``) and RPMs (``rpmbuild`` from Debian's ``rpm`` package).

Used where no real package in the corpus shows a problem.  Each builder takes ``files``: a
mapping of installed path (no leading ``/`` for system packages; the path inside the wheel for
wheels) to content (``bytes`` or ``str``), or to ``(content, mode)``; a value of
``Symlink("target")`` makes a symbolic link (.deb and RPM).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

Content = bytes | str | tuple[bytes | str, int]


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to ``target``."""

    target: str


FileSpec = Mapping[str, "Content | Symlink"]


def _bytes(c: bytes | str) -> bytes:
    return c.encode() if isinstance(c, str) else c


def _split(value: Content) -> tuple[bytes, int | None]:
    if isinstance(value, tuple):
        return _bytes(value[0]), value[1]
    return _bytes(value), None


def _stage(root: Path, files: FileSpec, mtime: int | None = None) -> None:
    """Write ``files`` below ``root``; ``mtime`` (seconds) sets every regular file's mtime."""
    for path, value in files.items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, Symlink):
            os.symlink(value.target, dest)
            continue
        data, mode = _split(value)
        dest.write_bytes(data)
        dest.chmod(mode if mode is not None else (0o755 if data.startswith(b"#!") else 0o644))
        if mtime is not None:
            os.utime(dest, (mtime, mtime))


def wheel(
    out: Path,
    name: str,
    version: str,
    files: FileSpec,
    *,
    tag: str = "py3-none-any",
    requires_python: str | None = None,
    root_is_purelib: bool | None = None,
    metadata: Iterable[str] = (),
) -> Path:
    """Write ``{name}-{version}-{tag}.whl`` into ``out`` with METADATA, WHEEL and RECORD."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        meta.append(f"Requires-Python: {requires_python}")
    meta += list(metadata)
    purelib = tag.endswith("-none-any") if root_is_purelib is None else root_is_purelib
    wheel_txt = [
        "Wheel-Version: 1.0",
        "Generator: coinstall-tests",
        f"Root-Is-Purelib: {'true' if purelib else 'false'}",
    ]
    py, abi, plats = tag.split("-")
    wheel_txt += [
        f"Tag: {p}-{a}-{pl}"
        for p in py.split(".")
        for a in abi.split(".")
        for pl in plats.split(".")
    ]
    entries: dict[str, tuple[bytes, int | None]] = {}
    for path, value in files.items():
        assert not isinstance(value, Symlink), "wheels have no symbolic links"
        entries[path] = _split(value)
    entries[f"{info}/METADATA"] = ("\n".join(meta) + "\n\n").encode(), None
    entries[f"{info}/WHEEL"] = ("\n".join(wheel_txt) + "\n").encode(), None
    record = []
    for path, (data, _) in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode(), None
    target = out / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, (data, mode) in entries.items():
            zi = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            zi.external_attr = ((mode if mode is not None else 0o644) | 0o100000) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return target


def deb(
    out: Path,
    name: str,
    version: str,
    files: FileSpec,
    *,
    arch: str = "all",
    depends: str | None = None,
    provides: str | None = None,
    multi_arch: str | None = None,
    source: str | None = None,
    fields: Mapping[str, str] | None = None,
    mtime: int | None = None,
) -> Path:
    """Build ``{name}_{version}_{arch}.deb`` with ``dpkg-deb --build --root-owner-group``;
    ``mtime`` sets every regular file's modification time."""
    root = out / f".deb-{name}-{arch}"
    shutil.rmtree(root, ignore_errors=True)
    _stage(root, files, mtime)
    control = {
        "Package": name,
        "Version": version,
        "Architecture": arch,
        "Maintainer": "coinstall tests <tests@example.org>",
        "Description": "test package built by coinstall's tests",
    }
    for key, value in (
        ("Depends", depends),
        ("Provides", provides),
        ("Multi-Arch", multi_arch),
        ("Source", source),
    ):
        if value:
            control[key] = value
    control.update(fields or {})
    (root / "DEBIAN").mkdir(parents=True, exist_ok=True)
    (root / "DEBIAN" / "control").write_text("".join(f"{k}: {v}\n" for k, v in control.items()))
    target = out / f"{name}_{version}_{arch}.deb"
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", "-Zxz", str(root), str(target)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(root)
    return target


def rpm(
    out: Path,
    name: str,
    version: str,
    files: FileSpec,
    *,
    release: str = "1.fc40",
    arch: str = "noarch",
    requires: Iterable[str] = (),
    provides: Iterable[str] = (),
    vendor: str | None = None,
    source_name: str | None = None,
    mtime: int | None = None,
    compression: str = "w2.xzdio",
) -> Path:
    """Build ``{name}-{version}-{release}.{arch}.rpm`` with ``rpmbuild -bb``.

    Automatic requires/provides and the brp post-install scripts are off, so the header holds
    exactly ``requires`` and ``provides`` and the payload exactly ``files``; ``mtime`` sets
    every regular file's modification time (rpmbuild keeps it).  ``compression`` is rpm's
    ``%_binary_payload`` (compressor and level: ``w2.xzdio``; Fedora's own is ``w19.zstdio``,
    ``w3.zstdio`` is the same format made fast, for payloads of tens of MB).
    """
    top = out / f".rpmbuild-{name}-{arch}"
    shutil.rmtree(top, ignore_errors=True)
    payload = top / "payload"
    _stage(payload, files, mtime)
    spec_lines = [
        f"Name: {source_name or name}",
        f"Version: {version}",
        f"Release: {release}",
        "Summary: test package built by coinstall's tests",
        "License: MIT",
        "AutoReqProv: no",
    ]
    if arch == "noarch":
        spec_lines.append("BuildArch: noarch")
    if vendor:
        spec_lines.append(f"Vendor: {vendor}")
    main = source_name is None or source_name == name
    pkg_lines = [f"Requires: {r}" for r in requires] + [f"Provides: {p}" for p in provides]
    if main:
        spec_lines += pkg_lines
    spec_lines += ["", "%description", "test", ""]
    if not main:
        spec_lines += [
            f"%package -n {name}",
            "Summary: subpackage",
            *pkg_lines,
            "",
            f"%description -n {name}",
            "test",
            "",
        ]
    spec_lines += ["%install", f"cp -a {payload}/. %{{buildroot}}/", ""]
    spec_lines.append("%files" if main else f"%files -n {name}")
    for path in files:
        spec_lines.append("/" + path.lstrip("/"))
    spec = top / "test.spec"
    spec.write_text("\n".join(spec_lines) + "\n")
    cmd = [
        "rpmbuild",
        "-bb",
        "--quiet",
        "--define",
        f"_topdir {top}",
        "--define",
        "__os_install_post %{nil}",
        "--define",
        "_build_id_links none",
        "--define",
        "debug_package %{nil}",
        "--define",
        f"_binary_payload {compression}",
        "--define",
        f"_rpmdir {out}",
        "--define",
        "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
    ]
    if arch != "noarch":
        cmd += ["--target", arch]
    subprocess.run([*cmd, str(spec)], check=True, capture_output=True)
    shutil.rmtree(top)
    return out / f"{name}-{version}-{release}.{arch}.rpm"
