"""Runtime discovery against the real interpreters of this machine (no mocks).

Expected here: pyenv's CPython 2.7 and 3.6 to 3.13 under ``$PYENV_ROOT/versions`` (default
``~/.pyenv``), Debian's ``/usr/bin/python3.11`` and its debug build ``/usr/bin/python3.11d``,
Debian's ``/usr/bin/pypy3`` (PyPy 7.3, Python 3.9), and the set-up's Debian 3.13 and 3.14 and
free-threaded 3.13t (``tests/interpreters.py``).  A test about one of them is skipped
when it is not installed.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coinstall.runtimes import discovery
from coinstall.runtimes.discovery import (
    Candidate,
    ProbeError,
    discover,
    find_candidates,
    find_interpreters,
    interpreters_started,
    probe,
    probe_source,
    pyc_header_size,
    runtime_id,
    unique_ids,
)
from coinstall.runtimes.model import Runtime
from interpreters import extra_python

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
PYENV_VERSIONS = ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
DEBIAN_311 = "/usr/bin/python3.11"
DEBIAN_311D = "/usr/bin/python3.11d"
PYPY3 = "/usr/bin/pypy3"


def _pyenv(version: str) -> str | None:
    """The real path of pyenv's ``pythonX.Y`` for a version, or None."""
    pattern = PYENV_ROOT / "versions" / f"{version}.*" / "bin" / f"python{version}"
    hits = sorted(glob.glob(str(pattern)))
    return os.path.realpath(hits[-1]) if hits else None


def _require(path: str | None) -> str:
    if path is None or not os.path.exists(path):
        pytest.skip(f"interpreter not installed: {path}")
    return os.path.realpath(path)


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe-cache") / "probes.json"


@pytest.fixture(scope="module")
def discovered(cache_file: Path) -> tuple[list[Runtime], list[ProbeError], int]:
    """A cold discover() with a fresh cache: (runtimes, errors, interpreters started)."""
    before = interpreters_started()
    runtimes, errors = discover(cache_path=cache_file)
    return runtimes, errors, interpreters_started() - before


@pytest.fixture(scope="module")
def by_exe(discovered: tuple[list[Runtime], list[ProbeError], int]) -> dict[str, Runtime]:
    out: dict[str, Runtime] = {}
    for rt in discovered[0]:
        assert rt.executable is not None
        out[rt.executable] = rt
    return out


def _run_json(exe: str, code: str, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [exe, "-s", "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd="/",
        timeout=60,
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert isinstance(data, dict)
    return data


# --------------------------------------------------------------------------------------------
# Finding


@pytest.mark.parametrize(
    "path",
    [pytest.param(v, id=f"pyenv-{v}") for v in PYENV_VERSIONS] + [DEBIAN_311, DEBIAN_311D, PYPY3],
)
def test_each_interpreter_found_exactly_once(
    path: str, discovered: tuple[list[Runtime], list[ProbeError], int]
) -> None:
    real = _require(_pyenv(path) if not path.startswith("/") else path)
    runtimes, errors, _ = discovered
    assert [rt.executable for rt in runtimes].count(real) == 1
    assert not [e for e in errors if os.path.realpath(e.path) == real]
    assert find_interpreters().count(real) == 1
    if not path.startswith("/"):
        (rt,) = [rt for rt in runtimes if rt.executable == real]
        assert rt.version_str == path
        assert rt.vendor == "upstream"
        assert rt.implementation == "cpython"


def test_ids_unique_and_sorted(discovered: tuple[list[Runtime], list[ProbeError], int]) -> None:
    runtimes, _, _ = discovered
    ids = [rt.id for rt in runtimes]
    assert len(ids) == len(set(ids))
    keys = [(rt.implementation, rt.version, rt.abiflags, rt.executable) for rt in runtimes]
    assert keys == sorted(keys)
    assert all(rt.sources == ("probe",) and rt.installed for rt in runtimes)


def test_pyenv_ids(by_exe: dict[str, Runtime]) -> None:
    for version in ("3.12", "3.10"):
        assert by_exe[_require(_pyenv(version))].id == f"cpython-{version}"
    # Debian's 3.13 of the set-up shares the id: both get their full version.
    rt = by_exe[_require(_pyenv("3.13"))]
    assert rt.id == f"cpython-3.13@{rt.full_version}"
    assert by_exe[os.path.realpath(extra_python("3.13"))].id == "cpython-3.13@3.13.5"
    rt = by_exe[_require(_pyenv("2.7"))]
    # pyenv builds 2.7 with UCS-4: packaging's _cpython_abis gives "mu".
    assert rt.abiflags in ("m", "mu")
    assert rt.id == "cpython-2.7" + rt.abiflags.replace("m", "")
    assert rt.magic == 62211 and rt.pyc_header_size == 8 and rt.cache_tag is None
    assert rt.soabi is None and rt.extension_suffixes == (".so", "module.so")
    real = _pyenv("3.6")
    if real:
        rt = by_exe[real]
        assert rt.abiflags == "m" and rt.id == "cpython-3.6" and rt.pyc_header_size == 12
        # python3.6m is a hard link to python3.6: one runtime, both names.
        assert "python3.6m" in rt.commands and "python3.6" in rt.commands


def test_shared_id_gets_full_version(by_exe: dict[str, Runtime]) -> None:
    debian, pyenv = _require(DEBIAN_311), _require(_pyenv("3.11"))
    a, b = by_exe[debian], by_exe[pyenv]
    assert a.full_version != b.full_version
    assert a.id == f"cpython-3.11@{a.full_version}"
    assert b.id == f"cpython-3.11@{b.full_version}"


def test_debug_build(by_exe: dict[str, Runtime]) -> None:
    rt = by_exe[_require(DEBIAN_311D)]
    assert "d" in rt.abiflags and rt.debug
    assert rt.id == "cpython-3.11d"
    assert rt.extension_suffixes[0] == ".cpython-311d-x86_64-linux-gnu.so"
    assert {"python3.11d", "python3.11-dbg"} <= set(rt.commands)
    assert rt.vendor == "debian"


def test_debian_build(by_exe: dict[str, Runtime]) -> None:
    rt = by_exe[_require(DEBIAN_311)]
    assert rt.vendor == "debian"
    assert "/usr/lib/python3/dist-packages" in rt.sys_path
    if os.path.realpath("/usr/bin/python3") == rt.executable:
        assert rt.default and "python3" in rt.commands
    assert sum(r.default for r in by_exe.values()) <= 1


def test_pypy(by_exe: dict[str, Runtime]) -> None:
    rt = by_exe[_require(PYPY3)]
    assert rt.implementation == "pypy"
    assert rt.version == (3, 9)
    assert rt.implementation_version is not None
    assert rt.implementation_version.startswith("7.3.")
    assert rt.id == "pypy-3.9-pp73"
    assert list(rt.extension_suffixes) == [".pypy39-pp73-x86_64-linux-gnu.so"]
    assert rt.pyc_header_size == 16
    assert "pypy3" in rt.commands


#: ../shared/reference/real-interpreters.md, "What the interpreters say": the set-up's
#: interpreters (tests/interpreters.py, scripts/interpreters.sh) as they reported themselves.
_DEB = "x86_64-linux-gnu"
SET_UP_TABLE: dict[str, dict[str, Any]] = {
    "3.13": {
        "full_version": "3.13.5",
        "magic": 3571,
        "cache_tag": "cpython-313",
        "soabi": f"cpython-313-{_DEB}",
        "abiflags": "",
        "free_threaded": False,
        "extension_suffixes": [f".cpython-313-{_DEB}.so", ".abi3.so", f".abi3-{_DEB}.so", ".so"],
        "site": "/usr/lib/python3/dist-packages",
        "vendor": "debian",
    },
    "3.14": {
        "full_version": "3.14.10",
        "magic": 3627,
        "cache_tag": "cpython-314",
        "soabi": f"cpython-314-{_DEB}",
        "abiflags": "",
        "free_threaded": False,
        "extension_suffixes": [f".cpython-314-{_DEB}.so", ".abi3.so", f".abi3-{_DEB}.so", ".so"],
        "site": "/usr/lib/python3/dist-packages",
        "vendor": "debian",
    },
    "3.13t": {
        "full_version": "3.13.5",
        "magic": 3571,
        "cache_tag": "cpython-313",
        "soabi": f"cpython-313t-{_DEB}",
        "abiflags": "t",
        "free_threaded": True,
        "extension_suffixes": [f".cpython-313t-{_DEB}.so", ".abi3.so", ".so"],
        "site": "/lib/python3.13t/site-packages",
        "vendor": "upstream",
    },
}


@pytest.mark.parametrize("version", sorted(SET_UP_TABLE))
def test_set_up_interpreter_probed_as_the_reference_says(
    version: str, by_exe: dict[str, Runtime]
) -> None:
    want = SET_UP_TABLE[version]
    rt = by_exe[os.path.realpath(extra_python(version))]
    assert rt.id == f"cpython-{version}" or rt.id == f"cpython-{version}@{want['full_version']}"
    got = {
        "full_version": rt.full_version,
        "magic": rt.magic,
        "cache_tag": rt.cache_tag,
        "soabi": rt.soabi,
        "abiflags": rt.abiflags,
        "free_threaded": rt.free_threaded,
        "extension_suffixes": list(rt.extension_suffixes),
        "vendor": rt.vendor,
    }
    assert got == {k: v for k, v in want.items() if k != "site"}
    assert any(p.endswith(want["site"]) for p in rt.sys_path), rt.sys_path
    # The interpreter itself: GIL state and Py_GIL_DISABLED as the table has them.
    direct = _run_json(
        extra_python(version),
        "import json, sys, sysconfig; print(json.dumps("
        "{'gil': getattr(sys, '_is_gil_enabled', lambda: True)(),"
        " 'disabled': sysconfig.get_config_var('Py_GIL_DISABLED')}))",
    )
    assert direct == {"gil": not want["free_threaded"], "disabled": int(want["free_threaded"])}


def test_coinstall_runtimes_lists_the_set_up_interpreters() -> None:
    """``coinstall runtimes --format json`` as a user runs it (a separate process; the
    session's COINSTALL_PYTHONS names the set-up's interpreters, see tests/conftest.py)."""
    exe = str(Path(sys.executable).parent / "coinstall")
    proc = subprocess.run(
        [exe, "runtimes", "--format", "json"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    listed = {r["executable"]: r for r in json.loads(proc.stdout)}
    for version, want in SET_UP_TABLE.items():
        r = listed[os.path.realpath(extra_python(version))]
        assert (r["soabi"], r["extension_suffixes"], r["abiflags"]) == (
            want["soabi"],
            want["extension_suffixes"],
            want["abiflags"],
        ), version
    # The text listing names the free-threaded one by its id.
    text = subprocess.run([exe, "runtimes"], capture_output=True, text=True, timeout=300)
    assert text.returncode == 0 and "cpython-3.13t" in text.stdout, text.stdout


def test_interpreters_set_up_again_does_nothing() -> None:
    """``scripts/interpreters.sh`` a second time: every step is found done (no apt, no build),
    and it only says where the interpreters are."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "interpreters.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"interpreters: ready: {extra_python('3.13')} python3.14 python3.13t"
    ], done.stderr


def test_no_shims_or_scripts_found() -> None:
    # What scanning finds (the set-up's wrappers, named in COINSTALL_PYTHONS, are taken as named).
    for exe in find_interpreters(environ={**os.environ, "COINSTALL_PYTHONS": ""}):
        assert "/shims/" not in exe
        assert not exe.endswith("-config")
        with open(exe, "rb") as handle:
            assert handle.read(4) in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def test_find_in_extra_dir_and_env(tmp_path: Path) -> None:
    real = os.path.realpath(sys.executable)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3.99").symlink_to(real)  # a symlink to a binary: taken
    shim = bindir / "python3.98"  # a shell script, like pyenv's shims: skipped
    shim.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    (bindir / "python3.99-config").symlink_to(real)  # not a matching name: skipped
    (bindir / "pythonista").symlink_to(real)  # not a matching name: skipped
    env = {"PATH": "", "HOME": str(tmp_path), "COINSTALL_PYTHONS": str(bindir)}
    found = find_candidates(environ=env)
    mine = [c for c in found if c.executable == real]
    assert len(mine) == 1
    assert "python3.99" in mine[0].commands
    assert not {"python3.98", "python3.99-config", "pythonista"} & set(mine[0].commands)
    assert all(os.path.realpath(shim) != c.executable for c in found)
    # The same directory through `extra` gives the same answer.
    assert find_candidates([bindir], environ={**env, "COINSTALL_PYTHONS": ""}) == found


# --------------------------------------------------------------------------------------------
# Probing and its cache


def test_second_discover_starts_nothing(
    cache_file: Path, discovered: tuple[list[Runtime], list[ProbeError], int]
) -> None:
    runtimes, errors, started = discovered
    assert started >= len(runtimes) > 0
    before = interpreters_started()
    again, again_errors = discover(cache_path=cache_file)
    assert interpreters_started() == before
    assert again == runtimes
    assert [r.id for r in again] == [r.id for r in runtimes]
    assert again_errors == errors
    document = json.loads(cache_file.read_text())
    assert document["format"] == 2
    assert set(document["entries"]) >= {r.executable for r in runtimes}
    assert not [p for p in cache_file.parent.iterdir() if p.name != cache_file.name]


def test_stale_entry_is_reprobed(
    tmp_path: Path, cache_file: Path, discovered: tuple[list[Runtime], list[ProbeError], int]
) -> None:
    runtimes = discovered[0]
    copy = tmp_path / "probes.json"
    document = json.loads(cache_file.read_text())
    victim = runtimes[0].executable
    assert victim is not None
    document["entries"][victim]["key"][0] -= 1  # as if the file had another mtime
    document["entries"][victim]["data"]["full_version"] = "stale"
    copy.write_text(json.dumps(document))
    before = interpreters_started()
    again, _ = discover(cache_path=copy)
    assert interpreters_started() - before == 1
    assert again == runtimes
    assert json.loads(copy.read_text())["entries"][victim]["data"]["full_version"] != "stale"


def test_broken_or_foreign_cache_reprobes(tmp_path: Path) -> None:
    exe = os.path.realpath(sys.executable)
    cache = tmp_path / "deep" / "dir" / "probes.json"
    cache.parent.mkdir(parents=True)
    cache.write_text("{ not json")
    before = interpreters_started()
    (first, second), errors = probe([exe, exe], cache_path=cache)  # one launch for both
    assert not errors and interpreters_started() - before == 1
    assert not first.cached and first.data is second.data and first.executable == exe
    document = json.loads(cache.read_text())
    document["probe_sha256"] = "0" * 64  # written by another version of the probe script
    cache.write_text(json.dumps(document))
    probe([exe], cache_path=cache)
    assert interpreters_started() - before == 2
    (result,), _ = probe([exe], cache_path=cache)
    assert result.cached and interpreters_started() - before == 2


def test_non_python_executables_give_errors(tmp_path: Path) -> None:
    def script(name: str, body: str) -> str:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)
        return str(path)

    noise = script("noise", "echo hello; exit 0")
    failing = script("failing", "echo 'boom' >&2; exit 3")
    bad_json = script("bad-json", "echo '@@coinstall-probe@@{oops'")
    reported = script("reported", 'echo \'@@coinstall-probe@@{"error": "RuntimeError: x"}\'')
    not_exec = tmp_path / "plain"
    not_exec.write_text("data")
    missing = str(tmp_path / "missing")
    extra = ["/bin/true", noise, failing, bad_json, reported, str(not_exec), missing]
    extra = [p for p in extra if p != "/bin/true" or os.path.exists(p)]
    cache = tmp_path / "probes.json"
    runtimes, errors = discover(extra, cache_path=cache)
    assert runtimes  # the real interpreters are still there
    messages = {os.path.basename(e.path): e.message for e in errors}
    assert set(messages) >= {os.path.basename(p) for p in extra}
    assert "exit status 3" in messages["failing"] and "boom" in messages["failing"]
    assert "no output" in messages["noise"] or "hello" in messages["noise"]
    assert "RuntimeError: x" in messages["reported"]
    assert "cannot stat" in messages["missing"]
    # Failures are not cached: probing them again starts them again.
    before = interpreters_started()
    results, again = probe([failing], cache_path=cache)
    assert not results and len(again) == 1 and interpreters_started() - before == 1


def test_probe_as_script_file_matches_dash_c() -> None:
    exe = _require(_pyenv("2.7") or sys.executable)
    path = Path(discovery.__file__).with_name("probe_script.py")
    outputs = []
    for args in (["-c", probe_source()], [str(path)]):
        proc = subprocess.run(
            [exe, "-E", "-s", "-S", *args], capture_output=True, text=True, check=True, cwd="/"
        )
        outputs.append(json.loads(proc.stdout.split("@@coinstall-probe@@", 1)[1]))
    assert outputs[0] == outputs[1]
    assert str(path.parent) not in outputs[1]["sys_path"]


# --------------------------------------------------------------------------------------------
# The probe agrees with the interpreters themselves

DIRECT_3 = """
import importlib.machinery, importlib.util, json, platform, sys, sysconfig
print(json.dumps({
    "magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"),
    "cache_tag": sys.implementation.cache_tag,
    "suffixes": importlib.machinery.EXTENSION_SUFFIXES,
    "abiflags": getattr(sys, "abiflags", ""),
    "soabi": sysconfig.get_config_var("SOABI"),
    "version": list(sys.version_info[:2]),
    "full_version": platform.python_version(),
    "platform": sys.platform,
    "stdlib": sysconfig.get_paths()["stdlib"],
    "path": sys.path[1:],
}))
"""

DIRECT_2 = """
import imp, json, platform, sys, sysconfig
print(json.dumps({
    "magic": ord(imp.get_magic()[0]) | ord(imp.get_magic()[1]) << 8,
    "suffixes": [s[0] for s in imp.get_suffixes() if s[2] == imp.C_EXTENSION],
    "maxunicode": sys.maxunicode,
    "version": list(sys.version_info[:2]),
    "full_version": platform.python_version(),
    "path": sys.path[1:],
}))
"""


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(any(x == y for y in it) for x in short)


def test_probe_matches_direct_report(by_exe: dict[str, Runtime]) -> None:
    checked = 0
    for exe, rt in by_exe.items():
        if rt.version[0] == 2:
            direct = _run_json(exe, DIRECT_2)
            assert ("u" in rt.abiflags) == (direct["maxunicode"] == 0x10FFFF)
        else:
            direct = _run_json(exe, DIRECT_3)
            assert rt.cache_tag == direct["cache_tag"]
            assert rt.abiflags == direct["abiflags"]
            assert rt.soabi == direct["soabi"]
            assert rt.platform == direct["platform"]
            assert rt.stdlib == direct["stdlib"]
        assert rt.magic == direct["magic"], exe
        assert list(rt.extension_suffixes) == direct["suffixes"], exe
        assert list(rt.version) == direct["version"]
        assert rt.full_version == direct["full_version"]
        # sys.path of a normal start (-s) holds the probe's, plus what .pth files add.
        path = direct["path"]
        assert isinstance(path, list)
        assert _is_subsequence(list(rt.sys_path), path), (exe, rt.sys_path, path)
        checked += 1
    assert checked == len(by_exe) > 0


COMPILE = """
import json, marshal, py_compile, sys
src, dst, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
py_compile.compile(src, cfile=dst, doraise=True)
data = open(dst, "rb").read()
code = marshal.loads(data[size:])
print(json.dumps({"head": list(bytearray(data[:4])), "name": code.co_name}))
"""


def test_magic_and_header_size_match_written_pyc(
    tmp_path: Path, by_exe: dict[str, Runtime]
) -> None:
    src = tmp_path / "mod.py"
    src.write_text("X = 1\n")
    for n, (exe, rt) in enumerate(sorted(by_exe.items())):
        dst = tmp_path / f"mod{n}.pyc"
        direct = _run_json(exe, COMPILE, str(src), str(dst), str(rt.pyc_header_size))
        assert bytes(direct["head"]) == rt.magic_bytes, exe
        assert direct["name"] == "<module>", exe


# --------------------------------------------------------------------------------------------
# Pure functions


def test_runtime_id_rules() -> None:
    assert runtime_id("cpython", (3, 12), "", None) == "cpython-3.12"
    assert runtime_id("cpython", (3, 11), "d", None) == "cpython-3.11d"
    assert runtime_id("cpython", (3, 13), "t", None) == "cpython-3.13t"
    assert runtime_id("cpython", (3, 7), "m", None) == "cpython-3.7"
    assert runtime_id("cpython", (2, 7), "mu", None) == "cpython-2.7u"
    assert runtime_id("cpython", (3, 11), "", None, "+debian") == "cpython-3.11+debian"
    assert runtime_id("pypy", (3, 9), "", "7.3.11") == "pypy-3.9-pp73"
    assert runtime_id("pypy", (2, 7), "", "7.3.17") == "pypy-2.7-pp73"


def test_pyc_header_size_rules() -> None:
    assert pyc_header_size("cpython", (2, 7), 62211) == 8
    assert pyc_header_size("cpython", (3, 2), 3180) == 8
    assert pyc_header_size("cpython", (3, 3), 3230) == 12
    assert pyc_header_size("cpython", (3, 6), 3379) == 12
    assert pyc_header_size("cpython", (3, 7), 3394) == 16
    assert pyc_header_size("pypy", (3, 9), 336) == 16
    assert pyc_header_size("pypy", (3, 6), 3379 + 7) == 12
    assert pyc_header_size("pypy", (2, 7), 62211) == 8


def test_unique_ids_suffixes() -> None:
    def rt(rid: str, full: str, exe: str) -> Runtime:
        return Runtime(
            id=rid,
            implementation="cpython",
            version=(3, 11),
            abiflags="",
            magic=3495,
            cache_tag="cpython-311",
            pyc_header_size=16,
            soabi=None,
            extension_suffixes=(),
            multiarch=None,
            platform="linux",
            full_version=full,
            executable=exe,
        )

    out = unique_ids(
        [
            rt("a", "3.11.2", "/1"),
            rt("a", "3.11.2", "/2"),
            rt("a", "3.11.7", "/3"),
            rt("b", "3.11.2", "/4"),
        ]
    )
    assert [r.id for r in out] == ["a@3.11.2-1", "a@3.11.2-2", "a@3.11.7", "b"]


def test_candidate_default_flag() -> None:
    if not os.path.exists("/usr/bin/python3"):
        pytest.skip("no /usr/bin/python3")
    real = os.path.realpath("/usr/bin/python3")
    defaults = [c for c in find_candidates() if c.default]
    assert defaults == [c for c in find_candidates() if c.executable == real]
    assert isinstance(defaults[0], Candidate)


#: Runs in the interpreter: the probe's source executed under another name (its main() does
#: not run), then its CPython 3.0/3.1 answers (distutils.sysconfig) beside the answers of the
#: sysconfig path every other interpreter takes.
FALLBACK = """
import json, sys
ns = {"__name__": "coinstall_probe_test"}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), ns)
names = ("SOABI", "EXT_SUFFIX", "SO", "MULTIARCH", "Py_DEBUG", "WITH_PYMALLOC", "Py_UNICODE_SIZE")
out = {}
for how in ("sysconfig", "distutils"):
    config = ns["_config"] if how == "sysconfig" else ns["_config_distutils"]
    usr = ns["_usr_paths"] if how == "sysconfig" else ns["_usr_paths_distutils"]
    get_var, paths = config()
    out[how] = [paths, list(usr()), [get_var(n) for n in names]]
print(json.dumps(out))
"""


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11"])
def test_probe_distutils_branch_answers_what_sysconfig_answers(version: str) -> None:
    """The probe's branch for CPython 3.0 and 3.1 (no ``sysconfig`` module: its paths and
    build variables come from ``distutils.sysconfig``), run for real on each interpreter that
    has both modules (pyenv's 2.7 and 3.6-3.11; 3.12 dropped distutils), gives what the
    ``sysconfig`` path gives there: purelib, platlib, stdlib, the /usr scheme's site
    directories and the build variables the probe reads.  No 3.0/3.1 interpreter can be had
    on this machine (pyenv needs python.org, Debian shipped 3.1 last in squeeze); 2.7 and 3.2
    took sysconfig from distutils.sysconfig's code, which 3.0/3.1 run."""
    exe = _require(_pyenv(version))
    script = str(Path(discovery.__file__).with_name("probe_script.py"))
    out = _run_json(exe, FALLBACK, script)
    assert out["distutils"] == out["sysconfig"]
    paths, usr, _ = out["distutils"]
    assert paths["purelib"].startswith(str(PYENV_ROOT / "versions")), paths
    assert usr == [f"/usr/lib/python{version}/site-packages"] * 2, usr
