"""Bad input: one clear line per problem naming the file, the other targets still checked,
exit status 2, never a traceback, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import hostile
from corpus import deb, rpms, wheel

COINSTALL = [sys.executable, "-m", "coinstall"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COINSTALL, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture()
def bad_targets(tmp_path: Path) -> dict[str, Path]:
    good_rpm = rpms()[0]
    out = {}
    p = tmp_path / "truncated.rpm"
    data = good_rpm.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    out["truncated-rpm"] = p
    yaml_deb = deb("python3-yaml").read_bytes()
    p = tmp_path / "truncated.deb"
    p.write_bytes(yaml_deb[: len(yaml_deb) - 5000])
    out["truncated-deb"] = p
    p = tmp_path / "notazip-1.0-py3-none-any.whl"
    p.write_text("hello")
    out["not-zip"] = p
    p = tmp_path / "random.deb"
    p.write_bytes(b"\x00" * 100)
    out["not-deb"] = p
    p = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(
            "evil-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"
        )
        zf.writestr("../escape.py", "x = 1\n")
        zf.writestr("/etc/abs.py", "x = 1\n")
        zf.writestr("evil/__init__.py", "")
    out["evil-wheel"] = p
    p = tmp_path / "evil_1.0_all.deb"
    control = hostile.tar_gz([("./control", b"Package: evil\nVersion: 1.0\nArchitecture: all\n")])
    payload = hostile.tar_gz(
        [
            ("./usr/lib/python3/dist-packages/ok.py", b""),
            ("../../outside.py", b"x"),
            ("/abs/path.py", b"x"),
        ]
    )
    p.write_bytes(
        hostile.ar(
            [("debian-binary", b"2.0\n"), ("control.tar.gz", control), ("data.tar.gz", payload)]
        )
    )
    out["evil-deb"] = p
    out["missing"] = tmp_path / "does-not-exist.rpm"
    return out


@pytest.mark.network
def test_each_bad_target_gets_one_line_and_the_rest_is_checked(
    bad_targets: dict[str, Path], tmp_path: Path
) -> None:
    good = str(rpms()[0])
    targets = [str(p) for p in bad_targets.values()]
    before = set(tmp_path.iterdir())
    proc = _run("check", "--no-installed", "--format", "json", good, *targets)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    report = json.loads(proc.stdout)
    checked = {a["path"] for a in report["artifacts"]}
    assert good in checked
    errors = report["errors"]
    for key, path in bad_targets.items():
        mine = [e for e in errors if e["path"] == str(path)]
        assert mine, f"{key}: no error reported"
        for e in mine:
            assert "\n" not in e["message"] and e["message"], (key, e)
    evil = [e["message"] for e in errors if e["path"] == str(bad_targets["evil-wheel"])]
    assert any("../escape.py" in m for m in evil) and any("/etc/abs.py" in m for m in evil)
    evil_deb = [e["message"] for e in errors if e["path"] == str(bad_targets["evil-deb"])]
    assert any("outside.py" in m for m in evil_deb) and any("/abs/path.py" in m for m in evil_deb)
    # The hostile packages' safe members were still checked.
    assert str(bad_targets["evil-deb"]) in checked
    # Nothing was written beside the inputs (no extraction).
    assert set(tmp_path.iterdir()) == before
    assert not (tmp_path.parent / "escape.py").exists()


@pytest.mark.network
def test_text_mode_prints_one_line_per_bad_target(bad_targets: dict[str, Path]) -> None:
    proc = _run(
        "check",
        "--no-installed",
        str(bad_targets["truncated-deb"]),
        str(bad_targets["not-zip"]),
        str(bad_targets["missing"]),
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("coinstall: ")]
    assert len(lines) == 3
    assert any("truncated.deb" in ln for ln in lines)
    assert any("no such file" in ln for ln in lines)


def test_bad_usage_exits_2() -> None:
    proc = _run("check", "--format", "xml")
    assert proc.returncode == 2


# --- crafted hostile input: bombs, lies, special files, names -------------------------------
#
# Each case is built in the test, checked beside a good wheel (so digests are on and every
# member is read: the worst case), and must give exit status 2, exactly one error line that
# names it, the good wheel reported, and a peak RSS of the child under MEMORY_BOUND_MB, while
# the bomb claims or expands to a gigabyte or more.  Measured peaks (2 cores, Python 3.11):
# 40-50 MB for every case.

MEMORY_BOUND_MB = 200
_G = 1 << 30


def _zip_bomb(t: Path) -> Path:
    p = t / "zipbomb-1.0-py3-none-any.whl"
    bomb = ("zipbomb/zeros.bin", hostile.deflate_zeros(_G), 8, _G)
    p.write_bytes(hostile.zip_raw([*hostile.wheel_meta("zipbomb"), bomb]))
    return p


def _nested_zip(t: Path) -> Path:
    """Overlapping central-directory entries (40 more, one 64 MB deflate stream: 2.6 GB)
    and, as a member, a zip that is itself a bomb (never opened: members are not archives)."""
    p = t / "nested-1.0-py3-none-any.whl"
    inner = hostile.zip_raw([("inner/zeros.bin", hostile.deflate_zeros(_G), 8, _G)])
    p.write_bytes(
        hostile.zip_raw(
            [
                ("nested/a.bin", hostile.deflate_zeros(64 << 20), 8, 64 << 20),
                *hostile.wheel_meta("nested"),
                ("nested/inner.zip", inner, 0, len(inner)),
            ],
            overlap=40,
        )
    )
    return p


def _sparse_deb(t: Path) -> Path:
    p = t / "sparse_1.0_all.deb"
    p.write_bytes(
        hostile.deb(
            hostile.tar_gz([("./control", hostile.CONTROL)]),
            hostile.sparse_tar("./usr/share/sparse.bin", 10 * _G),
            "data.tar",
        )
    )
    return p


def _big_control(t: Path) -> Path:
    p = t / "bigcontrol_1.0_all.deb"
    hdr = tarfile.TarInfo("./control")
    hdr.size = _G
    control = hostile.gzip_zeros(hdr.tobuf(tarfile.GNU_FORMAT) + hostile.CONTROL, _G + (1 << 20))
    p.write_bytes(hostile.deb(control, hostile.tar_gz([("./usr/share/ok.txt", b"")])))
    return p


def _zstd_rpm_bomb(t: Path) -> Path:
    p = t / "zstdbomb-1.0-1.noarch.rpm"
    p.write_bytes(hostile.rpm(hostile.zstd_cpio_bomb(_G)))
    return p


def _unknown_type(t: Path) -> Path:
    p = t / "unknowntype-1.0-1.noarch.rpm"
    p.write_bytes(hostile.unknown_type_rpm(rpms()[0]))
    return p


def _string_array_bomb(t: Path) -> Path:
    """4,000 header entries claiming 2**30 strings each over a 64 KB store (issue 17.4)."""
    p = t / "strbomb-1.0-1.noarch.rpm"
    p.write_bytes(hostile.string_array_bomb_rpm())
    return p


def _overlapping_arrays(t: Path) -> Path:
    """The same with every count backed by the store (65,536 empty strings): the entries
    overlap, so 4,000 of them decode to 2 GB unless only the used tags are decoded, within
    metadata-mb."""
    p = t / "overlap-1.0-1.noarch.rpm"
    p.write_bytes(hostile.string_array_bomb_rpm(count=64 << 10))
    return p


def _metadata_bomb(t: Path) -> Path:
    """METADATA claiming and holding 1 GB: refused even alone (metadata is read whole)."""
    p = t / "metabomb-1.0-py3-none-any.whl"
    bomb = ("metabomb-1.0.dist-info/METADATA", hostile.deflate_zeros(_G), 8, _G)
    p.write_bytes(hostile.zip_raw([*hostile.wheel_meta("metabomb")[1:], bomb]))
    return p


def _fifo(t: Path) -> Path:
    p = t / "fifo-1.0-py3-none-any.whl"
    os.mkfifo(p)
    return p


def _fifo_deb(t: Path) -> Path:
    p = t / "fifo_1.0_all.deb"
    os.mkfifo(p)
    return p


def _newline_esc(t: Path) -> Path:
    p = t / "new\nline\x1b]0;owned\x07\x1b[2J-1.0-py3-none-any.whl"
    p.write_bytes(b"not a zip")
    return p


def _member_names(t: Path) -> Path:
    """Member names with a newline and ESC that leave the package: reported, escaped."""
    p = t / "names-1.0-py3-none-any.whl"
    evil = ("../evil\nsecond line\x1b[31m.py", b"x = 1\n", 0, 6)
    p.write_bytes(hostile.zip_raw([*hostile.wheel_meta("names"), evil]))
    return p


CRAFTED = {
    "zip-bomb": (_zip_bomb, "expands beyond"),
    "nested-zip": (_nested_zip, "expands beyond"),
    "sparse-tar-member": (_sparse_deb, "unsupported GNU tar header type 'S'"),
    "big-control": (_big_control, "limit metadata-mb"),
    "zstd-rpm-bomb": (_zstd_rpm_bomb, "expands beyond"),
    "rpm-unknown-entry-type": (_unknown_type, "unknown entry type"),
    "rpm-string-array-bomb": (_string_array_bomb, "values at offset 0 of a 65536-byte store"),
    "rpm-overlapping-arrays": (_overlapping_arrays, "limit metadata-mb"),
    "metadata-bomb": (_metadata_bomb, "limit metadata-mb"),
    "fifo-wheel": (_fifo, "a FIFO, not a regular file: not opened"),
    "fifo-deb": (_fifo_deb, "a FIFO, not a regular file: not opened"),
    "newline-esc-in-file-name": (_newline_esc, "not a zip archive"),
    "newline-esc-in-member-name": (_member_names, "member path leaves the package"),
}


@dataclass
class Crafted:
    """Every crafted case checked beside the good wheel in one ``check`` (text) and one
    ``check --format json`` (:func:`crafted`)."""

    bad: dict[str, Path]  # case -> its file
    good: str
    text: hostile.Run
    json: hostile.Run


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Crafted:
    """All 13 cases in one command line (``check`` gives each bad target its one line and
    checks the rest): 2 ``coinstall`` processes instead of 26.  The peak RSS of the one
    process bounds every case's (each is read in turn; measured 43 MB for all, 30-34 MB for
    one alone)."""
    t = tmp_path_factory.mktemp("crafted")
    bad = {case: build(t) for case, (build, _expected) in sorted(CRAFTED.items())}
    assert len({p.name for p in bad.values()}) == len(bad)
    good = str(wheel("six"))
    targets = [str(p) for p in bad.values()]
    text = hostile.run("check", "--no-installed", *targets, good, timeout=300)
    js = hostile.run("check", "--no-installed", "--format", "json", *targets, good, timeout=300)
    return Crafted(bad, good, text, js)


def _lines_of(err: str, bad: Path) -> list[str]:
    """The error lines naming ``bad`` (by its directory and its name up to a newline, which
    the line shows escaped; no two cases' names start alike)."""
    head = f"coinstall: {bad.parent}/{bad.name.split(chr(10))[0]}"
    return [ln for ln in err.splitlines() if ln.startswith(head)]


@pytest.mark.network
@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_case_is_one_line_exit_2_bounded_memory(case: str, crafted: Crafted) -> None:
    _build, expected = CRAFTED[case]
    bad, good, r = crafted.bad[case], crafted.good, crafted.text
    assert r.rc == 2, (r.rc, r.err[-2000:])
    assert "Traceback" not in r.err + r.out
    lines = [ln for ln in r.err.splitlines() if ln]
    assert len(lines) == len(CRAFTED), lines  # one per bad target, nothing else
    assert all(ln.startswith("coinstall: ") for ln in lines), lines
    mine = _lines_of(r.err, bad)
    assert len(mine) == 1 and expected in mine[0], (case, lines)
    assert "\x1b" not in r.err + r.out and "\x07" not in r.err + r.out
    assert good in r.out  # the good wheel's report
    assert r.maxrss_mb < MEMORY_BOUND_MB, f"{case}: peak RSS {r.maxrss_mb:.0f} MB"
    j = crafted.json
    report = json.loads(j.out)
    assert j.rc == 2
    assert [a["path"] for a in report["artifacts"]] == [good] or good in {
        a["path"] for a in report["artifacts"]
    }
    assert any(e["path"] == str(bad) and expected in e["message"] for e in report["errors"])
    assert len(report["errors"]) == len(CRAFTED), report["errors"]


def test_sarif_stays_a_document_beside_a_bad_target(tmp_path: Path) -> None:
    bad = _unknown_type(tmp_path)
    good = str(rpms()[0])
    r = hostile.run("check", "--no-installed", "--format", "sarif", str(bad), good)
    assert r.rc == 2
    doc = json.loads(r.out)
    assert doc["version"] == "2.1.0"


def test_plan_repo_with_fifo_and_corrupt_wheel(tmp_path: Path) -> None:
    """``plan --repo DIR``: a FIFO among the artifacts and as the only index, a truncated wheel:
    one problem each, never opened or a traceback, and the good RPM beside them is read."""
    arts = tmp_path / "artifacts"
    arts.mkdir()
    os.mkfifo(arts / "fifo_1.0_all.deb")
    good = rpms()[0]
    (arts / good.name).write_bytes(good.read_bytes())
    six = _six_bytes()
    (arts / "six-1.16.0-py2.py3-none-any.whl").write_bytes(six[: len(six) // 2])
    lists = tmp_path / "lists"
    lists.mkdir()
    os.mkfifo(lists / "Packages")
    fifo_repo = tmp_path / "fifo-repo"
    os.mkfifo(fifo_repo)
    r = hostile.run(
        "plan",
        "add",
        "3.12",
        "--from",
        "3.11",
        "--repo",
        str(arts),
        "--repo",
        str(lists),
        "--repo",
        str(fifo_repo),
        "--no-cache",
        "--format",
        "json",
        timeout=60,
    )
    assert r.rc == 2, r.err
    assert "Traceback" not in r.err
    plan = json.loads(r.out)
    problems = plan["problems"]
    assert len(problems) == 4, problems
    for name in ("fifo_1.0_all.deb", "Packages", "fifo-repo"):
        assert any(name in p and "a FIFO" in p for p in problems), (name, problems)
    assert any("six-1.16.0" in p for p in problems)
    assert plan["read"]["binaries"] >= 1


def _six_bytes() -> bytes:
    from corpus import wheel as _wheel

    return _wheel("six").read_bytes()


def test_internal_error_is_exit_3_with_traceback_only_under_debug(tmp_path: Path) -> None:
    """A bug (here: a rule module that raises, injected through a sitecustomize on
    PYTHONPATH) is one line and exit 3; ``--debug`` adds the traceback."""
    (tmp_path / "sitecustomize.py").write_text(
        "import coinstall.report.text as t\n"
        "def boom(*a, **k):\n    raise KeyError('injected')\n"
        "t.render = boom\n"
        "t.render_plain = boom\n"  # the piped report's renderer (report/plain.py)
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    good = str(rpms()[0])
    p = subprocess.run(
        [*COINSTALL, "check", "--no-installed", good],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert p.returncode == 3, p.stderr
    assert "Traceback" not in p.stderr
    assert "internal error (a coinstall bug" in p.stderr and "KeyError" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    p = subprocess.run(
        [*COINSTALL, "--debug", "check", "--no-installed", good],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert p.returncode == 3
    assert "Traceback" in p.stderr


def test_limits_are_options_and_config(tmp_path: Path) -> None:
    """``--limit`` and ``[limits]`` lower a limit; an unknown key is a usage error (2)."""
    good = str(wheel("six"))
    r = hostile.run("check", "--no-installed", "--limit", "metadata-mb=0", good)
    assert r.rc == 2 and "--limit" in r.err
    cfg = tmp_path / "coinstall.toml"
    cfg.write_text("[limits]\nartifact-mb = 1\n")
    big = str(wheel("cryptography-abi3"))  # expands to about 10 MB
    r = hostile.run("check", "--no-installed", "--config", str(cfg), good, big)
    assert r.rc == 2 and "limit artifact-mb" in r.err, r.err
    r = hostile.run("check", "--no-installed", "--limit", "bogus-mb=3", good)
    assert r.rc == 2 and "unknown limit" in r.err


@pytest.mark.network
@pytest.mark.parametrize("target", ["cryptography-abi3", "python3-cryptography"])
def test_spooled_extension_modules_give_the_same_verdicts(target: str) -> None:
    """A wanted member above ``content-mb`` is spooled to a temporary file and its ELF read
    from there: with ``content-mb=1`` (every real extension module here spooled: cryptography's
    ``_rust.abi3.so`` is about 10 MB) the report is the same as with the default."""
    path = str(wheel(target) if "-abi3" in target else deb(target))
    a = hostile.run("check", "--no-installed", "--format", "json", path)
    b = hostile.run("check", "--no-installed", "--format", "json", "--limit", "content-mb=1", path)
    assert a.rc == b.rc and a.rc in (0, 1), (a.err, b.err)
    ra, rb = json.loads(a.out), json.loads(b.out)
    assert ra["artifacts"] == rb["artifacts"]
    exts = [f for f in ra["artifacts"][0]["files"] if f["kind"] == "extension"]
    assert exts, "no extension module: the test would prove nothing"


def test_index_bomb_is_one_problem_with_bounded_memory(tmp_path: Path) -> None:
    """A ``Packages.zst`` of 1 GB (40 KB on disk: zstd frames of a MiB of zeros) beside a good
    index: one problem line ("expands beyond ..."), the good index read, peak RSS under the
    bound.  An index is parsed whole, so what it may hold in memory is bounded by the ``ratio``
    limit (here: the 32 MB floor) and ``index-mb``."""
    import zstandard

    bomb = tmp_path / "bomb"
    bomb.mkdir()
    cctx = zstandard.ZstdCompressor()
    (bomb / "Packages.zst").write_bytes(
        cctx.compress(b"Package: x\n") + cctx.compress(b"\0" * (1 << 20)) * 1024
    )
    good = tmp_path / "good"
    good.mkdir()
    (good / "Packages").write_text(
        "Package: python3-six\nVersion: 1.16.0-4\nArchitecture: all\nSource: six\n"
        "Depends: python3:any\n\n"
    )
    r = hostile.run(
        "plan",
        "add",
        "3.12",
        "--from",
        "3.11",
        "--no-cache",
        "--format",
        "json",
        "--repo",
        str(bomb),
        "--repo",
        str(good),
        timeout=120,
    )
    assert r.rc == 2, r.err
    assert "Traceback" not in r.err
    plan = json.loads(r.out)
    assert len(plan["problems"]) == 1 and "expands beyond" in plan["problems"][0], plan
    assert plan["read"]["binaries"] == 1
    assert r.maxrss_mb < MEMORY_BOUND_MB, f"peak RSS {r.maxrss_mb:.0f} MB"
    # The same through --limit on the plan group: index-mb caps before the ratio does.
    r = hostile.run(
        "plan",
        "--limit",
        "index-mb=8",
        "add",
        "3.12",
        "--from",
        "3.11",
        "--no-cache",
        "--format",
        "json",
        "--repo",
        str(bomb),
        "--repo",
        str(good),
    )
    assert r.rc == 2 and "limit index-mb" in json.loads(r.out)["problems"][0]
