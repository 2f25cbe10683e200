"""Fedora's and EPEL's free-threaded interpreter packages are interpreters, not module packages
misnamed for the GIL stack.

Fedora's python3.14.spec (``%bcond freethreading_build 1``) builds ``python3.14-freethreading``
(``/usr/bin/python3.14t``), ``python3.14-freethreading-libs`` (the standard library under
``%{pylibdir_freethreading}`` = ``/usr/lib64/python3.14t``, with its ``site-packages``),
``-devel``, ``-idle``, ``-tkinter``, ``-test``, ``-debug``; EPEL 9/10 build
``python3.13-freethreading`` the same way.  The RPMs are rebuilt here with rpmbuild
(tests/build.py) with those names and paths; the executable is the real free-threaded 3.13t of
the test set-up (for python3.13-freethreading, its own binary).  Each is checked as a user
runs it (``coinstall check`` as a separate process).

Before names.py knew the ``-freethreading`` names, ``python3.14-freethreading`` was a module
package called "freethreading" for python3.14, and the entry-point rules said
``/usr/bin/python3.14t`` in it "is not the default stack's: only the default stack's package
may own it"; ``#!/usr/bin/python3.14t`` with rpm's own ``Requires: /usr/bin/python3.14t`` was
"not required" (``/usr/bin/python3.14t`` was not read as an interpreter).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import build
from coinstall.names import classify_name
from interpreters import extra_python

BIN = Path(sys.executable).parent


def _findings(profile: str, stack: str | None, *rpms: Path) -> list[tuple[str, str, str]]:
    cmd = [
        str(BIN / "coinstall"),
        "check",
        "--no-installed",
        "--profile",
        profile,
        "--format",
        "json",
    ]
    if stack:
        cmd += ["--stack", stack]
    res = subprocess.run([*cmd, *map(str, rpms)], capture_output=True, text=True, timeout=300)
    assert res.returncode in (0, 1), res.stderr
    doc = json.loads(res.stdout)
    assert len(doc["artifacts"]) == len(rpms)
    return [(a["name"], f["rule"], f["message"]) for a in doc["artifacts"] for f in a["findings"]]


def _stack_rpms(out: Path, minor: int, interpreter: bytes, dist: str) -> list[Path]:
    ver, full = f"3.{minor}", f"3.{minor}.4"
    src = f"python{ver}"
    main = build.rpm(
        out,
        f"python{ver}-freethreading",
        full,
        {f"usr/bin/python{ver}t": interpreter},
        release=f"2.{dist}",
        arch="x86_64",
        # the 35 MB executable: zstd (Fedora's payload format) at a fast level, not xz -2
        # (rpmbuild and each of the four checks spent most of this file's time on xz)
        compression="w3.zstdio",
        source_name=src,
        requires=[f"python{ver}-freethreading-libs(x86-64) = {full}-2.{dist}"],
    )
    libs = build.rpm(
        out,
        f"python{ver}-freethreading-libs",
        full,
        {
            f"usr/lib64/python{ver}t/os.py": "import abc\n",
            f"usr/lib64/python{ver}t/site-packages/README.txt": "site\n",
        },
        release=f"2.{dist}",
        arch="x86_64",
        source_name=src,
    )
    devel = build.rpm(
        out,
        f"python{ver}-freethreading-devel",
        full,
        {f"usr/include/python{ver}t/Python.h": "/* */\n"},
        release=f"2.{dist}",
        arch="x86_64",
        source_name=src,
        requires=[f"python{ver}-freethreading = {full}-2.{dist}"],
    )
    return [main, libs, devel]


def test_names_of_the_freethreading_packages() -> None:
    t = classify_name("python3.14-freethreading")
    assert t is not None and (t.kind, t.version, t.free_threaded, t.label) == (
        "interpreter",
        (3, 14),
        True,
        "python3.14t",
    )
    for part in ("libs", "devel", "idle", "tkinter", "test", "debug"):
        r = classify_name(f"python3.13-freethreading-{part}")
        assert r is not None and (r.kind, r.version, r.free_threaded) == (
            "runtime",
            (3, 13),
            True,
        ), part
    b = classify_name("/usr/bin/python3.14t")
    assert b is not None and (b.kind, b.version, b.free_threaded) == ("interpreter", (3, 14), True)
    # a module package of the parallel stack stays one; openSUSE's flavors have no such name
    m = classify_name("python3.14-freethreading-foo")
    assert m is not None and m.kind == "module"
    assert classify_name("python314-freethreading") is not None
    assert classify_name("python314-freethreading").kind == "module"  # type: ignore[union-attr]


def _real_313t() -> bytes:
    """The ELF executable behind the set-up's python3.13t wrapper (``exec <root>/bin/...``)."""
    wrapper = Path(extra_python("3.13t")).read_text()
    exe = Path(wrapper.split("exec ", 1)[1].split()[0])
    data = exe.read_bytes()
    assert data[:4] == b"\x7fELF", exe
    return data


def test_fedora_python314_freethreading_has_no_naming_finding(tmp_path: Path) -> None:
    interp = _real_313t()
    rpms = _stack_rpms(tmp_path, 14, interp, "fc43")
    for stack in (None, "default=3.14", "default=3.13"):
        assert _findings("fedora", stack, *rpms) == [], stack
    el = _stack_rpms(tmp_path / "epel", 13, interp, "el9")
    assert _findings("epel", "default=3.9", *el) == []


def test_script_run_by_python314t_is_required_by_rpms_own_requires(tmp_path: Path) -> None:
    """rpm's script.req turns the shebang into ``Requires: /usr/bin/python3.14t`` (the
    automatic generators are off in tests/build.py, so the requirement is written as rpm
    writes it): that requirement names the interpreter that runs the script."""
    tool = build.rpm(
        tmp_path,
        "foo-tools",
        "1.0",
        {"usr/bin/foo": ("#!/usr/bin/python3.14t\nprint(1)\n", 0o755)},
        requires=["/usr/bin/python3.14t"],
    )
    reqs = subprocess.run(
        ["rpm", "-qp", "--requires", str(tool)], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert "/usr/bin/python3.14t" in reqs
    assert not [
        f for f in _findings("fedora", None, tool) if f[1] == "shebang-interpreter-not-required"
    ]
