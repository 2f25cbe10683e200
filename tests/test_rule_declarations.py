"""A rule's declaration is data the engine, fix and the archive layer read (issue 21 item 1):
what it needs read (contents, digests), whether it is pairwise, which record fields an archive
run keeps for it, and its fixer; inconsistent declarations are refused at registration, also
under ``python -O``."""

from __future__ import annotations

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
