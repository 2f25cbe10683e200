"""``content-mb`` bounds the members held in memory, not the metadata a reader parses whole:
a wheel whose METADATA (a long description, as real projects ship) is larger than
``--limit content-mb=1`` is read and checked as without the limit (``metadata-mb`` caps it),
not refused with ``cannot be read: AssertionError``."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

COINSTALL = [sys.executable, "-m", "coinstall"]


def _check(*args: str) -> tuple[int, dict[str, object], str]:
    r = subprocess.run(
        [*COINSTALL, "check", "--no-cache", "--no-installed", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return r.returncode, json.loads(r.stdout), r.stderr


def test_metadata_above_content_mb_is_read_whole(tmp_path: Path) -> None:
    whl = tmp_path / "longdesc-1.0-py3-none-any.whl"
    metadata = (
        "Metadata-Version: 2.1\nName: longdesc\nVersion: 1.0\nRequires-Dist: packaging>=20\n\n"
        + "A line of a long project description.\n" * 40_000  # 1.56 MB > content-mb=1
    )
    assert len(metadata) > 1 << 20
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("longdesc/__init__.py", "")
        z.writestr("longdesc-1.0.dist-info/METADATA", metadata)
        z.writestr(
            "longdesc-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        z.writestr("longdesc-1.0.dist-info/RECORD", "")
    rc, limited, err = _check("--limit", "content-mb=1", str(whl))
    assert "AssertionError" not in err and limited["errors"] == [], err
    rc_plain, plain, _ = _check(str(whl))
    assert rc == rc_plain
    assert limited["artifacts"] == plain["artifacts"]
    artifact = limited["artifacts"][0]  # type: ignore[index]
    assert (artifact["name"], artifact["requires"]) == ("longdesc", ["packaging>=20"])
