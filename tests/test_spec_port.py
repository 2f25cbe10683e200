"""``coinstall spec port``: every real spec of tests/data/spec/ ported to alt and epel re-reads
and passes real ``rpmspec --parse`` with coinstall's macros loaded; a port of a Fedora spec
lints clean for its target except what the port reported; nothing is silently dropped; the
ports of the Fedora specs of tests/data/spec/pairs/ build the packages and /usr/bin names the
packagers' own conversions build, except the differences listed (each with its reason)."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coinstall.cli import main
from coinstall.config import Config
from coinstall.runtimes.stack import Stack
from coinstall.spec import compat
from coinstall.spec.compare import built
from coinstall.spec.context import SpecLayout, layout_of
from coinstall.spec.lint import MacroFiles, lint_doc, read_for
from coinstall.spec.port import port
from coinstall.spec.read import SpecDoc, SpecError, read

DATA = Path(__file__).resolve().parent / "data" / "spec"
STACK = Stack.parse("default=3.12,other=3.11")
SPECS = sorted(glob.glob(str(DATA / "*" / "*.spec")))


_SECTION = re.compile(
    r"^%(package|description|prep|generate_buildrequires|conf|build|"
    r"install|check|clean|files|changelog|pre|post|preun|postun|pretrans|"
    r"posttrans|trigger\w*|filetrigger\w*|transfiletrigger\w*|verifyscript)"
    r"\b"
)
_DIRECTIVE = re.compile(
    r"^%(dir|doc|docdir|license|readme|ghost|exclude|artifact|missingok|"
    r"config|attr|defattr|verify|lang|caps)(\([^)]*\))?$"
)


def files_not_paths(parsed: str) -> list[str]:
    """The lines of the ``%files`` sections of ``rpmspec --parse`` output that are not a
    list of paths after their directives (``%doc``/``%license`` may name build-directory
    files, relative): a command rewritten into a file list (``/usr/bin//usr/bin/python3.12
    -m pytest``) shows as a word that is neither."""
    bad = []
    in_files = False
    for line in parsed.splitlines():
        if _SECTION.match(line):
            in_files = line.startswith("%files")
            continue
        if not in_files or not line.strip() or line.lstrip().startswith("#"):
            continue
        words = re.findall(r'"[^"]*"|%\w+\([^)]*\)|\S+', line)
        docs = False
        for w in words:
            if _DIRECTIVE.match(w):
                docs = docs or w.startswith(("%doc", "%license", "%readme"))
                continue
            w = w.strip('"')
            # a macro coinstall's file does not define stays as written (%{python2_sitearch},
            # %python2_sitelib of a python2 package): a path, unexpanded
            if not (re.match(r"/|%\{?\w+\}?(/|$)", w) or (docs and not w.startswith(("-", "%")))):
                bad.append(line)
                break
    return bad


@pytest.fixture(scope="module")
def files() -> MacroFiles:
    return MacroFiles(STACK)


#: (path, the MacroFiles) -> the spec's read, or the SpecError it raised.  The read of a spec
#: to port does not depend on the target (:func:`read_for` without a profile), so the tests
#: that port the corpus to alt, epel and suse share one read of each spec instead of reading
#: it once per target (each read is a parse in the worker); :func:`port` leaves the document
#: as it was (it edits copies of the lines; :func:`_port` checks the lines).
_ORIGINALS: dict[tuple[str, int], tuple[SpecDoc, SpecLayout] | SpecError] = {}


def _port(path: str, target: str, files: MacroFiles, python: str = "3.12"):  # type: ignore[no-untyped-def]
    got = _ORIGINALS.get((path, id(files)))
    if got is None:
        try:
            got = read_for(path, files)
        except SpecError as exc:
            got = exc
        _ORIGINALS[path, id(files)] = got
    if isinstance(got, SpecError):
        raise got
    doc, layout = got
    result = port(doc, target, python)
    assert doc.lines == doc.text.splitlines(), path
    return doc, layout, result


@pytest.mark.parametrize("target", ["alt", "epel", "suse"])
def test_every_corpus_spec_ports_rereads_and_rpmspec_parses(
    tmp_path: Path, target: str, files: MacroFiles
) -> None:
    ported = strict = 0
    stand_ins = tmp_path / "macros.stand-ins"
    stand_ins.write_text(compat.READING_MACROS)
    for path in SPECS:
        try:
            doc, layout, result = _port(path, target, files)
        except SpecError:
            continue  # the four specs coinstall cannot read (test_spec_lint)
        out = tmp_path / f"{Path(path).parent.name}-{Path(path).name}"
        out.write_text(result.text)
        # the port reads again (with the target's macros) ...
        profile = "opensuse" if target == "suse" else "epel"
        doc2, layout2 = read_for(str(out), files, profile)
        # ... and real rpmspec parses it with coinstall's macros loaded (rpmspec 4.18 here:
        # with the stand-ins coinstall reads newer specs with, spec/compat.py)
        out.write_text(compat.for_librpm(result.text))
        proc = subprocess.run(
            [
                "rpmspec",
                "--load",
                str(stand_ins),
                "--load",
                files.path(target),
                "--parse",
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, (path, proc.stderr[-500:])
        # ... and its %files sections list only paths (issue 19 item 4)
        assert files_not_paths(proc.stdout) == [], path
        # the changelog is untouched and every comment and conditional is still there
        if "%changelog" in doc.text:
            log = doc.text.split("\n%changelog", 1)[1] + ("" if doc.text.endswith("\n") else "\n")
            if "(was %%autochangelog)" in result.text:  # openSUSE's log: .changes (item 7)
                log = re.sub(
                    r"(?m)^%\{?autochangelog\}?$",
                    "# coinstall spec port: openSUSE "
                    "keeps the log in the .changes file (was %%autochangelog)",
                    log,
                )
            assert result.text.split("\n%changelog", 1)[1] == log
        kept = iter(result.text.splitlines())
        for line in doc.lines:
            if line.lstrip().startswith(("#", "%if", "%endif", "%else")):
                assert any(line == o or line.replace("%", "%%") in o for o in kept), (path, line)
        # no line silently dropped: each is kept, rewritten or commented out in place
        assert result.dropped == [], (path, result.dropped)
        # a Fedora spec's port lints clean for its target but for what the port reported
        if layout == "fedora":
            findings, _ = lint_doc(
                doc2,
                layout2,
                Config(profile=profile, stack=STACK),
                left=[f.line for f in result.findings if f.line],
            )
            assert findings == [], (path, [(f.line, f.rule, f.message) for f in findings])
            strict += 1
        ported += 1
    assert ported == 140 and strict >= 65


def test_epel_port_of_a_library_makes_a_subpackage_per_stack(files: MacroFiles) -> None:
    _doc, _, r = _port(str(DATA / "pairs/six.fedora.spec"), "epel", files)
    assert r.findings == []
    text = r.text
    assert "%package -n python%{python3_other_pkgversion}-six" in text
    assert "%pyproject_other_wheel" in text and "%pytest_other" in text
    # the other stack installs first: /usr/bin is the default's
    assert text.index("%pyproject_other_install") < text.index("\n%pyproject_install")
    p = Path("/tmp") / f"coinstall-test-six-{os.getpid()}.spec"
    try:
        p.write_text(text)
        doc2 = read(str(p), files.path("epel"))
        b = built(doc2)
    finally:
        p.unlink()
    assert b.packages == {"python312-six", "python311-six"}


def test_epel_port_splits_scripts_by_the_seed_rule(files: MacroFiles) -> None:
    _, _, r = _port(
        str(DATA / "fedora/python-humanfriendly.spec"),
        "epel",
        files,
    )
    text = r.text
    # default: foo, foo-3, foo-X.Y; other: foo-X.Y of its own
    assert (
        "%{_bindir}/%{srcname}\n%{_bindir}/%{srcname}-%{python3_version}\n"
        "%{_bindir}/%{srcname}-3\n" in text
    )
    assert "%{_bindir}/%{srcname}-%{python3_other_version}" in text
    assert 'mv "$f" "$f-%{python3_other_version}"' in text


def test_application_is_ported_to_one_stack(files: MacroFiles) -> None:
    _, _, r = _port(str(DATA / "fedora/httpie.spec"), "epel", files)
    assert "python3_other" not in r.text
    assert any("application" in n for n in r.notes)


def test_alt_port_folds_the_subpackage_and_versions_scripts(files: MacroFiles) -> None:
    _, _, r = _port(str(DATA / "pairs/Cython.fedora.spec"), "alt", files, "3.11")
    assert r.text.startswith("%global python3_pkgversion 3.11\n")
    assert (
        "mv %{buildroot}%{_bindir}/cython %{buildroot}%{_bindir}/cython-%{python3_version}"
        in r.text
    )
    assert "\n%{_bindir}/cython-%{python3_version}\n" in r.text


def test_what_cannot_be_ported_is_left_and_reported(tmp_path: Path, files: MacroFiles) -> None:
    spec = tmp_path / "python-foo.spec"
    spec.write_text(
        "Name: python-foo\nVersion: 1\nRelease: 1\nSummary: foo\nLicense: MIT\n"
        "%description\nfoo\n"
        "%package -n python3-foo\nSummary: foo\n%description -n python3-foo\nfoo\n"
        "%build\n%pyproject_wheel\n%install\n%pyproject_install\n"
        "%check\nfor py in python3.11 python3.12; do $py -m pytest; done\n"
        "%files -n python3-foo\n%{python3_sitelib}/*\n"
    )
    res = CliRunner().invoke(main, ["spec", "port", str(spec), "--to", "epel"])
    assert res.exit_code == 0
    out = res.stdout.splitlines()
    reported = {}
    for line in res.stderr.splitlines():
        if "spec-port-manual" in line:
            n = int(line.split(":")[1])
            reported[n] = line
    loop = next(n for n, t in enumerate(out, 1) if t.startswith("for py in"))
    globs = [n for n, t in enumerate(out, 1) if t.endswith("_sitelib}/*")]
    assert loop in reported and "loop" in reported[loop]
    assert set(globs) <= set(reported) and len(globs) == 2  # the default's and its twin


def test_in_place_is_atomic_and_diff_is_minimal(tmp_path: Path) -> None:
    spec = tmp_path / "python-six.spec"
    original = (DATA / "pairs/six.fedora.spec").read_text()
    spec.write_text(original)
    res = CliRunner().invoke(main, ["spec", "port", str(spec), "--to", "epel", "--diff"])
    assert res.exit_code == 0
    removed = [
        ln for ln in res.stdout.splitlines() if ln.startswith("-") and not ln.startswith("---")
    ]
    assert removed == []  # the epel port only adds lines to this spec
    res = CliRunner().invoke(main, ["spec", "port", str(spec), "--to", "epel", "--in-place"])
    assert res.exit_code == 0 and spec.read_text() != original
    assert [p.name for p in tmp_path.iterdir()] == ["python-six.spec"]  # no temporary left
    bad = tmp_path / "bad.spec"
    bad.write_text("Name: x\n%if 1\n")
    res = CliRunner().invoke(main, ["spec", "port", str(bad), "--to", "alt", "--in-place"])
    assert res.exit_code == 2 and bad.read_text() == "Name: x\n%if 1\n"


#: Every difference between a port of NAME.fedora.spec and the packagers' NAME.alt/epel.spec,
#: with its reason (binary packages port-only/hand-only, /usr/bin names port-only/hand-only).
PAIR_DIFFERENCES = {
    ("Cython", "alt"): ({"python3.11-cython"}, {"python3.11-Cython"}, set(), set()),
    # Fedora's binary package is python3-cython; RHEL named it after the source (Cython)
    ("cffi", "alt"): ({"python3.11-cffi-doc"}, set(), set(), set()),
    ("numpy", "alt"): (
        {"python3.11-numpy-doc"},
        set(),
        {"f2py-3.11", "f2py.numpy-3.11"},
        {"f2py3"},
    ),
    # RHEL's alternative stacks ship no -doc packages; the port keeps every package.  numpy:
    # RHEL keeps f2py3 (the main Python's name) in python3.11-numpy-f2py; the seed rule gives
    # an alternative stack only NAME-X.Y
    ("pip", "alt"): (set(), set(), set(), {"pip3", "pip-3"}),
    # RHEL lists pip3 and pip-3 as %ghost files (alternatives); the port leaves them to the
    # main Python
    ("pybind11", "alt"): (
        {"pybind11-devel", "python2-pybind11"},
        {"python3.11-pybind11-devel"},
        {"pybind11-config-3.11"},
        {"pybind11-config"},
    ),
    # Name is pybind11, not python-*: the port renames python3- subpackages only; the Fedora
    # spec's python2 subpackage is on by default in its bcond
}


def test_pairs_build_what_the_packagers_build() -> None:
    fs = {
        "alt": MacroFiles(Stack.parse("default=3.11,other=3.12")),
        "epel": MacroFiles(Stack.parse("default=3.6,other=3.4")),
    }
    compared = 0
    for f in sorted(glob.glob(str(DATA / "pairs/*.fedora.spec"))):
        base = f[: -len(".fedora.spec")]
        for kind in ("alt", "epel"):
            hand = f"{base}.{kind}.spec"
            if not os.path.exists(hand):
                continue
            doc, _ = read_for(f, fs[kind])
            r = port(doc, kind, "3.11")
            out = Path("/tmp") / f"coinstall-pair-{os.getpid()}.spec"
            try:
                out.write_text(r.text)
                a = built(read(str(out), fs[kind].path(kind)))
            finally:
                out.unlink()
            b = built(read(hand, fs[kind].path(kind)))
            got = (
                set(a.packages - b.packages),
                set(b.packages - a.packages),
                set(a.bindir - b.bindir),
                set(b.bindir - a.bindir),
            )
            name = Path(base).name
            assert got == PAIR_DIFFERENCES.get((name, kind), (set(), set(), set(), set())), (
                name,
                kind,
                got,
            )
            compared += 1
    assert compared == 23
    assert layout_of  # the layouts are what tells a pair apart (imported for the docs)


def test_suse_port_makes_flavors_and_alternatives(files: MacroFiles) -> None:
    _, _, r = _port(str(ROOT_BUILD / "python-humanfriendly.spec"), "suse", files)
    t = r.text
    assert r.findings == []
    assert "%python_subpackages\n" in t and "BuildRequires:  %{python_module devel}" in t
    assert "%python_clone -a %{buildroot}%{_bindir}/%{srcname}" in t
    assert "%post\n%python_install_alternative %{srcname}\n" in t
    # the module (a directory or a file) and the dist-info once: humanfriendly* matched
    # the dist-info too, which was listed again (issue 19 item 7)
    assert (
        "%files %{python_files}\n%{python_sitelib}/humanfriendly{,.*}\n"
        "%{python_sitelib}/*-%{version}.dist-info\n" in t
    )
    assert "Requires(post):   update-alternatives\nRequires(postun): update-alternatives\n" in t
    assert "%python_alternative %{_bindir}/%{srcname}" in t
    assert "%package -n python3-" not in t.replace("# coinstall spec port: %%package", "")


ROOT_BUILD = Path(__file__).resolve().parent / "data" / "spec-build"


def test_port_of_an_epel7_spec_reports_what_it_did_not_fix() -> None:
    res = CliRunner().invoke(
        main, ["spec", "port", str(DATA / "pairs/pcodedmp.epel.spec"), "--to", "epel"]
    )
    assert res.exit_code == 0
    # fixed: the install order (moved) and the other stack's %files naming the default's
    # sitelib; left: its %check, which runs no test at all
    assert "spec-install-order" not in res.stderr and "spec-mixed-stacks" not in res.stderr
    assert "note: line 112: the other stack's install moved before the default's" in res.stderr
    assert (
        "pcodedmp.epel.spec:116: warning spec-port-manual: %check tests only the default "
        "stack" in res.stderr
    )
    out = res.stdout
    assert out.index("%{?with_python3_other:%py3_other_install}") < out.index("\n%py3_install")
    assert "%{python3_other_sitelib}/pcodedmp/" in out


CASES = Path(__file__).resolve().parent / "data" / "spec-port"
COINSTALL = str(Path(sys.executable).with_name("coinstall"))


def _cli_port(spec: Path, target: str, tmp: Path) -> tuple[str, str]:
    """``coinstall spec port`` and ``coinstall macros`` as a packager runs them (separate
    processes); the port's ``rpmspec --parse`` output with those macros."""
    style = {"alt": "alt", "epel": "epel", "suse": "suse"}[target]
    m = tmp / f"macros.{style}"
    subprocess.run(
        [COINSTALL, "macros", "--stack", str(STACK), "--style", style, "-o", str(m)],
        check=True,
        capture_output=True,
    )
    proc = subprocess.run(
        [COINSTALL, "spec", "port", "--to", target, "--stack", str(STACK), str(spec)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp / f"{target}-{spec.name}"
    out.write_text(proc.stdout)
    parsed = subprocess.run(
        ["rpmspec", "--load", str(m), "--parse", str(out)], capture_output=True, text=True
    )
    assert parsed.returncode == 0, parsed.stderr[-500:]
    return proc.stdout, parsed.stdout


@pytest.mark.parametrize("target", ["alt", "epel", "suse"])
def test_pytest_3_is_rewritten_only_where_it_runs(tmp_path: Path, target: str) -> None:
    """Issue 19 item 4: python-pytest installs pytest-3 (ln -s, %files): the port rewrote
    the command pytest-3 there too (``%{_bindir}/%{__python3} -m pytest`` in %files, as
    the target of ln -s).  Only the commands of %check become ``%{__python3} -m pytest``."""
    text, parsed = _cli_port(CASES / "python-pytest.spec", target, tmp_path)
    assert files_not_paths(parsed) == []
    assert "%{_bindir}/%{__python3}" not in text and "/usr/bin//usr/bin" not in parsed
    if target != "suse":
        check = text.split("\n%check\n", 1)[1].split("\n%files", 1)[0]
        assert (
            'PYTHONPATH="%{buildroot}%{python3_sitelib}" %{__python3} -m pytest --version' in check
        )
        assert "cd testing && %{__python3} -m pytest -x -q" in check
        assert "pytest-3" not in check
    assert (
        "ln -snf pytest-%{python3_version} %{buildroot}%{_bindir}/pytest-3" in text
        or "ln -snf pytest-%{python_version} %{buildroot}%{_bindir}/pytest-3" in text
    )


def test_eyed3_keeps_its_name_in_every_port(tmp_path: Path) -> None:
    """Issue 19 item 3: /usr/bin/eyeD3 is the program's own name: the EPEL port gives the
    other stack eyeD3-3.11 and the default eyeD3, eyeD3-3, eyeD3-3.12 (the shell loop's
    ``*3) rm -f`` deleted it); alt renames it eyeD3-3.12; lint asks for eyeD3-3.X."""
    text, parsed = _cli_port(CASES / "python-eyed3.spec", "epel", tmp_path)
    assert "*3)" not in text and files_not_paths(parsed) == []
    sections = parsed.split("%files")
    other = next(s for s in sections if s.startswith(" -n python311-eyed3"))
    default = next(s for s in sections if s.startswith(" -n python312-eyed3"))
    assert "/usr/bin/eyeD3-3.11" in other.split()
    assert {"/usr/bin/eyeD3", "/usr/bin/eyeD3-3", "/usr/bin/eyeD3-3.12"} <= set(default.split())
    text, parsed = _cli_port(CASES / "python-eyed3.spec", "alt", tmp_path)
    assert "mv %{buildroot}%{_bindir}/eyeD3 %{buildroot}%{_bindir}/eyeD3-%{python3_version}" in text
    lint = subprocess.run(
        [
            COINSTALL,
            "spec",
            "lint",
            "--profile",
            "epel",
            "--stack",
            str(STACK),
            str(CASES / "python-eyed3.spec"),
        ],
        capture_output=True,
        text=True,
    )
    assert "ships /usr/bin/eyeD3 but no eyeD3-3.X" in lint.stdout


def test_epel7_chardet_renames_after_each_install(tmp_path: Path) -> None:
    """Issue 19 item 5: python3-chardet (EPEL 7) renames chardetect to chardetect-3.X right
    after each stack's install: nothing is overwritten, so no spec-install-order (lint
    follows the %install commands); its port would rename Name: python3-chardet onto the
    spec's own python%{python3_pkgversion}-chardet subpackage: one line naming both, exit
    2, the spec unchanged (rpmbuild said "package python312-chardet already exists")."""
    spec = CASES / "python3-chardet.epel7.spec"
    lint = subprocess.run(
        [COINSTALL, "spec", "lint", "--stack", str(STACK), str(spec)],
        capture_output=True,
        text=True,
    )
    assert "spec-install-order" not in lint.stdout and lint.returncode == 0, lint.stdout
    # the same spec installing the default stack without renaming first: still an error
    bad = tmp_path / "bad.spec"
    bad.write_text(
        spec.read_text().replace(
            "mv %{buildroot}%{_bindir}/chardetect %{buildroot}%{_bindir}/chardetect-"
            "%{python3_version}\n",
            "",
            1,
        )
    )
    lint = subprocess.run(
        [COINSTALL, "spec", "lint", "--stack", str(STACK), str(bad)], capture_output=True, text=True
    )
    assert "spec-install-order" in lint.stdout
    copy = tmp_path / "python3-chardet.spec"
    copy.write_text(spec.read_text())
    port = subprocess.run(
        [COINSTALL, "spec", "port", "--to", "epel", "--in-place", "--stack", str(STACK), str(copy)],
        capture_output=True,
        text=True,
    )
    assert port.returncode == 2 and port.stdout == ""
    assert len(port.stderr.strip().splitlines()) == 1, port.stderr
    assert (
        "collides with the spec's own %package -n python%{python3_pkgversion}-%{pypi_name}"
        " (line 27)" in port.stderr
    )
    assert copy.read_text() == spec.read_text()


@pytest.mark.parametrize("name", ["python-zstandard", "python-lxml", "python-orjson"])
def test_fedora_subpackage_with_conditionals_and_its_own_license_folds(
    tmp_path: Path, name: str, files: MacroFiles
) -> None:
    """Real rawhide specs whose python3- subpackage holds ``%if`` blocks (zstandard, lxml) or
    its own License (orjson's Rust crates): the openSUSE port folds the subpackage into the
    package (it used to leave it as spec-port-manual "no plain python3- subpackage") and the
    package keeps one License, which real rpmspec requires ("Duplicate License entries")."""
    spec = DATA / "fedora" / f"{name}.spec"
    proc = subprocess.run(
        [COINSTALL, "spec", "port", "--to", "suse", str(spec)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "fold it by hand" not in proc.stderr
    assert "folded into the main package" in proc.stderr
    text = proc.stdout
    assert "%python_subpackages" in text
    assert "\n%package -n python3-" not in text
    licenses = [ln for ln in text.splitlines() if re.match(r"License\s*:", ln)]
    assert len(licenses) == 1, licenses
    out = tmp_path / f"{name}.spec"
    out.write_text(text)
    parsed = subprocess.run(
        ["rpmspec", "--load", files.path("suse"), "--parse", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert parsed.returncode == 0, parsed.stderr[-500:]
    # the conditionals that were inside the subpackage are still balanced around its tags
    assert text.count("\n%if") == text.count("\n%endif")
