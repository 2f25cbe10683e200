"""Hostile-input scaffolding shared by tests/test_bad_input.py and tests/test_fuzz.py: a child
runner that measures the child's peak memory, seeded mutators, and builders of crafted bombs.

The builders write formats by hand (zip records, tar headers, RPM lead and header) because the
point is to write what no honest library writes: sizes that lie, sparse members, overlapping
zip entries, header entries of unknown type.  References: PKWARE APPNOTE.TXT 6.3.9 (zip),
POSIX.1-1988/GNU tar ``S`` sparse headers (tarfile.py ``frombuf``), rpm's
``docs/manual/format.md`` (lead, header structure), cpio(5) "newc".
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import tarfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import zstandard

COINSTALL = [sys.executable, "-m", "coinstall"]

#: Runs one command as a grandchild and reports its exit status, output and peak RSS: a fresh
#: process per measurement, so ``RUSAGE_CHILDREN`` sees that command alone (the test process's
#: own children's maxima would mix earlier runs in).
_MEASURE = r"""
import json, resource, subprocess, sys
timeout = float(sys.argv[1])
try:
    p = subprocess.run(sys.argv[2:], capture_output=True, timeout=timeout)
    rc, out, err = p.returncode, p.stdout, p.stderr
except subprocess.TimeoutExpired as e:
    rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(json.dumps({"rc": rc, "out": out.decode("utf-8", "replace"),
                             "err": err.decode("utf-8", "replace"), "maxrss_kb": kb}))
"""


@dataclass
class Run:
    """One coinstall run: exit status (``"timeout"`` on a hang), stdout, stderr, peak RSS."""

    rc: int | str
    out: str
    err: str
    maxrss_mb: float


def run(*args: str, timeout: float = 60, command: Sequence[str] = tuple(COINSTALL)) -> Run:
    """``coinstall ARGS`` in a child, killed after ``timeout`` seconds; peak memory measured
    with ``resource.getrusage(RUSAGE_CHILDREN)`` in a wrapper process of its own.  ``command``
    is how coinstall is started (``python -m coinstall``, or a ``python -c`` that sets a
    constant first)."""
    p = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(timeout), *command, *args],
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )
    d = json.loads(p.stdout)
    return Run(d["rc"], d["out"], d["err"], d["maxrss_kb"] / 1024)


#: Runs coinstall's command line once per entry of a JSON list (``{"args": [...],
#: "lua_timeout": seconds or null}``) in ONE process, for a command that takes one target
#: (``spec port``): imports, start-up and the parse worker are paid once, not per target.
#: Each run gets its own ``sys.stdout``/``sys.stderr`` (what a forked parse worker writes to
#: file descriptors 1 and 2 bypasses them and lands in the process's own output, which
#: :func:`run_many` returns whole); its exit status is click's ``SystemExit`` code.
_MANY = r"""
import io, json, sys, time
from coinstall.cli import main
results = []
jobs = json.load(open(sys.argv[1]))
if any(job["lua_timeout"] is not None for job in jobs):
    import coinstall.spec.read as read
    default = read.LUA_TIMEOUT
for job in jobs:
    if job["lua_timeout"] is not None or "read" in globals():
        read.LUA_TIMEOUT = default if job["lua_timeout"] is None else job["lua_timeout"]
    out, err = io.TextIOWrapper(io.BytesIO()), io.TextIOWrapper(io.BytesIO())
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    t0 = time.monotonic()
    try:
        main(job["args"], prog_name="coinstall")
        rc = 0
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.stdout, sys.stderr = saved
    took = time.monotonic() - t0
    texts = []
    for f in (out, err):
        f.flush()
        texts.append(f.buffer.getvalue().decode("utf-8", "replace"))
    results.append({"rc": rc, "out": texts[0], "err": texts[1], "seconds": took})
json.dump(results, open(sys.argv[2], "w"))
"""


@dataclass
class Many:
    """The runs of :func:`run_many`, in order, and the process as a whole (its exit status,
    ``"timeout"`` on a hang, whatever reached its real stdout/stderr, its peak memory)."""

    runs: list[tuple[Run, float]]
    whole: Run


def run_many(
    jobs: Sequence[tuple[Sequence[str], float | None]], workdir: Path, timeout: float
) -> Many:
    """``coinstall ARGS`` for each ``(ARGS, Lua budget or None)`` of ``jobs``, all in one child
    process (:data:`_MANY`, measured like :func:`run`; None: the default budget,
    :data:`coinstall.spec.read.LUA_TIMEOUT`); per run its :class:`Run` (``maxrss_mb`` is the
    whole process's) and the seconds it took."""
    spec = workdir / "run-many.json"
    answer = workdir / "run-many-answers.json"
    spec.write_text(json.dumps([{"args": list(a), "lua_timeout": t} for a, t in jobs]))
    whole = run(str(spec), str(answer), timeout=timeout, command=(sys.executable, "-c", _MANY))
    if whole.rc != 0:
        return Many([], whole)
    runs = [
        (Run(d["rc"], d["out"], d["err"], whole.maxrss_mb), d["seconds"])
        for d in json.loads(answer.read_text())
    ]
    spec.unlink()
    answer.unlink()
    return Many(runs, whole)


# --- mutation ------------------------------------------------------------------------------


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One mutant of ``data``: bytes flipped, truncated, a chunk duplicated or removed.

    Returns:
        ``(what was done, the bytes)``.
    """
    b = bytearray(data)
    op = rng.choice(("flip", "flip", "truncate", "duplicate", "remove"))
    n = len(b)
    if op == "flip":
        k = rng.randint(1, 8)
        for _ in range(k):
            o = rng.randrange(n)
            b[o] ^= rng.randint(1, 255)
        return f"flip {k}", bytes(b)
    if op == "truncate":
        o = rng.randrange(n)
        return f"truncate at {o}", bytes(b[:o])
    start = rng.randrange(n)
    length = rng.randint(1, max(1, min(4096, n - start)))
    if op == "duplicate":
        at = rng.randrange(n)
        return f"duplicate {start}+{length} at {at}", bytes(
            b[:at] + b[start : start + length] + b[at:]
        )
    return f"remove {start}+{length}", bytes(b[:start] + b[start + length :])


# --- compressed streams of zeros without compressing gigabytes -----------------------------


def deflate_zeros(size: int, *, raw: bool = True) -> bytes:
    """A deflate stream (raw, or zlib-wrapped when ``raw`` is False) of ``size`` zero bytes,
    made from one compressed MiB repeated (each block ends with ``Z_FULL_FLUSH``, which makes
    the next block independent and byte-aligned), so a gigabyte costs milliseconds."""
    mib = 1 << 20
    assert size % mib == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15 if raw else 15)
    first = c.compress(b"\0" * mib) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(b"\0" * mib) + c.flush(zlib.Z_FULL_FLUSH)
    return first + again * (size // mib - 1) + c.flush(zlib.Z_FINISH)


def gzip_zeros(prefix: bytes, size: int) -> bytes:
    """A gzip member holding ``prefix`` then zeros up to ``size`` bytes (``size`` a multiple
    of 1 MiB), CRC left zero: whoever reads it to the end must fail, which a limit stops
    first."""
    mib = 1 << 20
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = c.compress(prefix + b"\0" * (mib - len(prefix))) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(b"\0" * mib) + c.flush(zlib.Z_FULL_FLUSH)
    body += again * (size // mib - 1) + c.flush(zlib.Z_FINISH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + body + struct.pack("<II", 0, size & 0xFFFFFFFF)


# --- zip -------------------------------------------------------------------------------------


def zip_raw(entries: list[tuple[str, bytes, int, int]], *, overlap: int = 0) -> bytes:
    """A zip archive written record by record (APPNOTE 4.3.7, 4.3.12, 4.3.16).

    Args:
        entries: ``(name, stored data, method 0/8, claimed uncompressed size)``; the CRC is
            right for stored (method 0) entries and for deflated ones up to 256 MB (which
            hold zeros here), 0 for larger ones (bombs: a limit must stop them first).
        overlap: how many more central-directory entries point at the first entry's local
            header (a non-recursive "overlapping files" bomb, Fifield 2019; zipfile insists
            that the names of the directory and the local header agree, so they repeat it).
    """
    out = bytearray()
    central = bytearray()
    offsets = []
    for name, data, method, usize in entries:
        nb = name.encode("utf-8", "surrogateescape")
        offsets.append(len(out))
        crc = _crc(data, method, usize)
        out += (
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), usize, len(nb), 0
            )
            + nb
            + data
        )
    named = [(e[0], e[1], e[2], e[3], off) for e, off in zip(entries, offsets, strict=True)]
    first = entries[0]
    named += [(first[0], first[1], first[2], first[3], offsets[0])] * overlap
    for name, data, method, usize, off in named:
        nb = name.encode("utf-8", "surrogateescape")
        crc = _crc(data, method, usize)
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                0x0314,
                20,
                0,
                method,
                0,
                0,
                crc,
                len(data),
                usize,
                len(nb),
                0,
                0,
                0,
                0,
                0o100644 << 16,
                off,
            )
            + nb
        )
    cd_off = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(named), len(named), len(central), cd_off, 0
    )
    return bytes(out)


def _crc(data: bytes, method: int, usize: int) -> int:
    if method == 0:
        return zlib.crc32(data)
    if usize > 256 << 20:
        return 0
    crc, mib = 0, b"\0" * (1 << 20)
    for _ in range(usize >> 20):
        crc = zlib.crc32(mib, crc)
    return zlib.crc32(b"\0" * (usize & 0xFFFFF), crc)


def wheel_meta(name: str = "bomb") -> list[tuple[str, bytes, int, int]]:
    """Stored METADATA and WHEEL entries of a pure wheel ``name-1.0``."""
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
    wheel = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    return [
        (f"{name}-1.0.dist-info/METADATA", meta, 0, len(meta)),
        (f"{name}-1.0.dist-info/WHEEL", wheel, 0, len(wheel)),
    ]


# --- ar / tar / .deb -------------------------------------------------------------------------


def ar(members: list[tuple[str, bytes]]) -> bytes:
    """A minimal ar(5) archive."""
    out = b"!<arch>\n"
    for name, data in members:
        hdr = f"{name:<16}{0:<12}{0:<6}{0:<6}{0o100644:<8o}{len(data):<10}`\n".encode()
        out += hdr + data + (b"\n" if len(data) % 2 else b"")
    return out


def tar_gz(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


CONTROL = b"Package: hostile\nVersion: 1.0\nArchitecture: all\n"


def deb(control_tar: bytes, data_tar: bytes, data_name: str = "data.tar.gz") -> bytes:
    return ar([("debian-binary", b"2.0\n"), ("control.tar.gz", control_tar), (data_name, data_tar)])


def sparse_tar(name: str, real_size: int) -> bytes:
    """An uncompressed tar holding one GNU sparse member (type ``S``) of ``real_size`` bytes
    whose only stored data is one 512-byte block: a few KB on disk, gigabytes when read."""
    ti = tarfile.TarInfo(name)
    ti.size = 512
    hdr = bytearray(ti.tobuf(tarfile.GNU_FORMAT))
    hdr[156:157] = b"S"
    hdr[386:398] = tarfile.itn(0, 12, tarfile.GNU_FORMAT)  # sparse[0].offset
    hdr[398:410] = tarfile.itn(512, 12, tarfile.GNU_FORMAT)  # sparse[0].numbytes
    hdr[482:483] = b"\0"  # isextended
    hdr[483:495] = tarfile.itn(real_size, 12, tarfile.GNU_FORMAT)  # realsize
    hdr[148:156] = b" " * 8
    chk = sum(hdr[:512])
    hdr[148:156] = b"%06o\0 " % chk
    return bytes(hdr[:512]) + b"x" * 512 + b"\0" * 1024


# --- RPM -------------------------------------------------------------------------------------


def rpm_header(entries: list[tuple[int, int, bytes, int]]) -> bytes:
    """A header structure (magic, index entries, store): ``(tag, type, data, count)``."""
    index = b""
    store = b""
    for tag, typ, data, count in entries:
        if typ == 4:
            store += b"\0" * (-len(store) % 4)
        index += struct.pack("!iiii", tag, typ, len(store), count)
        store += data
    return (
        b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack("!ii", len(entries), len(store)) + index + store
    )


def rpm(payload: bytes, compressor: str = "zstd", name: str = "hostile") -> bytes:
    """An RPM v3 file: lead, empty signature header, a main header naming the package and
    its payload compressor, then ``payload``."""
    lead = struct.pack("!4sBBhh66shh16s", b"\xed\xab\xee\xdb", 3, 0, 0, 1, name.encode(), 1, 5, b"")
    sig = rpm_header([])
    sig += b"\0" * (-len(sig) % 8)
    main = rpm_header(
        [
            (1000, 6, name.encode() + b"\0", 1),
            (1001, 6, b"1.0\0", 1),
            (1002, 6, b"1\0", 1),
            (1022, 6, b"noarch\0", 1),
            (1124, 6, b"cpio\0", 1),
            (1125, 6, compressor.encode() + b"\0", 1),
        ]
    )
    return lead + sig + main + payload


def cpio_entry(name: str, size: int, mode: int = 0o100644) -> bytes:
    """A "newc" cpio header and name (cpio(5)), padded; the data is the caller's."""
    nb = name.encode() + b"\0"
    fields = [1, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(nb), 0]
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields) + nb
    return hdr + b"\0" * (-len(hdr) % 4)


def zstd_cpio_bomb(size: int) -> bytes:
    """zstd frames of a cpio archive whose one file is ``size`` zero bytes (claimed and real),
    a few hundred KB for a gigabyte: one compressed MiB repeated as independent frames (a zstd
    stream may hold many frames, RFC 8878 section 3.1)."""
    cctx = zstandard.ZstdCompressor(level=3)
    head = cctx.compress(cpio_entry("./usr/lib/python3/dist-packages/big.bin", size))
    mib = cctx.compress(b"\0" * (1 << 20))
    return head + mib * (size >> 20) + cctx.compress(cpio_entry("TRAILER!!!", 0))


def unknown_type_rpm(real: Path) -> bytes:
    """A real RPM with every index entry of its main header given type 0xffff."""
    data = bytearray(real.read_bytes())
    pos = 96
    for which in ("signature", "main"):
        assert data[pos : pos + 3] == b"\x8e\xad\xe8", which
        nindex, hsize = struct.unpack("!ii", data[pos + 8 : pos + 16])
        if which == "main":
            for i in range(nindex):
                at = pos + 16 + 16 * i + 4
                data[at : at + 4] = struct.pack("!I", 0xFFFF)
        pos += 16 + 16 * nindex + hsize
        if which == "signature":
            pos += -pos % 8
    return bytes(data)


def string_array_bomb_rpm(
    entries: int = 4000, store: int = 64 << 10, count: int = 1 << 30
) -> bytes:
    """An RPM whose main header holds ``entries`` STRING_ARRAY entries (type 8), every one at
    offset 0 claiming ``count`` strings over one ``store``-byte store of NULs: ~130 KB on disk
    that rpmfile's ``get_headers`` turned into ``entries`` lists of ``store`` items (2 GB).
    With ``count=store`` every claim is backed by the bytes, and only overlap makes the bomb."""
    lead = struct.pack("!4sBBhh66shh16s", b"\xed\xab\xee\xdb", 3, 0, 0, 1, b"bomb", 1, 5, b"")
    sig = rpm_header([])
    sig += b"\0" * (-len(sig) % 8)
    tags = [1047, 1049, 1050, 1113] + [5000 + i for i in range(entries - 4)]
    index = b"".join(struct.pack("!iiii", tag, 8, 0, count) for tag in tags)
    main = b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack("!ii", entries, store) + index + b"\0" * store
    return lead + sig + main + zstandard.ZstdCompressor().compress(cpio_entry("TRAILER!!!", 0))
