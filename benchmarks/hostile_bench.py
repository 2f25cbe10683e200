"""Hostile input, measured (issue 9): time and peak memory where an archive tries to make them
grow.

    .venv/bin/python benchmarks/hostile_bench.py            # the 100,000-member wheel + bombs
    .venv/bin/python benchmarks/hostile_bench.py --limits   # the largest real sizes (limits)

* A wheel of 100,000 small members, checked by ``coinstall check --no-installed`` (text and
  JSON), against the floor: listing the zip and reading every member's head with
  :mod:`zipfile` alone, which every reader must do.  Printed as seconds, peak RSS and ratios.
* Each crafted bomb of ``tests/test_bad_input.py`` checked beside a good wheel: peak RSS of the
  child (``resource.getrusage(RUSAGE_CHILDREN)`` in a wrapper process of its own).
* ``--limits``: the largest member, artifact, expanded/on-disk ratio and metadata member over
  the real corpora (``.cache/corpus``, ``tests/data/rpm``, ``.cache/plan`` indices), the
  numbers the defaults of :class:`coinstall.artifacts.limits.Limits` are set far above.

No timing here goes into a test.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))

import hostile  # noqa: E402  (tests/hostile.py: runner and bomb builders)

MEMBERS = 100_000


def many_member_wheel(path: Path, n: int = MEMBERS) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "many-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: many\nVersion: 1.0\n"
        )
        z.writestr(
            "many-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        for i in range(n):
            z.writestr(f"many/m{i // 1000}/mod{i}.py", "x = 1\n")


_FLOOR = """
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        with z.open(info) as fh:
            fh.read(512)
"""


def _timed(argv: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one child, measured by a wrapper of its own."""
    import json
    import subprocess

    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-c", hostile._MEASURE, "600", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    secs = time.perf_counter() - t0
    return secs, json.loads(p.stdout)["maxrss_kb"] / 1024


def bench_many(tmp: Path) -> None:
    whl = tmp / "many-1.0-py3-none-any.whl"
    many_member_wheel(whl)
    print(f"wheel of {MEMBERS:,} members ({whl.stat().st_size / 1e6:.1f} MB)")
    floor_s, floor_mb = _timed([sys.executable, "-c", _FLOOR, str(whl)])
    print(f"  floor (zipfile: list + every head)  {floor_s:6.1f} s  {floor_mb:6.0f} MB")
    for fmt in ("text", "json"):
        s, mb = _timed([*hostile.COINSTALL, "check", "--no-installed", "--format", fmt, str(whl)])
        print(
            f"  coinstall check --format {fmt:4}       {s:6.1f} s  {mb:6.0f} MB"
            f"   x{s / floor_s:.1f} time, x{mb / floor_mb:.1f} memory of the floor"
        )


def bench_bombs(tmp: Path) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    import test_bad_input as t

    good = str(t.wheel("six"))
    print("crafted cases beside a good wheel: exit status, peak RSS of the child")
    for case in sorted(t.CRAFTED):
        build, _expected = t.CRAFTED[case]
        d = tmp / case
        d.mkdir()
        bad = build(d)
        r = hostile.run("check", "--no-installed", str(bad), good, timeout=300)
        print(f"  {case:28} exit {r.rc}  {r.maxrss_mb:6.1f} MB")


def measure_limits() -> None:
    from coinstall.artifacts import open_artifact
    from coinstall.files.extension import is_extension_name
    from coinstall.plan.indices import read_bytes

    files = sorted(glob.glob(str(REPO / ".cache/corpus/*/*"))) + sorted(
        glob.glob(str(REPO / "tests/data/rpm/*.rpm"))
    )
    member = (0, "", "")
    artifact = (0, "")
    ratio = (0.0, "")
    meta = (0, "", "")
    extension = (0, "", "")
    for f in files:
        total = 0
        for m in open_artifact(f).members(lambda p, s: False):
            total += m.size
            if m.size > member[0]:
                member = (m.size, f, m.path)
            if m.name in ("METADATA", "RECORD", "WHEEL", "PKG-INFO") and m.size > meta[0]:
                meta = (m.size, f, m.path)
            if is_extension_name(m.path) and m.size > extension[0]:
                extension = (m.size, f, m.path)
        artifact = max(artifact, (total, f))
        ratio = max(ratio, (total / os.path.getsize(f), f))
    mb = 1 << 20
    print(f"{len(files)} real artifacts")
    print(f"  largest member     {member[0] / mb:7.1f} MB  {Path(member[1]).name}: {member[2]}")
    print(f"  largest artifact   {artifact[0] / mb:7.1f} MB  {Path(artifact[1]).name}")
    print(f"  highest ratio      {ratio[0]:7.1f}     {Path(ratio[1]).name}")
    print(
        f"  largest extension  {extension[0] / mb:7.1f} MB  {Path(extension[1]).name}: "
        f"{extension[2]}"
    )
    print(f"  largest metadata   {meta[0] / mb:7.2f} MB  {Path(meta[1]).name}: {meta[2]}")
    for idx in sorted(glob.glob(str(REPO / ".cache/plan/*"))):
        print(f"  index {Path(idx).name:12} {len(read_bytes(idx)) / mb:7.1f} MB expanded")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limits", action="store_true", help="measure the real corpora only")
    args = ap.parse_args()
    if args.limits:
        measure_limits()
        return 0
    with tempfile.TemporaryDirectory() as d:
        bench_many(Path(d))
        bench_bombs(Path(d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
