"""Wheels for macOS and Windows (issue 13, part 1): Mach-O/PE headers, the runtimes of a wheel's
own platforms, stable-ABI checks on Mach-O/PE imports, and the release coverage grid.

Inputs are real release wheels pinned by sha256 in tests/corpus.py: numpy 2.1.3 for CPython
3.12 on Linux x86_64/aarch64, macOS x86_64/arm64, Windows amd64/win32; cryptography 43.0.3's
cp39-abi3 wheels for Linux, Windows and macOS universal2; procmaps' cp36-abi3 wheel whose module
needs the 3.10 stable ABI; MarkupSafe's cp313 and cp313t wheels; requests (pure).  Peers and
ground truth: abi3audit 0.0.26 (pinned test dependency) on the same wheels; this machine's real
interpreters for the Linux wheels.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from coinstall.check import check, matrix
from coinstall.cli import main
from coinstall.files import objfile
from coinstall.release import GRID_RUNTIMES, Release, grid
from coinstall.runtimes import catalogue
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.platforms import platforms_of_tag, runtimes_for_wheel

CAT = catalogue.load()
KNOWN = combine([], CAT)

pytestmark = pytest.mark.network

NUMPY = {  # corpus name -> (platform key, the one release runtime of it that loads cp312)
    "numpy-cp312": ("manylinux_x86_64", "cpython-3.12"),
    "numpy-cp312-linux-aarch64": ("manylinux_aarch64", "cpython-3.12/manylinux_aarch64"),
    "numpy-cp312-macos-x86_64": ("macosx_x86_64", "cpython-3.12/macosx_x86_64"),
    "numpy-cp312-macos-arm64": ("macosx_arm64", "cpython-3.12/macosx_arm64"),
    "numpy-cp312-win-amd64": ("win_amd64", "cpython-3.12/win_amd64"),
    "numpy-cp312-win32": ("win32", "cpython-3.12/win32"),
}


def _member(wheel: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(suffix))
        return z.read(name)


def test_platforms_of_tags() -> None:
    keys = [p.key for p in platforms_of_tag("macosx_10_9_universal2")]
    assert keys == ["macosx_x86_64", "macosx_arm64"]
    assert [p.key for p in platforms_of_tag("manylinux2014_aarch64")] == ["manylinux_aarch64"]
    assert platforms_of_tag("musllinux_1_2_x86_64")[0].triplet == "x86_64-linux-musl"
    assert [p.key for p in platforms_of_tag("win32")] == ["win32"]
    assert platforms_of_tag("any") == []


def test_catalogue_suffixes_of_other_platforms() -> None:
    """The darwin and win32 suffix lists against the reference table (CPython PC/pyconfig.h.in
    PYD_TAGGED_SUFFIX, configure.ac SOABI_PLATFORM)."""
    win = {r.id: r for r in runtimes_for_wheel(["win_arm64"], KNOWN, CAT)}
    assert win["cpython-3.12/win_arm64"].extension_suffixes == (".cp312-win_arm64.pyd", ".pyd")
    assert win["cpython-3.13t/win_arm64"].extension_suffixes == (".cp313t-win_arm64.pyd", ".pyd")
    assert win["cpython-3.12d/win_arm64"].extension_suffixes == ("_d.cp312-win_arm64.pyd", "_d.pyd")
    assert win["pypy-3.10-pp73/win_arm64"].extension_suffixes == (".pypy310-pp73-win_arm64.pyd",)
    mac = {r.id: r for r in runtimes_for_wheel(["macosx_11_0_arm64"], KNOWN, CAT)}
    assert mac["cpython-3.15/macosx_arm64"].extension_suffixes == (
        ".cpython-315-darwin.so",
        ".abi3-darwin.so",
        ".abi3.so",
        ".abi3t-darwin.so",
        ".abi3t.so",
        ".so",
    )
    assert mac["cpython-3.12/macosx_arm64"].machine == "arm64"


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_numpy_release_wheels_per_platform(corpus_wheels: dict[str, Path], name: str) -> None:
    """Each numpy cp312 wheel is judged against the runtimes of its own platform: its modules
    load on CPython 3.12 of that platform (and its debug build where the suffix list has the
    release tag, i.e. not on Windows: ``_d.cp312-win_amd64.pyd``), on nothing else."""
    plat, rt312 = NUMPY[name]
    res = check([str(corpus_wheels[name])], KNOWN, CAT)
    (a,) = res.artifacts
    assert a.runtimes is not None
    ids = {rt.id for rt in a.runtimes}
    assert rt312 in ids
    if plat != "manylinux_x86_64":
        assert all(i.endswith("/" + plat) for i in ids)
    exts = [r for r in a.records if r.kind == "extension"]
    assert len(exts) == 19
    debug = rt312.replace("3.12", "3.12d")
    want = {rt312} if plat.startswith("win") else {rt312, debug}
    for r in exts:
        assert a.judgement.usable[r.path] == want, r.path
    row = next(m for m in matrix(a, res.runtimes) if m.runtime.id == rt312)
    assert row.verdict == "full"
    core = next(r for r in exts if "_multiarray_umath" in r.path)
    if plat.startswith("mac"):
        assert core.binary is not None and core.binary.format == "macho"
        assert core.binary.machines == (plat.split("_", 1)[1],)
    elif plat.startswith("win"):
        assert core.binary is not None and core.binary.format == "pe"
        assert core.binary.machines == (plat,)
        assert core.binary.python_dll == "python312.dll"
        reason = a.judgement.reasons[core.path]
        assert "suffix not in" in reason[rt312.replace("3.12", "3.11")]
    else:
        assert core.elf is not None and core.binary is None
    assert not [f for f in a.findings if f.severity == "error"]


def test_object_checks_other_cpu_and_dll(corpus_wheels: dict[str, Path]) -> None:
    arm = objfile.read_object(
        _member(corpus_wheels["numpy-cp312-macos-arm64"], "_multiarray_umath.cpython-312-darwin.so")
    )
    assert arm is not None
    why = objfile.object_mismatch(
        arm, "darwin", "x86_64", "cpython-3.12/macosx_x86_64", (3, 12), "", "cpython"
    )
    assert why is not None and "arm64" in why
    assert (
        objfile.object_mismatch(arm, "win32", "win_amd64", "x", (3, 12), "", "cpython")
        == "not a PE object"
    )
    pe = objfile.read_object(
        _member(corpus_wheels["numpy-cp312-win-amd64"], "_multiarray_umath.cp312-win_amd64.pyd")
    )
    assert pe is not None and pe.dll_version() == ((3, 12), False, False)
    why = objfile.object_mismatch(
        pe, "win32", "win_amd64", "cpython-3.11/win_amd64", (3, 11), "", "cpython"
    )
    assert why is not None and "python312.dll, not python311.dll" in why
    w32 = objfile.read_object(
        _member(corpus_wheels["numpy-cp312-win32"], "_multiarray_umath.cp312-win32.pyd")
    )
    assert w32 is not None and w32.machines == ("win32",)
    assert "cannot be loaded" in (
        objfile.object_mismatch(
            w32, "win32", "win_amd64", "cpython-3.12/win_amd64", (3, 12), "", "cpython"
        )
        or ""
    )
    # the stable-ABI DLLs: python3.dll (abi3) for GIL builds only, python3t.dll (abi3t,
    # PEP 803) for every build from 3.15
    for dll, rt, v, flags, ok in (
        ("python3.dll", "cpython-3.9/win_amd64", (3, 9), "", True),
        ("python3.dll", "cpython-3.13t/win_amd64", (3, 13), "t", False),
        ("python3.dll", "cpython-3.15t/win_amd64", (3, 15), "t", False),
        ("python3t.dll", "cpython-3.14t/win_amd64", (3, 14), "t", False),
        ("python3t.dll", "cpython-3.15t/win_amd64", (3, 15), "t", True),
        ("python3t.dll", "cpython-3.15/win_amd64", (3, 15), "", True),
    ):
        info = objfile.ObjectInfo("pe", ("win_amd64",), True, python_dll=dll)
        assert info.stable_abi
        why = objfile.object_mismatch(info, "win32", "win_amd64", rt, v, flags, "cpython")
        assert (why is None) == ok, (dll, rt, why)
    with pytest.raises(ValueError):
        objfile.read_object(b"MZ" + b"\0" * 100)
    with pytest.raises(ValueError):
        objfile.read_object(b"\xcf\xfa\xed\xfe" + b"\xff" * 40)


def test_arch_mismatch_of_macos_and_windows_wheels(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """The real arm64 numpy wheel under an x86_64 name, the real win32 one under a win_amd64
    name: extension-arch-mismatch names the Mach-O slice and the PE machine, and the runtimes
    of the tagged platform cannot use the modules."""
    # (Windows module names carry the platform too: .cp312-win32.pyd is refused by name first)
    cases = [
        (
            "numpy-cp312-macos-arm64",
            "numpy-2.1.3-cp312-cp312-macosx_11_0_x86_64.whl",
            "Mach-O arm64",
            "cpython-3.12/macosx_x86_64",
            "cannot be loaded",
        ),
        (
            "numpy-cp312-win32",
            "numpy-2.1.3-cp312-cp312-win_amd64.whl",
            "PE win32",
            "cpython-3.12/win_amd64",
            "suffix not in",
        ),
    ]
    for src, name, what, rt, why in cases:
        (tmp_path / name).write_bytes(corpus_wheels[src].read_bytes())
        (a,) = check([str(tmp_path / name)], KNOWN, CAT).artifacts
        hits = [f for f in a.findings if f.rule == "extension-arch-mismatch"]
        assert len(hits) == 19 and what in hits[0].message, hits[:1]
        row = next(m for m in matrix(a, KNOWN) if m.runtime.id == rt)
        assert row.verdict == "partial" and row.reason and why in row.reason
        (tmp_path / name).unlink()


def _abi3audit(wheel: Path) -> dict[str, object]:
    exe = Path(sys.executable).with_name("abi3audit")
    out = subprocess.run(
        [str(exe), "--report", str(wheel)], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    spec = json.loads(out)["specs"][str(wheel)]
    (result,) = [o["result"] for v in spec.values() if isinstance(v, list) for o in v]
    return result


@pytest.mark.parametrize(
    "name", ["cryptography-abi3-win-amd64", "cryptography-abi3-macos-universal2"]
)
def test_cryptography_abi3_macos_windows(corpus_wheels: dict[str, Path], name: str) -> None:
    """Stable-ABI symbols read from Mach-O (both universal2 slices) and PE imports agree with
    abi3audit: no symbol outside the stable ABI, baseline 3.9 = the cp39 tag."""
    wheel = corpus_wheels[name]
    res = check([str(wheel)], KNOWN, CAT)
    (a,) = res.artifacts
    (so,) = [r for r in a.records if r.kind == "extension"]
    assert so.binary is not None and so.binary.symbols_read
    peer = _abi3audit(wheel)
    assert peer["non_abi3_symbols"] == []
    from coinstall.stable_abi import stable_abi_baseline

    base = stable_abi_baseline(so.binary.python_imports)
    assert base is not None and f"{base[0]}.{base[1]}" == peer["computed"] == "3.9"
    rules = {f.rule for f in a.findings}
    assert not rules & {
        "stable-abi-symbol-violation",
        "stable-abi-baseline-too-new",
        "extension-untagged",
        "extension-arch-mismatch",
    }
    usable = a.judgement.usable[so.path]
    if name.endswith("universal2"):
        assert so.binary.machines == ("x86_64", "arm64")
        for plat in ("macosx_x86_64", "macosx_arm64"):
            assert {f"cpython-3.{m}/{plat}" for m in range(9, 16)} <= usable
            assert f"cpython-3.8/{plat}" not in usable
    else:
        assert so.binary.python_dll == "python3.dll" and so.binary.stable_abi
        assert {f"cpython-3.{m}/win_amd64" for m in range(9, 16)} <= usable
        assert "cpython-3.8/win_amd64" not in usable
        assert "python3.dll" in a.judgement.reasons[so.path]["cpython-3.13t/win_amd64"]


def test_pe_module_linked_to_version_dll_in_abi3_wheel(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """A Windows abi3 wheel whose .pyd links python312.dll loads on 3.12 only: the stable-ABI
    rule says so.  The wheel is the real cryptography one with numpy's real cp312 module put in
    place of _rust.pyd (same file name)."""
    src = corpus_wheels["cryptography-abi3-win-amd64"]
    bad = tmp_path / src.name
    core = _member(corpus_wheels["numpy-cp312-win-amd64"], "_multiarray_umath.cp312-win_amd64.pyd")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("_rust.pyd"):
                data = core.replace(b"PyInit__multiarray_umath\0", b"PyInit__rust\0" + b"\0" * 12)
            zout.writestr(info, data)
    (a,) = check([str(bad)], KNOWN, CAT).artifacts
    hits = [f for f in a.findings if f.rule == "stable-abi-symbol-violation"]
    assert any("links python312.dll, not python3.dll" in f.message for f in hits)


def test_installed_runtimes_kept_where_they_match(corpus_wheels: dict[str, Path]) -> None:
    """Ground truth on this machine: its installed (x86_64) interpreters judge the x86_64
    wheel, and are left out for the aarch64 one, which the real 3.12 cannot load."""
    from coinstall.runtimes import discovery

    installed, _errors = discovery.discover()
    py312 = next(
        (
            rt
            for rt in installed
            if rt.version == (3, 12) and rt.implementation == "cpython" and not rt.debug
        ),
        None,
    )
    if py312 is None:
        pytest.skip("no CPython 3.12 on this machine")
    rts = combine(installed, CAT)
    res = check(
        [str(corpus_wheels["numpy-cp312"]), str(corpus_wheels["numpy-cp312-linux-aarch64"])],
        rts,
        CAT,
    )
    x86, arm = res.artifacts
    assert py312.id in {rt.id for rt in x86.runtimes or []}
    row = next(m for m in matrix(x86, res.runtimes) if m.runtime.id == py312.id)
    assert row.verdict == "full"
    assert not any(rt.installed for rt in arm.runtimes or [])
    # the real interpreter refuses the aarch64 module
    with zipfile.ZipFile(corpus_wheels["numpy-cp312-linux-aarch64"]) as z:
        name = next(
            n for n in z.namelist() if n.endswith("_umath_linalg.cpython-312-aarch64-linux-gnu.so")
        )
        data = z.read(name)
    probe = (
        "import ctypes,sys\ntry:\n ctypes.CDLL(sys.argv[1])\nexcept OSError as e:\n"
        " print('refused', e)\n"
    )
    so = Path(os.environ.get("TMPDIR", "/tmp")) / f"coinstall-aarch64-{os.getpid()}.so"
    so.write_bytes(data)
    try:
        assert py312.executable is not None
        out = subprocess.run(
            [py312.executable, "-c", probe, str(so)], capture_output=True, text=True, timeout=60
        ).stdout
    finally:
        so.unlink()
    assert out.startswith("refused")


def _release_wheels(c: dict[str, Path], *names: str) -> list[str]:
    return [str(c[n]) for n in names]


@functools.cache
def _grid(*wheels: str) -> Release:
    """``grid(wheels)``, made once for the tests that read the same release's grid (numpy's:
    4 s of CPU); no test changes it."""
    return grid(list(wheels), KNOWN, CAT)


def test_release_grid_numpy(corpus_wheels: dict[str, Path]) -> None:
    rel = _grid(*_release_wheels(corpus_wheels, *NUMPY))
    assert rel.project == "numpy" and rel.versions == ["2.1.3"] and not rel.errors
    assert len(rel.cells) == len(GRID_RUNTIMES) * len(rel.platforms)
    for name, (plat, _rt) in NUMPY.items():
        cell = rel.cell("cp312", plat)
        assert cell.status == "version-specific"
        assert cell.wheel == corpus_wheels[name].name
        assert cell.verdict == "full", cell
    assert rel.cell("cp312", "musllinux_x86_64").status == "none"
    assert rel.cell("cp312", "win_arm64").status == "none"
    assert rel.cell("cp311", "win_amd64").status == "none"
    assert rel.cell("cp313t", "macosx_arm64").status == "none"
    # Requires-Python >=3.10: no wheel, and a source build would be refused too
    assert rel.cell("cp39", "manylinux_x86_64").status == "excluded"
    assert rel.cell("pp39", "win_amd64").status == "excluded"
    assert rel.inconsistencies == []
    # the example in docs/json-format.md
    assert rel.counts() == {
        "version-specific": 6,
        "abi3": 0,
        "generic": 0,
        "pure": 0,
        "excluded": 27,
        "none": 93,
    }
    doc = (Path(__file__).resolve().parent.parent / "docs" / "json-format.md").read_text()
    assert '"excluded": 27' in doc and '"none": 93}' in doc


def test_release_grid_abi3_pure_and_inconsistencies(corpus_wheels: dict[str, Path]) -> None:
    crypto = _grid(
        *_release_wheels(
            corpus_wheels,
            "cryptography-abi3",
            "cryptography-abi3-win-amd64",
            "cryptography-abi3-macos-universal2",
        )
    )
    for m in range(9, 15):
        for plat in ("manylinux_x86_64", "macosx_x86_64", "macosx_arm64", "win_amd64"):
            c = crypto.cell(f"cp3{m}", plat)
            assert (c.status, c.verdict) == ("abi3", "full"), c
    assert crypto.cell("cp39", "macosx_arm64").tag == "cp39-abi3-macosx_10_9_universal2"
    assert crypto.cell("cp38", "win_amd64").status == "none"  # no cp37-abi3 wheel given
    assert crypto.cell("cp313t", "win_amd64").status == "none"  # abi3 is not for 3.13t
    assert crypto.cell("cp312", "win32").status == "none"
    # abi3 only: every free-threaded row (3.13t-3.15t) needs a source build where the GIL
    # twin has the wheel; the cells say why (pip never picks abi3 for t), not "broken"
    assert [i.kind for i in crypto.inconsistencies] == ["free-threaded-source-only"] * 3
    assert "pip would never pick" in (crypto.cell("cp315t", "win_amd64").reason or "")
    assert crypto.wheels[0].baseline is not None and crypto.wheels[0].baseline[0] == (3, 9)

    pure = grid(_release_wheels(corpus_wheels, "requests"), KNOWN, CAT)
    assert {c.status for c in pure.cells.values()} == {"pure"}
    assert pure.cell("cp312", "win_amd64").verdict == "full"

    ft = grid(_release_wheels(corpus_wheels, "markupsafe-cp313t"), KNOWN, CAT)
    kinds = [i.kind for i in ft.inconsistencies]
    assert kinds == ["free-threaded-without-gil"]
    both = grid(_release_wheels(corpus_wheels, "markupsafe-cp313", "markupsafe-cp313t"), KNOWN, CAT)
    assert both.inconsistencies == []
    assert both.cell("cp313t", "manylinux_x86_64").status == "version-specific"

    procmaps = grid(_release_wheels(corpus_wheels, "procmaps-abi3"), KNOWN, CAT)
    kinds = {i.kind for i in procmaps.inconsistencies}
    assert "abi3-baseline-newer-than-tag" in kinds
    assert "tag-files-disagree" in kinds  # 3.6-3.9 install it by tag, lack the 3.10 symbols
    assert procmaps.cell("cp38", "manylinux_x86_64").verdict == "partial"
    assert procmaps.cell("cp310", "manylinux_x86_64").verdict == "full"


def test_release_cli_formats(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    d = tmp_path / "dist"
    d.mkdir()
    for n in ("cryptography-abi3-win-amd64", "cryptography-abi3-macos-universal2"):
        (d / corpus_wheels[n].name).symlink_to(corpus_wheels[n])
    runner = CliRunner()
    r = runner.invoke(main, ["check", "--release", "--no-installed", str(d)])
    # 0: the free-threaded rows have no wheel (free-threaded-source-only), a note
    assert r.exit_code == 0 and "no sdist given" in r.output
    assert "free-threaded-source-only (note)" in r.output
    (d / "cryptography-43.0.3.tar.gz").write_bytes(b"")  # only its name is read
    r = runner.invoke(main, ["check", "--release", "--no-installed", "--format", "json", str(d)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["schema_version"] == 1
    assert doc["release"]["sdists"] == ["cryptography-43.0.3.tar.gz"]
    cells = {(c["runtime"], c["platform"]): c for c in doc["release"]["cells"]}
    assert cells[("cp311", "win_amd64")]["status"] == "abi3"
    assert cells[("cp311", "manylinux_x86_64")]["status"] == "none"
    r = runner.invoke(main, ["check", "--release", "--no-installed", "--format", "html", str(d)])
    assert r.exit_code == 0
    assert '<table class="grid"' in r.output and "cp39-abi3-win_amd64" in r.output
    assert "http://" not in r.output and "https://" not in r.output  # self-contained
    r = runner.invoke(main, ["check", "--release", "--no-installed", str(d)])
    assert r.exit_code == 0 and "abi3 cp39" in r.output
    assert "sdist: cryptography-43.0.3.tar.gz" in r.output
    r = runner.invoke(main, ["check", "--no-installed", "--format", "html", str(d)])
    assert r.exit_code == 2


def _pip_choice(wheels: list[Path], tmp: Path, rt_key: str, plat_key: str) -> str | None:
    """The wheel the real pip (this venv's) installs for one grid cell, from only these files
    (``--no-index --find-links``, ``--dry-run --report``), or None if it finds none."""
    from coinstall.release import platform_tags
    from coinstall.runtimes.platforms import DEFAULT_GRID

    links = tmp / "links"
    shutil.rmtree(links, ignore_errors=True)
    links.mkdir()
    for w in wheels:
        (links / w.name).symlink_to(w)
    rt = next(r for r in GRID_RUNTIMES if r.key == rt_key)
    plat = next(p for p in DEFAULT_GRID if p.key == plat_key)
    xy = f"{rt.version[0]}{rt.version[1]}"
    impl, abi = ("pp", f"pypy{xy}_pp73") if rt.implementation == "pypy" else ("cp", f"cp{xy}")
    args = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--no-deps",
        "--target",
        str(tmp / "target"),
        "--report",
        str(tmp / "r.json"),
        "--quiet",
        "--disable-pip-version-check",
        "--no-index",
        "--find-links",
        str(links),
        "--only-binary=:all:",
        "--python-version",
        f"{rt.version[0]}.{rt.version[1]}",
        "--implementation",
        impl,
        "--abi",
        abi,
    ]
    for t in platform_tags(plat):
        args += ["--platform", t]
    name = wheels[0].name.split("-")[0]
    (tmp / "r.json").unlink(missing_ok=True)
    proc = subprocess.run([*args, name], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return None
    report = json.loads((tmp / "r.json").read_text())
    (item,) = report["install"]
    return str(item["download_info"]["url"]).rsplit("/", 1)[1]


def test_release_grid_agrees_with_pip(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    """Ground truth for the grid's choice: the real pip, given only the release's files and the
    cell's interpreter and platform tags, installs the wheel the cell names, and finds none
    where the cell says none or excluded.  (Free-threaded cells are left out: this venv's pip
    23.2 vendors a packaging that still offers abi3 to cp313t.)"""
    releases = {
        "numpy": [corpus_wheels[n] for n in NUMPY],
        "cryptography": [
            corpus_wheels[n]
            for n in (
                "cryptography-abi3",
                "cryptography-abi3-win-amd64",
                "cryptography-abi3-macos-universal2",
            )
        ],
    }
    cells = {
        "numpy": [
            ("cp312", "win32"),
            ("cp312", "macosx_x86_64"),
            ("cp312", "manylinux_aarch64"),
            ("cp311", "win_amd64"),
            ("cp39", "win_amd64"),
        ],
        "cryptography": [
            ("cp311", "win_amd64"),
            ("cp39", "macosx_arm64"),
            ("cp314", "manylinux_x86_64"),
            ("cp312", "win32"),
            ("pp310", "win_amd64"),
        ],
    }
    for project, wheels in releases.items():
        rel = _grid(*[str(w) for w in wheels])
        for rt_key, plat_key in cells[project]:
            cell = rel.cell(rt_key, plat_key)
            want = cell.wheel if cell.status not in ("none", "excluded") else None
            assert _pip_choice(wheels, tmp_path, rt_key, plat_key) == want, cell


def test_hostile_macho_and_pe_in_a_wheel(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    """Corrupt Mach-O and PE objects (a fat header claiming 2**32-1 slices, a thin header
    claiming 2**32-1 load commands, a PE whose header points past the end) become the
    module's one-line problem; the check goes on, nothing raises."""
    import struct

    fat = struct.pack(">II", 0xCAFEBABE, 0xFFFFFFFF) + b"\0" * 64
    thin = (
        struct.pack("<IiiIIII", 0xFEEDFACF, 0x01000007, 3, 6, 0xFFFFFFFF, 0xFFFF, 0) + b"\xff" * 64
    )
    pe = b"MZ" + b"\0" * 58 + struct.pack("<I", 0x7FFFFFF0) + b"\0" * 64
    for blob in (fat, thin, pe):
        with pytest.raises(ValueError):
            objfile.read_object(blob, symbols=True)
    src = corpus_wheels["cryptography-abi3-macos-universal2"]
    bad = tmp_path / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("_rust.abi3.so"):
                data = thin + b"\0PyInit__rust\0"
            zout.writestr(info, data)
    res = check([str(bad)], KNOWN, CAT)
    (a,) = res.artifacts
    (so,) = [r for r in a.records if r.kind == "extension"]
    assert so.elf_problem is not None and "Mach-O" in so.elf_problem
    assert a.judgement.usable[so.path] == frozenset()
    assert not res.errors


def test_json_report_lists_the_foreign_runtimes(corpus_wheels: dict[str, Path]) -> None:
    """docs/json-format.md: every id in an artifact's compatibility is in runtimes[]; the
    Windows wheel's are the win_amd64 runtimes (machine set), the Linux wheel's this machine's."""
    from coinstall.report import json as json_report

    res = check(
        [str(corpus_wheels["numpy-cp312"]), str(corpus_wheels["numpy-cp312-win-amd64"])], KNOWN, CAT
    )
    doc = json.loads(json_report.dumps(res))
    ids = {r["id"]: r for r in doc["runtimes"]}
    linux, win = doc["artifacts"]
    assert set(linux["compatibility"]) <= ids.keys() and set(win["compatibility"]) <= ids.keys()
    assert linux["compatibility"]["cpython-3.12"] == "full"
    assert not any("/" in k for k in linux["compatibility"])
    assert win["compatibility"]["cpython-3.12/win_amd64"] == "full"
    assert all(k.endswith("/win_amd64") for k in win["compatibility"])
    assert ids["cpython-3.12/win_amd64"]["machine"] == "win_amd64"
    assert ids["cpython-3.12/win_amd64"]["extension_suffixes"] == [".cp312-win_amd64.pyd", ".pyd"]
    assert ids["cpython-3.12"]["machine"] is None
