"""What a run over a few packages pays for: no archive machinery imported, no pool started.

Issue 22: `coinstall check one.rpm` loaded the process pool, the result cache, the index reader
and rich's progress bar (0.23 s of its 0.30 s was importing); eleven small RPMs started a
pool that cost as much as it saved.  These tests check the decisions, not timings
(benchmarks/startup_bench.py measures those).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from coinstall.archive import FEW_TARGETS, POOL_MIN_BYTES, default_jobs, estimated_bytes
from coinstall.rules import AREAS

REPO = Path(__file__).resolve().parent.parent
RPMS = sorted(str(p) for p in (REPO / "tests" / "data" / "rpm").glob("*.rpm"))
ARCHIVE_MODULES = (
    "coinstall.archive.runner",
    "coinstall.archive.cache",
    "coinstall.cli.check_archive",
    "coinstall.plan.indices",
    "rich.progress",
    "multiprocessing",
    "distributed",
)

# Runs `coinstall check` in this process's interpreter as the console script does, then prints
# which of the archive modules were imported.
PROBE = """
import sys
from coinstall.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
mods = {mods!r}
print("IMPORTED", sorted(m for m in mods if m in sys.modules), file=sys.stderr)
sys.exit(code)
"""


#: What the one-RPM path never needs once the discovery cache is warm: each costs milliseconds
#: of every start (packaging.tags pulls subprocess, logging and sysconfig; importlib.resources
#: and tempfile pull random and zipfile; packaging's specifiers, for a Requires-Python, which
#: pyserial has not).  shutil stays: pyserial's ``#!/usr/bin/env`` script is looked up with
#: shutil.which.
HEAVY_MODULES = (
    "subprocess",
    "packaging.tags",
    "packaging.specifiers",
    "packaging.version",
    "logging",
    "sysconfig",
    "tempfile",
    "importlib.resources",
    "zipfile",
)


def _imported(
    args: list[str], mods: tuple[str, ...] = ARCHIVE_MODULES, env: dict[str, str] | None = None
) -> tuple[int, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(mods=mods), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("IMPORTED")]
    assert line, proc.stderr
    return proc.returncode, ast.literal_eval(line[-1].split(" ", 1)[1])


def test_one_package_imports_no_archive_machinery() -> None:
    rc, mods = _imported(["check", "--no-installed", RPMS[0]])
    assert rc in (0, 1)
    assert mods == []


def test_one_rpm_warm_imports_only_what_it_needs(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    pyserial = str(REPO / "tests" / "data" / "rpm" / "pyserial-2.7-6.fc25.noarch.rpm")
    # the first run probes the interpreters (a process each) and fills the discovery cache
    rc, mods = _imported(["check", pyserial], HEAVY_MODULES, env)
    assert rc in (0, 1)
    assert "subprocess" in mods
    # the second finds every answer there: no process, and none of the heavy modules
    rc, mods = _imported(["check", pyserial], HEAVY_MODULES, env)
    assert rc in (0, 1)
    assert mods == []
    # a JSON report (and discovery without a warning to print) needs no console
    rc, mods = _imported(["check", "--format", "json", pyserial], ("rich", "rich.console"), env)
    assert rc in (0, 1)
    assert mods == []


def test_many_packages_take_the_archive_path() -> None:
    # more than FEW_TARGETS targets: the archive path (result cache, ordering), one process
    assert len(RPMS) > FEW_TARGETS
    rc, mods = _imported(["check", "--no-installed", "--no-cache", *RPMS])
    assert rc in (0, 1)
    assert "coinstall.cli.check_archive" in mods


def test_pool_decided_by_bytes_not_count(tmp_path: Path) -> None:
    size = estimated_bytes(RPMS)
    assert size is not None and 0 < size < POOL_MIN_BYTES
    # eleven small RPMs: no pool
    assert default_jobs(RPMS) == 1
    # three packages that add up to more than the threshold: the cores
    big = []
    for i in range(3):
        p = tmp_path / f"big{i}.deb"
        with open(p, "wb") as f:
            f.truncate(POOL_MIN_BYTES)
        big.append(str(p))
    assert estimated_bytes(big) == 3 * POOL_MIN_BYTES
    assert default_jobs(big) == max(1, len(os.sched_getaffinity(0)))
    # one target never gets a pool, however large
    assert default_jobs(big[:1]) == 1
    # a directory's work is unknown: counted as before (a pool only past FEW_TARGETS targets)
    assert estimated_bytes([str(tmp_path), *RPMS[:2]]) is None
    assert default_jobs([str(tmp_path), *RPMS[:2]]) == 1
    many_dirs = [str(tmp_path)] * (FEW_TARGETS + 1)
    assert default_jobs(many_dirs) == max(1, len(os.sched_getaffinity(0)))
    # a path that does not exist or is a FIFO is no work
    fifo = tmp_path / "f.rpm"
    os.mkfifo(fifo)
    assert estimated_bytes([str(fifo), str(tmp_path / "missing.rpm")]) == 0


def test_help_lists_commands_without_importing_them() -> None:
    probe = (
        "import sys\nfrom coinstall.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith('coinstall.cli.')"
        " and m != 'coinstall.cli._common'), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert "Commands:" in proc.stdout and "check" in proc.stdout
    assert "LOADED []" in proc.stderr, proc.stderr


#: What ``coinstall --help`` and ``--version`` do not import (the readers, for --limit's help;
#: importlib.metadata, for the version; click itself for a bare --version).
HELP_UNUSED = ("coinstall.artifacts", "importlib.metadata", "hashlib", "dataclasses")


def test_help_imports_click_and_no_reader() -> None:
    rc, mods = _imported(["--help"], (*HELP_UNUSED, "coinstall.rules"))
    assert rc == 0
    assert mods == []


def test_help_is_what_click_renders_from_the_commands() -> None:
    # the same text with every command module imported (click's own rendering of each
    # command's help) as from the stored summaries: byte for byte, at two widths
    eager = "import importlib\nfrom coinstall.cli import main\n" + (
        "for m in set(main.lazy.values()):\n    importlib.import_module(m)\n"
    )
    run = "import sys\nsys.argv[0] = 'coinstall'\nfrom coinstall.cli import main\nmain()\n"
    for columns in ("80", "200"):
        env = dict(os.environ, COLUMNS=columns)
        outs = [
            subprocess.run(
                [sys.executable, "-c", pre + run, "--help"],
                capture_output=True,
                timeout=60,
                cwd=REPO,
                env=env,
            )
            for pre in ("", eager)
        ]
        assert outs[0].returncode == outs[1].returncode == 0
        assert outs[0].stdout == outs[1].stdout
        assert b"Commands:" in outs[0].stdout


def test_version_is_answered_without_click_and_equals_the_metadata() -> None:
    import importlib.metadata

    import coinstall

    meta = importlib.metadata.version("coinstall")
    assert coinstall.__version__ == meta
    # the installed command, as a process
    exe = str(Path(sys.executable).parent / "coinstall")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, f"coinstall, version {meta}\n", "")
    out = subprocess.run(
        [sys.executable, "-m", "coinstall", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.stdout == f"python -m coinstall, version {meta}\n"
    # click's answer (with another option before it) says the same
    out = subprocess.run([exe, "--debug", "--version"], capture_output=True, text=True, timeout=60)
    assert out.stdout == f"coinstall, version {meta}\n"
    # the console script's function, in a process that then lists what it imported
    probe = (
        "import sys\nsys.argv = ['coinstall', '--version']\n"
        "from coinstall.__main__ import run\nrun()\n"
        f"print('IMPORTED', sorted(m for m in {(*HELP_UNUSED, 'click')!r}"
        " if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert proc.stdout == f"coinstall, version {meta}\n"
    assert "IMPORTED []" in proc.stderr, proc.stderr


def test_stored_summaries_are_the_commands_own() -> None:
    import importlib

    import click

    from coinstall.cli import main

    assert set(main.summaries) == set(main.lazy)
    for name, module in main.lazy.items():
        importlib.import_module(module)
        cmd = main.commands[name]
        for limit in (30, 45, 60, 200):
            stand_in = click.Command(name, help=main.summaries[name])
            assert stand_in.get_short_help_str(limit) == cmd.get_short_help_str(limit), name


#: The rule modules a check of one package does not import (coinstall.rules.AREAS): those of
#: spec files (and the spec-text tables only they read), and, for a wheel, those of the
#: distributions' profiles.
SPEC_RULES = (
    "coinstall.rules.spec_stacks",
    "coinstall.rules.spec_style",
    "coinstall.spec.context",
    "coinstall.stack_text",
)
DISTRIBUTION_RULES = (
    "coinstall.rules.dependencies",
    "coinstall.rules.entry_points",
    "coinstall.rules.naming",
    "coinstall.rules.runtime_packages",
)


def test_one_package_imports_only_its_profiles_rules() -> None:
    pyserial = str(REPO / "tests" / "data" / "rpm" / "pyserial-2.7-6.fc25.noarch.rpm")
    rc, mods = _imported(["check", "--no-installed", pyserial], SPEC_RULES + DISTRIBUTION_RULES)
    assert rc in (0, 1)
    assert mods == sorted(DISTRIBUTION_RULES)
    wheels = sorted((REPO / ".cache" / "corpus" / "wheels").glob("six-*.whl"))
    assert wheels, "the set-up downloads the corpus wheels"
    rc, mods = _imported(
        ["check", "--no-installed", str(wheels[0])], SPEC_RULES + DISTRIBUTION_RULES
    )
    assert rc in (0, 1)
    assert mods == []


#: Every policy-area module, and the spec-text tables only the spec rules read.
POLICY_MODULES = (
    *(f"coinstall.rules.{area}" for area in AREAS),
    "coinstall.spec.context",
    "coinstall.stack_text",
)


def test_a_selection_imports_only_the_modules_of_its_rules(tmp_path: Path) -> None:
    """``fix --select`` of the shebang rules (the pathfix.py job, issue 22) and ``check
    --select`` import the policy module that holds them and no other (before: every module,
    the spec rules' tables included, through fix's fixer lookup)."""
    tree = tmp_path / "root"
    (tree / "usr/bin").mkdir(parents=True)
    (tree / "usr/bin/tool").write_text("#!/usr/bin/env python\nprint(1)\n")
    (tree / "usr/bin/tool").chmod(0o755)
    shebang = "shebang-env,shebang-implementation-mismatch,shebang-unversioned"
    common = ["--profile", "debian", "--stack", "default=3.11", "--select", shebang]
    for cmd in (["fix", *common, "--diff"], ["check", "--no-installed", *common]):
        rc, mods = _imported([*cmd, str(tree)], POLICY_MODULES)
        assert rc in (0, 1), cmd
        assert mods == ["coinstall.rules.scripts"], cmd
