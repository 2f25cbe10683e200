"""Seeded mutation fuzzing of every reader, checked beside a good file (issue 9).

Real corpus files (wheels, .debs, RPMs, spec files, a Debian ``Packages`` index made by
``dpkg-scanpackages`` from real .debs, RPM ``repodata`` made by ``createrepo_c`` from real RPMs)
are mutated (bytes flipped, truncated, a chunk duplicated or removed; :func:`hostile.mutate`)
with a fixed seed, so a failure names a mutant that reproduces.  Mutants go to one ``coinstall``
child per batch, beside a good file, each child under a timeout.  Must hold: no traceback, no
hang, the good file always reported, every mutant accounted for (checked or one error line),
the JSON document always parses, exit status 0, 1 or 2 (never 3).

Bounded: 1,170 mutants (360 wheels, 200 .debs, 240 RPMs, 120 Debian indices, 90 RPM
repodata files, 160 spec files) in about 42 children, 45-60 s on two busy cores.
``COINSTALL_FUZZ_SCALE`` multiplies the counts for a longer local run
(``COINSTALL_FUZZ_SCALE=10``: 11,700 mutants).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

import hostile
from corpus import deb, rpms, wheel

SEED = 20261130
SCALE = int(os.environ.get("COINSTALL_FUZZ_SCALE", "1"))
TIMEOUT = 90.0  # per child: a hang fails the test, it does not stall the suite


def _mutants(src: Path, out: Path, n: int, seed: int, name: str | None = None) -> list[Path]:
    """``n`` mutants of ``src`` in ``out`` named ``NNN-<what>-<name>`` (the name keeps the
    suffix the reader is chosen by)."""
    rng = random.Random(seed)
    data = src.read_bytes()
    paths = []
    for i in range(n):
        what, body = hostile.mutate(data, rng)
        p = out / f"{seed}-{i:03d}-{what.replace(' ', '_').replace('+', 'p')}-{name or src.name}"
        p.write_bytes(body)
        paths.append(p)
    return paths


def _check_batch(
    good: Path,
    mutants: list[Path],
    text: bool = False,
    command: tuple[str, ...] = ("check", "--no-installed"),
) -> None:
    if text:  # the terminal form: one line per error, no raw control character
        t = hostile.run("check", "--no-installed", str(good), *map(str, mutants), timeout=TIMEOUT)
        assert t.rc in (0, 1, 2), (t.rc, t.err[-3000:])
        assert "Traceback" not in t.err + t.out
        assert all(ln.startswith("coinstall: ") for ln in t.err.splitlines()), t.err[-3000:]
        assert not any(c in t.err for c in "\x1b\x07\r"), t.err[-3000:]
        assert str(good) in t.out
    r = hostile.run(*command, "--format", "json", str(good), *map(str, mutants), timeout=TIMEOUT)
    assert r.rc != "timeout", f"hang on one of {[m.name for m in mutants]}"
    assert "Traceback" not in r.err + r.out, r.err[-3000:]
    assert r.rc in (0, 1, 2), (r.rc, r.err[-3000:])
    report = json.loads(r.out)
    checked = {a["path"] for a in report["artifacts"]}
    erred = {e["path"] for e in report["errors"]}
    assert str(good) in checked
    for m in mutants:
        assert str(m) in checked | erred, f"{m.name}: neither checked nor reported"
    for e in report["errors"]:
        assert isinstance(e["message"], str) and e["message"], e


def _fuzz_check(
    tmp_path: Path, sources: list[Path], good: Path, per_source: int, batch: int
) -> int:
    mutants: list[Path] = []
    for k, src in enumerate(sources):
        mutants += _mutants(src, tmp_path, per_source * SCALE, SEED + k)
    for i in range(0, len(mutants), batch):
        _check_batch(good, mutants[i : i + batch], text=i == 0)
    return len(mutants)


@pytest.mark.network
def test_fuzz_wheels(tmp_path: Path) -> None:
    sources = [wheel("six"), wheel("attrs"), wheel("markupsafe-cp313")]
    assert _fuzz_check(tmp_path, sources, wheel("click"), 120, 60) == 360 * SCALE


@pytest.mark.network
def test_fuzz_debs(tmp_path: Path) -> None:
    sources = [deb("python3-six"), deb("python3-yaml")]
    assert _fuzz_check(tmp_path, sources, deb("python3-chardet"), 100, 50) == 200 * SCALE


def test_fuzz_rpms(tmp_path: Path) -> None:
    small = sorted(rpms(), key=lambda p: p.stat().st_size)
    sources, good = small[:3], small[3]
    assert _fuzz_check(tmp_path, sources, good, 80, 60) == 240 * SCALE


def _plan_batch(repos: list[Path], good: Path, good_binaries: int) -> None:
    args = ["plan", "add", "3.12", "--from", "3.11", "--no-cache", "--format", "json"]
    for r in [*repos, good]:
        args += ["--repo", str(r)]
    r = hostile.run(*args, timeout=TIMEOUT)
    assert r.rc != "timeout", f"hang on one of {[p.name for p in repos]}"
    assert "Traceback" not in r.err + r.out, r.err[-3000:]
    assert r.rc in (0, 2), (r.rc, r.err[-3000:])
    plan = json.loads(r.out)
    # The good index is always read (mutants may add records of their own).
    assert plan["read"]["binaries"] >= good_binaries


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


@pytest.mark.network
def test_fuzz_debian_indices(tmp_path: Path) -> None:
    pool = tmp_path / "pool"
    pool.mkdir()
    for name in ("python3-six", "python3-yaml", "python3-chardet"):
        shutil.copy(deb(name), pool)
    text = subprocess.run(
        [_tool("dpkg-scanpackages"), "--multiversion", "pool"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    ).stdout
    assert text.count(b"\nPackage: ") + text.startswith(b"Package: ") == 3
    good = tmp_path / "good" / "Packages"
    good.parent.mkdir()
    good.write_bytes(text)
    import gzip
    import lzma

    variants = {
        "Packages": text,
        "Packages.gz": gzip.compress(text),
        "Packages.xz": lzma.compress(text),
    }
    repos: list[Path] = []
    for k, (name, body) in enumerate(variants.items()):
        src = tmp_path / f"src-{name}"
        src.write_bytes(body)
        for i, m in enumerate(_mutants(src, tmp_path, 40 * SCALE, SEED + 100 + k, name)):
            d = tmp_path / f"deb-repo-{k}-{i:03d}"
            d.mkdir()
            m.rename(d / name)
            repos.append(d)
    for i in range(0, len(repos), 30):
        _plan_batch(repos[i : i + 30], good, 3)


@pytest.mark.network
def test_fuzz_rpm_repodata(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    for p in sorted(rpms(), key=lambda p: p.stat().st_size)[:3]:
        shutil.copy(p, good)
    subprocess.run(
        [_tool("createrepo_c"), "--quiet", "--no-database", str(good)],
        check=True,
        capture_output=True,
    )
    repodata = good / "repodata"
    targets = sorted(
        p
        for p in repodata.iterdir()
        if p.name == "repomd.xml" or "primary" in p.name or "filelists" in p.name
    )
    repos: list[Path] = []
    for k, target in enumerate(targets):
        for i, m in enumerate(_mutants(target, tmp_path, 30 * SCALE, SEED + 200 + k)):
            d = tmp_path / f"rpm-repo-{k}-{i:03d}"
            shutil.copytree(good, d)
            m.replace(d / "repodata" / target.name)
            repos.append(d)
    for i in range(0, len(repos), 30):
        _plan_batch(repos[i : i + 30], good, 3)


SPEC_DIR = Path(__file__).resolve().parent / "data" / "spec"


def test_fuzz_specs(tmp_path: Path) -> None:
    """Mutants of real spec files (Fedora, EPEL 7, alternative stack, openSUSE), linted beside
    a good spec: one error line or findings per mutant, never a traceback or a hang; a sample
    is also ported (exit 0 or 2, nothing else)."""
    sources = [
        SPEC_DIR / "fedora" / "python-ansicolor.spec",
        SPEC_DIR / "epel7" / "python-scandir.spec",
        SPEC_DIR / "alt" / "python3.11-six.spec",
        SPEC_DIR / "suse" / sorted(os.listdir(SPEC_DIR / "suse"))[0],
    ]
    good = SPEC_DIR / "fedora" / "PyYAML.spec"
    mutants: list[Path] = []
    for k, src in enumerate(sources):
        mutants += _mutants(src, tmp_path, 40 * SCALE, SEED + 300 + k)
    # 160 mutants per ``spec lint`` process, not 40: the lint of many specs pays the start-up
    # and the parse worker once (measured on two loaded cores: 4 x 40 mutants 38-51 s wall,
    # 1 x 160 mutants 22-27 s, the same answer for each of the 161 specs)
    for i in range(0, len(mutants), 160):
        _check_batch(good, mutants[i : i + 160], command=("spec", "lint"))
    # the sample's ports in one process (hostile.run_many: port takes one spec); each answer
    # is asserted on its own, and the whole process must neither hang nor crash
    sample = mutants[:: max(1, len(mutants) // 12)]
    many = hostile.run_many(
        [(("spec", "port", "--to", "epel", str(m)), None) for m in sample],
        tmp_path,
        timeout=TIMEOUT,
    )
    assert many.whole.rc == 0, ("port hangs or crashes", many.whole.rc, many.whole.err[-3000:])
    assert "Traceback" not in many.whole.err + many.whole.out, many.whole.err[-3000:]
    for m, (r, _seconds) in zip(sample, many.runs, strict=True):
        assert "Traceback" not in r.err + r.out, (m.name, r.err[-3000:])
        assert r.rc in (0, 2), (m.name, r.rc, r.err[-3000:])
