"""Wheel reader (PEP 427 / the binary distribution format specification).

Reads the file name with :func:`packaging.utils.parse_wheel_filename`, ``WHEEL`` and
``METADATA`` with :func:`packaging.metadata.parse_email` (lenient: a malformed field is kept
out of the result, not fatal), and the members with :mod:`zipfile`, each once.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

from packaging.metadata import parse_email
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from coinstall.artifacts.base import (
    HEAD_SIZE,
    ArtifactError,
    ArtifactInfo,
    Member,
    WantContent,
    safe_path,
)


class WheelReader:
    """Reader for one ``.whl`` file.

    Raises:
        ArtifactError: from the constructor if the name is not a valid wheel file name, the file
            is not a zip archive, or it has no ``.dist-info`` directory.
    """

    def __init__(self, path: str) -> None:
        self.problems: list[str] = []
        base = path.rsplit("/", 1)[-1]
        try:
            name, version, _build, tags = parse_wheel_filename(base)
        except InvalidWheelFilename as exc:
            raise ArtifactError(f"not a valid wheel file name: {exc}") from None
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ArtifactError(f"not a zip archive: {exc}") from None
        except OSError as exc:
            raise ArtifactError(exc.strerror or str(exc)) from None
        self._infos = self._zip.infolist()
        dist_infos = sorted({
            i.filename.split("/", 1)[0] for i in self._infos
            if i.filename.split("/", 1)[0].endswith(".dist-info")
        })
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
            path=path, format="wheel", name=str(name), version=str(version),
            arch=".".join(sorted({t.platform for t in tags})), requires=requires, fields=fields,
        )

    def _read_small(self, name: str) -> bytes | None:
        try:
            data = self._zip.read(name)
        except KeyError:
            return None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArtifactError(f"{name}: {exc}") from None
        self._cache[name] = data
        return data

    def members(self, want_content: WantContent) -> Iterator[Member]:
        """Yield each zip entry once; see :class:`~coinstall.artifacts.base.ArtifactReader`."""
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
            try:
                if info.filename in self._cache:
                    data = self._cache[info.filename]
                    content: bytes | None = data if want_content(path, info.file_size) else None
                    head = data[:HEAD_SIZE]
                elif want_content(path, info.file_size):
                    content = self._zip.read(info)
                    head = content[:HEAD_SIZE]
                else:
                    content = None
                    with self._zip.open(info) as fh:
                        head = fh.read(HEAD_SIZE)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise ArtifactError(f"{info.filename}: {exc}") from None
            yield Member(path=path, type="file", mode=mode, size=info.file_size,
                         head=head, content=content)
        self._zip.close()
