"""Verdict time per extension module: classify (ELF header and, for untagged, stable-ABI and
CPython version-tagged names, the symbol table) plus judge against every catalogue runtime of
the host platform, for every extension module of the pinned corpus (tests/corpus.py: wheels
and .debs).

    .venv/bin/python benchmarks/verdict_bench.py [--repeat 5]

Prints the modules, the runtimes, and the best CPU time (``process_time``: the machine is
shared) over ``--repeat`` runs, per module in microseconds.  To compare with another
revision, run the same script with ``PYTHONPATH`` pointing at that revision's ``src``
(``git archive REV src | tar -x -C DIR``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import corpus
from coinstall.artifacts import open_artifact
from coinstall.files.verdict import classify, judge, wants_content
from coinstall.runtimes import catalogue


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cat = catalogue.load()
    runtimes = cat.known()
    members = []
    paths = sorted(corpus.fetch_wheels().values()) + sorted(corpus.fetch_debs().values())
    for art in paths:
        reader = open_artifact(str(art))
        for m in reader.members(wants_content):
            if m.type == "file" and m.path.endswith(".so"):
                members.append((m, reader.info.format))
    best = float("inf")
    n = 0
    for _ in range(args.repeat):
        t0 = time.process_time()
        n = 0
        for m, fmt in members:
            rec = classify(
                path=m.path,
                fmt=fmt,
                head=m.head,
                content=m.content,
                size=m.size,
                mode=m.mode,
                mtime=m.mtime,
                catalogue=cat,
            )
            if rec.kind != "extension":
                continue
            n += 1
            judge([rec], runtimes)
        best = min(best, time.process_time() - t0)
        # module_abi / stable_abi_baseline caches would make later runs cheaper than a check
        # of new files: clear whatever this revision caches
        from coinstall.files import extension

        for name in ("stable_abi_baseline", "module_abi", "parse_ext_name"):
            f = getattr(extension, name, None)
            if f is not None and hasattr(f, "cache_clear"):
                f.cache_clear()
    print(
        f"{n} extension modules x {len(runtimes)} runtimes: best {best:.3f} s, "
        f"{best / max(n, 1) * 1e6:.0f} us per module"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
