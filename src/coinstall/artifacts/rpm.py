"""RPM package reader (rpm file format v3/v4: lead, signature, header, payload).

The header's values are decoded with the ``rpmfile`` library (:func:`rpmfile.headers.extract_data`,
:data:`rpmfile.headers.rtags`); its index is walked and checked here first.  Glue, not reuse:
``rpmfile.headers.get_headers`` trusts every count an index entry claims (``split(b"\0",
count)`` over the rest of the store for each entry, ``struct`` formats of ``count`` fields), so
4,000 entries claiming 2**30 strings over a 64 KB store took 2 GB.  Here every size and count is
checked against the bytes that can back it before anything is allocated, with rpm's own rules
(``lib/header.c`` ``hdrblobVerifyInfo``, ``hdrblobInit``), and only the tags this reader uses
are decoded, each from its own slice of the store.  The
cpio payload is decompressed as a stream (gzip, xz/lzma, bzip2, zstd:
:func:`coinstall.artifacts.compression.open_decompressed`) and walked here, entry by entry,
in one pass.  Glue, not reuse:
``rpmfile.RPMFile`` lists members first and then seeks back for each one, which decompresses
the payload again for every member read, and reads a zstd payload whole into memory.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import IO, cast

from rpmfile.headers import extract_data, rtags

from coinstall.artifacts import limits as limits_mod
from coinstall.artifacts.base import (
    ArtifactError,
    ArtifactInfo,
    Member,
    WantContent,
    WantHead,
    exc_line,
    member_type,
    safe_path,
)
from coinstall.artifacts.compression import kind_of_rpm_payload, open_decompressed
from coinstall.artifacts.limits import (
    NAME_MAX,
    Budget,
    CountingReader,
    Limits,
    MemberData,
    file_members,
    read_member,
)

_MB = 1 << 20
_LEAD_MAGIC = b"\xed\xab\xee\xdb"
#: RPMSENSE_* comparison bits (rpm ``lib/rpmds.h``).
_SENSE_LESS, _SENSE_GREATER, _SENSE_EQUAL = 0x02, 0x04, 0x08
#: "newc" cpio header: magic + 13 eight-digit hex fields (cpio(5)).
_CPIO_HEADER = 110
#: Header tags this reader uses; rpmfile gives a ``str`` ("could not extract N") instead of
#: bytes/int/list for an entry whose type it does not know (rpm ``lib/rpmtag.h`` defines types
#: 0-9; anything else is a corrupt header).
_USED_TAGS: tuple[str, ...] = (
    "name",
    "version",
    "release",
    "arch",
    "archive_compression",
    "provides",
    "provideflags",
    "provideversion",
    "requirename",
    "requireflags",
    "requireversion",
    "vendor",
    "distribution",
    "sourcerpm",
    "os",
    "packager",
    "url",
    "buildhost",
)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _relations(names: object, flags: object, versions: object) -> list[str]:
    """``name [op version]`` strings from an RPM dependency triple of header tags."""
    out = []
    ns, fs, vs = _list(names), _list(flags), _list(versions)
    for i, n in enumerate(ns):
        f = int(fs[i]) if i < len(fs) else 0  # type: ignore[call-overload]
        v = _text(vs[i]) if i < len(vs) else ""
        op = ""
        if f & _SENSE_LESS:
            op = "<"
        elif f & _SENSE_GREATER:
            op = ">"
        if f & _SENSE_EQUAL:
            op += "="
        out.append(f"{_text(n)} {op} {v}" if op and v else _text(n))
    return out


#: rpm's header magic and version (``lib/header.c`` ``rpm_header_magic``).
_HEADER_MAGIC = b"\x8e\xad\xe8\x01"
#: Bytes per element of the fixed-size entry types (rpm ``lib/header.c`` ``typeSizes``; types
#: 6, 8, 9 are NUL-terminated strings), and their alignment (``typeAlign``).
_TYPE_SIZE = {0: 0, 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1}
_TYPE_ALIGN = {3: 2, 4: 4, 5: 8}
_STRING, _STRING_ARRAY, _I18NSTRING = 6, 8, 9
#: rpm ``lib/header_internal.h`` ``hdrchkTags``: at most 0xffff index entries.
_MAX_ENTRIES = 0xFFFF
#: Memory charged per decoded element (a list slot and a small ``bytes``), against
#: ``metadata-mb``, before the element is made.
_ELEMENT_COST = 64
#: Region tags (``HEADERIMAGE``, ``HEADERSIGNATURES``, ``HEADERIMMUTABLE``; ``hregions.md``).
_REGION_TAGS = (61, 62, 63)
_USED_NUMBERS = {tag: name for tag, name in rtags.items() if name in _USED_TAGS}


def _header_block(
    fh: IO[bytes], pos: int, file_size: int, limits: Limits, which: str, decode: bool
) -> tuple[int, dict[str, object]]:
    """Read and check one header structure at ``pos``; decode the used tags if ``decode``.

    Returns:
        the offset just past the structure, and ``{tag name: value}`` (rpmfile's decoded
        values: ``bytes``, a list of ``bytes``, an int or a tuple of ints).

    Raises:
        ArtifactError: any count or size the bytes cannot back (rpm ``hdrblobInit``,
            ``hdrblobVerifyInfo``: entry count, store size, type, offset, alignment, count),
            a store above ``metadata-mb``, a used tag twice.
    """
    fh.seek(pos)
    intro = fh.read(16)
    if len(intro) < 16 or intro[:4] != _HEADER_MAGIC:
        raise ArtifactError(f"corrupt RPM header: no {which} header at offset {pos}")
    il, dl = struct.unpack("!II", intro[8:16])
    if il > _MAX_ENTRIES:
        raise ArtifactError(
            f"corrupt RPM header: {which} header claims {il} entries (rpm allows {_MAX_ENTRIES})"
        )
    if dl > limits.metadata_mb * _MB:
        raise ArtifactError(
            f"{which} header: {dl // _MB} MB of data, above the "
            f"{limits.metadata_mb} MB read whole (limit metadata-mb)"
        )
    end = pos + 16 + 16 * il + dl
    if end > file_size:
        raise ArtifactError(
            f"corrupt RPM header: {which} header claims {16 * il + dl} bytes, "
            f"the file holds {max(file_size - pos - 16, 0)} after it"
        )
    index = fh.read(16 * il)
    store = fh.read(dl)
    if len(index) < 16 * il or len(store) < dl:
        raise ArtifactError(f"corrupt RPM header: {which} header truncated")
    out: dict[str, object] = {}
    budget = limits.metadata_mb * _MB
    for i, (tag, ty, off, count) in enumerate(struct.iter_unpack("!IIII", index)):
        where = f"corrupt RPM header: {which} header entry {i} (tag {tag})"
        if ty > _I18NSTRING:
            name = _USED_NUMBERS.get(tag, str(tag))
            raise ArtifactError(f"corrupt RPM header: tag {name} has an unknown entry type")
        if off > dl or count < 1 or count > dl - off + (ty == 0):
            raise ArtifactError(f"{where}: {count} values at offset {off} of a {dl}-byte store")
        if off % _TYPE_ALIGN.get(ty, 1):
            raise ArtifactError(f"{where}: misaligned")
        size = _TYPE_SIZE.get(ty)
        if size is not None and off + size * count > dl:
            raise ArtifactError(
                f"{where}: {count} values of {size} bytes at offset {off} of a {dl}-byte store"
            )
        if ty == _STRING and count != 1:
            raise ArtifactError(f"{where}: a string entry with {count} values")
        if (i == 0 and tag in _REGION_TAGS) or not decode or tag not in _USED_NUMBERS:
            continue
        name = _USED_NUMBERS[tag]
        if name in out:
            raise ArtifactError(f"corrupt RPM header: tag {name} twice")
        budget -= count * _ELEMENT_COST
        if budget < 0:
            raise ArtifactError(
                f"{which} header: tag {name} claims {count} values, above "
                f"what {limits.metadata_mb} MB holds (limit metadata-mb)"
            )
        if size is not None:
            stop = off + size * count
        else:  # count NUL-terminated strings, each found before the next is looked for
            stop = off
            for _ in range(count):
                nul = store.find(b"\0", stop)
                if nul < 0:
                    raise ArtifactError(f"{where}: {count} strings claimed, the store ends first")
                stop = nul + 1
        budget -= stop - off
        out[name] = extract_data(ty, 0, count, store[off:stop])
    return end, out


def read_header(fh: IO[bytes], file_size: int, limits: Limits) -> tuple[int, dict[str, object]]:
    """The signature and main headers after the 96-byte lead (rpm ``docs/manual/format.md``):
    the payload's offset and the main header's used tags (see :func:`_header_block`).

    Raises:
        ArtifactError: a header whose counts or sizes the file cannot back.
    """
    pos, _ = _header_block(fh, 96, file_size, limits, "signature", decode=False)
    pos += -pos % 8  # the signature header is padded to 8 bytes (rpm lib/signature.c)
    return _header_block(fh, pos, file_size, limits, "main", decode=True)


class RpmReader:
    """Reader for one ``.rpm`` file.

    Raises:
        ArtifactError: from the constructor if the file does not start with the RPM lead or
            its header cannot be parsed.
    """

    def __init__(self, path: str, limits: Limits | None = None) -> None:
        self.problems: list[str] = []
        self._limits = limits or limits_mod.default()
        try:
            self._fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed in members()
            self._size = os.fstat(self._fh.fileno()).st_size
        except OSError as exc:
            raise ArtifactError(exc.strerror or str(exc)) from None
        try:
            self._read_header(path)
        except BaseException:
            self._fh.close()
            raise

    def _read_header(self, path: str) -> None:
        if self._fh.read(4) != _LEAD_MAGIC:
            raise ArtifactError("not an RPM package (bad lead magic)")
        self._fh.seek(0)
        try:
            self._payload_offset, h = read_header(self._fh, self._size, self._limits)
        except ArtifactError:
            raise
        except Exception as exc:  # rpmfile's decoders raise bare errors on corrupt values
            raise ArtifactError(f"corrupt RPM header: {exc_line(exc)}") from None
        for tag in _USED_TAGS:
            if isinstance(h.get(tag), str):
                raise ArtifactError(f"corrupt RPM header: tag {tag} has an unknown entry type")
        try:
            self._info(path, h)
        except (ValueError, TypeError, IndexError) as exc:
            raise ArtifactError(f"corrupt RPM header: {exc}") from None

    def _info(self, path: str, h: dict[str, object]) -> None:
        self._headers = h
        self._compression = _text(h.get("archive_compression", b"gzip"))
        keys = ("vendor", "distribution", "sourcerpm", "os", "packager", "url", "buildhost")
        fields: dict[str, str] = {k: _text(h[k]) for k in keys if k in h}
        fields["payload_compression"] = self._compression
        version = _text(h.get("version", ""))
        release = _text(h.get("release", ""))
        self.info = ArtifactInfo(
            path=path,
            format="rpm",
            name=_text(h.get("name", "")) or None,
            version=f"{version}-{release}" if release else version or None,
            arch=_text(h.get("arch", "")) or None,
            provides=_relations(h.get("provides"), h.get("provideflags"), h.get("provideversion")),
            requires=_relations(
                h.get("requirename"), h.get("requireflags"), h.get("requireversion")
            ),
            fields=fields,
        )

    def _payload(self) -> IO[bytes]:
        self._fh.seek(self._payload_offset)
        kind = kind_of_rpm_payload(self._compression)
        if kind is None:
            raise ArtifactError(f"unsupported payload compression {self._compression!r}")
        return open_decompressed(self._fh, kind)

    def members(
        self,
        want_content: WantContent,
        digests: bool = False,
        want_head: WantHead | None = None,  # a stream: every head is read anyway
    ) -> Iterator[Member]:
        """Yield each cpio entry of the payload once, streaming."""
        budget = Budget(self._limits, self._size)
        try:
            payload = CountingReader(self._payload(), budget, "payload")
            yield from self._walk(cast(IO[bytes], payload), want_content, digests)
        except ArtifactError:
            raise
        except Exception as exc:  # the decompressors raise open-ended errors on damage
            raise ArtifactError(f"payload: truncated or corrupt ({exc_line(exc)})") from None
        finally:
            self._fh.close()

    def _walk(self, cpio: IO[bytes], want_content: WantContent, digests: bool) -> Iterator[Member]:
        pos = 0
        links: dict[tuple[int, int, int], list[tuple[str, int, int]]] = {}
        lim = self._limits

        def read_exact(n: int) -> bytes:
            nonlocal pos
            buf = bytearray()
            while len(buf) < n:
                chunk = cpio.read(min(n - len(buf), 1 << 20))
                if not chunk:
                    raise ArtifactError("payload: truncated cpio archive")
                buf += chunk
            pos += n
            return bytes(buf)

        class _Data:
            """The next ``n`` bytes of the payload as a stream, for :func:`read_member`."""

            def __init__(self, n: int) -> None:
                self.left = n

            def read(self, n: int = -1) -> bytes:
                nonlocal pos
                n = self.left if n < 0 else min(n, self.left)
                data = cpio.read(n) if n else b""
                self.left -= len(data)
                pos += len(data)
                return data

        def read_data(path: str, size: int, want: bool) -> MemberData:
            data = _Data(size)
            out = read_member(
                cast(IO[bytes], data), path, size, want=want, digest=digests, limits=lim
            )
            skip(data.left)  # what read_member did not need (past the head)
            return out

        def skip(n: int) -> None:
            nonlocal pos
            while n > 0:
                chunk = cpio.read(min(n, 1 << 20))
                if not chunk:
                    raise ArtifactError("payload: truncated cpio archive")
                n -= len(chunk)
                pos += len(chunk)

        while True:
            hdr = read_exact(_CPIO_HEADER)
            if hdr[:6] not in (b"070701", b"070702"):
                raise ArtifactError(f"payload: bad cpio magic {hdr[:6]!r}")
            try:
                f = [int(hdr[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
            except ValueError:
                raise ArtifactError("payload: corrupt cpio header") from None
            mode, mtime, filesize, namesize = f[1], f[5], f[6], f[11]
            if namesize > NAME_MAX:
                raise ArtifactError(f"payload: cpio name of {namesize} bytes")
            name = read_exact(namesize)[:-1].decode("utf-8", "surrogateescape")
            skip((4 - pos % 4) % 4)
            if name == "TRAILER!!!":
                for names in links.values():  # sets whose data never came: keep the names
                    for n, m, t in names:
                        yield Member(path=n, type="hardlink", mode=m, size=0, mtime=t)
                return
            path = safe_path(name)
            kind = member_type(mode)
            if path is None or not path:
                if path is None:
                    self.problems.append(f"{name}: member path leaves the package")
                skip(filesize)
                skip((4 - pos % 4) % 4)
                continue
            if kind == "file" and f[4] > 1:
                # A hard-link set (cpio(5) "newc"): every name has the same inode, only the
                # last one carries the data.  Hold the others until it comes, then yield
                # each name as a regular file with that data (rpm -qlv lists them so too).
                key = (f[0], f[7], f[8])  # inode, device major, minor
                links.setdefault(key, []).append((path, mode & 0o7777, mtime))
                if len(links[key]) < f[4] and not filesize:
                    continue
                names = links.pop(key)
                want = any(want_content(n, filesize) for n, _, _ in names)
                got = read_data(path, filesize, want)
                yield from file_members(got, filesize, names)
            elif kind == "file":
                got = read_data(path, filesize, want_content(path, filesize))
                yield from file_members(got, filesize, [(path, mode & 0o7777, mtime)])
            elif kind == "symlink":
                if filesize > NAME_MAX:
                    raise ArtifactError(f"{path}: symbolic link target of {filesize} bytes")
                target = read_exact(filesize).decode("utf-8", "surrogateescape")
                yield Member(
                    path=path,
                    type="symlink",
                    mode=mode & 0o7777,
                    size=0,
                    mtime=mtime,
                    link_target=target,
                )
            else:
                skip(filesize)
                if kind == "dir":
                    yield Member(path=path, type="dir", mode=mode & 0o7777, size=0, mtime=mtime)
            skip((4 - pos % 4) % 4)
