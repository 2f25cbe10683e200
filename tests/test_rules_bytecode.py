"""Bytecode and layout rules, and runtime-missing-abi-provide, on real packages and on minimal
packages built here with real bytecode (compiled by the real interpreters under pyenv), with
parity against the real rpmlint and lintian on the same files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

import build
from coinstall.check import ArtifactResult, check_artifact
from coinstall.config import Config
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.discovery import discover
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.model import Runtime
from coinstall.runtimes.stack import Stack
from corpus import RPM_DIR
from interpreters import PYENV_VERSIONS, pyenv_python

CAT = catalogue_mod.load()
KNOWN = combine([], CAT)
T0 = 1_700_000_000  # member mtime of every file in the packages built here

BYTECODE_RULES = {
    "bytecode-magic-mismatch",
    "bytecode-cache-tag-mismatch",
    "bytecode-stale",
    "bytecode-without-source",
    "bytecode-invalid-header",
    "bytecode-legacy-pyo",
    "bytecode-outside-runtime-dir",
    "bytecode-shipped",
    "runtime-missing-abi-provide",
}


def interpreter(version: str) -> str:
    """The real pyenv interpreter of ``version`` (``"3.12"``); fails the test (an assert, not
    a skip that would hide the asserts after the call) if missing."""
    found = pyenv_python(version)
    assert found is not None, f"no pyenv python{version} in {PYENV_VERSIONS}: run scripts/setup.sh"
    return str(found)


_COMPILE = """
import py_compile, sys
src, dst, mode, opt = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode == "timestamp":
    py_compile.compile(src, dst, doraise=True, optimize=opt)
else:
    py_compile.compile(src, dst, doraise=True, optimize=opt,
                       invalidation_mode=py_compile.PycInvalidationMode[mode.upper()])
"""
_COMPILE_2 = """
import py_compile, sys
py_compile.compile(sys.argv[1], sys.argv[2], doraise=True)
"""


def pyc(
    tmp: Path,
    version: str,
    source: str,
    *,
    mtime: int = T0,
    mode: str = "timestamp",
    optimize: int = 0,
) -> bytes:
    """Bytes of ``source`` compiled by the real python``version`` (source file mtime
    ``mtime``); ``mode`` ``timestamp``, ``checked_hash`` or ``unchecked_hash`` (PEP 552)."""
    exe = interpreter(version)
    src = tmp / f"src-{version}-{mode}-{optimize}-{mtime}.py"
    src.write_text(source)
    os.utime(src, (mtime, mtime))
    dst = src.with_suffix(".out")
    args = (
        [exe, "-c", _COMPILE_2, str(src), str(dst)]
        if version.startswith("2.")
        else [exe, "-c", _COMPILE, str(src), str(dst), mode, str(optimize)]
    )
    if version.startswith("2.") and optimize:
        args.insert(1, "-O")
    subprocess.run(args, check=True, capture_output=True)
    return dst.read_bytes()


def run(path: Path, runtimes: list[Runtime] | None = None, **cfg: object) -> ArtifactResult:
    return check_artifact(str(path), runtimes or KNOWN, CAT, Config(**cfg))  # type: ignore[arg-type]


def hits(res: ArtifactResult, rule: str) -> dict[str | None, str]:
    return {f.path: f.message for f in res.findings if f.rule == rule}


def ours(res: ArtifactResult) -> set[tuple[str, str | None]]:
    return {(f.rule, f.path) for f in res.findings if f.rule in BYTECODE_RULES}


def real_check(version: str, code: str, *args: str) -> str:
    """Output of a snippet run by the real interpreter (on fixture files written by the test,
    never on a package under analysis)."""
    done = subprocess.run(
        [interpreter(version), "-c", code, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


_CLASSIFY = """
import os, sys
from importlib import _bootstrap_external as be
data = open(sys.argv[1], 'rb').read()
src = sys.argv[2] if len(sys.argv) > 2 else None
try:
    if hasattr(be, '_classify_pyc'):  # 3.7+
        flags = be._classify_pyc(data, 'm', {})
        if src and not flags & 1:
            st = os.stat(src)
            be._validate_timestamp_pyc(data, int(st.st_mtime), st.st_size, 'm', {})
    else:  # 3.4-3.6
        stats = None
        if src:
            st = os.stat(src)
            stats = {'mtime': st.st_mtime, 'size': st.st_size}
        be._validate_bytecode_header(data, stats, 'm', {})
    print('ok')
except (ImportError, EOFError) as exc:
    print(type(exc).__name__ + ': ' + str(exc))
"""


# -- peers -----------------------------------------------------------------------------------

_RPMLINT_LINE = re.compile(r"^\S+: ([EW]): (python-bytecode-[a-z-]+) (\S+)")
#: rpmlint check -> the coinstall rules that report the same file.
RPMLINT_MAP = {
    "python-bytecode-wrong-magic-value": {"bytecode-magic-mismatch", "bytecode-invalid-header"},
    # rpmlint also reads an "mtime" out of a header it cannot parse.
    "python-bytecode-inconsistent-mtime": {"bytecode-stale", "bytecode-invalid-header"},
    "python-bytecode-without-source": {"bytecode-without-source"},
}


def rpmlint(path: Path, tmp: Path) -> set[tuple[str, str]]:
    """(check, path without leading /) of every python-bytecode-* finding of the real rpmlint
    (Debian's rpmlint package; no user or system configuration)."""
    # An assert, not a skip: a skip here would hide the asserts after the call.
    assert shutil.which("rpmlint"), "rpmlint not installed: run scripts/setup.sh"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "xdg"), "XDG_CONFIG_DIRS": str(tmp / "xdg")}
    done = subprocess.run(["rpmlint", str(path)], capture_output=True, text=True, env=env)
    assert done.returncode in (0, 64, 66), done.stderr
    out = set()
    for line in done.stdout.splitlines():
        m = _RPMLINT_LINE.match(line)
        if m:
            out.add((m[2], m[3].lstrip("/")))
    return out


#: coinstall rule -> the rpmlint checks that report the same problem (RPMLINT_MAP reversed).
#: The other bytecode rules have no rpmlint check at all: bytecode-cache-tag-mismatch,
#: bytecode-legacy-pyo, bytecode-shipped, bytecode-outside-runtime-dir, bytecode-in-wheel and
#: the rest (rpmlint's python checks cover the magic, the mtime and the source only).
RPMLINT_REVERSE: dict[str, set[str]] = {}
for _check, _rules in RPMLINT_MAP.items():
    for _rule in _rules:
        RPMLINT_REVERSE.setdefault(_rule, set()).add(_check)


def assert_rpmlint_parity(
    path: Path, tmp: Path, rpmlint_blind: dict[str, str] | None = None
) -> set[tuple[str, str]]:
    """Both ways: every python-bytecode-* finding of rpmlint is a coinstall finding of a
    corresponding rule on the same file, and every coinstall finding of a rule rpmlint has a
    check for (:data:`RPMLINT_REVERSE`) is an rpmlint finding on the same file, except the
    paths in ``rpmlint_blind`` (path -> why rpmlint cannot see it, which the caller shows by
    testing it).  Returns rpmlint's findings."""
    theirs = rpmlint(path, tmp)
    mine = ours(run(path))
    for check, p in theirs:
        assert {(r, p) for r in RPMLINT_MAP[check]} & mine, (check, p, sorted(mine))
    blind = rpmlint_blind or {}
    for rule, p in mine:
        if rule not in RPMLINT_REVERSE or p in blind:
            continue
        assert {(c, p) for c in RPMLINT_REVERSE[rule]} & theirs, (rule, p, sorted(theirs))
    for p in blind:
        assert not {(c, q) for c, q in theirs if q == p}, (p, "rpmlint does see it")
    return theirs


LINTIAN_TAGS = (
    "package-installs-python-bytecode",
    "package-installs-python-pycache-dir",
    "python-module-in-wrong-location",
    "third-party-package-in-python-dir",
)


def lintian_tags(path: Path) -> set[tuple[str, str]]:
    """(tag, path) of lintian's bytecode and layout tags on a .deb (Debian's lintian, no
    config); the path is the pointer ``[path]`` or, for python-module-in-wrong-location, the
    module's actual path from the hint ``actual -> expected``."""
    # An assert, not a skip: a skip here would hide the asserts after the call.
    assert shutil.which("lintian"), "lintian not installed: run scripts/setup.sh"
    done = subprocess.run(
        ["lintian", "--no-cfg", "--tags", ",".join(LINTIAN_TAGS), str(path)],
        capture_output=True,
        text=True,
    )
    out = set()
    for line in done.stdout.splitlines():
        m = re.match(r"^[EWIPX]: \S+: (\S+) \[?([^\s\]]+)", line)
        if m and m[1] in LINTIAN_TAGS:
            out.add((m[1], m[2].rstrip("/")))
    return out


# -- real packages ---------------------------------------------------------------------------


@pytest.mark.parametrize("rpm", sorted(p.name for p in RPM_DIR.glob("*.rpm")))
def test_rpmlint_parity_on_the_corpus(rpm: str, tmp_path: Path) -> None:
    theirs = assert_rpmlint_parity(RPM_DIR / rpm, tmp_path)
    if rpm.startswith("tracer-"):
        # 18 .pyc files of Python 2.7 (magic 62211) in /usr/lib/python3.5/.
        assert len(theirs) == 18
        assert {c for c, _ in theirs} == {"python-bytecode-wrong-magic-value"}


@pytest.mark.parametrize("rpm", sorted(p.name for p in RPM_DIR.glob("*.rpm")))
def test_corpus_is_clean_for_all_but_the_magic_rule(rpm: str) -> None:
    """The corpus RPMs were byte-compiled by Fedora's and openSUSE's build roots: consistent
    mtimes, sources present, .pyo only for Python 2.7, interpreters nowhere."""
    res = run(RPM_DIR / rpm)
    assert ours(res) - {("bytecode-magic-mismatch", p) for _, p in ours(res)} == set()


def test_pyo_for_python27_is_not_legacy() -> None:
    # pyserial ships .pyo for Python 2.7, which reads .pyo under -O.
    res = run(RPM_DIR / "pyserial-2.7-6.fc25.noarch.rpm")
    assert any(r.path.endswith(".pyo") for r in res.records)
    assert not hits(res, "bytecode-legacy-pyo")


def test_private_directory_bytecode_follows_the_required_runtime() -> None:
    # yum's /usr/share/yum-cli holds Python 2.7 bytecode and yum requires python(abi) = 2.7.
    res = run(RPM_DIR / "yum-3.4.3-512.fc26.noarch.rpm", stack=Stack((3, 6)))
    assert any(
        r.path.startswith("usr/share/yum-cli/") and r.kind == "bytecode" for r in res.records
    )
    assert not hits(res, "bytecode-outside-runtime-dir")


def test_private_directory_bytecode_of_a_package_requiring_two_runtimes() -> None:
    """tracer requires python(abi) = 2.7 and python(abi) = 3.5; /usr/bin/tracer runs
    #!/usr/bin/python (2.7 on Fedora 25) over /usr/share/tracer's 2.7 bytecode.  Either
    required runtime may run private code: a stack's default python3 is not asked."""
    res = run(RPM_DIR / "tracer-0.6.9-2.fc25.noarch.rpm", stack=Stack((3, 11), ((3, 12),)))
    assert any(r.path.startswith("usr/share/tracer/") and r.kind == "bytecode" for r in res.records)
    assert not [
        p for p in hits(res, "bytecode-outside-runtime-dir") if p.startswith("usr/share/tracer/")
    ]


# -- bytecode-cache-tag-mismatch ---------------------------------------------------------------


def test_cache_tag_mismatch(tmp_path: Path) -> None:
    src = "X = 1\n"
    py311 = pyc(tmp_path, "3.11", src)
    py312 = pyc(tmp_path, "3.12", src)
    whl = build.wheel(
        tmp_path,
        "tagged",
        "1.0",
        {
            "tagged/__init__.py": src,
            "tagged/__pycache__/__init__.cpython-312.pyc": py311,  # 3.11 bytes, 3.12 name
            "tagged/mod.py": src,
            "tagged/__pycache__/mod.cpython-312.pyc": py312,  # clean
        },
    )
    res = run(whl)
    found = hits(res, "bytecode-cache-tag-mismatch")
    assert set(found) == {"tagged/__pycache__/__init__.cpython-312.pyc"}
    assert "3495" in found["tagged/__pycache__/__init__.cpython-312.pyc"]
    # The real 3.12 rejects the file its cache tag sends it to.
    f = tmp_path / "bad.pyc"
    f.write_bytes(py311)
    assert "bad magic number" in real_check("3.12", _CLASSIFY, str(f))


# -- bytecode-stale ----------------------------------------------------------------------------


def test_stale_timestamp_and_size_with_rpmlint(tmp_path: Path) -> None:
    src = "X = 1\n"
    files = {
        "usr/lib/python3.6/site-packages/st/__init__.py": src,
        "usr/lib/python3.6/site-packages/st/__pycache__/__init__.cpython-36.pyc": pyc(
            tmp_path, "3.6", src
        ),  # clean
        "usr/lib/python3.6/site-packages/st/old.py": src,
        "usr/lib/python3.6/site-packages/st/__pycache__/old.cpython-36.pyc": pyc(
            tmp_path, "3.6", src, mtime=T0 - 3600
        ),  # mtime differs
        "usr/lib/python3.6/site-packages/st/grown.py": src + "Y = 2\n",
        "usr/lib/python3.6/site-packages/st/__pycache__/grown.cpython-36.pyc": pyc(
            tmp_path, "3.6", src
        ),  # same mtime, other size
    }
    rpm = build.rpm(tmp_path, "python3-st", "1.0", files, requires=["python(abi) = 3.6"], mtime=T0)
    res = run(rpm)
    stale = hits(res, "bytecode-stale")
    base = "usr/lib/python3.6/site-packages/st/__pycache__/"
    assert set(stale) == {base + "old.cpython-36.pyc", base + "grown.cpython-36.pyc"}
    assert "mtime 1699996400" in stale[base + "old.cpython-36.pyc"]
    assert "size 6" in stale[base + "grown.cpython-36.pyc"]
    # rpmlint compares the mtime only: the size field (checked by the real 3.6 below) is
    # coinstall's addition.
    theirs = assert_rpmlint_parity(
        rpm,
        tmp_path,
        rpmlint_blind={
            base + "grown.cpython-36.pyc": "rpmlint does not compare the source size field"
        },
    )
    assert theirs == {("python-bytecode-inconsistent-mtime", base + "old.cpython-36.pyc")}
    # The real 3.6 agrees on all three files.
    for name, want in (("__init__", "ok"), ("old", "stale"), ("grown", "stale")):
        p = tmp_path / f"{name}.pyc"
        p.write_bytes(files[base + f"{name}.cpython-36.pyc"])  # type: ignore[arg-type]
        s = tmp_path / f"{name}.py"
        s.write_text(files[f"usr/lib/python3.6/site-packages/st/{name}.py"])  # type: ignore[arg-type]
        os.utime(s, (T0, T0))
        assert want in real_check("3.6", _CLASSIFY, str(p), str(s))


@pytest.mark.parametrize("version", ["3.12", "3.8"])
@pytest.mark.parametrize("mode", ["checked_hash", "unchecked_hash"])
def test_stale_hash_based(tmp_path: Path, version: str, mode: str) -> None:
    """PEP 552 pycs: the hash is recomputed with the interpreter generation of the pyc's
    version (this process for SipHash-1-3, an installed 3.7-3.10 for SipHash-2-4)."""
    src = "X = 1\n"
    v = version.replace(".", "")
    base = f"usr/lib/python{version}/site-packages/hb/"
    files = {
        base + "good.py": src,
        base + f"__pycache__/good.cpython-{v}.pyc": pyc(tmp_path, version, src, mode=mode),
        base + "edited.py": src + "# patched after byte-compiling\n",
        base + f"__pycache__/edited.cpython-{v}.pyc": pyc(tmp_path, version, src, mode=mode),
    }
    rpm = build.rpm(tmp_path, "python3-hb", "1.0", files, mtime=T0)
    installed, _ = discover()
    res = run(rpm, combine(installed, CAT))
    stale = hits(res, "bytecode-stale")
    assert set(stale) == {base + f"__pycache__/edited.cpython-{v}.pyc"}
    assert ("unchecked" in stale[base + f"__pycache__/edited.cpython-{v}.pyc"]) == (
        mode == "unchecked_hash"
    )
    # rpmlint skips hash-based pycs ("TODO check hashes"): no finding to compare.
    assert not rpmlint(rpm, tmp_path)


def test_stale_timestamp_pyc_in_a_wheel(tmp_path: Path) -> None:
    src = "X = 1\n"
    whl = build.wheel(
        tmp_path,
        "tsw",
        "1.0",
        {
            "tsw/__init__.py": src,
            "tsw/__pycache__/__init__.cpython-312.pyc": pyc(tmp_path, "3.12", src),
            "tsw/h.py": src,
            "tsw/__pycache__/h.cpython-312.pyc": pyc(tmp_path, "3.12", src, mode="unchecked_hash"),
        },
    )
    stale = hits(run(whl), "bytecode-stale")
    assert set(stale) == {"tsw/__pycache__/__init__.cpython-312.pyc"}
    assert "install time" in stale["tsw/__pycache__/__init__.cpython-312.pyc"]
    # Installed by the real pip, the real 3.12 finds the timestamp pyc stale and accepts the
    # unchecked-hash one.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-compile",
            "--no-index",
            "--target",
            str(target),
            str(whl),
        ],
        check=True,
        capture_output=True,
    )
    pkg = target / "tsw"
    cache = pkg / "__pycache__"
    assert "stale" in real_check(
        "3.12", _CLASSIFY, str(cache / "__init__.cpython-312.pyc"), str(pkg / "__init__.py")
    )
    assert (
        real_check("3.12", _CLASSIFY, str(pkg / "__pycache__/h.cpython-312.pyc"), str(pkg / "h.py"))
        == "ok"
    )


# -- bytecode-without-source -------------------------------------------------------------------


def test_without_source_with_rpmlint(tmp_path: Path) -> None:
    src = "X = 1\n"
    base = "usr/lib/python3.12/site-packages/ns/"
    rpm = build.rpm(
        tmp_path,
        "python3-ns",
        "1.0",
        {
            base + "__init__.py": src,
            base + "__pycache__/__init__.cpython-312.pyc": pyc(tmp_path, "3.12", src),
            base + "__pycache__/gone.cpython-312.pyc": pyc(tmp_path, "3.12", src),
            base + "closed.pyc": pyc(tmp_path, "3.12", src),
        },
        mtime=T0,
    )
    found = hits(run(rpm), "bytecode-without-source")
    assert set(found) == {base + "__pycache__/gone.cpython-312.pyc", base + "closed.pyc"}
    assert "ignore" in found[base + "__pycache__/gone.cpython-312.pyc"]
    assert "3531" in found[base + "closed.pyc"]
    theirs = assert_rpmlint_parity(rpm, tmp_path)
    assert {c for c, _ in theirs} == {"python-bytecode-without-source"}
    assert len(theirs) == 2


def test_sourceless_pycache_is_ignored_by_the_real_interpreter(tmp_path: Path) -> None:
    pkg = tmp_path / "ghost" / "__pycache__"
    pkg.mkdir(parents=True)
    (tmp_path / "ghost" / "__init__.py").write_text("")
    (pkg / "mod.cpython-312.pyc").write_bytes(pyc(tmp_path, "3.12", "X = 1\n"))
    out = real_check(
        "3.12",
        "import sys, importlib.util; sys.path.insert(0, sys.argv[1]); "
        "print(importlib.util.find_spec('ghost.mod'))",
        str(tmp_path),
    )
    assert out == "None"


# -- bytecode-invalid-header -------------------------------------------------------------------


def test_invalid_header(tmp_path: Path) -> None:
    src = "X = 1\n"
    good = pyc(tmp_path, "3.12", src)
    base = "usr/lib/python3.12/site-packages/ih/"
    rpm = build.rpm(
        tmp_path,
        "python3-ih",
        "1.0",
        {
            base + "__init__.py": src,
            base + "__pycache__/__init__.cpython-312.pyc": good,
            base + "short.py": src,
            base + "__pycache__/short.cpython-312.pyc": good[:10],
            base + "junk.py": src,
            base + "__pycache__/junk.cpython-312.pyc": b"not bytecode at all\n",
            base + "future.py": src,
            base + "__pycache__/future.cpython-312.pyc": (3999).to_bytes(2, "little") + good[2:],
        },
        mtime=T0,
    )
    res = run(rpm)
    found = hits(res, "bytecode-invalid-header")
    assert set(found) == {
        base + "__pycache__/short.cpython-312.pyc",
        base + "__pycache__/junk.cpython-312.pyc",
        base + "__pycache__/future.cpython-312.pyc",
    }
    assert "truncated" in found[base + "__pycache__/short.cpython-312.pyc"]
    assert "3999" in found[base + "__pycache__/future.cpython-312.pyc"]
    # One rule per problem: the unknown magic is not also a magic mismatch.
    assert not hits(res, "bytecode-magic-mismatch")
    f = tmp_path / "short.pyc"
    f.write_bytes(good[:10])
    assert real_check("3.12", _CLASSIFY, str(f)).startswith("EOFError")


def test_invalid_header_found_where_rpmlint_reports_a_wrong_magic(tmp_path: Path) -> None:
    # rpmlint knows magic values up to 3.7: in python3.6/ it reports garbage as a wrong magic.
    src = "X = 1\n"
    base = "usr/lib/python3.6/site-packages/g/"
    rpm = build.rpm(
        tmp_path,
        "python3-g",
        "1.0",
        {
            base + "__init__.py": src,
            base + "__pycache__/__init__.cpython-36.pyc": b"\x00\x00\r\n" + b"\0" * 12,
            base + "m.py": src,
            base + "__pycache__/m.cpython-36.pyc": pyc(tmp_path, "3.7", src),
        },
        mtime=T0,
    )
    theirs = assert_rpmlint_parity(rpm, tmp_path)
    assert {p for c, p in theirs if c == "python-bytecode-wrong-magic-value"} == {
        base + "__pycache__/__init__.cpython-36.pyc",
        base + "__pycache__/m.cpython-36.pyc",
    }


# -- bytecode-legacy-pyo -----------------------------------------------------------------------


def test_legacy_pyo(tmp_path: Path) -> None:
    src = "X = 1\n"
    rpm = build.rpm(
        tmp_path,
        "python-pyo",
        "1.0",
        {
            "usr/lib/python3.6/site-packages/p/__init__.py": src,
            "usr/lib/python3.6/site-packages/p/__init__.pyo": pyc(tmp_path, "3.6", src, optimize=1),
            "usr/lib/python2.7/site-packages/p/__init__.py": src,
            "usr/lib/python2.7/site-packages/p/__init__.pyo": pyc(tmp_path, "2.7", src, optimize=1),
        },
        mtime=T0,
    )
    found = hits(run(rpm), "bytecode-legacy-pyo")
    assert set(found) == {"usr/lib/python3.6/site-packages/p/__init__.pyo"}
    assert "python3.6" in found["usr/lib/python3.6/site-packages/p/__init__.pyo"]
    # The real 3.6 has no .pyo suffix left; the real 2.7 still reads them: under -O it imports
    # p from a directory holding only the .pyo, without -O it does not find p at all.
    assert (
        real_check("3.6", "import importlib.machinery as m; print(m.BYTECODE_SUFFIXES)")
        == "['.pyc']"
    )
    site = tmp_path / "site27"
    (site / "p").mkdir(parents=True)
    (site / "p/__init__.pyo").write_bytes(pyc(tmp_path, "2.7", src, optimize=1))
    code = "import p, sys; sys.stdout.write(p.__file__)"
    opt = subprocess.run(
        [interpreter("2.7"), "-O", "-c", code],
        cwd=site,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (opt.returncode, os.path.basename(opt.stdout)) == (0, "__init__.pyo"), opt.stderr
    plain = subprocess.run(
        [interpreter("2.7"), "-c", code], cwd=site, capture_output=True, text=True, check=False
    )
    assert plain.returncode != 0 and "No module named p" in plain.stderr


# -- bytecode-outside-runtime-dir --------------------------------------------------------------


def test_outside_runtime_dir_rpm(tmp_path: Path) -> None:
    src = "X = 1\n"
    rpm = build.rpm(
        tmp_path,
        "python3-out",
        "1.0",
        {
            "usr/lib/python3/dist-packages/deb_layout.py": src,  # Debian's directory
            "usr/local/lib/python3.12/site-packages/local.py": src,  # /usr/local
            "usr/lib/python3.12/site-packages/fine.py": src,
            "usr/share/out/app.py": src,  # private: allowed
            "usr/share/loose.py": src,
        },
        mtime=T0,
    )
    found = hits(run(rpm), "bytecode-outside-runtime-dir")
    assert set(found) == {
        "usr/lib/python3/dist-packages/deb_layout.py",
        "usr/local/lib/python3.12/site-packages/local.py",
        "usr/share/loose.py",
    }
    assert "fedora" in found["usr/lib/python3/dist-packages/deb_layout.py"]


def test_outside_runtime_dir_private_bytecode_for_another_runtime(tmp_path: Path) -> None:
    src = "X = 1\n"
    files = {
        "usr/share/app/main.py": src,
        "usr/share/app/__pycache__/main.cpython-311.pyc": pyc(tmp_path, "3.11", src),
    }
    rpm = build.rpm(tmp_path, "app", "1.0", files, mtime=T0)
    # Nothing says which python3 runs it: silent.
    assert not hits(run(rpm), "bytecode-outside-runtime-dir")
    # The default python3 is 3.12: the 3.11 bytecode is dead.
    found = hits(run(rpm, stack=Stack((3, 12))), "bytecode-outside-runtime-dir")
    assert set(found) == {"usr/share/app/__pycache__/main.cpython-311.pyc"}
    assert "3495" in next(iter(found.values()))
    assert not hits(run(rpm, stack=Stack((3, 11))), "bytecode-outside-runtime-dir")
    # Two runtimes' bytecode in one private directory.
    files["usr/share/app/__pycache__/main.cpython-312.pyc"] = pyc(tmp_path, "3.12", src)
    rpm2 = build.rpm(tmp_path, "app2", "1.0", files, mtime=T0)
    found = hits(run(rpm2), "bytecode-outside-runtime-dir")
    assert len(found) == 1 and "several runtimes" in next(iter(found.values()))


def test_outside_runtime_dir_deb(tmp_path: Path) -> None:
    deb = build.deb(
        tmp_path,
        "python3-out",
        "1.0",
        {
            "usr/lib/python3/dist-packages/ok.py": "",
            "usr/lib/python3/site-packages/wrong.py": "",
            "usr/share/python3-out/private.py": "",
        },
    )
    found = hits(run(deb), "bytecode-outside-runtime-dir")
    assert set(found) == {"usr/lib/python3/site-packages/wrong.py"}


def test_outside_runtime_dir_debian_versioned_dirs_and_lintian(tmp_path: Path) -> None:
    deb = build.deb(
        tmp_path,
        "python3-vers",
        "1.0",
        {
            "usr/lib/python3.11/dist-packages/vmod/__init__.py": "",
            "usr/lib/python3/site-packages/smod.py": "",
            "usr/lib/python3.9/extra.py": "",
            "usr/lib/python3.11/extra2.py": "",
            "usr/lib/python3/dist-packages/fine/__init__.py": "",
        },
        depends="python3:any",
    )
    found = hits(run(deb), "bytecode-outside-runtime-dir")
    assert set(found) == {
        "usr/lib/python3.11/dist-packages/vmod/__init__.py",
        "usr/lib/python3/site-packages/smod.py",
        "usr/lib/python3.9/extra.py",
        "usr/lib/python3.11/extra2.py",
    }
    assert "python3.11 only" in found["usr/lib/python3.11/dist-packages/vmod/__init__.py"]
    tags = lintian_tags(deb)
    # lintian names the module directory; its third-party regex (python\d\.\d/) predates
    # two-digit minors, so python3.11/extra2.py is coinstall's alone.
    assert tags == {
        ("python-module-in-wrong-location", "usr/lib/python3.11/dist-packages/vmod"),
        ("python-module-in-wrong-location", "usr/lib/python3/site-packages/smod.py"),
        ("third-party-package-in-python-dir", "usr/lib/python3.9/extra.py"),
    }
    for _, p in tags:
        assert any(f == p or (f or "").startswith(p + "/") for f in found), p
    # The runtime's own source package owns its directory.
    std = build.deb(
        tmp_path,
        "libpython3.9-stdlib",
        "3.9.2-1",
        {"usr/lib/python3.9/extra.py": ""},
        source="python3.9",
    )
    assert not hits(run(std), "bytecode-outside-runtime-dir")


def test_outside_runtime_dir_silent_on_real_debs(corpus_debs: dict[str, Path]) -> None:
    # python3-minimal: debpython in /usr/share/python3/, py3compile's private directory
    for name in ("python3-six", "python3-yaml", "python3-chardet", "python3-minimal"):
        assert not hits(run(corpus_debs[name]), "bytecode-outside-runtime-dir"), name


def test_runtime_like_tree_in_a_private_prefix(corpus_debs: dict[str, Path]) -> None:
    """python3-lldb-14 ships /usr/lib/llvm-14/lib/python3.11/dist-packages/lldb/: LLVM's own
    prefix, on no runtime's path (lintian is silent too), not python3.11's directory."""
    res = run(corpus_debs["python3-lldb-14"])
    assert any(
        r.path.startswith("usr/lib/llvm-14/lib/python3.11/dist-packages/lldb/")
        and r.kind == "source"
        for r in res.records
    )
    assert not hits(res, "bytecode-outside-runtime-dir")
    assert lintian_tags(corpus_debs["python3-lldb-14"]) == set()


# -- bytecode-shipped (Debian), lintian parity ------------------------------------------------


def test_bytecode_shipped_and_lintian(tmp_path: Path) -> None:
    src = "X = 1\n"
    base = "usr/lib/python3/dist-packages/shipped/"
    deb = build.deb(
        tmp_path,
        "python3-shipped",
        "1.0",
        {
            base + "__init__.py": src,
            base + "__pycache__/__init__.cpython-311.pyc": pyc(tmp_path, "3.11", src),
            base + "legacy.py": src,
            base + "legacy.pyc": pyc(tmp_path, "3.11", src),
        },
        depends="python3:any",
    )
    found = hits(run(deb), "bytecode-shipped")
    assert set(found) == {base + "__pycache__/__init__.cpython-311.pyc", base + "legacy.pyc"}
    # The rpmlint-style rules do not apply to Debian: one rule says it.
    assert not hits(run(deb), "bytecode-without-source")
    tags = lintian_tags(deb)
    assert tags == {
        ("package-installs-python-pycache-dir", base + "__pycache__"),
        ("package-installs-python-bytecode", base + "legacy.pyc"),
    }
    for tag, p in tags:
        assert any(f == p or (f or "").startswith(p + "/") for f in found), (tag, p)


def test_bytecode_shipped_silent_on_real_debs(corpus_debs: dict[str, Path]) -> None:
    for name in ("python3-six", "python3-yaml", "python3-numpy"):
        assert not hits(run(corpus_debs[name]), "bytecode-shipped"), name


# -- runtime-missing-abi-provide --------------------------------------------------------------


def _interpreter_bytes() -> bytes:
    return Path(interpreter("3.12")).resolve().read_bytes()


@pytest.mark.parametrize(
    ("provides", "fires"),
    [
        ((), True),
        (("python(abi) = 3.12",), False),
        (("python-abi-3.12-3531",), False),
        (("python-abi-3.12-3495",), True),
    ],
)
def test_runtime_missing_abi_provide_rpm(
    tmp_path: Path, provides: Iterable[str], fires: bool
) -> None:
    rpm = build.rpm(
        tmp_path,
        "python3.12",
        "3.12.1",
        {
            "usr/bin/python3.12": (_interpreter_bytes(), 0o755),
        },
        arch="x86_64",
        provides=provides,
    )
    found = hits(run(rpm), "runtime-missing-abi-provide")
    assert bool(found) == fires, found
    if fires:
        assert set(found) == {"usr/bin/python3.12"}


@pytest.mark.parametrize(
    ("name", "provides", "fires"),
    [
        ("python3.12-minimal", None, False),
        ("my-python", "python3.12", False),
        ("my-python", None, True),
    ],
)
def test_runtime_missing_abi_provide_deb(
    tmp_path: Path, name: str, provides: str | None, fires: bool
) -> None:
    deb = build.deb(
        tmp_path,
        name,
        "3.12.1-1",
        {
            "usr/bin/python3.12": (_interpreter_bytes(), 0o755),
        },
        arch="amd64",
        provides=provides,
    )
    assert bool(hits(run(deb), "runtime-missing-abi-provide")) == fires


def test_runtime_missing_abi_provide_silent_on_debian_python311(
    corpus_debs: dict[str, Path],
) -> None:
    res = run(corpus_debs["python3.11-minimal"])
    assert any(r.path == "usr/bin/python3.11" for r in res.records)
    assert not hits(res, "runtime-missing-abi-provide")


def test_rpm_hard_link_sets_are_files() -> None:
    """Fedora's byte-compilation hard-links identical .pyc/.pyo; cpio stores the data with the
    last name only.  Every name must reach the rules with the data (as rpmlint reads them)."""
    res = run(RPM_DIR / "pyserial-2.7-6.fc25.noarch.rpm")
    recs = {r.path: r for r in res.records}
    base = "usr/lib/python2.7/site-packages/serial/"
    pyc_, pyo = recs[base + "__init__.pyc"], recs[base + "__init__.pyo"]
    assert pyc_.kind == pyo.kind == "bytecode"
    assert pyc_.size == pyo.size == 2169
    assert pyc_.pyc_header == pyo.pyc_header
    assert pyc_.pyc_header is not None and pyc_.pyc_header.magic == 62211
    assert sum(1 for p in recs if p.endswith(".pyc")) == 21


#: lintian tag -> the coinstall rule that reports the same file (or a file below it).
LINTIAN_MAP = {
    "package-installs-python-bytecode": "bytecode-shipped",
    "package-installs-python-pycache-dir": "bytecode-shipped",
    "python-module-in-wrong-location": "bytecode-outside-runtime-dir",
    "third-party-package-in-python-dir": "bytecode-outside-runtime-dir",
}


@pytest.mark.network
@pytest.mark.parametrize(
    "name", ["python3-six", "python3-yaml", "python3-chardet", "python3.11-minimal"]
)
def test_lintian_parity_on_real_debs(corpus_debs: dict[str, Path], name: str) -> None:
    res = run(corpus_debs[name])
    mine = {(f.rule, f.path) for f in res.findings}
    for tag, p in lintian_tags(corpus_debs[name]):
        assert any(
            r == LINTIAN_MAP[tag] and (f == p or (f or "").startswith(p + "/")) for r, f in mine
        ), (tag, p)
    assert not {r for r, _ in mine} & set(LINTIAN_MAP.values())


def test_installed_debian_tree_bytecode_is_not_shipped_bytecode(tmp_path: Path) -> None:
    """py3compile writes __pycache__ at install time: in an installed tree (judged by the
    debian profile) that is the design, not a packaging error."""
    site = tmp_path / "dist-packages" / "inst"
    (site / "__pycache__").mkdir(parents=True)
    (site / "__init__.py").write_text("X = 1\n")
    (site / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(
        pyc(tmp_path, "3.11", "X = 1\n")
    )
    res = run(tmp_path / "dist-packages", profile="debian")
    assert any(r.kind == "bytecode" for r in res.records)
    assert not hits(res, "bytecode-shipped")


def test_symlinked_source_counts_as_present(tmp_path: Path) -> None:
    # Packagers deduplicate identical modules with symbolic links (fdupes, %fdupes on openSUSE);
    # a link to a file of the package is a source, a dangling link is not (rpmlint agrees).
    src = "X = 1\n"
    base = "usr/lib/python3.12/site-packages/ns/"
    rpm = build.rpm(
        tmp_path,
        "python3-ns",
        "1.0",
        {
            base + "real.py": src,
            base + "__pycache__/real.cpython-312.pyc": pyc(tmp_path, "3.12", src),
            base + "alias.py": build.Symlink("real.py"),
            base + "__pycache__/alias.cpython-312.pyc": pyc(tmp_path, "3.12", src),
            base + "dangling.py": build.Symlink("../nowhere/dangling.py"),
            base + "__pycache__/dangling.cpython-312.pyc": pyc(tmp_path, "3.12", src),
        },
        mtime=T0,
    )
    found = hits(run(rpm), "bytecode-without-source")
    assert set(found) == {base + "__pycache__/dangling.cpython-312.pyc"}
    theirs = {
        (c, p)
        for c, p in assert_rpmlint_parity(rpm, tmp_path)
        if c == "python-bytecode-without-source"
    }
    assert {p.lstrip("/") for _, p in theirs} == set(found)
