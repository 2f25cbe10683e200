"""Index readers on the real, pinned bookworm Packages/Sources: every compression, python-debian
as ground truth for the fields, and bad input (malformed paragraphs, truncation)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import subprocess
import sys
import time
from pathlib import Path

import lz4.frame
import pytest
import zstandard
from debian import deb822

from coinstall.plan import indices, load
from coinstall.plan.indices import PackageIndexError
from plan_corpus import bookworm
from test_atomic import _limit_fsize

pytestmark = pytest.mark.network

#: Real bookworm packages the excerpt keeps (extensions, pure, abi3, embedders, interpreters).
EXCERPT = (
    "python3-numpy",
    "cython3",
    "python3-cryptography",
    "gdb",
    "python3.11",
    "python3-gi",
    "python3-apt",
    "python3-distutils",
    "python3-thinc",
    "cluster-glue",
    "python3-lxml",
    "python3-requests",
    "adonthell",
    "libpython3.11",
)


@pytest.fixture(scope="module")
def packages_bytes() -> bytes:
    return lzma.decompress(bookworm("Packages.xz").read_bytes())


@pytest.fixture(scope="module")
def sources_bytes() -> bytes:
    return lzma.decompress(bookworm("Sources.xz").read_bytes())


@pytest.fixture(scope="module")
def excerpt(packages_bytes: bytes) -> bytes:
    """The real paragraphs of EXCERPT, byte for byte, in file order."""
    out = []
    for para in packages_bytes.split(b"\n\n"):
        name = para.split(b"\n", 1)[0].removeprefix(b"Package: ").decode()
        if name in EXCERPT:
            out.append(para)
    assert len(out) == len(EXCERPT)
    return b"\n\n".join(out) + b"\n"


COMPRESSORS = {
    "": lambda b: b,
    ".gz": gzip.compress,
    ".xz": lzma.compress,
    ".lz4": lz4.frame.compress,
    ".zst": lambda b: zstandard.ZstdCompressor().compress(b),
    ".bz2": bz2.compress,
}


@pytest.mark.parametrize("ext", list(COMPRESSORS))
def test_every_compression_reads_the_same(tmp_path: Path, excerpt: bytes, ext: str) -> None:
    path = tmp_path / f"Packages{ext}"
    path.write_bytes(COMPRESSORS[ext](excerpt))
    idx = indices.read_packages(str(path))
    assert sorted(b.name for b in idx.binaries) == sorted(EXCERPT)
    assert idx.problems == []
    assert indices.find_indices(str(tmp_path)) == [("packages", str(path))]


def test_fields_match_python_debian(excerpt: bytes) -> None:
    """deb822 (python-debian) is the reference parser: same values for every kept field."""
    ours = {b.name: b for b in indices.read_packages_bytes(excerpt, "x").binaries}
    for para in deb822.Packages.iter_paragraphs(io.BytesIO(excerpt), use_apt_pkg=False):
        b = ours[para["Package"]]
        assert b.version == para["Version"]
        assert b.arch == para["Architecture"]
        want = ", ".join(x for x in (para.get("Pre-Depends"), para.get("Depends")) if x)
        assert b.depends == want
        assert b.source == para.get("Source", para["Package"]).split(" ")[0]


def test_full_files_counts_and_selection(packages_bytes: bytes, sources_bytes: bytes) -> None:
    full = indices.read_packages_bytes(packages_bytes, "Packages")
    assert full.binaries_total == len(full.binaries) == packages_bytes.count(b"\nPackage: ") + 1
    sel = indices.read_packages_bytes(packages_bytes, "Packages", select=b"python")
    assert sel.binaries_total == full.binaries_total
    want = {
        (b.name, b.arch)
        for b in full.binaries
        if "python" in b.name or "python" in b.depends or "python" in b.source
    }
    got = {(b.name, b.arch) for b in sel.binaries}
    assert want <= got  # selection never loses a paragraph naming Python in a kept field
    src = indices.read_sources(str(bookworm("Sources.xz")))
    cy = src.sources["cython"]
    assert {"cython3", "cython3-dbg"} <= set(cy.binaries)
    assert "python3-all-dev" in cy.build_depends and "python3-sphinx" in cy.build_depends
    assert src.problems == []


def test_machine_apt_list_lz4() -> None:
    """The machine's own apt list (lz4) is read like any index."""
    lists = sorted(Path("/var/lib/apt/lists").glob("*_bookworm_main_binary-amd64_Packages.lz4"))
    assert lists, "no lz4 apt list for bookworm main: scripts/setup.sh fetches it"
    idx = indices.read_packages(str(lists[0]), select=b"python")
    assert idx.binaries_total > 50000 and not idx.problems
    assert any(b.name == "python3-numpy" for b in idx.binaries)


def test_malformed_paragraph_reported_with_line_and_skipped(tmp_path: Path, excerpt: bytes) -> None:
    paras = excerpt.split(b"\n\n")
    lines_before = sum(p.count(b"\n") + 2 for p in paras[:2])
    broken = paras[2].split(b"\n")
    broken.insert(2, b"this line is not a field")
    paras[2] = b"\n".join(broken)
    path = tmp_path / "Packages"
    path.write_bytes(b"\n\n".join(paras))
    idx = indices.read_packages(str(path))
    assert len(idx.binaries) == len(EXCERPT) - 1
    assert len(idx.problems) == 1
    p = idx.problems[0]
    assert p.path == str(path) and p.line == lines_before + 3
    assert "not a field" in p.message
    assert f"{path}:{lines_before + 3}:" in str(p)


def test_run_together_paragraphs(tmp_path: Path, excerpt: bytes) -> None:
    path = tmp_path / "Packages"
    path.write_bytes(excerpt.replace(b"\n\n", b"\n", 1))
    idx = indices.read_packages(str(path))
    assert len(idx.binaries) == len(EXCERPT) - 2
    assert "appears twice" in idx.problems[0].message and idx.problems[0].line == 1


def test_truncated_plain_file(tmp_path: Path, excerpt: bytes) -> None:
    cut = excerpt[: excerpt.rindex(b"\nVersion:")]
    path = tmp_path / "Packages"
    path.write_bytes(cut)
    idx = indices.read_packages(str(path))
    assert len(idx.binaries) == len(EXCERPT) - 1
    assert "without Version" in idx.problems[0].message
    assert idx.problems[0].line == cut[: cut.rindex(b"\n\n")].count(b"\n") + 3


@pytest.mark.parametrize("ext", [".gz", ".xz", ".lz4", ".zst", ".bz2"])
def test_truncated_compressed_file(tmp_path: Path, excerpt: bytes, ext: str) -> None:
    data = COMPRESSORS[ext](excerpt)
    path = tmp_path / f"Packages{ext}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PackageIndexError) as e:
        indices.read_packages(str(path))
    assert e.value.path == str(path)
    assert "truncated" in e.value.message


def test_load_reports_and_continues(tmp_path: Path, excerpt: bytes) -> None:
    good = tmp_path / "Packages.gz"
    good.write_bytes(gzip.compress(excerpt))
    bad = tmp_path / "other" / "Packages.xz"
    bad.parent.mkdir()
    bad.write_bytes(lzma.compress(excerpt)[:100])
    idx = load.load([str(good), str(bad), str(tmp_path / "missing")], use_cache=False)
    assert len(idx.binaries) == len(EXCERPT)
    msgs = [str(p) for p in idx.problems]
    assert any(str(bad) in m and "truncated" in m for m in msgs)
    assert any("missing: no such file" in m for m in msgs)


def test_cache_is_keyed_by_stat(
    tmp_path: Path, excerpt: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COINSTALL_CACHE_DIR", str(tmp_path / "cache" / "coinstall"))
    path = tmp_path / "Packages"
    path.write_bytes(excerpt)
    first = load.read_cached("packages", str(path))
    assert list((tmp_path / "cache" / "coinstall" / "plan").iterdir())
    again = load.read_cached("packages", str(path))
    assert [b.name for b in again.binaries] == [b.name for b in first.binaries]
    # Same size, new content and mtime: the cache must not answer.
    changed = excerpt.replace(b"Package: gdb\n", b"Package: gdX\n")
    path.write_bytes(changed)
    import os

    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = load.read_cached("packages", str(path))
    assert "gdX" in {b.name for b in third.binaries}


def test_cache_misses_a_rewrite_in_place_that_restores_the_mtime(
    tmp_path: Path, excerpt: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same path, inode, size and mtime (rewritten in place, mtime put back with utime, as
    ``rsync --inplace -t`` or a restore does): only the ctime moved, which no caller can set.
    The plan cache keyed on (size, mtime, inode) answered the old rows; the archive's digest
    memo (archive.cache.known_digest) already kept the ctime."""
    monkeypatch.setenv("COINSTALL_CACHE_DIR", str(tmp_path / "cache" / "coinstall"))
    path = tmp_path / "Packages"
    path.write_bytes(excerpt)
    before = os.stat(path)
    assert "gdb" in {b.name for b in load.read_cached("packages", str(path)).binaries}
    time.sleep(0.01)  # a ctime tick on coarse clocks
    with open(path, "r+b") as f:  # in place: the same inode
        f.write(excerpt.replace(b"Package: gdb\n", b"Package: gdX\n"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert after.st_ctime_ns != before.st_ctime_ns
    names = {b.name for b in load.read_cached("packages", str(path)).binaries}
    assert "gdX" in names and "gdb" not in names


def test_cache_write_that_fails_leaves_no_file(tmp_path: Path, excerpt: bytes) -> None:
    """A cache entry the file system refuses (here: RLIMIT_FSIZE, the write fails with
    EFBIG) still answers from the index and leaves nothing in the cache directory, neither
    a half-written entry nor a temporary file (before: a ``.tmp-*`` file was left)."""
    path = tmp_path / "Packages"
    path.write_bytes(excerpt)
    cache = tmp_path / "cache"
    code = (
        "import sys\nfrom coinstall.plan import load\n"
        "print(len(load.read_cached('packages', sys.argv[1]).binaries))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "COINSTALL_CACHE_DIR": str(cache / "coinstall")},
        timeout=120,
        preexec_fn=lambda: _limit_fsize(4096),  # the cache write fails with EFBIG
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == len(load.read_index("packages", str(path), load.SELECT).binaries) > 0
    assert len(load._dump(load.read_index("packages", str(path), load.SELECT))) > 4096
    assert list((cache / "coinstall" / "plan").iterdir()) == []


def test_cli_bad_input_names_file_and_line(tmp_path: Path, excerpt: bytes) -> None:
    import subprocess
    import sys

    paras = excerpt.split(b"\n\n")
    paras[1] = paras[1] + b"\nno colon here"
    path = tmp_path / "Packages"
    path.write_bytes(b"\n\n".join(paras))
    line = b"\n\n".join(paras[:2]).count(b"\n") + 1
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "coinstall",
            "plan",
            "add",
            "3.12",
            "--from",
            "3.11",
            "--repo",
            str(path),
            "--no-cache",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert f"coinstall: {path}:{line}: not a field or continuation line" in r.stderr
    assert "Traceback" not in r.stderr
    import json

    plan = json.loads(r.stdout)
    assert plan["read"]["skipped"] == 1 and plan["read"]["binaries"] == len(EXCERPT)


def test_cli_without_sources_says_what_is_missing(tmp_path: Path, excerpt: bytes) -> None:
    import subprocess
    import sys

    path = tmp_path / "Packages.gz"
    path.write_bytes(gzip.compress(excerpt))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "coinstall",
            "plan",
            "add",
            "3.12",
            "--from",
            "3.11",
            "--repo",
            str(path),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "no source index" in r.stdout
    assert "wave 1:" in r.stdout and "numpy" in r.stdout


def test_cache_info_and_clear_cover_the_parsed_indices(
    tmp_path: Path, excerpt: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One cache directory for check's results and plan's parsed indices
    (coinstall.cachedir): ``coinstall cache info`` counts the parsed indices and ``cache
    clear`` removes them (on 92a51ab it knew only the result cache, and plan ignored
    $COINSTALL_CACHE_DIR); only the entries plan wrote, never through a symbolic link."""
    root = tmp_path / "cache"
    monkeypatch.setenv("COINSTALL_CACHE_DIR", str(root))
    path = tmp_path / "Packages"
    path.write_bytes(excerpt)
    load.read_cached("packages", str(path))
    plan_dir = root / "plan"
    (entry,) = list(plan_dir.iterdir())
    keep = tmp_path / "precious"
    keep.write_text("not the cache's")
    (plan_dir / ("0" * 32 + ".cpython-311")).symlink_to(keep)
    (plan_dir / "README").write_text("someone's note")
    coinstall = Path(sys.executable).parent / "coinstall"
    env = {**os.environ, "COINSTALL_CACHE_DIR": str(root)}
    info = subprocess.run(
        [str(coinstall), "cache", "info"], env=env, capture_output=True, text=True, timeout=120
    )
    assert info.returncode == 0, info.stderr
    assert f"{plan_dir}: 1 parsed indices" in info.stdout
    clear = subprocess.run(
        [str(coinstall), "cache", "clear"], env=env, capture_output=True, text=True, timeout=120
    )
    assert clear.returncode == 0, clear.stderr
    assert f"{plan_dir}: removed 1 parsed indices" in clear.stdout
    assert not entry.exists()
    assert keep.read_text() == "not the cache's"
    assert sorted(p.name for p in plan_dir.iterdir()) == ["0" * 32 + ".cpython-311", "README"]
