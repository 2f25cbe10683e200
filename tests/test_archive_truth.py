"""A sample of scripts/archive_truth.py on every run (issue 18 item 5): the untagged modules of
two real bookworm packages (``corpus.ARCHIVE_TRUTH_DEBS``: python3-renderdoc and its libraries;
``corpus.SAGA_DEBS``: python3-saga and its), each imported by real interpreters in its own
process and compared with coinstall's verdict.  The script runs as a separate process, as a
user runs it; its exit status is 1 on any wrong pair.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import corpus

REPO = Path(__file__).resolve().parent.parent
RUNTIMES = (
    "cpython-3.10,cpython-3.11@3.11.2,cpython-3.12,cpython-3.13@3.13.5,cpython-3.13t,cpython-3.14"
)


def test_archive_sample_verdicts_equal_real_imports(tmp_path: Path) -> None:
    debs, libs = tmp_path / "debs", tmp_path / "libs"
    debs.mkdir()
    libs.mkdir()
    pinned = {**corpus.fetch_archive_truth(), **corpus.fetch_saga()}
    for name, path in pinned.items():
        shutil.copy(path, (debs if name.startswith("python3-") else libs) / path.name)
    out = tmp_path / "pairs.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "archive_truth.py"),
            "--debs",
            str(debs),
            "--lib-debs",
            str(libs),
            "--scan-cache",
            str(tmp_path / "scan.json"),
            "--json",
            str(out),
            "--runtimes",
            RUNTIMES,
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    print(proc.stdout, proc.stderr[-2000:])
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    pairs = json.loads(out.read_text())
    got = {(p["path"].rsplit("/", 1)[-1], p["runtime"]): p for p in pairs}
    assert len(got) == 2 * len(RUNTIMES.split(","))
    # bookworm's own 3.11 imports both
    rd, saga = (
        got[("renderdoc.so", "cpython-3.11@3.11.2")],
        got[("_saga_api.so", "cpython-3.11@3.11.2")],
    )
    assert rd["truth"] == saga["truth"] == "ok"
    # renderdoc: no version-specific symbol, so 3.11 is one of several lines it fits
    assert rd["verdict"] == "cannot tell" and "cannot tell which" in rd["reason"]
    assert saga["verdict"] == "usable"
    # the free-threaded 3.13t crashes on renderdoc, and coinstall says unusable
    ft = got[("renderdoc.so", "cpython-3.13t")]
    assert ft["truth"] == "abi" and ft["verdict"] == "unusable"
    assert not [p for p in pairs if p["judged"] == "wrong"]
    assert sum(p["judged"] == "agree" for p in pairs) >= 4
