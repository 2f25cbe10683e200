"""``coinstall share`` on real input: pyenv's CPython 3.8-3.13, each as a throwaway virtual
environment (the hooks go into the venvs' site-packages, never into the real interpreters'),
real wheels from PyPI at pinned versions, the real interpreters importing the result."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import corpus
from coinstall.share import install as share_install
from coinstall.share import resolve as share_resolve
from coinstall.share import site as share_site
from coinstall.share.site import SharedSite, ShareError
from interpreters import pyenv_python

pytestmark = pytest.mark.network

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
#: cryptography needs cffi, whose _cffi_backend is version-specific (cp38-cp38 ...): it cannot
#: be shared, so each runtime has it in its own site-packages (cffi 1.17.1 and pycparser 2.22,
#: :data:`corpus.SHARE_WHEELS`), installed by pip under that runtime.
COINSTALL = [sys.executable, "-m", "coinstall"]


def _wheel(name: str) -> str:
    """Path of the pinned file ``corpus.SHARE_WHEELS[name]`` (downloaded if missing)."""
    return str(corpus.PINNED_SHARE_WHEELS.path(name))


def _pyenv(version: str) -> str | None:
    found = pyenv_python(version)
    return str(found) if found else None


def _pip(python: str) -> list[str]:
    """Real pip (this test run's) acting on ``python``'s environment: the share venvs have no
    pip of their own."""
    return [sys.executable, "-m", "pip", "--python", python]


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def venvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``X.Y -> bin/python`` of a fresh venv per pyenv runtime, made ``--without-pip`` (ensurepip
    cost ~7 s of CPU per venv), with cffi installed into it by real pip: the test run's own,
    run under the venv's interpreter (``pip --python``, pip >= 22.3, as coinstall share runs
    it), from the pinned files of the cffi build of the venv's own version and pycparser
    (``--no-index``: no index round trip)."""
    base = tmp_path_factory.mktemp("venvs")
    found = {v: _pyenv(v) for v in VERSIONS}
    # Every one of them: the tests below assert per-version answers (3.8's stable-ABI
    # baseline, 3.12's version-specific module) that a smaller set would silently leave out.
    missing = [v for v, p in found.items() if p is None]
    assert not missing, f"no pyenv CPython {missing}: run scripts/setup.sh"
    pythons = {v: p for v, p in found.items() if p is not None}
    corpus.PINNED_SHARE_WHEELS.fetch_all()

    def make(item: tuple[str, str]) -> tuple[str, str]:
        v, py = item
        d = base / f"venv{v}"
        subprocess.run([py, "-m", "venv", "--without-pip", str(d)], check=True, capture_output=True)
        vpy = str(d / "bin" / "python")
        subprocess.run(
            [
                *_pip(vpy),
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-index",
                "--only-binary=:all:",
                _wheel(f"cffi-{v}"),
                _wheel("pycparser"),
            ],
            check=True,
            capture_output=True,
        )
        return v, vpy

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(make, pythons.items()))


@pytest.fixture(scope="module")
def constraints(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("cons") / "constraints.txt"
    p.write_text(corpus.SHARE_CONSTRAINTS)
    return str(p)


@pytest.fixture(scope="module")
def shared(
    tmp_path_factory: pytest.TempPathFactory, venvs: dict[str, str], constraints: str
) -> Iterator[str]:
    """A shared site for every venv with requests, attrs, six and cryptography installed;
    uninitialised (hooks removed) at the end."""
    d = str(tmp_path_factory.mktemp("share") / "site")
    proc = _run(
        [*COINSTALL, "share", "init", d, *[a for p in venvs.values() for a in ("--python", p)]]
    )
    assert proc.returncode == 0, proc.stderr
    proc = _run(
        [
            *COINSTALL,
            "share",
            "install",
            "-c",
            constraints,
            "requests",
            "attrs",
            "six",
            "cryptography",
            "--into",
            d,
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield d
    if SharedSite(d).initialized:
        share_site.uninit(d, purge=True)


def _tree(d: str) -> dict[str, str]:
    """Every file under ``d`` (state directory excluded) -> sha256."""
    out = {}
    for root, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if x != share_site.STATE_DIR]
        for f in files:
            p = os.path.join(root, f)
            out[os.path.relpath(p, d)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


def _sys_path(python: str) -> list[str]:
    out = _run([python, "-c", "import json, sys; print(json.dumps(sys.path))"])
    return [os.path.realpath(p) for p in json.loads(out.stdout)]


# -------------------------------------------------------------------------------------------


def test_init_puts_site_after_each_runtimes_site_packages(
    shared: str, venvs: dict[str, str]
) -> None:
    state = SharedSite(shared).load()
    # each target's PEP 508 environment, from the interpreter itself
    assert [t.markers["python_version"] for t in state.targets] == list(venvs)
    assert [t.version for t in state.targets] == sorted(
        tuple(int(x) for x in v.split(".")) for v in venvs
    )
    for t in state.targets:
        assert t.hook.startswith(t.site_dir + "/") and os.path.isfile(t.hook)
        # the real interpreter: own site-packages first, then the shared site
        path = _sys_path(t.python)
        assert os.path.realpath(shared) in path
        assert path.index(os.path.realpath(t.site_dir)) < path.index(os.path.realpath(shared))
    st = share_site.status(shared)
    assert all(s.ok for s in st.targets)
    assert st.dists >= 8 and not st.pending


def test_init_lists_exactly_the_files_written_outside(
    tmp_path: Path, venvs: dict[str, str]
) -> None:
    d = str(tmp_path / "site2")
    before = {v: set(os.listdir(os.path.dirname(_hook_dir(p)))) for v, p in venvs.items()}
    result = share_site.init(d, list(venvs.values()))
    try:
        assert sorted(result.written_outside) == sorted(t.hook for t in result.targets)
        for v, p in venvs.items():
            after = set(os.listdir(os.path.dirname(_hook_dir(p))))
            assert after - before[v] == {share_site.hook_name(d)}
        assert all(
            si is not None and di is not None and si < di for si, di in result.order.values()
        )
    finally:
        removed = share_site.uninit(d, purge=False)
    assert sorted(removed) == sorted(result.written_outside)
    for v, p in venvs.items():
        assert set(os.listdir(os.path.dirname(_hook_dir(p)))) == before[v]
        assert os.path.realpath(d) not in _sys_path(p)


def _hook_dir(python: str) -> str:
    """A file path inside the venv's site-packages (for listing it)."""
    return os.path.join(share_site.query_python(python)["purelib"], "x")


def test_installed_set_and_choices(shared: str) -> None:
    state = SharedSite(shared).load()
    got = {n: (d.version, d.wheel) for n, d in state.dists.items()}
    assert {n: v for n, (v, _) in got.items()} == {
        "requests": "2.32.3",
        "idna": "3.10",
        "certifi": "2024.8.30",
        "charset-normalizer": "3.4.0",
        "urllib3": "2.2.3",
        "attrs": "24.2.0",
        "six": "1.16.0",
        "cryptography": "43.0.3",
    }
    # the mypyc builds are version-specific: the pure build serves every runtime
    assert got["charset-normalizer"][1] == "charset_normalizer-3.4.0-py3-none-any.whl"
    # 3.9+ pick cp39-abi3, 3.8 picks cp37-abi3: the one every target can load
    assert got["cryptography"][1] == "cryptography-43.0.3-cp37-abi3-manylinux_2_28_x86_64.whl"
    assert "cffi" not in got  # each venv has its own
    # scripts are not installed into a shared site
    assert any(
        s.startswith("scripts/normalizer") for s in state.dists["charset-normalizer"].skipped
    )
    assert not any(
        f.startswith("..") or f.startswith("/") for d in state.dists.values() for f in d.all_paths()
    )


def test_verify_every_runtime_imports_every_module(shared: str) -> None:
    proc = _run([*COINSTALL, "share", "verify", shared])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = share_install.verify(shared)
    assert result.ok
    assert {
        "requests",
        "idna",
        "certifi",
        "charset_normalizer",
        "urllib3",
        "attr",
        "attrs",
        "six",
        "cryptography",
    } <= set(result.cells)
    for row in result.cells.values():
        assert len(row) == len(result.targets)
        assert all(c.ok and c.shared for c in row.values())


def test_verify_tells_a_runtimes_own_copy(shared: str, venvs: dict[str, str]) -> None:
    """A runtime's own site-packages comes first: its own six wins, and verify says so."""
    py = next(iter(venvs.values()))
    tid = SharedSite(shared).load().targets[0].id
    pip = [*_pip(py), "-q", "--disable-pip-version-check"]
    subprocess.run(
        [
            *pip,
            "install",
            "--no-index",
            "--only-binary=:all:",
            "--no-deps",
            "--ignore-installed",
            str(corpus.wheel("six")),
        ],
        check=True,
        capture_output=True,
    )
    try:
        cell = share_install.verify(shared).cells["six"][tid]
        assert cell.ok and not cell.shared
        assert cell.origin.startswith(share_site.query_python(py)["purelib"])
    finally:
        subprocess.run([*pip, "uninstall", "-y", "six"], check=True, capture_output=True)
    assert share_install.verify(shared).cells["six"][tid].shared


def test_stable_abi_extension_works_in_every_runtime(shared: str, venvs: dict[str, str]) -> None:
    code = (
        "from cryptography.fernet import Fernet; import cryptography.hazmat.bindings._rust "
        "as r; k = Fernet.generate_key(); assert Fernet(k).decrypt(Fernet(k).encrypt(b'x'))"
        " == b'x'; print(r.__file__)"
    )
    for v, py in venvs.items():
        out = _run([py, "-c", code])
        assert out.returncode == 0, (v, out.stderr)
        assert out.stdout.strip() == os.path.join(
            shared, "cryptography/hazmat/bindings/_rust.abi3.so"
        )


def test_each_runtime_has_its_own_valid_bytecode(shared: str, venvs: dict[str, str]) -> None:
    state = SharedSite(shared).load()
    cache = Path(shared, "requests", "__pycache__")
    for t in state.targets:
        rt = share_site.runtime_of(t.python)
        pyc = cache / f"__init__.{t.cache_tag}.pyc"
        assert pyc.is_file(), t.id
        assert pyc.read_bytes()[:4] == rt.magic_bytes
        assert (
            f"requests/__pycache__/__init__.{t.cache_tag}.pyc"
            in state.dists["requests"].bytecode[t.id]
        )
    # Importing with bytecode writing on: a runtime that found its pyc stale or foreign would
    # rewrite it.  None does.
    before = _tree(shared)
    for py in venvs.values():
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        out = _run(
            [
                py,
                "-c",
                "import requests, attr, six, idna, urllib3, certifi, "
                "charset_normalizer, cryptography",
            ],
            env=env,
        )
        assert out.returncode == 0, out.stderr
    assert _tree(shared) == before


def test_numpy_for_one_version_is_refused_with_reasons(shared: str) -> None:
    before = _tree(shared)
    whl = str(corpus.wheel("numpy-cp312"))
    proc = _run([*COINSTALL, "share", "install", whl, "--into", shared])
    assert proc.returncode == 1
    assert "refused numpy 2.1.3" in proc.stdout
    result = share_install.install(shared, [whl])
    assert not result.installed and len(result.refused) == 1
    reasons = result.refused[0].reasons
    ids = {t.id for t in SharedSite(shared).load().targets}
    assert set(reasons) == ids - {"cpython-3.12"}
    for rid in set(reasons) - {"cpython-3.8", "cpython-3.9"}:
        assert "version-specific ABI cp312" in reasons[rid]
        assert "EXTENSION_SUFFIXES" in reasons[rid]
    for rid in {"cpython-3.8", "cpython-3.9"} & set(reasons):
        assert "Requires-Python >=3.10" in reasons[rid]
    assert _tree(shared) == before


def test_acceptance_of_stable_abi_baselines_and_architectures(shared: str) -> None:
    state = SharedSite(shared).load()
    rts = [share_site.runtime_of(t.python) for t in state.targets]
    ids = {r.id for r in rts}
    # PyNaCl cp36-abi3: baseline 3.6, below every target
    assert share_install.acceptance(str(corpus.wheel("pynacl-abi3")), rts, state.arch) == {}
    # bcrypt cp39-abi3: baseline above 3.8 only
    assert "cpython-3.8" in ids, sorted(ids)
    why = share_install.acceptance(str(corpus.wheel("bcrypt-abi3")), rts, state.arch)
    assert set(why) == {"cpython-3.8"}
    assert "stable-ABI baseline 3.9 is above 3.8" in why["cpython-3.8"]
    # the same for aarch64: abi3 names carry no architecture; refused for every target
    why = share_install.acceptance(str(corpus.wheel("bcrypt-abi3-aarch64")), rts, state.arch)
    assert set(why) == ids
    assert all("EM_AARCH64" in w for w in why.values())


def test_never_overwrites_an_unrecorded_file(shared: str, constraints: str) -> None:
    stray = Path(shared, "tomli")
    stray.mkdir()
    (stray / "__init__.py").write_text("# not ours\n")
    try:
        before = _tree(shared)
        with pytest.raises(ShareError, match=r"tomli/__init__.py \(not recorded\)"):
            share_install.install(shared, [_wheel("tomli")], [constraints])
        assert _tree(shared) == before
        # the staging area went with the failed install
        assert not [n for n in os.listdir(SharedSite(shared).meta) if n.startswith("work-")]
        assert "tomli" not in SharedSite(shared).load().dists
    finally:
        (stray / "__init__.py").unlink()
        stray.rmdir()


def test_second_install_waits_for_the_lock_then_fails_clearly(
    shared: str, constraints: str
) -> None:
    site = SharedSite(shared)
    with site.locked():
        t0 = time.monotonic()
        proc = _run(
            [
                *COINSTALL,
                "share",
                "install",
                "-c",
                constraints,
                _wheel("tomli"),
                "--into",
                shared,
                "--lock-timeout",
                "1.5",
            ]
        )
        waited = time.monotonic() - t0
    assert proc.returncode == 2
    assert f"locked by another coinstall process (pid {os.getpid()})" in proc.stderr
    assert waited >= 1.5
    assert "tomli" not in site.load().dists
    # with time to wait, the second one waits for the first and then does its work: it says
    # so on stderr once it has found the lock held (an observable state, not a guess from
    # elapsed time), and nothing of its work is done while we hold the lock
    with site.locked():
        waiting = subprocess.Popen(
            [
                *COINSTALL,
                "share",
                "install",
                "-c",
                constraints,
                _wheel("tomli"),
                "--into",
                shared,
                "--lock-timeout",
                "300",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stderr is not None
        first = waiting.stderr.readline()  # blocks until the child writes its first line
        assert first.strip() == (
            f"... waiting for the lock of {site.dir} (held by pid {os.getpid()})"
        ), first
        assert waiting.poll() is None
        assert "tomli" not in site.load().dists
        assert not [n for n in os.listdir(site.meta) if n.startswith("work-")]
    out, err = waiting.communicate(timeout=300)
    err = first + err
    assert waiting.returncode == 0, out + err
    assert "tomli" in site.load().dists
    share_install.remove(shared, ["tomli"])


def test_only_python3_targets(tmp_path: Path) -> None:
    py27 = _pyenv("2.7")
    if not py27:
        pytest.skip("no pyenv 2.7")
    with pytest.raises(ShareError, match="CPython 3 and PyPy 3 runtimes only"):
        share_site.init(str(tmp_path / "s"), [py27])
    assert not os.path.exists(tmp_path / "s")


@pytest.mark.parametrize("point", ["staged", "moving"])
def test_install_killed_half_way_leaves_the_site_working(
    shared: str, constraints: str, venvs: dict[str, str], tmp_path: Path, point: str
) -> None:
    site = SharedSite(shared)
    before = _tree(shared)
    state_before = site.load().to_json()
    marker = tmp_path / "paused"
    env = dict(os.environ, **{share_site.PAUSE_ENV: point, share_site.PAUSE_FILE_ENV: str(marker)})
    proc = subprocess.Popen(
        [*COINSTALL, "share", "install", "-c", constraints, _wheel("tomli"), "--into", shared],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, "install ended before the pause point"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        if point == "moving":  # one entry of tomli is in place, the journal says so
            assert os.path.exists(site.journal_path)
            assert _tree(shared) != before
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The previous state is intact and importable while the debris is still there ...
    assert site.load().to_json() == state_before
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for py in venvs.values():
        out = _run([py, "-c", "import requests, attr, six, cryptography.fernet"], env=env)
        assert out.returncode == 0, out.stderr
    result = share_install.verify(shared)
    assert result.ok and "tomli" not in result.cells
    # ... and the next command (it takes the lock) rolls the transaction back completely.
    assert _tree(shared) == before
    assert not os.path.exists(site.journal_path)
    assert not [n for n in os.listdir(site.meta) if n.startswith("work-")]
    # a new install then succeeds, and removing it restores the tree exactly
    res = share_install.install(shared, [_wheel("tomli")], [constraints])
    assert [d.name for d in res.installed] == ["tomli"]
    assert share_install.verify(shared).cells["tomli"]
    share_install.remove(shared, ["tomli"])
    assert _tree(shared) == before


def _dist_version(python: str, name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    code = f"import importlib.metadata as m; print(m.version({name!r}))"
    out = _run([python, "-c", code], env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_upgrade_replaces_a_distribution_in_place(
    shared: str, constraints: str, venvs: dict[str, str]
) -> None:
    site = SharedSite(shared)
    before = _tree(shared)
    share_install.install(shared, [_wheel("tomli")], [constraints])  # 2.0.1, the pinned version
    with_old = _tree(shared)
    # without --upgrade another version is an error, and nothing changes
    proc = _run([*COINSTALL, "share", "install", _wheel("tomli-2.0.2"), "--into", shared])
    assert proc.returncode == 2
    assert "tomli 2.0.1 is installed and 2.0.2 is wanted: pass --upgrade" in proc.stderr
    assert _tree(shared) == with_old
    proc = _run([*COINSTALL, "share", "install", "--upgrade", "tomli==2.0.2", "--into", shared])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "upgraded tomli 2.0.1 -> 2.0.2 (tomli-2.0.2-py3-none-any.whl)" in proc.stdout
    rec = site.load().dists["tomli"]
    assert (rec.version, rec.wheel) == ("2.0.2", "tomli-2.0.2-py3-none-any.whl")
    assert sorted(rec.bytecode) == sorted(t.id for t in site.load().targets)
    # exactly the new distribution's files and bytecode replaced the old ones
    after = _tree(shared)
    assert set(after) - set(before) == set(rec.all_paths())
    assert not os.path.exists(os.path.join(shared, "tomli-2.0.1.dist-info"))
    for py in venvs.values():
        assert _dist_version(py, "tomli") == "2.0.2"
    # each runtime finds its new bytecode valid: importing with writing on rewrites nothing
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    for py in venvs.values():
        out = _run([py, "-c", "import tomli; assert tomli.loads('a = 1') == {'a': 1}"], env=env)
        assert out.returncode == 0, out.stderr
    assert _tree(shared) == after
    share_install.remove(shared, ["tomli"])
    assert _tree(shared) == before


def test_upgrade_refused_where_an_installed_requirement_excludes_it(shared: str) -> None:
    """requests 2.32.3 requires urllib3>=1.21.1: a downgrade to 1.20 is refused, for every
    target, naming the requirement; nothing changes."""
    site = SharedSite(shared)
    before = _tree(shared)
    proc = _run([*COINSTALL, "share", "install", "--upgrade", "urllib3==1.20", "--into", shared])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        "refused urllib3 1.20 (urllib3-1.20-py2.py3-none-any.whl): an installed "
        "distribution's requirement excludes it for" in proc.stdout
    )
    assert "nothing installed" in proc.stdout
    for t in site.load().targets:
        assert f"  {t.id}: requests 2.32.3 requires urllib3<3,>=1.21.1" in proc.stdout
    assert site.load().dists["urllib3"].version == "2.2.3"
    assert _tree(shared) == before
    assert not [n for n in os.listdir(site.meta) if n.startswith("work-")]


def test_upgrade_killed_half_way_is_rolled_back(
    shared: str, constraints: str, venvs: dict[str, str], tmp_path: Path
) -> None:
    site = SharedSite(shared)
    before = _tree(shared)
    share_install.install(shared, [_wheel("tomli")], [constraints])
    with_old = _tree(shared)
    state_old = site.load().to_json()
    marker = tmp_path / "paused"
    env = dict(
        os.environ, **{share_site.PAUSE_ENV: "moving", share_site.PAUSE_FILE_ENV: str(marker)}
    )
    proc = subprocess.Popen(
        [*COINSTALL, "share", "install", "--upgrade", _wheel("tomli-2.0.2"), "--into", shared],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, "upgrade ended before the pause point"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # the first move (an old entry to the trash) is done, under the journal
        assert os.path.exists(site.journal_path)
        assert _tree(shared) != with_old
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert site.load().to_json() == state_old
    # the next command that takes the lock rolls the upgrade back: the old version, whole
    result = share_install.verify(shared)
    assert result.ok and result.cells["tomli"]
    assert _tree(shared) == with_old
    assert not os.path.exists(site.journal_path)
    for py in venvs.values():
        assert _dist_version(py, "tomli") == "2.0.1"
    share_install.remove(shared, ["tomli"])
    assert _tree(shared) == before


def _documented_fields() -> dict[str, set[str]]:
    """``section -> field names`` from the tables of docs/share-format.md (a name cell may
    list several: ``| `name`, `version` |``)."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "share-format.md").read_text()
    out: dict[str, set[str]] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("| `") and section:
            out.setdefault(section, set()).update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return out


def _share_json(*args: str) -> tuple[int, dict[str, object]]:
    proc = _run([*COINSTALL, "share", *args, "--format", "json"])
    assert proc.stderr == "", proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_json_formats_are_the_documented_contract(shared: str) -> None:
    doc = _documented_fields()
    state = SharedSite(shared).load()
    ids = [t.id for t in state.targets]

    rc, lst = _share_json("list", shared)
    assert rc == 0 and (lst["schema_version"], lst["command"]) == (1, "list")
    assert set(lst) == doc["list"] and lst["dir"] == shared
    targets = lst["targets"]
    assert isinstance(targets, list) and [t["id"] for t in targets] == ids
    assert all(set(t) == doc["TARGET"] for t in targets)
    assert [t["cache_tag"] for t in targets] == [t.cache_tag for t in state.targets]
    dists = lst["distributions"]
    assert isinstance(dists, list) and all(set(d) == doc["DISTRIBUTION"] for d in dists)
    assert {d["name"]: d["version"] for d in dists} == {
        d.name: d.version for d in state.dists.values()
    }
    six = next(d for d in dists if d["name"] == "six")
    assert six["bytecode"] == {t.id: [f"__pycache__/six.{t.cache_tag}.pyc"] for t in state.targets}

    rc, st = _share_json("status", shared)
    assert rc == 0 and st["command"] == "status" and set(st) == doc["status"]
    assert st["ok"] is True and st["pending"] is False
    assert st["distributions"] == len(state.dists)
    assert isinstance(st["targets"], list)
    for t in st["targets"]:
        assert set(t) == doc["TARGET"] | doc["STATUS_TARGET"]
        assert t["ok"] and t["hook_ok"] and t["error"] is None
        assert t["site_index"] < t["shared_index"]

    rc, ver = _share_json("verify", shared)
    assert rc == 0 and ver["command"] == "verify" and set(ver) == doc["verify"]
    assert ver["ok"] is True
    modules = ver["modules"]
    assert isinstance(modules, list) and all(set(m) == doc["MODULE"] for m in modules)
    req = next(m for m in modules if m["module"] == "requests")
    assert req["distribution"] == "requests" and list(req["runtimes"]) == ids
    for cell in req["runtimes"].values():
        assert cell["ok"] and cell["shared"]
        assert cell["origin"] == os.path.join(shared, "requests", "__init__.py")


def test_remove_leaves_nothing_behind(shared: str, constraints: str, venvs: dict[str, str]) -> None:
    site = SharedSite(shared)
    before = _tree(shared)
    res = share_install.install(shared, [_wheel("tomli")], [constraints])
    assert [d.name for d in res.installed] == ["tomli"]
    # a runtime writes its own bytecode later (not recorded at install): remove takes it too
    extra = Path(shared, "tomli", "_parser.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    py = next(iter(venvs.values()))
    code = f"import py_compile; py_compile.compile({str(extra)!r}, optimize=2)"
    subprocess.run([py, "-c", code], check=True, env=env)
    assert list(Path(shared, "tomli", "__pycache__").glob("_parser.*.opt-2.pyc"))
    proc = _run([*COINSTALL, "share", "remove", "tomli", "--from", shared])
    assert proc.returncode == 0, proc.stderr
    assert _tree(shared) == before
    assert not os.path.exists(os.path.join(shared, "tomli"))
    assert "tomli" not in site.load().dists
    # removing six empties the top-level __pycache__ of its bytecode only
    six_pycs = {p for p in before if p.startswith("__pycache__/six.")}
    assert len(six_pycs) == len(venvs)
    share_install.remove(shared, ["six"])
    after = _tree(shared)
    assert not [p for p in after if "six" in p.split("/")[-1].split(".")[0]]
    assert set(before) - set(after) == {
        p for p in before if p.startswith(("six", "__pycache__/six"))
    }


def test_remove_everything_then_uninit(shared: str, venvs: dict[str, str]) -> None:
    site = SharedSite(shared)
    names = [d.name for d in site.load().dists.values()]
    with pytest.raises(ShareError, match="distribution"):
        share_site.uninit(shared, purge=False)
    # requests needs idna on every target (no marker): not removed alone
    ids = ", ".join(t.id for t in site.load().targets)
    with pytest.raises(
        ShareError, match=re.escape(f"requests 2.32.3 requires idna<4,>=2.5 ({ids})")
    ):
        share_install.remove(shared, ["idna"])
    assert "idna" in site.load().dists
    share_install.remove(shared, names)
    assert _tree(shared) == {}
    assert sorted(os.listdir(shared)) == [share_site.STATE_DIR]
    hooks = [t.hook for t in site.load().targets]
    proc = _run([*COINSTALL, "share", "uninit", shared])
    assert proc.returncode == 0, proc.stderr
    assert not os.path.exists(shared)
    assert not any(os.path.exists(h) for h in hooks)
    for py in venvs.values():
        assert os.path.realpath(shared) not in _sys_path(py)


def test_local_wheel_install_and_uninit_purge(tmp_path: Path, venvs: dict[str, str]) -> None:
    d = str(tmp_path / "site3")
    pythons = list(venvs.values())[:2]
    result = share_site.init(d, pythons)
    res = share_install.install(d, [str(corpus.wheel("six"))])
    assert [(x.name, x.version) for x in res.installed] == [("six", "1.16.0")]
    assert share_install.verify(d).ok
    with pytest.raises(ShareError, match="1 distribution"):
        share_site.uninit(d, purge=False)
    removed = share_site.uninit(d, purge=True)
    assert set(result.written_outside) <= set(removed)
    assert not os.path.exists(d)
    assert not any(os.path.exists(h) for h in result.written_outside)


def test_a_local_wheel_is_used_in_place_not_downloaded(tmp_path: Path) -> None:
    """A wheel given by path reaches the download step as pip's ``file:`` URL with the
    SHA-256 of pip's report: it is used where it is (no ``pip download`` process copies it),
    and a file changed since pip resolved it is refused as pip download would refuse it."""
    whl = str(corpus.wheel("six"))
    digest = hashlib.sha256(Path(whl).read_bytes()).hexdigest()
    dest = tmp_path / "download"
    url = f"{Path(whl).as_uri()}#sha256={digest}"
    assert share_resolve.pip_download([url], str(dest), python=sys.executable) == [whl]
    assert not dest.exists()  # no pip ran to fill it
    with pytest.raises(ShareError, match="changed since pip resolved it"):
        share_resolve.pip_download([f"{Path(whl).as_uri()}#sha256={'0' * 64}"], str(dest))
