"""The HTML tracker opened in headless Chromium (Debian's chromium): what it shows after its
script ran, the filter box, counts, progress bar, and that it loads nothing from the network."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from coinstall.plan import engine, load
from coinstall.plan.evidence import Classifier
from coinstall.report import plan_html
from coinstall.runtimes import catalogue
from plan_rpms import build_repo, snapshot_specs

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or shutil.which("rpmbuild") is None or shutil.which("createrepo_c") is None,
    reason="needs chromium, rpmbuild and createrepo_c",
)


@pytest.fixture(scope="module")
def page(
    tmp_path_factory: pytest.TempPathFactory, corpus_rpms: list[Path]
) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("html")
    first = build_repo(base / "first", snapshot_specs(later=False), corpus_rpms)
    later = build_repo(base / "later", snapshot_specs(later=True), corpus_rpms)
    cl = Classifier(catalogue.load())
    plan = engine.plan_transition(
        load.load([str(first)], use_cache=False), cl, "add", (3, 12), (3, 11)
    ).to_json()
    plan = engine.progress(plan, load.load([str(later)], use_cache=False), cl)
    out = base / "tracker.html"
    out.write_text(plan_html.render(plan), encoding="utf-8")
    return out, plan


def dump_dom(path: Path, query: str, tmp_path: Path) -> str:
    assert CHROMIUM is not None
    url = path.as_uri() + (f"?q={urllib.parse.quote(query)}" if query else "")
    r = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


class Rows(HTMLParser):
    """Source rows of the page: (classes, style, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.ids: dict[str, str] = {}
        self._in: dict[str, str] | None = None
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "src" in a.get("class", "").split():
            self._in = {"class": a["class"], "style": a.get("style", ""), "text": ""}
            self.rows.append(self._in)
        if "id" in a:
            self._id = a["id"]
            self.ids[a["id"]] = a.get("style", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._in = None
        self._id = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._in["text"] += data
        if self._id is not None:
            self.ids[self._id + ":text"] = self.ids.get(self._id + ":text", "") + data


def parse(html: str) -> Rows:
    p = Rows()
    p.feed(html)
    return p


def test_self_contained(page: tuple[Path, dict[str, Any]]) -> None:
    html = page[0].read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


def test_shows_every_source_and_counts(page: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    path, plan = page
    dom = parse(dump_dom(path, "", tmp_path))
    assert len(dom.rows) == len(plan["sources"])
    assert dom.ids["shown:text"] == str(len(plan["sources"]))  # the script ran
    for status in ("rebuild", "blocked", "no-action", "not-affected"):
        want = sum(1 for s in plan["sources"] if s["status"] == status)
        assert sum(1 for r in dom.rows if status in r["class"].split()) == want
    for k, v in plan["counts"].items():
        assert re.search(rf'data-status="{k}">{k}: <b>{v}</b>', path.read_text())


def test_progress_bar(page: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    path, plan = page
    dom = parse(dump_dom(path, "", tmp_path))
    tracked = [s for s in plan["sources"] if s["status"] in ("rebuild", "blocked")]
    done = sum(1 for s in tracked if s["progress"] in ("done", "removed"))
    assert 0 < done < len(tracked)
    assert dom.ids["done:text"] == str(done) and dom.ids["total:text"] == str(len(tracked))
    assert f"width: {round(100 * done / len(tracked), 1)}%" in dom.ids["bar"]


def test_filter_box_hides_rows(page: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    path, plan = page
    static = parse(path.read_text())
    for query in ("python-beta", "python(abi) = 3.11", "zzz-no-such-thing"):
        want = sum(1 for r in static.rows if query.lower() in r["text"].lower())
        assert (want > 0) == (not query.startswith("zzz"))
        dom = parse(dump_dom(path, query, tmp_path))
        shown = [r for r in dom.rows if "display: none" not in r["style"]]
        assert len(shown) == want, query
        assert dom.ids["shown:text"] == str(want)
        assert all(query.lower() in r["text"].lower() for r in shown)
    # The plan behind the page is plain JSON: it survives a round trip unchanged (a tuple,
    # a set, a non-string key or a dataclass would not).
    assert json.loads(json.dumps(plan)) == plan
