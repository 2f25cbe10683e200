"""Re-create this fixture: copy whole paragraphs of chosen sources out of real indices.

Usage: python extract.py LISTS_DIR OUT_DIR
LISTS_DIR holds apt lists fetched with a private apt configuration (see PROVENANCE.md);
OUT_DIR gets dists/<suite>/main/{binary-amd64/Packages,source/Sources} and sid's InRelease.
Paragraphs are copied byte for byte (no field is rewritten); only their selection is ours.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

import lz4.frame

SOURCES = {
    "metkit",
    "vtk9",
    "xrt",
    "boost1.90",
    "boost1.92",
    "python-bcj",
    "python-pykakasi",
    "mod-wsgi",
    "pyside6",
    "chirp",
    "aggdraw",
    "python3-defaults",
    "alabaster",
    "python-unicodedata2",
    "python3-stdlib-extensions",
    "kdevelop-python",
}
SUITES = ("sid", "trixie", "experimental")


def paras(path: str) -> list[bytes]:
    with lz4.frame.open(path, "rb") as f:
        return [p for p in f.read().split(b"\n\n") if p.strip()]


def field(p: bytes, name: bytes) -> bytes | None:
    m = re.search(rb"^" + name + rb":[ \t]*(\S+)", p, re.M)
    return m[1] if m else None


def main(lists: str, out: str) -> None:
    for suite in SUITES:
        for kind, rel in (
            ("binary-amd64_Packages", "main/binary-amd64/Packages"),
            ("source_Sources", "main/source/Sources"),
        ):
            src = os.path.join(lists, f"deb.debian.org_debian_dists_{suite}_main_{kind}.lz4")
            keep = []
            for p in paras(src):
                name = field(p, b"Source") or field(p, b"Package")
                if name is not None and name.decode() in SOURCES:
                    keep.append(p)
            dest = os.path.join(out, "dists", suite, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(b"\n\n".join(keep) + b"\n")
            print(dest, len(keep))
    # sid's InRelease as it came (signed), so that "unstable" names the suite too.
    shutil.copyfile(
        os.path.join(lists, "deb.debian.org_debian_dists_sid_InRelease"),
        os.path.join(out, "dists", "sid", "InRelease"),
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
