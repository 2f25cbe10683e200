"""The object header of an extension module's static ``PyModuleDef``
(:mod:`coinstall.files.moduledef`) tells a GIL build's module from a free-threaded build's where
its imported symbols cannot: MarkupSafe 3.0.3's ``_speedups`` imports only ``PyModuleDef_Init``
and ``PyUnicode_New`` in all four builds (cp313, cp313t, cp314, cp314t).

Before the header was read, coinstall called the cp313t module renamed
``.cpython-313-x86_64-linux-gnu.so`` usable by the real 3.13, which fails to import it
(``MemoryError``), and said "cannot tell" for every free-threaded wheel's module of this kind
on its own runtime.  Here every arrangement is imported by the real interpreters, and the
verdicts of a real ``coinstall check`` process must equal what they do.
"""

from __future__ import annotations

import glob
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import corpus
from coinstall.files import extension as ext
from coinstall.files.extension import read_elf
from coinstall.files.moduledef import module_def_header
from interpreters import EXTRA_PYTHONS

#: pinned wheel -> what its module's PyModuleDef header says
BUILDS = {
    "markupsafe-cp313-303": "gil",
    "markupsafe-cp313t-303": "free-threaded",
    "markupsafe-cp314": "gil",
    "markupsafe-cp314t": "free-threaded",
}
TRIPLET = "x86_64-linux-gnu"
COINSTALL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "coinstall"


def _wheel(name: str) -> Path:
    return corpus.newer_wheel(name)


def _module(name: str) -> tuple[str, bytes]:
    with zipfile.ZipFile(_wheel(name)) as zf:
        (member,) = [
            n for n in zf.namelist() if n.startswith("markupsafe/_speedups") and n.endswith(".so")
        ]
        return member, zf.read(member)


def test_the_header_tells_the_build_the_symbols_do_not() -> None:
    for name, build in BUILDS.items():
        _member, data = _module(name)
        elf = read_elf(data, symbols=True)
        assert elf is not None
        assert elf.python_imports == {"PyModuleDef_Init", "PyUnicode_New"}, name
        # the symbols alone leave it open on a free-threaded build
        alone = ext.build_mismatch(elf.python_imports, True, False, (3, 13))
        assert isinstance(alone, ext.CannotTell), (name, alone)
        assert elf.module_def == build, name


def test_a_module_whose_symbols_tell_is_not_read_further() -> None:
    # msgpack's _cmsgpack imports _Py_Dealloc (cp314) or _Py_DecRefShared (cp314t)
    for name in ("msgpack-cp314", "msgpack-cp314t"):
        with zipfile.ZipFile(_wheel(name)) as zf:
            (member,) = [n for n in zf.namelist() if n.endswith(".so")]
            elf = read_elf(zf.read(member), symbols=True)
        assert elf is not None and elf.symbols_read
        assert elf.module_def is None, name


def _ask(
    blob: bytes | bytearray,
    original: bytes,
    phoff: int | None = None,
    phnum: int | None = None,
    init: str = "PyInit__speedups",
) -> object:
    """module_def_header on ``blob`` with ``original``'s headers (or the ones given)."""
    elf = ext._elf_file(io.BytesIO(original))
    headers = ext._section_headers(original, elf)
    assert headers is not None
    return module_def_header(
        blob,
        64,
        True,
        elf["e_phoff"] if phoff is None else phoff,
        elf["e_phnum"] if phnum is None else phnum,
        56,
        headers,
        {init},
    )


def _writable(data: bytes) -> range:
    """The file offsets of the writable PT_LOAD segment (``.data``, where the def lies)."""
    from elftools.elf.elffile import ELFFile

    (seg,) = [
        s
        for s in ELFFile(io.BytesIO(data)).iter_segments()
        if s["p_type"] == "PT_LOAD" and s["p_flags"] & 2
    ]
    return range(seg["p_offset"], seg["p_offset"] + seg["p_filesz"])


def test_damaged_modules_never_raise() -> None:
    """Truncated files, every byte of the module's data changed, program headers that point
    past the end: an answer or None, never an exception, and never the other build."""
    for name, build in BUILDS.items():
        _member, data = _module(name)
        assert _ask(data, data) == build
        for cut in range(0, len(data), 97):
            assert _ask(data[:cut], data) in (None, build), (name, cut)
        assert _ask(data, data, phoff=len(data) - 8) is None
        assert _ask(data, data, phnum=10**9) is None
        assert _ask(data, data, phoff=0) is None
        # the name the PyInit_ export gives is not in the file: nothing to find
        assert _ask(data, data, init="PyInit_nosuchmodule") is None
        # the writable segment's bytes changed one at a time: each change gives the same
        # answer or none, never the other build's
        flipped = bytearray(data)
        changed = 0
        for i in _writable(data):
            old = flipped[i]
            flipped[i] = old ^ 0xFF
            answer = _ask(flipped, data)
            assert answer in (None, build), (name, i)
            changed += answer is None
            flipped[i] = old
        assert changed > 0, name  # some of those bytes are the def's


def _arrange(root: Path) -> dict[str, str]:
    """Every module under its own name, renamed for the other builds' tags, and untagged,
    beside MarkupSafe's Python code: directory -> the module's path in it."""
    made: dict[str, str] = {}
    for name in BUILDS:
        for tag in ("own", "cpython-313", "cpython-313t", "cpython-314", "untagged"):
            d = root / f"{name}--{tag}"
            with zipfile.ZipFile(_wheel(name)) as zf:
                zf.extractall(d, [n for n in zf.namelist() if n.startswith("markupsafe/")])
            (module,) = (d / "markupsafe").glob("_speedups*.so")
            if tag == "untagged":
                module = module.rename(module.with_name("_speedups.so"))
            elif tag != "own":
                module = module.rename(module.with_name(f"_speedups.{tag}-{TRIPLET}.so"))
            made[str(d)] = str(module.relative_to(d))
    return made


def test_verdicts_equal_the_real_interpreters(tmp_path: Path) -> None:
    made = _arrange(tmp_path)
    proc = subprocess.run(
        [str(COINSTALL), "check", "--format", "json", *made],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    ids = {rt["executable"]: rt["id"] for rt in report["runtimes"]}
    real = {v: ids[str(p)] for v, p in EXTRA_PYTHONS.items()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    wrong: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for art in report["artifacts"]:
        d = art["path"].rstrip("/")
        (rec,) = [f for f in art["files"] if f["path"] == made[d]]
        for v, rid in real.items():
            code = (
                "import os, markupsafe._speedups as s; "
                "assert os.path.realpath(s.__file__).startswith(os.path.realpath(os.getcwd()))"
            )
            run = subprocess.run(
                [str(EXTRA_PYTHONS[v]), "-E", "-s", "-c", code],
                cwd=d,
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
            )
            imports = run.returncode == 0
            ours = (
                "cannot tell"
                if rid in rec.get("cannot_tell", [])
                else "usable"
                if rid in rec["usable_by"]
                else "unusable"
            )
            seen[(Path(d).name, v)] = f"{ours}, {'imports' if imports else 'fails'}"
            if ours != "cannot tell" and (ours == "usable") != imports:
                err = (run.stderr.strip().splitlines() or [f"rc {run.returncode}"])[-1]
                wrong.append(f"{Path(d).name} on {v}: {ours}; the interpreter: {err[:160]}")
    assert not wrong, "\n".join(wrong)
    # the defect: the cp313t module named for the GIL 3.13 fails there, and is not usable
    assert seen[("markupsafe-cp313t-303--cpython-313", "3.13")] == "unusable, fails"
    # and the free-threaded builds' own modules are usable by their runtime, not "cannot tell"
    assert seen[("markupsafe-cp313t-303--own", "3.13t")] == "usable, imports"
    assert seen[("markupsafe-cp313-303--cpython-313t", "3.13t")] == "unusable, fails"
    assert seen[("markupsafe-cp314--own", "3.14")] == "usable, imports"
    # untagged: every CPython finds _speedups.so; the header refuses the other build
    assert seen[("markupsafe-cp313t-303--untagged", "3.13")] == "unusable, fails"
    assert seen[("markupsafe-cp313-303--untagged", "3.13t")] == "unusable, fails"
    assert seen[("markupsafe-cp313t-303--untagged", "3.13t")] in (
        "usable, imports",
        "cannot tell, imports",
    )


def test_real_interpreters_own_modules_never_contradict_their_build() -> None:
    """Every stdlib extension module of this machine's interpreters (pyenv's 3.6-3.13,
    Debian's 3.11 and its -dbg build, trixie's 3.13, sid's 3.14, the free-threaded 3.13t): the
    header, where read, is the build's own."""
    from interpreters import INTERPRETERS_CACHE, PYENV_VERSIONS

    paths = glob.glob("/usr/lib/python3*/lib-dynload/*.so")
    paths += glob.glob(str(PYENV_VERSIONS / "*/lib/python3*/lib-dynload/*.so"))
    paths += glob.glob(str(INTERPRETERS_CACHE / "**/lib-dynload/*.so"), recursive=True)
    found = {"gil": 0, "free-threaded": 0}
    wrong = []
    for path in paths:
        elf = read_elf(Path(path).read_bytes(), symbols=True)
        if elf is None or elf.module_def is None:
            continue
        found[elf.module_def] += 1
        build = "free-threaded" if "313t" in path or "3.13t" in path else "gil"
        if elf.module_def != build:
            wrong.append(f"{path}: {elf.module_def}")
    assert not wrong, "\n".join(wrong)
    # where the symbols say nothing either way, the header was found
    assert found["gil"] > 100 and found["free-threaded"] >= 5, found
