"""Fuzzing ``coinstall fix``'s journal recovery and staging (issue 17 items 2, 3, 10).

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_journal.py --seconds 120

Each input is taken as this program's own journal for a small tree (written where
:func:`coinstall.fix.journal.journal_path` keeps it, in a private state directory), then
:func:`coinstall.fix.journal.recover` runs on the tree.  The tree holds a symbolic link
``lnk`` to a directory outside it with a victim file, a hard link to another outside victim
at an old-style staging name, and a regular script.  Expected outcomes: ``None``,
``"completed"``, ``"rolled back"`` or :class:`~coinstall.fix.journal.JournalError`.  A
*crash* is any other exception, or any change outside the tree (the victims are hashed
before and after): counted by signature and written to ``fuzz/crashes-journal.txt``, as
``fuzz_readers.py`` does.  :func:`one_input` is also what ``tests/test_fix_hostile.py`` runs
on seeded mutants (no atheris needed there).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

SEED = {
    "root": "",
    "state": "committing",
    "ops": [
        {
            "op": "write",
            "path": "usr/bin/foo",
            "dest": None,
            "staged": "usr/bin/.foo.0123456789abcdef.coinstall-fix",
        },
        {"op": "rename", "path": "usr/bin/foo", "dest": "usr/bin/foo-3.11", "staged": None},
        {
            "op": "symlink",
            "path": "usr/bin/foo-3",
            "dest": "foo-3.11",
            "staged": "usr/bin/.foo-3.fedcba9876543210.coinstall-fix",
        },
        {"op": "remove", "path": "lnk/victim", "dest": None, "staged": None},
        {"op": "create", "path": "lnk/new", "dest": None, "staged": "lnk/.new.00.coinstall-fix"},
    ],
}


class Crash(Exception):
    """Something outside the tree changed."""


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def seed_bytes(root: str) -> bytes:
    return json.dumps({**SEED, "root": os.path.realpath(root)}).encode()


def one_input(work: Path, data: bytes) -> str:
    """Build a fresh tree under ``work``, plant ``data`` as its journal, recover.  Returns the
    outcome; raises :class:`Crash` if anything outside the tree changed, and lets any
    unexpected exception through."""
    from coinstall.fix import journal

    os.environ[journal.STATE_ENV] = str(work / "state")
    shutil.rmtree(work / "t", ignore_errors=True)
    root, outside = work / "t" / "root", work / "t" / "outside"
    (root / "usr/bin").mkdir(parents=True)
    outside.mkdir()
    (outside / "victim").write_bytes(b"victim\n")
    (outside / "victim2").write_bytes(b"victim2\n")
    (root / "lnk").symlink_to(outside)
    os.link(outside / "victim2", root / "usr/bin/.foo.coinstall-fix")
    (root / "usr/bin/foo").write_bytes(b"#!/usr/bin/env python3\n")
    (root / "usr/bin/.foo.0123456789abcdef.coinstall-fix").write_bytes(b"#!/usr/bin/python3\n")
    before = _digest(outside)
    fd = journal.open_root(str(root))
    try:
        jpath = journal.journal_path(fd)
    finally:
        os.close(fd)
    Path(jpath).write_bytes(data.replace(b"@ROOT@", os.path.realpath(root).encode()))
    try:
        outcome = str(journal.recover(str(root)))
    except journal.JournalError as exc:
        outcome = f"refused: {str(exc)[:60]}"
    finally:
        with __import__("contextlib").suppress(FileNotFoundError):
            os.unlink(jpath)
    if _digest(outside) != before or sorted(p.name for p in outside.iterdir()) != [
        "victim",
        "victim2",
    ]:
        raise Crash(f"outside changed after {outcome}")
    return outcome


def main() -> int:
    import atheris

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=120)
    args, rest = ap.parse_known_args()
    work = Path(
        tempfile.mkdtemp(
            prefix="coinstall-fuzz-journal-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
        )
    )
    crashes: Counter[str] = Counter()
    examples: dict[str, str] = {}

    def one(data: bytes) -> None:
        try:
            one_input(work, data)
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in tb if "/coinstall/" in f.filename] or tb
            sig = f"{type(exc).__name__} at {Path(ours[-1].filename).name}:{ours[-1].lineno}"
            crashes[sig] += 1
            examples.setdefault(sig, "".join(traceback.format_exception(exc)))
            with open(REPO / "fuzz" / "crashes-journal.txt", "w") as f:
                for s, n in crashes.most_common():
                    f.write(f"\n## {n} x {s}\n{examples[s]}")

    seeds = work / "seeds"
    seeds.mkdir()
    (seeds / "journal.json").write_bytes(json.dumps({**SEED, "root": "@ROOT@"}).encode())
    argv = [
        sys.argv[0],
        str(seeds),
        f"-max_total_time={args.seconds}",
        "-rss_limit_mb=1024",
        "-max_len=65536",
        *rest,
    ]
    atheris.Setup(argv, one)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
