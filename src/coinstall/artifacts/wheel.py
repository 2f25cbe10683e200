"""Wheel reader (PEP 427 / the binary distribution format specification).

Reads the file name with :func:`packaging.utils.parse_wheel_filename`, ``WHEEL`` and
``METADATA`` with :func:`packaging.metadata.parse_email` (lenient: a malformed field is kept
out of the result, not fatal), and the members with :mod:`zipfile`, each once.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from typing import IO

from packaging.metadata import parse_email
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from coinstall.artifacts import limits as limits_mod
from coinstall.artifacts.base import (
    ArtifactError,
    ArtifactInfo,
    Member,
    WantContent,
    WantHead,
    exc_line,
    safe_path,
)
from coinstall.artifacts.limits import Budget, Limits, file_members, read_member

#: What :mod:`zipfile` and :mod:`zlib` raise on a damaged archive is open-ended: ``zlib.error``
#: for a corrupt deflate stream, ``NotImplementedError`` for an unknown method or zip version
#: ("compressed patched data (flag bit 5)"), ``ValueError``/``struct.error`` for nonsense
#: offsets, ``RuntimeError`` for encrypted members, ``EOFError`` for a cut stream.  So every
#: ``Exception`` from zipfile becomes an :class:`ArtifactError` naming the member.
_ZIP_ERRORS = Exception


class WheelReader:
    """Reader for one ``.whl`` file.

    Raises:
        ArtifactError: from the constructor if the name is not a valid wheel file name, the file
            is not a zip archive, or it has no ``.dist-info`` directory.
    """

    def __init__(self, path: str, limits: Limits | None = None) -> None:
        self.problems: list[str] = []
        self._limits = limits or limits_mod.default()
        base = path.rsplit("/", 1)[-1]
        try:
            name, version, _build, tags = parse_wheel_filename(base)
        except InvalidWheelFilename as exc:
            raise ArtifactError(f"not a valid wheel file name: {exc}") from None
        try:
            self._zip = zipfile.ZipFile(path)
        except OSError as exc:
            raise ArtifactError(exc.strerror or str(exc)) from None
        except _ZIP_ERRORS as exc:
            raise ArtifactError(f"not a zip archive: {_reason(exc)}") from None
        self._budget = Budget(
            self._limits, os.fstat(self._zip.fp.fileno()).st_size if self._zip.fp is not None else 1
        )
        self._infos = self._zip.infolist()
        dist_infos = sorted(
            {
                top
                for top in (i.filename.partition("/")[0] for i in self._infos)
                if top.endswith(".dist-info")
            }
        )
        if not dist_infos:
            raise ArtifactError("no .dist-info directory: not a wheel")
        self.dist_info = dist_infos[0]
        self._cache: dict[str, bytes] = {}
        fields: dict[str, str] = {
            "Tag": ", ".join(sorted(str(t) for t in tags)),
        }
        wheel_text = self._read_small(f"{self.dist_info}/WHEEL")
        if wheel_text is not None:
            # WHEEL is not core metadata (packaging's parse_email drops its keys), so read
            # the keys we need by hand (glue: no library parses WHEEL files).
            for line in wheel_text.decode("utf-8", "replace").splitlines():
                key, _, value = line.partition(":")
                if key.strip() in ("Root-Is-Purelib", "Wheel-Version", "Generator"):
                    fields[key.strip()] = value.strip()
                elif key.strip() == "Tag":
                    fields.setdefault("WHEEL-Tag", "")
                    sep = ", " if fields["WHEEL-Tag"] else ""
                    fields["WHEEL-Tag"] += sep + value.strip()
        requires: list[str] = []
        meta = self._read_small(f"{self.dist_info}/METADATA")
        if meta is not None:
            raw, _unparsed = parse_email(meta)
            if "requires_python" in raw:
                fields["Requires-Python"] = str(raw["requires_python"])
            requires = [str(r) for r in raw.get("requires_dist", [])]
        self.info = ArtifactInfo(
            path=path,
            format="wheel",
            name=str(name),
            version=str(version),
            arch=".".join(sorted({t.platform for t in tags})),
            requires=requires,
            fields=fields,
        )

    def _read_small(self, name: str) -> bytes | None:
        try:
            info = self._zip.getinfo(name)
        except KeyError:
            return None
        try:
            with self._zip.open(info) as fh:
                data = read_member(
                    fh,
                    name,
                    info.file_size,
                    want=True,
                    digest=False,
                    limits=self._limits,
                    metadata=True,
                    budget=self._budget,
                ).content
        except ArtifactError:
            self._zip.close()
            raise
        except _ZIP_ERRORS as exc:
            self._zip.close()
            raise ArtifactError(f"{name}: {_reason(exc)}") from None
        assert data is not None
        self._cache[name] = data
        return data

    def members(
        self,
        want_content: WantContent,
        digests: bool = False,
        want_head: WantHead | None = None,  # a stream: every head is read anyway
    ) -> Iterator[Member]:
        """Yield each zip entry once; see :class:`~coinstall.artifacts.base.ArtifactReader`."""
        try:
            yield from self._members(want_content, digests)
        finally:
            self._zip.close()

    def _members(self, want_content: WantContent, digests: bool) -> Iterator[Member]:
        for info in self._infos:
            path = safe_path(info.filename)
            if path is None:
                self.problems.append(f"{info.filename}: member path leaves the package")
                continue
            if not path:
                continue
            mode = (info.external_attr >> 16) & 0o7777 if info.create_system == 3 else None
            if info.is_dir():
                yield Member(path=path, type="dir", mode=mode, size=0)
                continue
            want = want_content(path, info.file_size)
            try:
                cached = self._cache.pop(info.filename, None)
                if cached is not None:
                    fh: IO[bytes] = io.BytesIO(cached)
                    budget = None  # counted when it was read
                else:
                    fh = self._zip.open(info)
                    budget = self._budget
                with fh:
                    got = read_member(
                        fh,
                        path,
                        info.file_size,
                        want=want,
                        digest=digests,
                        limits=self._limits,
                        metadata=cached is not None,
                        budget=budget,
                    )
            except ArtifactError:
                raise
            except _ZIP_ERRORS as exc:
                raise ArtifactError(f"{info.filename}: {_reason(exc)}") from None
            yield from file_members(got, info.file_size, [(path, mode, None)])


def _reason(exc: BaseException) -> str:
    """One line: the exception's first line, prefixed with its type unless it is zipfile's
    own ``BadZipFile``."""
    return exc_line(exc, typed=not isinstance(exc, zipfile.BadZipFile))
