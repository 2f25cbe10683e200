"""A fix that selects only shebang rules reads only what they need (issue 22 item 4).

The shebang rules declare ``heads_only`` (coinstall.rules.Rule): they read each file's path,
mode and first bytes.  A ``fix --select`` of them must then parse no ELF and no metadata and
read no file whole but an untagged extension name (whose kind needs its init symbol), and
still find and fix exactly what the full analysis finds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coinstall.check import check_target
from coinstall.config import Config
from coinstall.files import extension
from coinstall.fix.engine import fix_target, needs_interpreters
from coinstall.fix.model import FixOptions
from coinstall.rules import REGISTRY, all_rules, heads_only
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.stack import Stack

SHEBANG_RULES = {"shebang-env", "shebang-unversioned", "shebang-implementation-mismatch"}
#: a real CPython 3.11 extension module (pyenv's build; tests/conftest.py's interpreters)
JSON_SO = (
    Path.home()
    / ".pyenv/versions/3.11.7/lib/python3.11/lib-dynload"
    / "_json.cpython-311-x86_64-linux-gnu.so"
)


def _config(select: set[str] | None) -> Config:
    cfg = Config()
    cfg.profile = "debian"
    cfg.stack = Stack.parse("default=3.11")
    if select is not None:
        cfg.select = frozenset(select)
    return cfg


def _root(tmp: Path) -> Path:
    root = tmp / "root"
    site = root / "usr/lib/python3/dist-packages/pkg"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    shutil.copy(JSON_SO, site / "_json.cpython-311-x86_64-linux-gnu.so")
    shutil.copy(JSON_SO, site / "_json.so")  # untagged: a module only by its PyInit__json
    info = root / "usr/lib/python3/dist-packages/pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nRequires-Python: >=3.8\n"
    )
    bin_dir = root / "usr/bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "pkg-tool"
    script.write_text("#!/usr/bin/env python3\nimport pkg\nprint('ok')\n")
    script.chmod(0o755)
    return root


def test_shebang_rules_declare_heads_only() -> None:
    all_rules()
    assert all(REGISTRY[n].heads_only for n in SHEBANG_RULES)
    assert heads_only(_config(SHEBANG_RULES))
    # any rule that reads more (extension names read the ELF) turns it off; so does no --select
    assert not heads_only(_config(SHEBANG_RULES | {"extension-untagged"}))
    assert not heads_only(_config(None))


def test_shebang_only_run_parses_no_elf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert JSON_SO.exists(), "scripts/interpreters.sh installs pyenv's 3.11.7"
    root = _root(tmp_path)
    cat = catalogue_mod.load()
    rts = combine([], cat)
    # the full analysis, as check runs it: ELF read, metadata parsed
    full = check_target(str(root), rts, cat, _config(SHEBANG_RULES))
    assert not isinstance(full, str) and hasattr(full, "records")
    by_path = {r.path: r for r in full.records}
    so = "usr/lib/python3/dist-packages/pkg/_json.cpython-311-x86_64-linux-gnu.so"
    untagged = "usr/lib/python3/dist-packages/pkg/_json.so"
    meta = "usr/lib/python3/dist-packages/pkg-1.0.dist-info/METADATA"
    assert by_path[so].elf is not None
    assert by_path[meta].requires_python_text == ">=3.8"

    def no_elf(*_a: object, **_k: object) -> None:
        raise AssertionError("a shebang-only run parsed an ELF")

    monkeypatch.setattr(extension, "read_elf", no_elf)
    heads = check_target(str(root), rts, cat, _config(SHEBANG_RULES), verdicts=False)
    assert hasattr(heads, "records")
    hp = {r.path: r for r in heads.records}
    # the kinds are the same (the untagged module was read for its init symbol) ...
    assert {p: r.kind for p, r in hp.items()} == {p: r.kind for p, r in by_path.items()}
    assert hp[untagged].kind == "extension"
    # ... the analysis is not there, and the findings are the full run's
    assert hp[so].elf is None and hp[meta].requires_python_text is None
    assert heads.findings == full.findings
    assert [f.rule for f in heads.findings] == ["shebang-env"]
    # the fix itself (same tripwire): the env shebang is rewritten
    result = fix_target(str(root), rts, cat, _config(SHEBANG_RULES), FixOptions(), [])
    assert [f.rule for f in result.fixed] == ["shebang-env"]
    first = (root / "usr/bin/pkg-tool").read_text().splitlines()[0]
    assert first == "#!/usr/bin/python3"


def test_shebang_only_fix_from_the_command_line(tmp_path: Path) -> None:
    root = _root(tmp_path)
    exe = os.path.join(os.path.dirname(sys.executable), "coinstall")
    done = subprocess.run(
        [
            exe,
            "fix",
            "--select",
            ",".join(sorted(SHEBANG_RULES)),
            "--stack",
            "default=3.11",
            "--profile",
            "debian",
            "--no-installed",
            str(root),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (root / "usr/bin/pkg-tool").read_text().startswith("#!/usr/bin/python3\n")


def _heads_run(root: Path) -> tuple[object, object]:
    """(the full analysis, the heads-only run) of ``root`` with the shebang rules."""
    cat = catalogue_mod.load()
    rts = combine([], cat)
    full = check_target(str(root), rts, cat, _config(SHEBANG_RULES))
    heads = check_target(str(root), rts, cat, _config(SHEBANG_RULES), verdicts=False)
    return full, heads


#: what a record says that a heads-only run must say the same (the analysis fields aside)
_SAME = ("path", "import_path", "kind", "scope", "abs_path", "size", "mode", "mtime")
_SAME += ("pyc_header", "pyc_location", "shebang")


def test_heads_only_walk_opens_only_the_files_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A heads-only run on a directory opens a file only where classification reads it
    (files/verdict.wants_head_for_kind, wants_content_for_kind): an executable, a file in a
    program directory, a pyc, an untagged extension name; not the many plain modules and data
    files (a shebang in a non-executable module is no shebang to the rules).  The old walk
    opened every file."""
    root = _root(tmp_path)
    site = root / "usr/lib/python3/dist-packages/pkg"
    (site / "mod.py").write_text("#!/usr/bin/env python3\nx = 1\n")  # not executable
    (site / "tool.py").write_text("#!/usr/bin/env python\nx = 1\n")
    (site / "tool.py").chmod(0o755)
    (site / "data.txt").write_text("data\n")
    # as dh_fixperms leaves it (shared objects 0644): its tagged name alone makes its kind
    (site / "_json.cpython-311-x86_64-linux-gnu.so").chmod(0o644)
    cache = site / "__pycache__"
    cache.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import py_compile; py_compile.compile({str(site / 'mod.py')!r},"
            f" cfile={str(cache / 'mod.cpython-311.pyc')!r})",
        ],
        check=True,
    )
    (root / "usr/bin/plain").write_text("#!/usr/bin/python3\nprint(1)\n")  # not executable
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: str, flags: int, *args: object, **kwargs: object) -> int:
        if not flags & os.O_DIRECTORY:
            opened.append(os.path.basename(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    full, _ = _heads_run(root)
    monkeypatch.setattr(os, "open", counting_open)
    cat = catalogue_mod.load()
    heads = check_target(str(root), combine([], cat), cat, _config(SHEBANG_RULES), verdicts=False)
    monkeypatch.undo()
    want = ["_json.so", "mod.cpython-311.pyc", "pkg-tool", "plain", "tool.py"]
    assert sorted(opened) == want, opened
    assert hasattr(full, "records") and hasattr(heads, "records")
    for a, b in zip(full.records, heads.records, strict=True):
        assert [getattr(a, f) for f in _SAME] == [getattr(b, f) for f in _SAME], a.path
    assert heads.findings == full.findings
    assert sorted(f.path or "" for f in heads.findings) == [
        "usr/bin/pkg-tool",
        "usr/lib/python3/dist-packages/pkg/tool.py",
        "usr/lib/python3/dist-packages/pkg/tool.py",
    ]


def test_heads_only_records_are_the_full_runs_on_a_real_build_root(
    tmp_path: Path, corpus_debs: dict[str, Path]
) -> None:
    """On the corpus' bookworm .debs unpacked into one build root (scripts in /usr/bin,
    executable modules, abi3 and tagged extensions, symbolic links), the heads-only run's
    records say what the full run's say, field by field (the analysis aside), and it finds
    the same: the files it leaves unopened are exactly those whose head changes nothing."""
    root = tmp_path / "root"
    for deb in corpus_debs.values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    full, heads = _heads_run(root)
    assert hasattr(full, "records") and hasattr(heads, "records")
    assert len(full.records) > 1000
    for a, b in zip(full.records, heads.records, strict=True):
        assert [getattr(a, f) for f in _SAME] == [getattr(b, f) for f in _SAME], a.path
    assert [m.path for m in full.context.links] == [m.path for m in heads.context.links]
    assert heads.findings == full.findings and full.findings


def test_a_shebang_only_fix_starts_no_interpreter(tmp_path: Path) -> None:
    """``fix --select`` of the shebang rules discovers no runtime (the rules judge none, the
    fixer rewrites text): with an empty probe cache the run leaves none behind, where a run
    with a bytecode rule probes the interpreters and writes it."""
    assert not needs_interpreters(_config(SHEBANG_RULES))
    assert needs_interpreters(_config(SHEBANG_RULES | {"bytecode-stale"}))
    assert needs_interpreters(_config(None))
    exe = os.path.join(os.path.dirname(sys.executable), "coinstall")
    for select, probed in ((SHEBANG_RULES, False), ({"bytecode-stale"}, True)):
        root = _root(tmp_path / str(probed))
        cache = tmp_path / f"xdg-{probed}"
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        argv = [exe, "fix", "--select", ",".join(sorted(select)), "--stack", "default=3.11"]
        done = subprocess.run(
            [*argv, "--profile", "debian", str(root)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert done.returncode in (0, 1), done.stderr
        assert (cache / "coinstall/probes.json").exists() is probed, select
    assert (tmp_path / "False/root/usr/bin/pkg-tool").read_text().startswith("#!/usr/bin/python3\n")
