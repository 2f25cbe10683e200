"""--repo's containment check (coinstall.archive.repo.Contained) decides every path exactly as
coinstall.plan.indices.under does, links and names alike, while resolving each directory once."""

from __future__ import annotations

import os
from pathlib import Path

from coinstall.archive.repo import Contained
from coinstall.plan.indices import under


def test_contained_equals_under(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "d").mkdir(parents=True)
    (outside / "d" / "x.deb").write_bytes(b"x")
    real = tmp_path / "real-mirror"
    pool = real / "pool" / "main" / "p"
    (pool / "pkg").mkdir(parents=True)
    (pool / "pkg" / "a.deb").write_bytes(b"a")
    os.symlink("a.deb", pool / "pkg" / "inside-link.deb")
    os.symlink(outside / "d" / "x.deb", pool / "pkg" / "outside-link.deb")
    os.symlink(outside / "d", pool / "escape")  # a directory link that leaves the mirror
    os.symlink("pkg", pool / "alias")  # one that stays inside
    os.symlink("../../../..", pool / "up")  # relative, to above the mirror
    os.symlink("loop", pool / "loop")
    mirror = tmp_path / "mirror"
    os.symlink(real, mirror)  # the mirror's own path through a link (as .cache is here)
    rels = [
        "pool/main/p/pkg/a.deb",
        "pool/main/p/pkg/inside-link.deb",
        "pool/main/p/pkg/outside-link.deb",
        "pool/main/p/escape/x.deb",
        "pool/main/p/alias/a.deb",
        "pool/main/p/up/outside/d/x.deb",
        "pool/main/p/up/real-mirror/pool/main/p/pkg/a.deb",
        "pool/main/p/loop/a.deb",
        "pool/main/p/missing/none.deb",
        "pool//main/./p/pkg/a.deb",
        ".",
        "",
        "../outside/d/x.deb",
        "pool/../../outside/d/x.deb",
        "pool\\..\\x.deb",
        str(outside / "d" / "x.deb"),
        "pool/main/p/pkg/a.deb\0",
    ]
    for root in (str(mirror), str(real), os.path.relpath(mirror)):
        inside = Contained(root)
        for rel in rels * 2:  # the second time from the memo
            assert inside(rel) == under(root, rel), (root, rel)
    # the cases that matter, spelt out
    inside = Contained(str(mirror))
    assert inside("pool/main/p/pkg/a.deb") == str(mirror / "pool/main/p/pkg/a.deb")
    assert inside("pool/main/p/escape/x.deb") is None
    assert inside("pool/main/p/pkg/outside-link.deb") is None
    assert inside("pool/main/p/alias/a.deb") is not None
