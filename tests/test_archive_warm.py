"""The warm archive run (``coinstall check --repo Packages.xz --mirror DIR``, result cache filled):
the same bytes as a cold run, and the index is neither opened nor parsed again while it is
unchanged; a changed index is read again."""

from __future__ import annotations

import lzma
import os
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from coinstall.archive.cache import ResultCache
from coinstall.archive.repo import read_repo
from corpus import debian_mirror

COINSTALL = str(Path(sys.executable).with_name("coinstall"))

#: ``coinstall`` in a process of its own that reports, on stderr, each time a file named by
#: ``WATCH`` is opened (a CPython audit hook on the ``open`` event, PEP 578).
WATCHED = """
import os, sys
watch = os.environ["WATCH"]
def hook(event, args):
    if event == "open" and args and str(args[0]) == watch:
        sys.stderr.write("opened: " + watch + "\\n")
sys.addaudithook(hook)
sys.argv = ["coinstall", *sys.argv[1:]]
from coinstall.cli import main
main()
"""


@pytest.fixture
def archive(corpus_debs: dict[str, Path], tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A mirror of the pinned .debs and its Packages.xz (dpkg-scanpackages); the index's
    uncompressed text."""
    return debian_mirror(corpus_debs.values(), tmp_path)


def _check(
    index: Path, mirror: Path, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    args = ["check", "--no-installed", "--format", "json", "--jobs", "1"]
    args += ["--repo", str(index), "--mirror", str(mirror), "--select-packages", "python3-*"]
    return subprocess.run(
        [sys.executable, "-c", WATCHED, *args, *extra],
        env={**env, "WATCH": str(index)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_warm_run_same_bytes_index_not_read_again(
    archive: tuple[Path, Path, bytes], tmp_path: Path
) -> None:
    index, mirror, text = archive
    env = {**os.environ, "COINSTALL_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [COINSTALL, "check", "--no-installed", "--no-cache", "--format", "json", "--repo"]
    cmd += [str(index), "--mirror", str(mirror), "--select-packages", "python3-*"]
    plain = subprocess.run(
        cmd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert plain.returncode in (0, 1), plain.stderr
    assert '"artifacts"' in plain.stdout
    cold = _check(index, mirror, env)
    assert cold.stdout == plain.stdout
    assert cold.returncode == plain.returncode
    assert cold.stderr.count("opened: ") == 1
    warm = _check(index, mirror, env)
    assert warm.stdout == plain.stdout  # byte for byte
    assert warm.returncode == plain.returncode
    assert "opened: " not in warm.stderr  # the index was neither decompressed nor parsed

    # the index changes (python3-six leaves it): read again, the report follows it
    paras = [p for p in text.split(b"\n\n") if p.strip()]
    kept = [p for p in paras if not p.startswith(b"Package: python3-six\n")]
    assert len(kept) == len(paras) - 1
    index.write_bytes(lzma.compress(b"\n\n".join(kept) + b"\n"))
    changed = _check(index, mirror, env)
    assert changed.stderr.count("opened: ") == 1
    assert "python3-six_" in plain.stdout
    assert "python3-six_" not in changed.stdout
    assert changed.stdout.count('"path":') < plain.stdout.count('"path":')


def test_damaged_cached_entries_are_read_again(
    archive: tuple[Path, Path, bytes], tmp_path: Path
) -> None:
    """The cache is input: entries of the wrong shape are a miss, never trusted."""
    index, mirror, _ = archive
    want = read_repo(str(index), str(mirror), "python3-*")
    assert len(want.targets) > 3
    db = tmp_path / "c.sqlite3"
    cache = ResultCache(db)
    assert read_repo(str(index), str(mirror), "python3-*", cache) == want
    cache.close()
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM indexes").fetchone()[0] == 1
    for bad in (b'[[["a", 1, null, null]], []]', b'{"x": 1}', b"[[], [[1, 2]]]", b"not json"):
        con.execute("UPDATE indexes SET entries = ?", (zlib.compress(bad),))
        con.commit()
        cache = ResultCache(db)
        assert read_repo(str(index), str(mirror), "python3-*", cache) == want
        cache.close()
    con.close()


def test_artifact_row_claiming_a_huge_size_is_damaged(
    corpus_debs: dict[str, Path], tmp_path: Path
) -> None:
    """A cached artifact is a zstd frame; one whose header claims 1 TiB is refused before
    anything is allocated (a damaged cache, discarded with one warning), not decompressed."""
    from coinstall.archive import runner
    from coinstall.archive.worker import Settings
    from coinstall.config import Config
    from coinstall.runtimes import catalogue
    from coinstall.runtimes.inventory import combine

    deb = str(corpus_debs["python3-six"])
    st = Settings(tuple(combine([], catalogue.load())), Config(), hash_files=True)
    db = tmp_path / "c.sqlite3"
    cache = ResultCache(db)
    first = list(
        runner.run([runner.Target(deb)], st, backend=runner.InlineBackend(st), cache=cache)
    )
    cache.close()
    assert first[0].artifact is not None
    con = sqlite3.connect(db)
    claim = bytes.fromhex("28b52ffd") + bytes([0xE0]) + (1 << 40).to_bytes(8, "little")
    con.execute("UPDATE results SET artifact = ?", (claim,))
    con.commit()
    con.close()
    warned: list[str] = []
    cache = ResultCache(db, warn=warned.append)
    again = list(
        runner.run([runner.Target(deb)], st, backend=runner.InlineBackend(st), cache=cache)
    )
    cache.close()
    assert cache.hits == 0
    assert len(warned) == 1 and "damaged" in warned[0]
    assert again[0].artifact == first[0].artifact  # checked again instead


#: What a warm run the result cache answers has no use for (issue 22, warm archive <= 2 s):
#: the pool's modules (no process starts), the progress bar (stderr is not a terminal), the
#: RPM index's XML parser (a Debian index, and one not even read again), importlib.metadata and
#: importlib.resources (the code digest reads coinstall's own files).
WARM_UNUSED = (
    "multiprocessing",
    "concurrent.futures",
    "rich.progress",
    "rich.console",
    "xml.etree.ElementTree",
    "importlib.metadata",
    "importlib.resources",
)

#: ``coinstall`` in this process, then which of ``WARM_UNUSED`` were imported, on stderr.
IMPORTED = """
import sys
from coinstall.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stderr.write("IMPORTED " + repr(sorted(m for m in {mods!r} if m in sys.modules)) + "\\n")
sys.exit(code)
"""


def test_warm_run_imports_no_pool_progress_or_xml(
    archive: tuple[Path, Path, bytes], tmp_path: Path
) -> None:
    index, mirror, _text = archive
    env = {**os.environ, "COINSTALL_CACHE_DIR": str(tmp_path / "cache")}
    args = ["check", "--no-installed", "--format", "jsonl", "--jobs", "2", "--repo", str(index)]
    args += ["--mirror", str(mirror), "--select-packages", "python3-*"]
    runs = []
    for _ in ("cold", "warm"):
        runs.append(
            subprocess.run(
                [sys.executable, "-c", IMPORTED.format(mods=WARM_UNUSED), *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
        )
    cold, warm = runs
    assert cold.returncode in (0, 1), cold.stderr
    assert "multiprocessing" in cold.stderr  # the cold run did start the pool
    assert warm.stdout == cold.stdout
    line = [ln for ln in warm.stderr.splitlines() if ln.startswith("IMPORTED ")]
    assert line == ["IMPORTED []"], warm.stderr
