"""Ground truth for ``coinstall spec port --to epel`` and ``coinstall macros``: real specs
(tests/data/spec-build/: a pure library, a library with a C extension, a library with a console
script, an application) of pinned PyPI sdists, ported to EPEL with default 3.12 and other 3.11,
built by Debian's real ``rpmbuild`` with pyenv's interpreters (named in the macro file) and
their build dependencies (:data:`BUILDREQS`);
``coinstall check`` on the RPMs together finds no error, and each stack's real interpreter
imports the modules from the unpacked payload (``rpm2cpio | cpio``) and runs the scripts.

Built RPMs are cached in .cache/spec-build/rpms/<sha256 of spec, macros, sources, defines> so a
rerun costs no build (a change to what coinstall writes is a new key: a new real build).
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from filelock import FileLock

from coinstall.cli import main
from coinstall.runtimes import catalogue
from coinstall.runtimes.stack import Stack
from coinstall.spec import macros
from coinstall.spec.lint import MacroFiles, read_for
from coinstall.spec.port import port

#: real rpmbuild runs (scripts/test.sh runs them; README: the fast subset leaves them out)
pytestmark = [pytest.mark.network, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "tests" / "data" / "spec-build"
CACHE = ROOT / ".cache" / "spec-build"
#: The pinned sdists (and the build backend wheels pip's isolated build installs offline).
SDISTS = {
    "six==1.16.0": "six-1.16.0.tar.gz",
    "MarkupSafe==2.1.5": "MarkupSafe-2.1.5.tar.gz",
    "humanfriendly==10.0": "humanfriendly-10.0.tar.gz",
    "pyflakes==3.2.0": "pyflakes-3.2.0.tar.gz",
    "sgmllib3k==1.0.0": "sgmllib3k-1.0.0.tar.gz",
}
WHEELS = {
    "setuptools==75.1.0": "setuptools-75.1.0-py3-none-any.whl",
    "wheel==0.44.0": "wheel-0.44.0-py3-none-any.whl",
}
STACK = Stack.parse("default=3.12,other=3.11")


def _pyenv(v: str) -> str | None:
    roots = [os.environ.get("PYENV_ROOT", ""), "/root/.pyenv"]
    for r in roots:
        found = sorted(glob.glob(f"{r}/versions/{v}.*/bin/python{v}"))
        if found:
            return found[-1]
    return None


def _lock(path: Path) -> FileLock:
    """An exclusive lock on ``path`` (+ ``.lock``): CACHE is shared by concurrent pytest runs
    (pytest-xdist workers, other clones whose .cache is the same directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(f"{path}.lock")


def _fetch() -> Path:
    dl = CACHE / "dl"
    with _lock(dl):  # pip writes into dl: no other run sees a half-downloaded file
        dl.mkdir(parents=True, exist_ok=True)
        for pins, binary in ((SDISTS, False), (WHEELS, True)):
            missing = [p for p, f in pins.items() if not (dl / f).exists()]
            if missing:
                kind = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pip",
                        "download",
                        "-q",
                        "--no-deps",
                        *kind,
                        "-d",
                        str(dl),
                        *missing,
                    ],
                    check=True,
                )
    return dl


#: Each stack's build dependencies (the pinned setuptools and wheel), installed once for each
#: interpreter in a user base (PYTHONUSERBASE: lib/pythonX.Y/site-packages, one per version), as
#: a build root's BuildRequires (python3.12-setuptools ...) puts them beside the interpreter:
#: the macros' own default, ``pip wheel --no-build-isolation`` (Fedora's %pyproject_wheel),
#: builds with them.  The isolated build it replaced installed (and byte-compiled) setuptools
#: into a new build environment for every ``pip wheel`` (12 of them): 43% of the file's CPU
#: with an empty cache (80.5 -> 46.2 s user+sys; python-six.spec alone 16.7 -> 8.0 s).
BUILDREQS = CACHE / ("buildreqs-" + hashlib.sha256(repr(sorted(WHEELS)).encode()).hexdigest()[:12])


def _buildreqs(versions: tuple[str, ...] = ("3.11", "3.12")) -> Path:
    """The user base holding WHEELS for pyenv's ``versions`` (made once, then shared)."""
    dl = _fetch()
    with _lock(BUILDREQS):
        if not (BUILDREQS / "done").is_file():
            tmp = Path(tempfile.mkdtemp(prefix=".buildreqs.", dir=CACHE))
            try:
                _install_buildreqs(tmp, versions, dl)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            (tmp / "done").write_text(" ".join(WHEELS))
            shutil.rmtree(BUILDREQS, ignore_errors=True)
            os.replace(tmp, BUILDREQS)
    return BUILDREQS


def _install_buildreqs(base: Path, versions: tuple[str, ...], dl: Path) -> None:
    """``pip install --user`` of WHEELS (from ``dl``) for each of pyenv's ``versions``."""
    for v in versions:
        py = _pyenv(v)
        assert py is not None, f"the set-up installs pyenv's {v}"
        subprocess.run(
            [
                py,
                "-m",
                "pip",
                "install",
                "-q",
                "--user",
                "--no-index",
                "--find-links",
                str(dl),
                "--no-warn-script-location",
                *WHEELS,
            ],
            env=_with_buildreqs(base=base),
            check=True,
        )


def _with_buildreqs(env: dict[str, str] | None = None, base: Path | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with the stacks' build dependencies (BUILDREQS): its
    user base, and user site-packages on (a PYTHONNOUSERSITE in the caller's shell would
    hide them)."""
    out = dict(env or os.environ, PYTHONUSERBASE=str(base or BUILDREQS))
    out.pop("PYTHONNOUSERSITE", None)
    return out


def _rpmbuild(
    top: Path, spec: Path, mfile: Path, defines: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    """``rpmbuild -bb`` of ``spec`` in the tree ``top`` (its SOURCES filled) with the macro file
    ``mfile``; returns rpmbuild's process and the RPMs it wrote.

    A build that succeeded is cached in CACHE/rpms/<key> (the RPMs and rpmbuild's output),
    keyed by everything coinstall gives it (the spec text a `spec port` wrote, the macro file
    a `macros` wrote) and what it builds from (each source's bytes, the ``--define``s, the
    environment's changes, rpmbuild's version, but not where the clone is): a change to
    coinstall's output is a new key, so a new real build.  A failed build is never cached."""
    version = subprocess.run(
        ["rpmbuild", "--version"], capture_output=True, text=True, check=True
    ).stdout
    h = hashlib.sha256()
    extra_env = sorted(
        (k, v.replace(str(CACHE), "<cache>"))
        for k, v in set((env or os.environ).items()) - set(os.environ.items())
    )
    # the download directory is named by the clone's path (ROOT/.cache/...), while .cache is
    # the one shared corpus: keyed by that path, each clone built everything again
    where = [d.replace(str(CACHE), "<cache>") for d in defines]
    for part in (spec.read_bytes(), mfile.read_bytes(), repr(where).encode()):
        h.update(hashlib.sha256(part).digest())
    h.update(repr(extra_env).encode() + version.encode())
    for src in sorted((top / "SOURCES").iterdir()):
        h.update(src.name.encode() + hashlib.sha256(src.read_bytes()).digest())
    key = h.hexdigest()[:24]
    cached = CACHE / "rpms" / key
    with _lock(cached):  # one build per key; others wait, then read the cached RPMs
        if not (cached / "rpmbuild.out").is_file():
            if env and env.get("PYTHONUSERBASE") == str(BUILDREQS):
                _buildreqs()
            proc = subprocess.run(
                [
                    "nice",
                    "rpmbuild",
                    "-bb",
                    "--nodeps",
                    "--load",
                    str(mfile),
                    "--define",
                    f"_topdir {top}",
                    "--define",
                    "debug_package %{nil}",
                    *[x for d in defines for x in ("--define", d)],
                    str(spec),
                ],
                capture_output=True,
                text=True,
                env=env,
            )
            if proc.returncode != 0:
                return proc, []
            tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cached.parent))
            for line in proc.stdout.splitlines() + proc.stderr.splitlines():
                if line.startswith("Wrote: ") and line.endswith(".rpm"):
                    shutil.copy(line[len("Wrote: ") :], tmp)
            (tmp / "rpmbuild.out").write_text(json.dumps([proc.stdout, proc.stderr]))
            shutil.rmtree(cached, ignore_errors=True)
            os.replace(tmp, cached)
    stdout, stderr = json.loads((cached / "rpmbuild.out").read_text())
    proc = subprocess.CompletedProcess(["rpmbuild", str(spec)], 0, stdout, stderr)
    return proc, sorted(cached.glob("*.rpm"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    py312, py311 = _pyenv("3.12"), _pyenv("3.11")
    if not (py312 and py311 and shutil.which("rpmbuild")):
        pytest.skip("needs pyenv's 3.12 and 3.11 and rpmbuild")
    dl = _fetch()
    facts = macros.stack_facts(STACK, catalogue.load(), {"3.12": py312, "3.11": py311})
    mtext = macros.render(STACK, "epel", facts)
    top = tmp_path_factory.mktemp("rpmbuild")
    mfile = top / "macros.coinstall"
    mfile.write_text(mtext)
    files = MacroFiles(STACK)
    jobs: list[tuple[str, Path, Path]] = []
    for spec in sorted(SPECS.glob("*.spec")):
        doc, _ = read_for(str(spec), files)
        ported = port(doc, "epel")
        assert ported.findings == [], ported.findings
        # a tree per spec (rpmbuild writes BUILD/pyproject-files-* by the same names)
        tree = top / spec.stem
        for d in ("SOURCES", "SPECS"):
            (tree / d).mkdir(parents=True)
        for f in SDISTS.values():
            shutil.copy(dl / f, tree / "SOURCES" / f)
        target = tree / "SPECS" / spec.name
        target.write_text(ported.text)
        jobs.append((spec.stem, tree, target))
    # the builds are independent processes: as many at once as there are cores
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = pool.map(lambda j: _rpmbuild(j[1], j[2], mfile, [], _with_buildreqs()), jobs)
        out: dict[str, list[Path]] = {}
        for (stem, _, _), (proc, rpms) in zip(jobs, results, strict=True):
            assert proc.returncode == 0, proc.stderr[-3000:]
            out[stem] = rpms
    return out


def _unpack(rpm: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    data = subprocess.run(["rpm2cpio", str(rpm)], capture_output=True, check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=data, cwd=dest, check=True)


def test_ported_specs_build_a_package_per_stack(built: dict[str, list[Path]]) -> None:
    names = {k: sorted(p.name for p in v) for k, v in built.items()}
    assert names == {
        "pyflakes": ["pyflakes-3.2.0-1.noarch.rpm"],  # an application: one stack
        "python-humanfriendly": [
            "python311-humanfriendly-10.0-1.noarch.rpm",
            "python312-humanfriendly-10.0-1.noarch.rpm",
        ],
        "python-markupsafe": [
            "python311-markupsafe-2.1.5-1.x86_64.rpm",
            "python312-markupsafe-2.1.5-1.x86_64.rpm",
        ],
        "python-six": ["python311-six-1.16.0-1.noarch.rpm", "python312-six-1.16.0-1.noarch.rpm"],
    }


def test_coinstall_check_finds_no_error_in_the_rpms_together(built: dict[str, list[Path]]) -> None:
    rpms = [str(p) for v in built.values() for p in v]
    res = CliRunner().invoke(
        main,
        [
            "check",
            "--no-installed",
            "--profile",
            "epel",
            "--stack",
            str(STACK),
            "--format",
            "json",
            *rpms,
        ],
    )
    assert res.exit_code == 0, res.output[-2000:]
    data = json.loads(res.stdout)
    errors = [
        (a["path"], f) for a in data["artifacts"] for f in a["findings"] if f["severity"] == "error"
    ]
    assert errors == [] and len(data["artifacts"]) == 7


def test_each_stack_imports_and_runs_the_payload(
    built: dict[str, list[Path]], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    for v in built.values():
        for rpm in v:
            _unpack(rpm, root)
    bindir = root / "usr" / "bin"
    assert sorted(p.name for p in bindir.iterdir()) == [
        "humanfriendly",
        "humanfriendly-3",
        "humanfriendly-3.11",
        "humanfriendly-3.12",
        "pyflakes",
    ]
    for ver in ("3.11", "3.12"):
        py = _pyenv(ver)
        assert py is not None
        env = dict(
            os.environ,
            PYTHONPATH=str(root / f"usr/lib/python{ver}/site-packages"),
            PYTHONNOUSERSITE="1",
        )
        code = (
            "import six, markupsafe, humanfriendly, markupsafe._speedups as s; "
            "print(s.__file__); print(markupsafe.escape('<a>'))"
        )
        out = subprocess.run(
            [py, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        assert out[0].endswith(f"_speedups.cpython-{ver.replace('.', '')}-x86_64-linux-gnu.so")
        assert out[0].startswith(str(root)) and out[1] == "&lt;a&gt;"
        # foo-3.X names its own stack's system interpreter (%pyproject_install's
        # %py3_shebang_fix); this test asserted the build machine's pyenv path here, the
        # path that ended up in RPMs (issue 19 item 6).  Run by that stack's interpreter.
        script = bindir / f"humanfriendly-{ver}"
        assert script.read_text().splitlines()[0] == f"#! /usr/bin/python{ver} -sP"
        run = subprocess.run(
            [py, str(script), "--format-size=1000000"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert run.stdout.strip() == "1 MB"
    env = dict(os.environ, PYTHONPATH=str(root / "usr/lib/python3.12/site-packages"))
    py312 = _pyenv("3.12")
    assert py312 is not None
    for name in ("humanfriendly", "humanfriendly-3"):  # the default stack's
        assert (bindir / name).read_text().startswith("#! /usr/bin/python3.12 -sP\n")
        run = subprocess.run(
            [py312, str(bindir / name), "--format-size=2000"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert run.stdout.strip() == "2 KB"
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    run = subprocess.run(
        [py312, str(bindir / "pyflakes"), str(bad)], env=env, capture_output=True, text=True
    )
    assert run.returncode == 1 and "'os' imported but unused" in run.stdout


# -- issue 19: a port built as a packager builds it, compared with Fedora's generators ----

#: python-rpm-generators pythondist.attr as Fedora sets it (fedora-rpm.md §3.2): python3dist()
#: only for %__default_python3_version.  Debian's rpm ships the same pythondistdeps.py with
#: ``--majorver-provides`` (python3dist() for every version), so the test sets Fedora's.  The
#: script needs ``packaging``, which Debian's python3 here lacks: this interpreter runs it.
_DISTDEPS = f"{sys.executable} -W ignore %{{_rpmconfigdir}}/pythondistdeps.py"
FEDORA_DIST_GENERATORS = (
    f"__pythondist_provides {_DISTDEPS} --provides --normalized-names-format pep503 "
    "--package-name %{name} --majorver-provides-versions %{__default_python3_version}",
    f"__pythondist_requires {_DISTDEPS} --requires --normalized-names-format pep503 "
    "--package-name %{name}",
)
TRAIL3 = ROOT / "tests" / "data" / "spec-port" / "python-trail3.spec"
COINSTALL = str(Path(sys.executable).with_name("coinstall"))


def _trail3_sdist(dest: Path) -> Path:
    """A real sdist (built by the test, no upload): a module, a console script named trail3,
    a dependency on six."""
    import tarfile

    src = dest / "trail3-1.0"
    src.mkdir(parents=True)
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = '
        '"setuptools.build_meta"\n\n[project]\nname = "trail3"\nversion = "1.0"\n'
        'dependencies = ["six"]\n\n[project.scripts]\ntrail3 = "trail3:main"\n\n'
        '[tool.setuptools]\npy-modules = ["trail3"]\n'
    )
    (src / "trail3.py").write_text(
        "import sys\n\ndef main():\n    print('trail3 on %d.%d' % sys.version_info[:2])\n"
    )

    def same(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    # the same bytes every time (no mtimes, owners), so its build is cached (_rpmbuild)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(src, arcname="trail3-1.0", filter=same)
    out = dest / "trail3-1.0.tar.gz"
    out.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    return out


def _rpm_deps(rpm: Path) -> tuple[set[str], set[str]]:
    def q(what: str) -> set[str]:
        out = subprocess.run(
            ["rpm", "-qp", f"--{what}", str(rpm)], capture_output=True, text=True, check=True
        ).stdout
        return {ln.strip() for ln in out.splitlines() if ln.strip()}

    return q("provides"), q("requires")


@pytest.fixture(scope="module")
def trail3(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """python-trail3.spec ported to EPEL by a `coinstall spec port` process, with the macro
    file a `coinstall macros` process wrote, built by rpmbuild with Fedora's generators."""
    py312, py311 = _pyenv("3.12"), _pyenv("3.11")
    assert py312 and py311 and shutil.which("rpmbuild"), "the set-up installs them"
    top = tmp_path_factory.mktemp("trail3")
    for d in ("SOURCES", "SPECS"):
        (top / d).mkdir()
    _trail3_sdist(top / "src")
    shutil.copy(top / "src" / "trail3-1.0.tar.gz", top / "SOURCES")
    mfile = top / "macros.coinstall"
    subprocess.run(
        [
            COINSTALL,
            "macros",
            "--stack",
            str(STACK),
            "--style",
            "epel",
            "--interpreter",
            f"3.12={py312}",
            "--interpreter",
            f"3.11={py311}",
            "-o",
            str(mfile),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    port = subprocess.run(
        [COINSTALL, "spec", "port", "--to", "epel", "--stack", str(STACK), str(TRAIL3)],
        capture_output=True,
        text=True,
    )
    assert port.returncode == 0 and port.stderr == "", port.stderr
    spec = top / "SPECS" / "python-trail3.spec"
    spec.write_text(port.stdout)
    proc, built_rpms = _rpmbuild(
        top,
        spec,
        mfile,
        list(FEDORA_DIST_GENERATORS),
        _with_buildreqs(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rpms = {p.name.split("-trail3")[0]: p for p in built_rpms}
    assert sorted(rpms) == ["python311", "python312"]
    return {**rpms, "spec": spec, "macros": mfile}


def test_epel_port_dist_names_are_the_generators(trail3: dict[str, Path]) -> None:
    """Issue 19 item 2: the default stack's package provides python3dist() and
    python3.12dist(), the other's python3.11dist() only (what pythondistdeps.py generates),
    and every dist name the spec requires is one of the generators' forms of the same
    stack: python312dist()/python311dist() are nobody's names."""
    p12, r12 = _rpm_deps(trail3["python312"])
    p11, r11 = _rpm_deps(trail3["python311"])
    # (pythondistdeps.py writes version 1.0 as 1)
    assert {"python3dist(trail3) = 1", "python3.12dist(trail3) = 1"} <= p12
    assert "python3.11dist(trail3) = 1" in p11
    assert not any(p.startswith("python3dist(") for p in p11)
    # the generators' own Requires from the wheel's Requires-Dist: six
    assert "python3.12dist(six)" in r12 and "python3.11dist(six)" in r11
    dist = re.compile(r"^python[\d.]*dist\(")
    assert {d for d in r12 if dist.match(d)} <= {"python3dist(six)", "python3.12dist(six)"}
    assert {d for d in r11 if dist.match(d)} == {"python3.11dist(six)"}
    assert "python(abi) = 3.11" in r11 and "python(abi) = 3.12" in r12
    # issue 19 item 6: the scripts' shebangs name the system interpreter, so the RPM
    # requires /usr/bin/python3.X, never the build machine's pyenv path
    paths = {d for d in r11 | r12 if d.startswith("/")}
    assert paths == {"/usr/bin/python3.11", "/usr/bin/python3.12"}, paths


def test_epel_port_keeps_programs_whose_name_ends_in_3(
    trail3: dict[str, Path], tmp_path: Path
) -> None:
    """Issue 19 item 3: trail3 is the program's own name, not a foo3 alias: the other stack
    gets trail3-3.11, the default trail3, trail3-3 and trail3-3.12 (the port's shell loop
    deleted the other stack's trail3 for ending in 3, and no stack got trail3-3.X)."""
    for stack in ("python311", "python312"):
        _unpack(trail3[stack], tmp_path / stack)
    names = {
        s: sorted(p.name for p in (tmp_path / s / "usr/bin").iterdir())
        for s in ("python311", "python312")
    }
    assert names == {
        "python311": ["trail3-3.11"],
        "python312": ["trail3", "trail3-3", "trail3-3.12"],
    }
    for s, v in (("python311", "3.11"), ("python312", "3.12")):
        py = _pyenv(v)
        assert py is not None
        script = tmp_path / s / "usr/bin" / f"trail3-{v}"
        # %pyproject_install's %py3_shebang_fix: the system path, -s plus P (3.11+)
        assert script.read_text().splitlines()[0] == f"#! /usr/bin/python{v} -sP"
        env = dict(os.environ, PYTHONPATH=str(tmp_path / s / f"usr/lib/python{v}/site-packages"))
        run = subprocess.run([py, str(script)], env=env, capture_output=True, text=True, check=True)
        assert run.stdout.strip() == f"trail3 on {v}"


def _suse_port_and_build(
    tmp_path: Path,
    sdist: str,
    spec_in: Path,
    stack: str,
    version: str,
    env: dict[str, str] | None = None,
) -> tuple[str, subprocess.CompletedProcess[str], list[Path]]:
    """`coinstall macros --style suse` for ``stack`` (the default ``version`` run by pyenv's
    interpreter), `coinstall spec port --to suse` of ``spec_in``, then rpmbuild of the port
    in ``tmp_path`` (SOURCES holds the pinned ``sdist``); returns the port's text,
    rpmbuild's process and the RPMs it wrote (:func:`_rpmbuild`)."""
    py = _pyenv(version)
    assert py and shutil.which("rpmbuild"), "the set-up installs them"
    dl = _fetch()
    for d in ("SOURCES", "SPECS"):
        (tmp_path / d).mkdir()
    shutil.copy(dl / SDISTS[sdist], tmp_path / "SOURCES")
    mfile = tmp_path / "macros.suse"
    subprocess.run(
        [
            COINSTALL,
            "macros",
            "--stack",
            stack,
            "--style",
            "suse",
            "--interpreter",
            f"{version}={py}",
            "-o",
            str(mfile),
        ],
        check=True,
        capture_output=True,
    )
    port = subprocess.run(
        [COINSTALL, "spec", "port", "--to", "suse", "--stack", stack, str(spec_in)],
        capture_output=True,
        text=True,
    )
    assert port.returncode == 0, port.stderr
    spec = tmp_path / "SPECS" / spec_in.name
    spec.write_text(port.stdout)
    if env is None:  # the macros' default pip wheel, with the stacks' build dependencies
        proc, rpms = _rpmbuild(tmp_path, spec, mfile, [], _with_buildreqs())
    else:  # (a setup.py build: pyenv's 3.11 has its own setuptools, as a build root would)
        defines = [f"_coinstall_wheel_opts --find-links {dl}"]
        proc, rpms = _rpmbuild(tmp_path, spec, mfile, defines, env)
    return port.stdout, proc, rpms


def test_suse_port_builds_with_the_generated_macros(tmp_path: Path) -> None:
    """Issue 19 item 7: python-humanfriendly.spec ported by `coinstall spec port --to suse`
    builds with rpmbuild and the `coinstall macros --style suse` file: the dist-info is
    listed once (it was matched by ``humanfriendly*`` and listed again), the package
    requires update-alternatives for the %post/%postun scriptlets of %python_clone -a, and
    %autorelease is openSUSE's ``Release: 0``."""
    src = (
        (SPECS / "python-humanfriendly.spec")
        .read_text()
        .replace("Release:        1%{?dist}", "Release:        %autorelease")
    )
    (tmp_path / "in").mkdir()
    spec_in = tmp_path / "in" / "python-humanfriendly.spec"
    spec_in.write_text(src)
    ported, proc, rpms = _suse_port_and_build(
        tmp_path, "humanfriendly==10.0", spec_in, "default=3.12,other=3.11", "3.12"
    )
    assert "Release:        0\n" in ported
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "listed twice" not in proc.stderr, proc.stderr[-2000:]
    rpm = next(p for p in rpms if p.name.endswith(".noarch.rpm"))
    listing = subprocess.run(
        ["rpm", "-qpl", str(rpm)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "/usr/lib/python3.12/site-packages/humanfriendly-10.0.dist-info/METADATA" in listing
    assert "/usr/lib/python3.12/site-packages/humanfriendly/__init__.py" in listing
    req = subprocess.run(
        ["rpm", "-qp", "--requires", str(rpm)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert req.count("update-alternatives") >= 1, req
    scripts = subprocess.run(
        ["rpm", "-qp", "--qf", "[%{REQUIREFLAGS:deptype} %{REQUIRENAME}\\n]", str(rpm)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "post update-alternatives" in scripts and "postun update-alternatives" in scripts


def test_real_fedora_setup_py_spec_ported_to_suse_builds(tmp_path: Path) -> None:
    """Issue 19 item 7, on a real Fedora spec no test was written for (the corpus'
    python-sgmllib3k.spec: ``%py3_build``/``%py3_install``, ``%pycached``, an egg-info),
    ported by `coinstall spec port --to suse` and built by rpmbuild with the `macros --style
    suse` file.  Before: ``%python_build``/``%python_install`` were empty (nothing
    installed), ``%pycached`` printed ``sgmllib.pyn/usr/...`` (rpm's macro reader ate the
    backslash of ``\\n``), and a shell with PYTHONDONTWRITEBYTECODE=1 lost the .pyc files.
    The built payload is imported by the real interpreter of the stack."""
    real = ROOT.parent / "shared" / "corpus" / "spec" / "fedora" / "python-sgmllib3k.spec"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # a packager's shell may set it
    # pyenv's 3.11 has setuptools, as a build root's python3 would
    ported, proc, rpms = _suse_port_and_build(
        tmp_path, "sgmllib3k==1.0.0", real, "default=3.11,other=3.12", "3.11", env
    )
    assert "%python_install" in ported and "%pycached %{python_sitelib}" in ported
    assert proc.returncode == 0, proc.stderr[-3000:]
    rpm = next(p for p in rpms if p.name.endswith(".noarch.rpm"))
    listing = subprocess.run(
        ["rpm", "-qpl", str(rpm)], capture_output=True, text=True, check=True
    ).stdout.split()
    site = "/usr/lib/python3.11/site-packages"
    assert f"{site}/sgmllib.py" in listing
    assert f"{site}/__pycache__/sgmllib.cpython-311.pyc" in listing
    assert f"{site}/__pycache__/sgmllib.cpython-311.opt-1.pyc" in listing
    assert f"{site}/sgmllib3k-1.0.0-py3.11.egg-info/PKG-INFO" in listing
    root = tmp_path / "root"
    _unpack(rpm, root)
    py311 = _pyenv("3.11")
    assert py311
    run = subprocess.run(
        [py311, "-c", "import sgmllib; print(sgmllib.SGMLParser.__name__)"],
        env=dict(os.environ, PYTHONPATH=str(root / site.lstrip("/"))),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stdout.strip() == "SGMLParser", run.stderr
