"""Vocabularies as types (issue 21 item 6): each is one ``Literal`` declared once, its tuple
of values derived from it, and strict mypy rejects a misspelt value where one is compared."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from coinstall import config, names
from coinstall.artifacts import compression
from coinstall.files import extension, location, verdict
from coinstall.fix import model
from coinstall.report import FORMATS, OutputFormat
from coinstall.rules import SCOPES, RuleScope
from coinstall.rules.profiles import PROFILES
from coinstall.spec import context as spec_context

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "coinstall"


def _kinds(parse: Callable[[str], Any], values: list[str]) -> set[str]:
    """The ``kind`` of what ``parse`` makes of each of ``values``."""
    return {x.kind for x in map(parse, values) if x is not None}


def test_values_come_from_the_literal() -> None:
    assert (
        verdict.KINDS
        == get_args(verdict.FileKind)
        == ("bytecode", "extension", "script", "source", "pth", "metadata", "other")
    )
    assert config.SEVERITIES == get_args(config.Severity) == ("error", "warning", "info")
    assert SCOPES == get_args(RuleScope) == ("artifact", "set", "spec")
    assert get_args(model.FixOp) == model.OPS
    assert get_args(OutputFormat) == FORMATS
    assert get_args(location.ScopeKind) == ("any", "versioned", "shared")
    assert get_args(compression.Compression) == compression.KINDS
    assert compression.KINDS == ("none", "gz", "xz", "bz2", "zst", "lz4")
    assert get_args(extension.ExtNameKind) == ("soabi", "abi3", "abi3t", "untagged")
    assert _kinds(
        extension.parse_ext_name,
        ["a.cpython-311-x86_64-linux-gnu.so", "a.abi3.so", "a.abi3t.so", "a.so"],
    ) == set(get_args(extension.ExtNameKind))
    assert get_args(names.DistKind) == ("dist", "egg")
    assert get_args(spec_context.SpecLayout) == spec_context.LAYOUTS
    assert spec_context.LAYOUTS == ("fedora", "alt", "epel", "suse")
    assert _kinds(
        names.classify_name, ["python3", "python3.11-libs", "python3-foo", "python3.11dist(foo)"]
    ) | {"abi"} == set(get_args(names.TargetKind))
    # every profile the rules know has a name of the vocabulary, and the other way round
    assert set(PROFILES) == set(config.PROFILE_NAMES)


def test_each_vocabulary_is_written_once() -> None:
    """No second hand-written copy of a vocabulary's values left in src/."""
    patterns = {
        "severities": r"\"error\",\s*\"warning\",\s*\"info\"",
        "profiles": r"\"fedora\",\s*\"epel\",\s*\"opensuse\",\s*\"debian\",\s*\"wheel\"",
        "fix ops": r"\"write\",\s*\"create\",\s*\"(rename|symlink)\",\s*\"(rename|symlink)\"",
    }
    found: dict[str, list[str]] = {k: [] for k in patterns}
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name, pat in patterns.items():
            found[name] += [str(path.relative_to(SRC))] * len(re.findall(pat, text))
    assert found == {
        "severities": ["config.py"],
        "profiles": ["config.py"],
        "fix ops": ["fix/model.py"],
    }


def test_strict_mypy_rejects_a_misspelt_value(tmp_path: Path) -> None:
    snippet = tmp_path / "typo.py"
    snippet.write_text(
        "from coinstall.files.verdict import FileRecord\n"
        "from coinstall.fix.model import Edit\n"
        "from coinstall.rules import Finding\n"
        "from coinstall.artifacts.compression import kind_of_member, open_decompressed\n"
        "from coinstall.files.extension import parse_ext_name\n"
        "from coinstall.names import classify_name\n"
        "from coinstall.spec.context import SpecContext\n"
        "from typing import IO\n\n\n"
        "def f(r: FileRecord, e: Edit, x: Finding) -> bool:\n"
        "    return r.kind == 'extention' or e.op == 'delete' or x.severity == 'fatal'\n\n\n"
        "def g(raw: IO[bytes]) -> IO[bytes]:\n"
        "    assert kind_of_member('data.tar.zst') != 'zstd'\n"
        "    return open_decompressed(raw, 'gzip')\n\n\n"
        "def h() -> bool:\n"
        "    n, t = parse_ext_name('a.abi3.so'), classify_name('python3-foo')\n"
        "    return n is not None and n.kind == 'stable' or t is not None and t.kind == 'pkg'\n\n\n"
        "def k(c: SpecContext) -> bool:\n"
        "    return c.layout == 'opensuse'\n\n\n"
        # the JSON shapes and the probe's answer are TypedDicts: a misspelt key is an error
        "from coinstall.plan.engine import Plan\n"
        "from coinstall.release import Release\n"
        "from coinstall.report import fix_json, share_json\n"
        "from coinstall.runtimes.discovery import ProbeResult\n"
        "from coinstall.share.site import State\n"
        "from coinstall.fix.engine import FixResult\n\n\n"
        "def m(p: Plan, r: Release, s: State, x: FixResult, pr: ProbeResult) -> object:\n"
        "    return (p.to_json()['wawes'], r.to_json()['cels'], share_json.list_json(s)['dists'],\n"
        "            fix_json.to_json(x)['fixes'], pr.data['soabl'])\n"
    )
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(snippet)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )
    errors = [ln for ln in proc.stdout.splitlines() if "[comparison-overlap]" in ln]
    assert len(errors) == 7, proc.stdout + proc.stderr
    assert "'extention'" in errors[0] and "'delete'" in errors[1] and "'fatal'" in errors[2]
    assert "'zstd'" in errors[3] and "'stable'" in errors[4] and "'pkg'" in errors[5]
    assert "'opensuse'" in errors[6]
    typos = [ln for ln in proc.stdout.splitlines() if "[typeddict-item]" in ln]
    for key in ("wawes", "cels", "dists", "fixes", "soabl"):
        assert any(f'"{key}"' in ln for ln in typos), proc.stdout
    # a compression kind passed where the Literal is expected
    assert any("[arg-type]" in ln and "'gzip'" in ln for ln in proc.stdout.splitlines()), (
        proc.stdout
    )


#: a benchmark's figure: ``0.32 s``, ``24 ms``, ``1.17-1.39x``, ``6x slower``
_TIMING = re.compile(
    r"\b\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)? (?:ms|us|s)\b(?! ?[A-Za-z(])"
    r"|\b\d+(?:\.\d+)?x (?:slower|faster)|\b\d+\.\d+x\b"
)


def test_source_states_no_benchmark_figures_and_points_at_existing_ones() -> None:
    """Issue 21 item 8 (timings in docstrings): a docstring or comment says what and why; the
    figures live in benchmarks/MEASUREMENTS.md, and every pointer there names a section."""
    notes = (ROOT / "benchmarks" / "MEASUREMENTS.md").read_text()
    sections = set(re.findall(r"^## (\S+(?: \S+)*?) \(", notes, re.M))
    quoted, dangling = [], []
    allowed = ("timed out after 20 s", "a 1 ms limit", "take 8 s", "reads in ~8 s")
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        for n, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if not (stripped.startswith("#") or '"' not in stripped):
                continue  # code with a string: a message, not a note
            m = _TIMING.search(stripped)
            if m and not any(a in stripped for a in allowed):
                quoted.append(f"{path.relative_to(SRC)}:{n}: {stripped}")
        for name in re.findall(r"MEASUREMENTS\.md,\s+'([^']+)'", text):
            if name not in sections:
                dangling.append(f"{path.relative_to(SRC)}: {name}")
    assert quoted == [] and dangling == []
    assert len(sections) >= 15
