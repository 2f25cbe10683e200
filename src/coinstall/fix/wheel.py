"""A wheel's members in memory, edited and written to a new wheel with a correct RECORD.

The wheel specification (PEP 427, packaging.python.org "Binary distribution format"): RECORD
lists every file with ``sha256=<urlsafe base64 without padding>`` and its size; RECORD itself
(and its signatures) carry no hash.  Rows are made with pypa ``installer.records``.  A wheel
is never changed in place: the new file is written beside its destination, fsynced and
renamed (atomic).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import posixpath
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from installer.records import Hash, RecordEntry

from coinstall.artifacts.base import safe_path
from coinstall.atomic import atomic_open
from coinstall.fix.journal import real_path
from coinstall.fix.model import Edit, Reader

#: Refuse archives claiming more than this in total (bytes): a fixed wheel is built in memory.
MAX_TOTAL = 2 << 30


def _entry(path: str) -> str:
    """The directory entry ``path`` names: its parent directory's :func:`real_path` and its
    own name (an atomic write replaces that entry; a link at the name itself is replaced, not
    written through)."""
    parent, name = os.path.split(os.path.abspath(path))
    return os.path.join(real_path(parent), name)


class WheelError(Exception):
    """The wheel cannot be read or written; one line."""


@dataclass
class _Entry:
    info: zipfile.ZipInfo
    data: bytes


class WheelContents:
    """Every member of a wheel, in archive order."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = entries
        self.by_path = {e.info.filename: e for e in entries}

    @classmethod
    def load(cls, path: str) -> WheelContents:
        """Read the whole wheel.

        Raises:
            WheelError: not a zip, unsafe member names, too large, corrupt.
        """
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
                if sum(i.file_size for i in infos) > MAX_TOTAL:
                    raise WheelError("the wheel claims more than 2 GiB uncompressed")
                entries = []
                for i in infos:
                    if i.is_dir():
                        continue
                    if safe_path(i.filename) != i.filename:
                        raise WheelError(f"{i.filename}: unsafe member name")
                    entries.append(_Entry(i, zf.read(i)))
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise WheelError(f"cannot read the wheel: {exc}") from None
        return cls(entries)

    def _mode(self, p: str) -> int | None:
        e = self.by_path.get(p)
        if e is None:
            return None
        m = e.info.external_attr >> 16
        return m & 0o7777 if m else None

    def reader(self) -> Reader:
        """Read access for fixers."""

        def read(p: str) -> bytes | None:
            e = self.by_path.get(p)
            return e.data if e is not None else None

        # Every directory the members imply, once: exists() is then a set lookup (it was a
        # scan of every member per call, quadratic in a wheel's size; issue 17 item 8).
        dirs = {p.rsplit("/", i)[0] for p in self.by_path for i in range(1, p.count("/") + 1)}

        def exists(p: str) -> bool:
            return p in self.by_path or p.rstrip("/") in dirs

        return Reader(read, exists, self._mode, lambda p: None)

    def _record_path(self) -> str | None:
        for p in self.by_path:
            parts = p.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "RECORD":
                return p
        return None

    def apply(self, edits: Sequence[Edit]) -> list[_Entry]:
        """The members after the edits, in archive order (created files before RECORD)."""
        # Members are kept by position (a rename replaces in place, a removal leaves None):
        # each edit is O(1), not a list search (linear in the number of edits overall).
        entries: list[_Entry | None] = [_Entry(e.info, e.data) for e in self.entries]
        index = {e.info.filename: e for e in entries if e is not None}
        position = {id(e): i for i, e in enumerate(entries)}
        for ed in edits:
            if ed.op == "write":
                assert ed.data is not None
                index[ed.path].data = ed.data
            elif ed.op == "rename":
                assert ed.dest is not None
                old = index.pop(ed.path)
                info = _copy_info(old.info, ed.dest)
                new = _Entry(info, old.data)
                at = position.pop(id(old))
                entries[at] = new
                position[id(new)] = at
                index[ed.dest] = new
            elif ed.op == "remove":
                old = index.pop(ed.path)
                entries[position.pop(id(old))] = None
            elif ed.op == "create":
                assert ed.data is not None
                info = zipfile.ZipInfo(ed.path, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | (ed.mode or 0o644)) << 16
                new = _Entry(info, ed.data)
                position[id(new)] = len(entries)
                entries.append(new)
                index[ed.path] = new
            else:
                raise WheelError(f"{ed.op} is not possible in a wheel ({ed.path})")
        rec = self._record_path()
        record = index.get(rec) if rec is not None else None
        out = [e for e in entries if e is not None and e is not record]
        if record is not None:
            out.append(record)
        return out

    def write(self, output: str, source: str, edits: Sequence[Edit]) -> str:
        """Write the edited wheel to ``output`` (a file, or an existing directory to put it
        in under the source's name) with RECORD recomputed; returns the path written.

        Raises:
            WheelError: no RECORD, or the file cannot be written.
        """
        dest = output
        if os.path.isdir(output):
            dest = os.path.join(output, os.path.basename(source))
        if _entry(dest) == _entry(source):
            raise WheelError("--output names the wheel itself: a wheel is never changed in place")
        entries = self.apply(edits)
        rec = self._record_path()
        if rec is None:
            raise WheelError("the wheel has no .dist-info/RECORD")
        rows = []
        for e in entries:
            p = e.info.filename
            if p == rec or (
                posixpath.dirname(p) == posixpath.dirname(rec)
                and posixpath.basename(p) in ("RECORD.jws", "RECORD.p7s")
            ):
                rows.append(RecordEntry(p, None, None).to_row())
                continue
            digest = hashlib.sha256(e.data).digest()
            h = Hash("sha256", _b64(digest))
            rows.append(RecordEntry(p, h, len(e.data)).to_row())
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        for e in entries:
            if e.info.filename == rec:
                e.data = buf.getvalue().encode()
        try:
            # a new file's mode (0o666 less the umask), as pip and build give the wheels they
            # write: 0o600 made a fixed wheel unreadable to an uploader or a web server
            with (
                atomic_open(dest, "wb") as fh,
                zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf,
            ):
                for e in entries:
                    zf.writestr(e.info, e.data, compress_type=zipfile.ZIP_DEFLATED)
        except OSError as exc:  # no such directory, not writable (the user's --output), full
            raise WheelError(f"cannot write {dest}: {exc.strerror or exc}") from None
        return dest


def _copy_info(info: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(name, date_time=info.date_time)
    new.external_attr = info.external_attr
    new.compress_type = info.compress_type
    new.create_system = info.create_system
    return new


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
