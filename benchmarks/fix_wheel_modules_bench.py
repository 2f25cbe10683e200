#!/usr/bin/env python3
"""``coinstall fix`` on a wheel with many extension modules: is it linear (issue 17 item 8)?

Generates ``many-1.0-cp311-abi3-linux_x86_64.whl`` holding N copies of a real, small CPython
3.11 extension (Debian's ``_typing.cpython-311-x86_64-linux-gnu.so``, 14 KB) named without an
ABI tag (``many/m<i>.so``: rule ``extension-untagged``, which ``fix`` renames), then times
``coinstall fix --no-installed --stack default=3.11 -o OUT`` and ``coinstall check`` on it, each
as a separate process (wall time, one run each).  Prints one line per N; asserts nothing.

    python benchmarks/fix_wheel_modules_bench.py 1000 4000 16000
    python benchmarks/fix_wheel_modules_bench.py --micro 16000   # the fix engine's own part

``--micro N`` times, in-process and without reading any ELF, what ``fix`` adds to ``check``
for such a wheel: the reader's ``exists()`` for N rename destinations and ``apply()`` of N
renames (``coinstall.fix.wheel``).  Measured on the shared, loaded 2-core machine
(PYTHONPATH=old src for "before"): N=16,000: exists 368.21 s -> 0.02 s, apply 31.36 s ->
0.33 s; N=4,000: 31.39 s -> 0.05 s, 15.13 s -> 0.23 s.  Whole runs: before N=4,000 fix 187.4 s
(check 100.4 s), after 112.9 s (check 64.2 s); after, N=16,000: fix 295.3 s, check 257.5 s
(1.15x; the issue measured 65 s vs 24 s before, unloaded).  The rest is linear (ELF headers
read by check and again by the fixer, the wheel recompressed).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

SO = Path("/usr/lib/python3.11/lib-dynload/_typing.cpython-311-x86_64-linux-gnu.so")
COINSTALL = [sys.executable, "-m", "coinstall"]


def make_wheel(d: Path, n: int) -> Path:
    data = SO.read_bytes()
    whl = d / "many-1.0-cp311-abi3-linux_x86_64.whl"
    names = [f"many/p{i}/_typing.so" for i in range(n)] + ["many/__init__.py"]
    meta = {
        "many-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: many\nVersion: 1.0\n",
        "many-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\n"
        b"Root-Is-Purelib: false\nTag: cp311-abi3-linux_x86_64\n",
    }
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for nm in names:
            zf.writestr(nm, b"" if nm.endswith(".py") else data)
        for nm, b in meta.items():
            zf.writestr(nm, b)
        zf.writestr(
            "many-1.0.dist-info/RECORD",
            "".join(f"{nm},,\n" for nm in [*names, *meta]) + "many-1.0.dist-info/RECORD,,\n",
        )
    return whl


def timed(args: list[str]) -> tuple[float, int, str]:
    t = time.perf_counter()
    p = subprocess.run([*COINSTALL, *args], capture_output=True, text=True, check=False)
    return (
        time.perf_counter() - t,
        p.returncode,
        p.stdout.strip().splitlines()[-1:][0] if p.stdout.strip() else p.stderr.strip()[-200:],
    )


def micro(n: int) -> None:
    import zipfile as zf_mod

    from coinstall.fix import wheel as w
    from coinstall.fix.model import Edit

    entries = [w._Entry(zf_mod.ZipInfo(f"many/p{i}/_typing.so"), b"x") for i in range(n)]
    entries.append(w._Entry(zf_mod.ZipInfo("many-1.0.dist-info/RECORD"), b""))
    wc = w.WheelContents(entries)
    dest = "many/p{}/_typing.cpython-311-x86_64-linux-gnu.so"
    t = time.perf_counter()
    r = wc.reader()
    assert not any(r.exists(dest.format(i)) for i in range(n))
    t1 = time.perf_counter()
    wc.apply(
        [Edit("rename", f"many/p{i}/_typing.so", (), "", dest=dest.format(i)) for i in range(n)]
    )
    t2 = time.perf_counter()
    print(f"N={n:6d}  exists x{n}: {t1 - t:.2f} s  apply {n} renames: {t2 - t1:.2f} s")


def main() -> None:
    if sys.argv[1:2] == ["--micro"]:
        for n in [int(a) for a in sys.argv[2:]] or [4000, 16000]:
            micro(n)
        return
    for n in [int(a) for a in sys.argv[1:]] or [1000, 4000, 16000]:
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            whl = make_wheel(d, n)
            out = d / "out"
            out.mkdir()
            tf, rcf, lastf = timed(
                ["fix", "--no-installed", "--stack", "default=3.11", "-o", str(out), str(whl)]
            )
            tc, rcc, _ = timed(
                ["check", "--no-installed", "--stack", "default=3.11", "--format", "json", str(whl)]
            )
            print(
                f"N={n:6d}  fix {tf:7.1f} s (exit {rcf}: {lastf})  check {tc:7.1f} s (exit {rcc})",
                flush=True,
            )


if __name__ == "__main__":
    main()
