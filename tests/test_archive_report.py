"""``coinstall report``: the archive summary from JSON Lines and JSON check results, as text,
JSON and one self-contained HTML page opened in headless Chromium (Debian's chromium)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coinstall.cli import main
from test_plan_html import dump_dom, parse

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def results(
    corpus_wheels: dict[str, Path],
    corpus_debs: dict[str, Path],
    corpus_rpms: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    """The corpus checked once as JSON Lines and once as JSON, plus one corrupt package."""
    base = tmp_path_factory.mktemp("archive-report")
    bad = base / "python3-broken_1.0_all.deb"
    bad.write_bytes(b"!<arch>\n" + b"\0" * 100)
    paths = [
        *sorted(str(p) for p in [*corpus_wheels.values(), *corpus_debs.values(), *corpus_rpms]),
        str(bad),
    ]
    out = {}
    for fmt in ("jsonl", "json"):
        res = CliRunner().invoke(
            main, ["check", "--no-installed", "--jobs", "2", "--format", fmt, *paths]
        )
        assert res.exit_code == 2, res.output[-2000:]
        out[fmt] = base / f"results.{fmt}"
        out[fmt].write_text(res.output)
    return out


def _summary(path: Path) -> dict[str, Any]:
    res = CliRunner().invoke(main, ["report", "--format", "json", str(path)])
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.output))


def test_counts_match_the_results(results: dict[str, Path]) -> None:
    doc = json.loads(results["json"].read_text())
    s = _summary(results["jsonl"])
    assert s == {**_summary(results["json"]), "sources": [str(results["jsonl"])]}
    findings = [f for a in doc["artifacts"] for f in a["findings"]]
    assert s["artifacts"] == len(doc["artifacts"]) and s["unreadable"] == 1
    assert s["findings"] == len(findings)
    for sev in ("error", "warning", "info"):
        assert s["by_severity"][sev] == sum(1 for f in findings if f["severity"] == sev)
    for r in s["by_rule"]:
        assert r["findings"] == sum(1 for f in findings if f["rule"] == r["rule"])
        assert r["artifacts"] == sum(
            1 for a in doc["artifacts"] if any(f["rule"] == r["rule"] for f in a["findings"])
        )
    heads = {h["key"]: h["artifacts"] for h in s["headlines"]}
    assert heads["bytecode"] == sum(
        1 for a in doc["artifacts"] if any(f["kind"] == "bytecode" for f in a["files"])
    )
    assert heads["extensions"] > 0 and heads["bytecode"] > 0
    assert heads["shebang-env"] == sum(
        1 for a in doc["artifacts"] if any(f["rule"] == "shebang-env" for f in a["findings"])
    )
    top = s["top"][0]
    assert top["findings"] == max(
        len(a["findings"])
        for a in doc["artifacts"]
        if sum(f["severity"] == "error" for f in a["findings"]) == top["error"]
    )
    assert s["errors"][0]["path"].endswith("python3-broken_1.0_all.deb")


def test_text_report(results: dict[str, Path]) -> None:
    res = CliRunner().invoke(main, ["report", str(results["jsonl"])])
    assert res.exit_code == 0
    s = _summary(results["jsonl"])
    assert f"{s['artifacts']} artifacts, 1 unreadable, {s['findings']} findings" in res.output
    assert "Findings per rule" in res.output and s["by_rule"][0]["rule"] in res.output


def test_not_results_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text('{"schema_version": 1}')
    res = CliRunner().invoke(main, ["report", str(f)])
    assert res.exit_code == 2 and "not coinstall check results" in res.output


@pytest.fixture(scope="module")
def page(results: dict[str, Path]) -> tuple[Path, dict[str, Any]]:
    out = results["jsonl"].parent / "archive.html"
    res = CliRunner().invoke(
        main, ["report", "--format", "html", "-o", str(out), str(results["jsonl"])]
    )
    assert res.exit_code == 0, res.output
    return out, _summary(results["jsonl"])


def test_html_self_contained(page: tuple[Path, dict[str, Any]]) -> None:
    html = page[0].read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium")
def test_html_in_chromium(page: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    path, s = page
    html = path.read_text()
    bars = re.findall(r'data-rule="([^"]+)" data-findings="(\d+)"', html)
    assert [(r["rule"], str(r["findings"])) for r in s["by_rule"]] == bars
    widths = re.findall(r'class="fill \w+" style="display: block; width: ([\d.]+)%"', html)
    assert float(widths[0]) == 100.0 and len(widths) == len(bars)
    dom = parse(dump_dom(path, "", tmp_path))
    assert dom.ids["shown:text"] == str(s["artifacts"])  # the script ran
    for query in ("shebang-env", "python3-yaml", "zzz-no-such-thing"):
        want = sum(
            1
            for r in s["rows"]
            if query in r["artifact"]
            or query in r["profile"]
            or any(query in rule for rule, _ in r["rules"])
        )
        dom = parse(dump_dom(path, query, tmp_path))
        assert dom.ids["shown:text"] == str(want), query
    assert want == 0


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium")
def test_html_sorts(page: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """?sort=-3 sorts the artifact table by errors, descending (the script's own sort)."""
    path, s = page
    assert CHROMIUM is not None
    import subprocess

    url = path.as_uri() + "?sort=-3"
    out = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'p'}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    errors = [
        int(x)
        for x in re.findall(
            r'<tr class="art"><td[^>]*>[^<]*</td><td>[^<]*</td><td class="num">\d+</td>'
            r'<td class="num(?: error)?">(\d+)</td>',
            out,
        )
    ]
    assert len(errors) == s["artifacts"]
    assert errors == sorted(errors, reverse=True) and errors[0] > 0
