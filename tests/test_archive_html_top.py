"""The archive HTML report's "Most findings" section: a real report rendered by the commands a
user runs (``coinstall check --format jsonl`` then ``coinstall report --format html``, separate
processes) over the pinned .debs and wheels lists the same artifacts, in the same order, with
the same counts as ``coinstall report --format json``'s ``top`` and the text report's table;
headless Chromium shows it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium")


def _run(*args: str, ok: tuple[int, ...] = (0,)) -> str:
    res = subprocess.run(
        [str(BIN / "coinstall"), *args], capture_output=True, text=True, timeout=600
    )
    assert res.returncode in ok, res.stderr[-2000:]
    return res.stdout


class TopRows(HTMLParser):
    """The cells of ``<tr class="top">`` rows of ``#top-table``."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.headings: list[str] = []
        self._row: list[str] | None = None
        self._cell: str | None = None
        self._h2: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "top":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = ""
        elif tag == "h2":
            self._h2 = ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data
        if self._h2 is not None:
            self._h2 += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "h2" and self._h2 is not None:
            self.headings.append(self._h2)
            self._h2 = None


def _top(html: str) -> TopRows:
    p = TopRows()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def report(
    corpus_debs: dict[str, Path],
    corpus_wheels: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any], str]:
    base = tmp_path_factory.mktemp("archive-top")
    targets = sorted(str(p) for p in [*corpus_debs.values(), *corpus_wheels.values()])
    results = base / "results.jsonl"
    results.write_text(
        _run(
            "check",
            "--no-installed",
            "--no-cache",
            "--jobs",
            "2",
            "--format",
            "jsonl",
            *targets,
            ok=(0, 1),
        )
    )
    page = base / "archive.html"
    _run("report", "--format", "html", "-o", str(page), str(results))
    summary = json.loads(_run("report", "--format", "json", str(results)))
    return page, summary, _run("report", str(results))


def test_most_findings_section(report: tuple[Path, dict[str, Any], str]) -> None:
    page, summary, text = report
    top = summary["top"]
    assert len(top) >= 5  # the corpus has packages with findings
    parsed = _top(page.read_text())
    assert f"Most findings (top {len(top)})" in parsed.headings
    assert f"Most findings (top {len(top)})" in text  # the text report's table has the same
    want = [
        [
            a["artifact"],
            a["profile"],
            str(a["error"]),
            str(a["warning"]),
            str(a["info"]),
            ", ".join(f"{r} ({n})" if n > 1 else r for r, n in a["rules"]),
        ]
        for a in top
    ]
    assert parsed.rows == want
    # most errors first, then most findings
    keys = [(-a["error"], -a["findings"]) for a in top]
    assert keys == sorted(keys)
    # the section is before the long artifact table
    assert parsed.headings.index(f"Most findings (top {len(top)})") < parsed.headings.index(
        "Artifacts"
    )


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium")
def test_most_findings_in_chromium(
    report: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    page, summary, _ = report
    assert CHROMIUM is not None
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'p'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = _top(dom).rows
    assert [r[0] for r in rows] == [a["artifact"] for a in summary["top"]]
    assert re.search(r'<h2 id="top">Most findings \(top \d+\)</h2>', dom)
