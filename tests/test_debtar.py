"""The .deb tar walk (coinstall.artifacts.debtar) against the real dpkg.

Ground truth is dpkg 1.21's own unpacker: each crafted package is unpacked by
``dpkg --root=<scratch> --unpack`` into an empty scratch root (the packages have no maintainer
scripts), and coinstall must accept exactly what dpkg accepts and list exactly the paths dpkg
writes.  The pinned bookworm .debs are walked both ways: by coinstall and by :mod:`tarfile`
over ``dpkg-deb --fsys-tarfile`` (they hold no header type where the two differ).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import hostile
from coinstall.artifacts import debtar
from coinstall.artifacts.base import ArtifactError, safe_path
from coinstall.artifacts.deb import DebReader

DPKG = shutil.which("dpkg")
pytestmark = pytest.mark.skipif(DPKG is None, reason="dpkg is not installed")


def _tar(
    entries: list[tarfile.TarInfo], data: dict[str, bytes], fmt: int = tarfile.GNU_FORMAT
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for ti in entries:
            tf.addfile(ti, io.BytesIO(data.get(ti.name, b"")) if ti.isreg() else None)
    return buf.getvalue()


def _file(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = len(data), mode, 1_700_000_000
    return ti, data


def _dir(name: str) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
    return ti


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, target, 0o777
    return ti


def _build(
    fmt: int, files: list[tuple[tarfile.TarInfo, bytes]], extra: list[tarfile.TarInfo] | None = None
) -> bytes:
    entries = [_dir("./")]
    seen = {"."}
    for ti in [t for t, _ in files] + (extra or []):
        parts = ti.name.split("/")[:-1]
        for n in range(2, len(parts) + 1):  # dpkg creates no directory the archive lacks
            d = "/".join(parts[:n])
            if d not in seen:
                seen.add(d)
                entries.append(_dir(d + "/"))
    entries += [ti for ti, _ in files] + (extra or [])
    return _tar(entries, {ti.name: d for ti, d in files}, fmt)


def _retype(tar: bytes, member: int, kind: bytes) -> bytes:
    """``tar`` with the type flag of its ``member``-th header block changed (checksum redone)."""
    out = bytearray(tar)
    off = 0
    for _ in range(member):
        size = int(out[off + 124 : off + 136].strip(b" \0") or b"0", 8)
        off += 512 + (-(-size // 512)) * 512
    out[off + 156 : off + 157] = kind
    out[off + 148 : off + 156] = b" " * 8
    out[off + 148 : off + 156] = b"%06o\0 " % sum(out[off : off + 512])
    return bytes(out)


LONG = "./usr/share/" + "/".join(["d" * 60] * 3) + "/long-name-" + "x" * 40 + ".txt"
PREFIXED = "./usr/share/" + "p" * 90 + "/" + "q" * 30 + ".txt"


def _cases() -> dict[str, bytes]:
    plain = [
        _file("./usr/share/a.txt", b"alpha\n"),
        _file("./usr/share/run", b"#!/bin/sh\n", 0o755),
    ]
    cases = {
        "gnu-long-names": _build(
            tarfile.GNU_FORMAT,
            [*plain, _file(LONG, b"long\n")],
            [
                _symlink("./usr/share/" + "l" * 120, "a.txt"),
                _symlink("./usr/share/ln", "../" * 40 + "usr/share/a.txt"),
            ],
        ),
        "ustar-prefix": _build(tarfile.USTAR_FORMAT, [*plain, _file(PREFIXED, b"prefixed\n")]),
        "pax-header": _build(tarfile.PAX_FORMAT, [*plain, _file(LONG, b"long\n")]),
        "contiguous-type-7": _retype(_build(tarfile.GNU_FORMAT, plain), 3, b"7"),
        "sparse-type-S": hostile.sparse_tar("./usr/share/sparse.bin", 1 << 20),
    }
    bad = bytearray(cases["gnu-long-names"])
    bad[512 * 3 + 10] ^= 0x01  # a name byte of the 4th header: its checksum no longer holds
    cases["bad-checksum"] = bytes(bad)
    whole = cases["gnu-long-names"]
    cases["truncated-header"] = whole[: 512 * 2 + 100]  # "./" and "./usr/" hold no data
    cases["truncated-member"] = whole[: whole.index(b"alpha\n") + 3]
    # a global PAX header first (tarfile writes one when pax_headers= is given)
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "global"}
    ) as tf:
        tf.addfile(_dir("./"))
    cases["pax-global"] = buf.getvalue()
    return cases


def _deb(tmp: Path, name: str, data_tar: bytes) -> Path:
    control = (
        b"Package: crafted\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\n"
        b"Description: crafted\n test\n"
    )
    p = tmp / f"crafted-{name}_1.0_all.deb"
    p.write_bytes(hostile.deb(hostile.tar_gz([("./control", control)]), data_tar, "data.tar"))
    return p


def _dpkg_unpack(deb: Path, tmp: Path) -> tuple[bool, set[str], str]:
    """(accepted, the paths dpkg wrote below the scratch root, dpkg's messages)."""
    root = tmp / f"root-{deb.stem}"
    (root / "var/lib/dpkg/info").mkdir(parents=True)
    (root / "var/lib/dpkg/updates").mkdir()
    (root / "var/lib/dpkg/status").touch()
    r = subprocess.run(
        [
            DPKG or "dpkg",
            f"--root={root}",
            "--force-not-root",
            "--force-script-chrootless",
            "--no-triggers",
            "--force-depends",
            "--unpack",
            str(deb),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    paths = set()
    for dirpath, dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == "var" or rel.startswith("var/"):
            continue
        for n in dirs + files:
            p = os.path.normpath(os.path.join(rel, n))
            if not p.startswith("var"):
                paths.add(p)
    return r.returncode == 0, paths, r.stderr


def _coinstall(deb: Path) -> tuple[bool, set[str], str]:
    try:
        reader = DebReader(str(deb))
        paths = {m.path for m in reader.members(lambda p, s: False)}
    except ArtifactError as exc:
        return False, set(), str(exc)
    return True, paths, ""


EXPECT_REFUSED = {
    "pax-header",
    "pax-global",
    "contiguous-type-7",
    "sparse-type-S",
    "bad-checksum",
    "truncated-header",
    "truncated-member",
}


@pytest.mark.parametrize("case", sorted(_cases()))
def test_accepts_what_dpkg_unpacks(case: str, tmp_path: Path) -> None:
    deb = _deb(tmp_path, case, _cases()[case])
    d_ok, d_paths, d_err = _dpkg_unpack(deb, tmp_path)
    c_ok, c_paths, c_err = _coinstall(deb)
    assert d_ok == (case not in EXPECT_REFUSED), d_err
    assert c_ok == d_ok, (c_err, d_err)
    if d_ok:
        # dpkg writes no "." and skips nothing coinstall lists
        assert c_paths == d_paths
    else:
        assert c_err, d_err


@pytest.mark.parametrize(
    "case,message",
    [
        ("pax-header", "unsupported PAX tar header type 'x' (dpkg cannot unpack it)"),
        ("pax-global", "unsupported PAX tar header type 'g'"),
        ("contiguous-type-7", "unknown tar header type '7'"),
        ("sparse-type-S", "unsupported GNU tar header type 'S'"),
        ("bad-checksum", "invalid tar header checksum"),
        ("truncated-header", "partially read tar header"),
        ("truncated-member", "truncated member"),
    ],
)
def test_refusal_names_the_reason(case: str, message: str, tmp_path: Path) -> None:
    ok, _, err = _coinstall(_deb(tmp_path, case, _cases()[case]))
    assert not ok and message in err, err


def test_long_name_above_path_max_is_refused(tmp_path: Path) -> None:
    ti = tarfile.TarInfo("./usr/share/" + "n" * 5000)
    tar = _tar([_dir("./"), ti], {ti.name: b""})
    ok, _, err = _coinstall(_deb(tmp_path, "huge-name", tar))
    assert not ok and "long name or link is too big" in err, err


def test_member_claiming_more_than_the_limit(tmp_path: Path) -> None:
    """A regular member whose header claims 10 GB over 512 stored bytes: the member-mb limit,
    before anything is read."""
    ti = tarfile.TarInfo("./usr/share/claims.bin")
    ti.size = 10 << 30
    tar = _dir("./").tobuf(tarfile.GNU_FORMAT) + ti.tobuf(tarfile.GNU_FORMAT) + b"x" * 512
    ok, _, err = _coinstall(_deb(tmp_path, "claims", tar))
    assert not ok and "limit member-mb" in err, err


def test_corpus_debs_walk_as_tarfile_reads_them(corpus_debs: dict[str, Path]) -> None:
    """Every pinned bookworm .deb: the same entries (name, type, mode, size, mtime, link
    target, first bytes) as tarfile over ``dpkg-deb --fsys-tarfile``."""
    kinds = {
        tarfile.REGTYPE: "file",
        tarfile.AREGTYPE: "file",
        tarfile.DIRTYPE: "dir",
        tarfile.SYMTYPE: "symlink",
        tarfile.LNKTYPE: "hardlink",
    }
    assert corpus_debs
    for name, path in sorted(corpus_debs.items()):
        raw = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(path)], capture_output=True, check=True, timeout=120
        ).stdout
        want = []
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
            for ti in tf:
                p = safe_path(ti.name)
                if not p:
                    continue
                head = b""
                if ti.isreg():
                    fh = tf.extractfile(ti)
                    assert fh is not None
                    head = fh.read(512)
                link = (
                    ti.linkname
                    if ti.issym()
                    else (safe_path(ti.linkname) or ti.linkname)
                    if ti.islnk()
                    else None
                )
                want.append(
                    (
                        p,
                        kinds[ti.type],
                        ti.mode & 0o7777,
                        ti.size if ti.isreg() else 0,
                        int(ti.mtime),
                        link,
                        head,
                    )
                )
        got = [
            (m.path, m.type, m.mode, m.size, m.mtime, m.link_target, m.head)
            for m in DebReader(str(path)).members(lambda p, s: False)
        ]
        assert got == want, name


def test_canonical_numbers_read_as_field_by_field(corpus_debs: dict[str, Path]) -> None:
    """The numeric fields read in one match (``debtar._CANONICAL``, the form GNU tar and
    dpkg-deb write) give what the field-by-field read gives, on every header of the pinned
    .debs (all of which have that form)."""
    seen = 0
    for path in corpus_debs.values():
        raw = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(path)], capture_output=True, check=True, timeout=120
        ).stdout
        pos = 0
        while pos + 512 <= len(raw) and raw[pos]:
            block = raw[pos : pos + 512]
            fields = debtar._CANONICAL.fullmatch(block, 100, 156)
            assert fields is not None, (path.name, pos)
            bits, size, mtime, total = debtar._numbers(*debtar._HEADER.unpack(block)[1:7])
            fast = [int(fields[n], 8) for n in (1, 2, 3, 4)]
            assert (fast[0] & 0o7777, *fast[1:]) == (bits, size, mtime, total)
            assert debtar.decode_header(block)[2:5] == (bits, size, mtime)
            seen += 1
            pos += 512 + -(-size // 512) * 512
    assert seen > 1000


def _respelled(block: bytes, at: int, field: bytes, checksum: bytes = b"%06o\0 ") -> bytes:
    """``block`` with ``field`` written at byte ``at`` and its checksum made again."""
    out = bytearray(block)
    out[at : at + len(field)] = field
    out[148:156] = b" " * 8
    out[148:156] = (checksum.decode() % sum(out)).encode()
    return bytes(out)


def test_other_number_spellings_decode_the_same() -> None:
    """Blank-padded, NUL-less, base-256 and seven-digit-checksum spellings, which dpkg's
    tar_atoul() reads too, leave the one-match form and decode to the same values."""
    ti = tarfile.TarInfo("./usr/share/doc/x")
    ti.size, ti.mode, ti.mtime = 1234, 0o644, 1_700_000_000
    block = ti.tobuf(tarfile.GNU_FORMAT)[:512]
    want = debtar.decode_header(block)
    assert debtar._CANONICAL.fullmatch(block, 100, 156) is not None
    for at, field, chk in [
        (100, b"    644\0", b"%06o\0 "),  # mode, leading blanks
        (100, b"0000644 ", b"%06o\0 "),  # mode ended by a blank
        (124, b"\x80" + (1234).to_bytes(11, "big"), b"%06o\0 "),  # size, base-256
        (136, b"%011o " % 1_700_000_000, b"%06o\0 "),  # mtime ended by a blank
        (148, b"", b"%07o\0"),  # checksum of seven digits and a NUL
    ]:
        other = _respelled(block, at, field, chk)
        assert debtar._CANONICAL.fullmatch(other, 100, 156) is None
        assert debtar.decode_header(other) == want


def test_check_reports_dpkg_refusal_as_one_line(tmp_path: Path) -> None:
    deb = _deb(tmp_path, "pax-header", _cases()["pax-header"])
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "coinstall",
            "check",
            "--no-installed",
            "--format",
            "json",
            str(deb),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    [error] = doc["errors"]
    assert error["path"] == str(deb)
    assert error["message"].startswith("data.tar: ")
    assert error["message"].endswith(
        ": unsupported PAX tar header type 'x' (dpkg cannot unpack it)"
    )
