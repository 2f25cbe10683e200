"""A rule's declaration is data the engine, fix and the archive layer read (issue 21 item 1):
what it needs read (contents, digests), whether it is pairwise, which record fields an archive
run keeps for it, and its fixer; inconsistent declarations are refused at registration, also
under ``python -O``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coinstall.config import Config
from coinstall.rules import (
    IDENTITY_FIELDS,
    REGISTRY,
    RuleError,
    all_rules,
    kept_record_fields,
    rule,
    set_rules,
    wanted_contents,
    wants_digests,
)

_DATA = dict(summary="s", why="w", example="e", fix="f", source="src")


@pytest.mark.parametrize(
    "kwargs, says",
    [
        (dict(severity="fatal"), "severity"),
        (dict(severity="error", scope="pairs"), "scope"),
        (dict(severity="error", profiles=("nowhere",)), "unknown profiles"),
        (dict(severity="error", fixer="shebang"), "module:function"),
        (dict(severity="error", digests=True), "scope='set'"),
        (dict(severity="error", scope="set", record_fields=("colour",)), "not FileRecord fields"),
        (dict(severity="error", fixer=""), "registered twice"),
        (dict(severity="error", headline="do something"), "go together"),
        (dict(severity="error", headline="do something", headline_rank=40), "another rule's"),
        (dict(severity="error", scope="set", contents=lambda records: set()), "contents is for"),
    ],
)
def test_inconsistent_declarations_are_refused(kwargs: dict, says: str) -> None:
    name = "shebang-env" if says == "registered twice" else "test-declaration"
    all_rules()
    with pytest.raises(RuleError, match=says):
        rule(name, **kwargs, **_DATA)
    assert "test-declaration" not in REGISTRY


def test_checks_survive_python_O() -> None:
    # the old checks were asserts: python -O registered a rule of severity "fatal"
    code = (
        "from coinstall.rules import rule, RuleError\n"
        "try:\n"
        "    rule('x-y', severity='fatal', summary='', why='', example='', fix='',"
        " source='')\n"
        "except RuleError as e:\n"
        "    print('refused:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("refused: rule x-y: severity 'fatal'"), out


def test_needs_are_read_from_the_rules() -> None:
    pairwise = [r.name for r in set_rules() if r.pairwise]
    assert pairwise == ["file-conflict"]
    assert wants_digests(Config())
    assert not wants_digests(Config(ignore=frozenset({"file-conflict"})))
    assert kept_record_fields()[: len(IDENTITY_FIELDS)] == IDENTITY_FIELDS
    assert {"size", "sha256", "elf"} <= set(kept_record_fields())
    assert [r.name for r in all_rules() if r.contents is not None] == ["bytecode-stale"]
    assert wanted_contents([], Config()) == set()


def test_one_field_makes_a_rule_fixable() -> None:
    for r in all_rules():
        assert r.fixable == bool(r.fixer)
        assert r.to_json()["autofix"] == ("auto" if r.fixer else None)


def test_headlines_are_declared_by_the_rules() -> None:
    from coinstall.report.archive_summary import OWN_HEADLINES, headlines

    keys = [key for key, _, _ in headlines()]
    assert keys == [
        "bytecode",
        "bytecode-shipped",
        "extensions",
        "shebang-env",
        "shebang-unversioned",
        "extension-untagged",
        "stable-abi-missing-multiarch",
        "stable-abi-symbol-violation",
        "file-conflict",
        "with-errors",
    ]
    ranks = [rank for rank, *_ in OWN_HEADLINES] + [
        r.headline_rank for r in all_rules() if r.headline
    ]
    assert len(ranks) == len(set(ranks))
    assert dict((k, label) for k, label, _ in headlines())["shebang-env"] == (
        "start Python through env (shebang-env)"
    )


#: The engine and everything around the rules: they read what a rule needs from its
#: declaration and never name a rule (issue 21 item 1).
_NO_RULE_NAMES = ("check.py", "cli", "archive", "report", "plan", "fix/engine.py")


def test_no_rule_name_outside_rules() -> None:
    src = Path(__file__).resolve().parent.parent / "src" / "coinstall"
    names = "|".join(re.escape(r.name) for r in all_rules())
    pattern = re.compile(rf"(?<![\w-])({names})(?![\w-])")
    found = []
    for part in _NO_RULE_NAMES:
        files = [src / part] if part.endswith(".py") else sorted((src / part).rglob("*.py"))
        assert files and all(f.is_file() for f in files), part
        for f in files:
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if m := pattern.search(line):
                    found.append(f"{f.relative_to(src)}:{n}: {m.group(0)}")
    assert found == []


# Each runs in a fresh interpreter: which rule modules are imported is the point.
_TABLE = """
import json
from coinstall.rules import ALL_PROFILES, REGISTRY, load_all
load_all()
areas = {}
for r in REGISTRY.values():
    names, profiles = areas.setdefault(r.area, ([], set()))
    names.append(r.name)
    if r.scope != "spec":
        profiles.update(r.profiles)
print(json.dumps({a: [n, [p for p in ALL_PROFILES if p in ps]] for a, (n, ps) in areas.items()}))
"""


def _fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def test_the_index_is_what_the_modules_register() -> None:
    from coinstall.rules import ALL_PROFILES, AREAS

    eager = json.loads(_fresh(_TABLE))
    table = {a: [list(n), list(p)] for a, (n, p) in AREAS.items()}
    # on a drift, paste the printed table into coinstall.rules.AREAS
    assert table == eager, "\n".join(
        f"    {a!r}: ({tuple(n)!r}, {tuple(p)!r}),".replace(repr(ALL_PROFILES), "ALL_PROFILES")
        for a, (n, p) in eager.items()
    )
    assert list(table) == list(eager)  # the registry's order


_LAZY = """
import json, sys
from coinstall.rules import REGISTRY, load_for
for profiles in {steps!r}:
    load_for(profiles)
loaded = sorted(m for m in sys.modules if m.startswith("coinstall.rules."))
print(json.dumps([list(REGISTRY), loaded]))
"""


@pytest.mark.parametrize(
    "steps",
    [[["fedora"]], [["epel"]], [["opensuse"]], [["debian"]], [["wheel"]], [["wheel"], ["fedora"]]],
)
def test_lazy_loading_registers_what_eager_loading_runs(steps: list[list[str]]) -> None:
    from coinstall.rules import REGISTRY, all_rules

    all_rules()
    wanted = {p for step in steps for p in step}
    # the artifact and set rules of those profiles, in the eager registry's order
    eager = [r.name for r in REGISTRY.values() if r.scope != "spec" and wanted & set(r.profiles)]
    registered, loaded = json.loads(_fresh(_LAZY.format(steps=steps)))
    lazy = [
        n for n in registered if REGISTRY[n].scope != "spec" and wanted & set(REGISTRY[n].profiles)
    ]
    assert lazy == eager
    # the order of everything registered is the eager order, whatever was imported first
    assert registered == [n for n in REGISTRY if n in registered]
    # the spec rules are never a check's
    assert "coinstall.rules.spec_stacks" not in loaded
    assert "coinstall.rules.spec_style" not in loaded
    if wanted == {"wheel"}:
        assert "coinstall.rules.naming" not in loaded


def test_every_rule_is_still_listed_and_named() -> None:
    from coinstall.rules import AREAS, rule_names

    exe = str(Path(sys.executable).parent / "coinstall")
    out = subprocess.run(
        [exe, "rules", "--format", "json"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    listed = {r["name"] for r in json.loads(out)}
    assert listed == rule_names() == {n for names, _p in AREAS.values() for n in names}
    # a configuration's names are checked against the index, which knows every rule
    rpm = str(Path(__file__).resolve().parent / "data" / "rpm" / "pyserial-2.7-6.fc25.noarch.rpm")
    for select, status in (("spec-bindir-unversioned-other,shebang-env", (0, 1)), ("bogus", (2,))):
        sel = subprocess.run(
            [exe, "check", "--no-installed", "--select", select, rpm],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sel.returncode in status, sel.stderr
    assert "unknown rule bogus" in sel.stderr
