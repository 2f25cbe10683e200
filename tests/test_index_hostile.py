"""Hostile repository indices, mirrors and result caches, delivered as an attacker would: crafted
files on disk and ``coinstall`` run as a separate process (peak memory of that process from
``RUSAGE_CHILDREN``, :func:`hostile.run`).  Issue 17 items 4-7 and 10, issue 19 items 12-13.

Every case asserts: exit 2, one ``coinstall:`` line per refused thing, no traceback, an answer
within seconds, peak memory under :data:`MEMORY_BOUND_MB`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import lz4.frame
import pytest

import hostile
from corpus import rpms

MEMORY_BOUND_MB = 200
_NS = "http://linux.duke.edu/metadata/common"


def _errors(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("coinstall: ")]


def _assert_clean(r: hostile.Run) -> None:
    assert r.rc == 2, (r.rc, r.err[-2000:])
    assert "Traceback" not in r.err + r.out, r.err[-3000:]
    assert r.maxrss_mb < MEMORY_BOUND_MB, f"peak RSS {r.maxrss_mb:.0f} MB"


def _createrepo(tmp_path: Path) -> tuple[Path, Path]:
    """A real repository (createrepo_c) over the first corpus RPM; returns (repo, primary)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    good = rpms()[0]
    shutil.copy(good, repo / good.name)
    subprocess.run(["createrepo_c", "-q", "--general-compress-type=gz", str(repo)], check=True)
    prim = next((repo / "repodata").glob("*primary.xml.gz"))
    return repo, prim


def _gzip_text_bomb(prefix: bytes, mib: int, suffix: bytes) -> bytes:
    """gzip members (RFC 1952 §2.2: a file may hold several) of valid XML text: ``prefix``,
    ``mib`` MiB of ``a``, ``suffix``; one compressed MiB repeated, ~1 KB per MiB."""
    one = gzip.compress(b"a" * (1 << 20), 9)
    return gzip.compress(prefix) + one * mib + gzip.compress(suffix)


# --- 19.13 / 17.4b: check --repo reads primary through the planner's capped reader ----------


def test_check_repo_primary_bomb_is_capped(tmp_path: Path) -> None:
    """A 0.1 MB primary.xml.gz expanding to 96 MiB of one <description>: ``check --repo``
    with ``--limit index-mb=16`` stops at 16 MB, as ``plan --repo`` does (the old second
    parser in archive/repo.py read it all).

    The bomb is as small as proves both limits by a real margin: 6 times ``index-mb=16``,
    3 times the ratio limit's floor (:data:`coinstall.artifacts.limits.RATIO_FLOOR`, 32 MB,
    which is the ratio limit of a file this small).  It was 1.2 GB (1.2 MB on disk), which
    made the two default runs below expand and parse 240 MB each before the ratio limit;
    this one, 32 MB.  Without the limits (``--limit index-mb=100000 --limit ratio=100000``)
    ``check`` reads all of it and names no limit, so every assertion below fails."""
    repo, prim = _createrepo(tmp_path)
    head = (
        f'<?xml version="1.0"?><metadata xmlns="{_NS}" packages="1"><package type="rpm">'
        "<name>bomb</name><description>"
    ).encode()
    prim.write_bytes(_gzip_text_bomb(head, 96, b"</description></package></metadata>"))
    size = prim.stat().st_size
    assert size < 160 << 10  # 200 times the size stays under the ratio floor: it decides
    t0 = time.monotonic()
    r = hostile.run(
        "check",
        "--no-installed",
        "--no-cache",
        "--limit",
        "index-mb=16",
        "--repo",
        str(repo / "repodata" / "repomd.xml"),
        "--mirror",
        str(repo),
        timeout=60,
    )
    took = time.monotonic() - t0
    _assert_clean(r)
    lines = _errors(r.err)
    assert len(lines) == 1 and "limit index-mb" in lines[0], r.err
    assert took < 20, took
    # the planner reads the same file through the same reader, so with the default limits
    # (plan has no --limit) both stop with the same reason: the ratio limit (its 32 MB floor
    # here: peak memory follows that documented bound, not the 96 MiB)
    p = hostile.run(
        "plan", "add", "3.12", "--from", "3.11", "--repo", str(repo), "--no-cache", timeout=120
    )
    c = hostile.run(
        "check",
        "--no-installed",
        "--no-cache",
        "--repo",
        str(repo / "repodata" / "repomd.xml"),
        "--mirror",
        str(repo),
        timeout=120,
    )
    assert p.rc == c.rc == 2
    why = [
        re.search(r"primary unreadable after 0 packages \(.*\)$", run.err.strip(), re.M)
        for run in (p, c)
    ]
    assert why[0] and why[1] and why[0][0] == why[1][0] and "(limit ratio)" in why[0][0], (
        p.err,
        c.err,
    )
    # measured 56 and 64 MB; a reader holding the 96 MiB would pass 96
    assert max(p.maxrss_mb, c.maxrss_mb) < 32 + 64


def test_check_repo_damaged_lz4_primary_is_one_line(tmp_path: Path) -> None:
    """A damaged primary.xml.lz4 (lz4 raises RuntimeError): exit 2 and one line under
    ``check --repo`` too, not exit 3."""
    repo, prim = _createrepo(tmp_path)
    xml = gzip.decompress(prim.read_bytes())
    data = bytearray(lz4.frame.compress(xml * 50))
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    lz = prim.with_name(prim.name.replace(".gz", ".lz4"))
    lz.write_bytes(bytes(data))
    md = repo / "repodata" / "repomd.xml"
    md.write_text(md.read_text().replace(prim.name, lz.name))
    prim.unlink()
    r = hostile.run(
        "check",
        "--no-installed",
        "--no-cache",
        "--repo",
        str(md),
        "--mirror",
        str(repo),
        timeout=60,
    )
    _assert_clean(r)
    lines = _errors(r.err)
    assert len(lines) == 1 and "primary unreadable" in lines[0], r.err


# --- 17.5: an index never reads outside its mirror --------------------------------------------


def _debian_mirror(tmp_path: Path, filenames: list[str]) -> tuple[Path, Path]:
    mirror = tmp_path / "mirror"
    (mirror / "pool").mkdir(parents=True)
    good = rpms()[0]
    shutil.copy(good, mirror / "pool" / "good.rpm")
    paras = ["Package: good\nVersion: 1\nArchitecture: all\nFilename: pool/good.rpm\n"]
    paras += [
        f"Package: evil{i}\nVersion: 1\nArchitecture: all\nFilename: {fn}\n"
        for i, fn in enumerate(filenames)
    ]
    index = tmp_path / "Packages"
    index.write_text("\n".join(paras))
    return mirror, index


def test_debian_index_paths_leaving_the_mirror_are_refused_alike(tmp_path: Path) -> None:
    """``Filename: ../../outside/secret.rpm`` (exists), ``../../outside/missing.rpm`` (does
    not), ``../../../../etc/passwd``, an absolute path and a symlink in the mirror pointing
    outside: none is read, and each gets the same line whether or not the file exists."""
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(rpms()[1], outside / "secret.rpm")
    mirror, index = _debian_mirror(
        tmp_path,
        [
            "../outside/secret.rpm",
            "../outside/missing.rpm",
            "../../../../etc/passwd",
            str(outside / "secret.rpm"),
            "pool/link.rpm",
            "pool/link-missing.rpm",
        ],
    )
    os.symlink(outside / "secret.rpm", mirror / "pool" / "link.rpm")
    os.symlink(outside / "nothing.rpm", mirror / "pool" / "link-missing.rpm")
    r = hostile.run(
        "check",
        "--no-installed",
        "--no-cache",
        "--format",
        "json",
        "--repo",
        str(index),
        "--mirror",
        str(mirror),
        timeout=60,
    )
    _assert_clean(r)
    doc = json.loads(r.out)
    assert [Path(a["path"]).name for a in doc["artifacts"]] == ["good.rpm"]
    msgs = {e["message"] for e in doc["errors"]}
    assert len(doc["errors"]) == 6
    shapes = {re.sub(r"evil\d", "evilN", m) for m in msgs}
    assert shapes == {f"evilN: {index} gives a path that leaves the mirror {mirror}; not read"}, (
        msgs
    )
    t = hostile.run(
        "check",
        "--no-installed",
        "--no-cache",
        "--repo",
        str(index),
        "--mirror",
        str(mirror),
        timeout=60,
    )
    assert len(_errors(t.err)) == 6 and "Traceback" not in t.err


def test_rpm_index_href_and_xml_base_leaving_the_mirror_are_refused(tmp_path: Path) -> None:
    """``location href="../../…"`` and ``xml:base="file:///…"`` in primary.xml, and a
    repomd.xml whose primary lies outside the repository: refused, never read."""
    repo, prim = _createrepo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(rpms()[1], outside / "secret.rpm")
    xml = gzip.decompress(prim.read_bytes()).decode()
    pkg = xml[xml.index("<package ") : xml.index("</package>") + len("</package>")]
    href = re.search(r'<location href="([^"]+)"', pkg)
    assert href
    evil1 = pkg.replace(href[0], '<location href="../outside/secret.rpm"')
    evil2 = pkg.replace(href[0], f'<location xml:base="file://{outside}" href="secret.rpm"')
    count = re.search(r'packages="(\d+)"', xml)
    assert count
    xml = xml.replace(pkg, pkg + evil1 + evil2).replace(count[0], 'packages="3"')
    prim.write_bytes(gzip.compress(xml.encode()))
    md = str(repo / "repodata" / "repomd.xml")
    r = hostile.run(
        "check",
        "--no-installed",
        "--no-cache",
        "--format",
        "json",
        "--repo",
        md,
        "--mirror",
        str(repo),
        timeout=60,
    )
    _assert_clean(r)
    doc = json.loads(r.out)
    assert len(doc["artifacts"]) == 1 and "outside" not in doc["artifacts"][0]["path"]
    assert len(doc["errors"]) == 2
    assert all("leaves the mirror" in e["message"] for e in doc["errors"]), doc["errors"]
    # the index's own metadata: primary located outside the repository
    text = Path(md).read_text()
    Path(md).write_text(
        re.sub(r'href="repodata/[^"]*primary[^"]*"', 'href="../outside/secret.rpm"', text)
    )
    r = hostile.run(
        "check", "--no-installed", "--no-cache", "--repo", md, "--mirror", str(repo), timeout=60
    )
    _assert_clean(r)
    lines = _errors(r.err)
    assert len(lines) == 1 and "leaves the repository" in lines[0], r.err


# --- 19.12: a repository check checks the repository only -------------------------------------


def test_check_repo_checks_only_the_repository(tmp_path: Path) -> None:
    """Without ``--no-installed`` (the README's example), ``check --repo`` lists the
    repository's packages and nothing of this machine's site directories."""
    mirror, index = _debian_mirror(tmp_path, [])
    r = hostile.run(
        "check",
        "--no-cache",
        "--format",
        "json",
        "--repo",
        str(index),
        "--mirror",
        str(mirror),
        timeout=120,
    )
    assert r.rc in (0, 1), r.err
    doc = json.loads(r.out)
    assert [Path(a["path"]).name for a in doc["artifacts"]] == ["good.rpm"], [
        a["path"] for a in doc["artifacts"]
    ]
    assert doc["errors"] == []


# --- 17.6: a hostile index cannot poison the result cache --------------------------------------


def _name_of(r: hostile.Run) -> list[str]:
    return [a.get("name") for a in json.loads(r.out)["artifacts"]]


def _padded(src: Path, size: int) -> bytes:
    data = src.read_bytes()
    assert len(data) <= size
    return data + b"\0" * (size - len(data))  # past the cpio trailer: never read


def _two_rpms() -> tuple[Path, Path]:
    """(big, small): two real packages of different names, the first the larger."""
    by_size = sorted(rpms(), key=lambda p: p.stat().st_size)
    return by_size[-1], by_size[0]


def test_index_digest_is_verified_before_it_keys_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mirror whose file is another package padded to the real one's size, under the real
    package's SHA-256 in the index: refused ("hash sum mismatch"), nothing cached; a later
    run over the real mirror reports the real package (the old code served the other
    package's result from the cache)."""
    monkeypatch.setenv("COINSTALL_CACHE_DIR", str(tmp_path / "cache"))
    real, other = _two_rpms()
    size = real.stat().st_size
    digest = hashlib.sha256(real.read_bytes()).hexdigest()
    para = (
        f"Package: victim\nVersion: 1\nArchitecture: all\nFilename: pool/v.rpm\n"
        f"Size: {size}\nSHA256: {digest}\n"
    )
    for name, data in (("evil", _padded(other, size)), ("good", real.read_bytes())):
        (tmp_path / name / "pool").mkdir(parents=True)
        (tmp_path / name / "pool" / "v.rpm").write_bytes(data)
        (tmp_path / name / "Packages").write_text(para)
    evil = hostile.run(
        "check",
        "--no-installed",
        "--format",
        "json",
        "--jobs",
        "1",
        "--repo",
        str(tmp_path / "evil" / "Packages"),
        "--mirror",
        str(tmp_path / "evil"),
        timeout=120,
    )
    _assert_clean(evil)
    errs = json.loads(evil.out)["errors"]
    assert len(errs) == 1 and "hash sum mismatch" in errs[0]["message"], errs
    good = hostile.run(
        "check",
        "--no-installed",
        "--format",
        "json",
        "--jobs",
        "1",
        "--repo",
        str(tmp_path / "good" / "Packages"),
        "--mirror",
        str(tmp_path / "good"),
        timeout=120,
    )
    assert good.rc in (0, 1), good.err
    fresh = hostile.run(
        "check", "--no-installed", "--no-cache", "--format", "json", str(real), timeout=120
    )
    assert _name_of(good) == _name_of(fresh) != [None]


def test_rewrite_in_place_with_mtime_reset_misses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same path, size, inode and mtime, other bytes (written in place, ``utime`` put
    back): the ctime moved, so the cached digest is not reused."""
    monkeypatch.setenv("COINSTALL_CACHE_DIR", str(tmp_path / "cache"))
    real, other = _two_rpms()
    target = tmp_path / "pkg.rpm"
    target.write_bytes(real.read_bytes())
    first = hostile.run(
        "check", "--no-installed", "--format", "json", "--jobs", "1", str(target), timeout=120
    )
    st = target.stat()
    with open(target, "r+b") as f:  # same inode
        f.write(_padded(other, st.st_size))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    st2 = target.stat()
    assert (st2.st_size, st2.st_mtime_ns, st2.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    second = hostile.run(
        "check", "--no-installed", "--format", "json", "--jobs", "1", str(target), timeout=120
    )
    fresh = hostile.run(
        "check", "--no-installed", "--no-cache", "--format", "json", str(other), timeout=120
    )
    assert _name_of(first) != _name_of(second) == _name_of(fresh), (
        _name_of(first),
        _name_of(second),
    )


# --- 17.10: a damaged cache is discarded with one warning --------------------------------------


def _damage(kind: str, db: Path) -> None:
    if kind == "garbage":
        db.write_bytes(os.urandom(8192))
    elif kind == "truncated":
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
        for side in db.parent.glob(db.name + "-*"):
            side.unlink()
    elif kind == "fifo":
        for f in db.parent.glob(db.name + "*"):
            f.unlink()
        os.mkfifo(db)
    elif kind == "bad-rows":
        con = sqlite3.connect(db)
        con.execute("UPDATE results SET outcome = x'00', artifact = x'789c'")
        con.execute("UPDATE setresults SET findings = x'00'")
        con.commit()
        con.close()
    elif kind == "old-schema":
        con = sqlite3.connect(db)
        con.execute("DROP TABLE files")
        con.execute("CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER)")
        con.execute("PRAGMA user_version = 0")
        con.commit()
        con.close()


def test_read_only_cache_leaves_the_run_uncached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An immutable database (chattr +i: the suite runs as root, which chmod does not stop):
    check runs uncached with one warning; cache clear says it cannot, exit 2."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("COINSTALL_CACHE_DIR", str(cache))
    pkgs = [str(p) for p in rpms()[:2]]
    base = hostile.run(
        "check",
        "--no-installed",
        "--no-cache",
        "--jobs",
        "1",
        "--format",
        "json",
        *pkgs,
        timeout=120,
    )
    other = hostile.run("check", "--no-installed", "--jobs", "1", str(rpms()[2]), timeout=120)
    assert other.rc in (0, 1)  # a database holding another package's result
    db = cache / "results.sqlite3"
    for side in cache.glob("results.sqlite3-*"):
        side.unlink()
    subprocess.run(["chattr", "+i", str(db)], check=True)
    try:
        r = hostile.run(
            "check", "--no-installed", "--jobs", "1", "--format", "json", *pkgs, timeout=120
        )
        assert r.rc == base.rc, r.err
        assert json.loads(r.out) == json.loads(base.out)
        assert "Traceback" not in r.err
        warnings = [ln for ln in r.err.splitlines() if ln.startswith("warning: result cache")]
        assert len(warnings) == 1 and "running without it" in warnings[0], r.err
        c = hostile.run("cache", "clear", timeout=60)
        assert c.rc == 2 and "Traceback" not in c.err, c.err
        assert len(_errors(c.err)) == 1 and "cannot be cleared" in c.err, c.err
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], hostile.Run, Path]:
    """Three corpus RPMs checked uncached (the answer every cached run must equal) and once
    more into a fresh result cache, which each damage case copies: ``(packages, uncached
    answer, cache directory)``.  Made once for the five cases (before: ten ``check`` runs)."""
    cache = tmp_path_factory.mktemp("warm-cache") / "cache"
    pkgs = [str(p) for p in rpms()[:3]]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COINSTALL_CACHE_DIR", str(cache))
        base = hostile.run(
            "check",
            "--no-installed",
            "--no-cache",
            "--jobs",
            "1",
            "--format",
            "json",
            *pkgs,
            timeout=120,
        )
        warm = hostile.run(
            "check", "--no-installed", "--jobs", "1", "--format", "json", *pkgs, timeout=120
        )
    assert warm.rc == base.rc and json.loads(warm.out) == json.loads(base.out)
    assert (cache / "results.sqlite3").is_file()
    return pkgs, base, cache


@pytest.mark.parametrize("kind", ["garbage", "truncated", "fifo", "bad-rows", "old-schema"])
def test_damaged_cache_is_discarded_with_one_warning(
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    warm_cache: tuple[list[str], hostile.Run, Path],
) -> None:
    pkgs, base, warm = warm_cache
    cache = tmp_path / "cache"
    shutil.copytree(warm, cache)
    monkeypatch.setenv("COINSTALL_CACHE_DIR", str(cache))
    db = cache / "results.sqlite3"
    _damage(kind, db)
    for args in (
        ("check", "--no-installed", "--jobs", "1", "--format", "json", *pkgs),
        ("cache", "info"),
        ("cache", "clear"),
    ):
        r = hostile.run(*args, timeout=60)
        assert r.rc != "timeout" and r.rc != 3, (args, r.rc, r.err)
        assert "Traceback" not in r.err, r.err
        warnings = [ln for ln in r.err.splitlines() if ln.startswith("warning: result cache")]
        if args[0] == "check":
            assert r.rc == base.rc and json.loads(r.out) == json.loads(base.out)
            if kind != "old-schema":
                assert len(warnings) == 1 and "discarded" in warnings[0], r.err
        else:
            assert r.rc == 0 and warnings == [], (args, r.err)
    info = hostile.run("cache", "info", timeout=60)
    assert info.rc == 0 and "results" in info.out


# --- 17.7: FIFOs and endless files are refused unopened ---------------------------------------


def _special(kind: str, tmp_path: Path) -> str:
    if kind == "fifo":
        p = tmp_path / "input.fifo"
        os.mkfifo(p)
        return str(p)
    return "/dev/zero"


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize("command", ["check-config", "plan-progress", "report"])
def test_fifo_and_endless_file_are_one_line(command: str, kind: str, tmp_path: Path) -> None:
    """``check --config``, ``plan progress``, ``report`` given a FIFO (the old code waited
    for a writer forever) or /dev/zero (read until memory ran out): one line, exit 2, at
    once."""
    path = _special(kind, tmp_path)
    args = {
        "check-config": ("check", "--no-installed", "--config", path, str(rpms()[0])),
        "plan-progress": ("plan", "progress", path, "--repo", str(rpms()[0].parent), "--no-cache"),
        "report": ("report", path),
    }[command]
    t0 = time.monotonic()
    r = hostile.run(*args, timeout=30)
    assert r.rc != "timeout", f"{command} {kind}: hung"
    _assert_clean(r)
    lines = _errors(r.err)
    assert len(lines) == 1 and "not a regular file: not opened" in lines[0], r.err
    assert time.monotonic() - t0 < 20


def test_report_of_a_huge_sparse_file_is_refused_unread(tmp_path: Path) -> None:
    """A 4 GB sparse results file: refused by its size, not read into memory."""
    p = tmp_path / "results.json"
    with open(p, "wb") as f:
        f.truncate(4 << 30)
    r = hostile.run("report", str(p), timeout=30)
    _assert_clean(r)
    lines = _errors(r.err)
    assert len(lines) == 1 and "limit index-mb" in lines[0], r.err


# --- 17.10: report on results of the wrong shape ----------------------------------------------

_HEADER = json.dumps({"header": {"schema_version": 1}})
WRONG_SHAPES = {
    "line-is-a-list": [_HEADER, "[]"],
    "artifact-is-a-list": [_HEADER, '{"artifact": []}'],
    "findings-is-a-string": [_HEADER, '{"artifact": {"path": "a", "findings": "x"}}'],
    "finding-is-a-number": [_HEADER, '{"artifact": {"path": "a", "findings": [1]}}'],
    "rule-is-a-number": [_HEADER, '{"artifact": {"findings": [{"rule": 1, "severity": 2}]}}'],
    "profile-is-a-list": [_HEADER, '{"artifact": {"path": "a", "profile": []}}'],
    "error-is-a-string": [_HEADER, '{"error": "x"}'],
    "file-kind-is-a-list": [_HEADER, '{"artifact": {"files": [{"kind": []}]}}'],
    "doc-artifacts-is-an-object": ['{"artifacts": {"a": 1}}'],
    "doc-artifact-is-a-number": ['{"artifacts": [5]}'],
    "doc-errors-are-numbers": ['{"artifacts": [], "errors": [3]}'],
    "doc-name-is-an-object": ['{"artifacts": [{"name": {"x": 1}, "findings": []}]}'],
}


@pytest.fixture(scope="module")
def wrong_shape_answers(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], hostile.Run]:
    """``coinstall report --format FMT`` on each wrong-shape file, all 36 runs in one process
    (:func:`hostile.run_many`: ``report`` stops at the first file that is not results, so one
    command line cannot take them all); ``report`` runs as a process of its own on hostile
    input above (FIFO, /dev/zero, a sparse 4 GB file)."""
    root = tmp_path_factory.mktemp("wrong-shapes")
    keys, jobs = [], []
    for shape in sorted(WRONG_SHAPES):
        p = root / f"{shape}.jsonl"
        p.write_text("\n".join(WRONG_SHAPES[shape]) + "\n")
        for fmt in ("text", "json", "html"):
            keys.append((shape, fmt))
            jobs.append((("report", "--format", fmt, str(p)), None))
    many = hostile.run_many(jobs, root, timeout=120)
    assert many.whole.rc == 0 and "Traceback" not in many.whole.err, many.whole.err[-3000:]
    return {key: r for key, (r, _s) in zip(keys, many.runs, strict=True)}


@pytest.mark.parametrize("shape", sorted(WRONG_SHAPES))
def test_report_on_results_of_the_wrong_shape_is_exit_2(
    shape: str, wrong_shape_answers: dict[tuple[str, str], hostile.Run]
) -> None:
    for fmt in ("text", "json", "html"):
        r = wrong_shape_answers[shape, fmt]
        _assert_clean(r)
        lines = _errors(r.err)
        assert len(lines) == 1 and "not coinstall check results" in lines[0], (fmt, r.err)


def test_index_text_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    """A ``Filename`` holding ESC sequences (outside the mirror, and absent inside it): the
    error lines show them escaped, as check shows member names."""
    mirror, index = _debian_mirror(tmp_path, ["../\x1b]0;owned\x07.rpm", "pool/\x1b[2Jx.rpm"])
    r = hostile.run(
        "check",
        "--no-installed",
        "--no-cache",
        "--repo",
        str(index),
        "--mirror",
        str(mirror),
        timeout=60,
    )
    _assert_clean(r)
    assert "\x1b" not in r.err + r.out and "\x07" not in r.err + r.out
    assert len(_errors(r.err)) == 2 and "\\x1b" in r.err
