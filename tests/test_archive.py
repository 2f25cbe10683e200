"""Whole-archive checking (coinstall.archive): the pinned corpus through the process pool, the
in-process runner and the result cache gives the serial run's bytes; a corrupt package is one
error line; a time limit is retried once then reported; --repo/--mirror reads real indices
(dpkg-scanpackages, createrepo_c)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from coinstall.archive import runner, setrules
from coinstall.archive.cache import ResultCache
from coinstall.archive.output import collect, with_set_findings, write_json, write_jsonl
from coinstall.archive.repo import read_repo
from coinstall.archive.worker import Outcome, Settings
from coinstall.check import check, run_runtimes
from coinstall.cli import main
from coinstall.config import Config
from coinstall.report import json as json_report
from coinstall.report import sarif as sarif_report
from coinstall.report import text as text_report
from coinstall.runtimes import catalogue
from coinstall.runtimes.inventory import combine
from corpus import debian_mirror

CAT = catalogue.load()
RTS = combine([], CAT)


@pytest.fixture(scope="module")
def corpus(
    corpus_wheels: dict[str, Path], corpus_debs: dict[str, Path], corpus_rpms: list[Path]
) -> list[str]:
    """Every pinned wheel, .deb and RPM, debs and wheels interleaved with RPMs."""
    return sorted(str(p) for p in [*corpus_wheels.values(), *corpus_debs.values(), *corpus_rpms])


@pytest.fixture(scope="module")
def serial(corpus: list[str]) -> dict[str, str]:
    """The one-by-one engine's JSON, SARIF and text for the corpus."""
    res = check(corpus, RTS, CAT, Config())
    out = StringIO()
    text_report.render(res, Console(file=out, highlight=False, width=200))
    return {
        "json": json_report.dumps(res, None) + "\n",
        "sarif": sarif_report.dumps(res),
        "text": out.getvalue(),
        "status": str(res.exit_status),
    }


def _rts(paths: list[str]) -> list:  # type: ignore[type-arg]
    """The run's runtimes (the report's runtimes[]): foreign platforms' too, from wheel names."""
    return run_runtimes(paths, RTS, CAT)


def _settings(paths: list[str], **kw: object) -> Settings:
    cfg = Config()
    packages = sum(1 for p in paths if not os.path.isdir(p))
    return Settings(
        tuple(RTS), cfg, digests=packages > 1, set_index=bool(setrules.active(cfg)), **kw
    )  # type: ignore[arg-type]


def _outcomes(
    paths: list[str], settings: Settings, backend: runner.Backend, cache: ResultCache | None = None
) -> Iterator[Outcome]:
    targets = [runner.Target(p) for p in paths]
    out = runner.run(targets, settings, backend=backend, cache=cache)
    return with_set_findings(out, RTS, CAT, settings.config)


def test_pool_gives_the_serial_bytes(corpus: list[str], serial: dict[str, str]) -> None:
    """--jobs 2: JSON, SARIF and text byte-identical to the serial run, same order."""
    st = _settings(corpus)
    buf = StringIO()
    tally = write_json(_outcomes(corpus, st, runner.PoolBackend(st, 2)), buf, _rts(corpus), None)
    assert buf.getvalue() == serial["json"]
    assert str(tally.exit_status) == serial["status"]
    st = _settings(corpus, matrix=True)
    res = collect(_outcomes(corpus, st, runner.PoolBackend(st, 2)), _rts(corpus), base=RTS)
    assert sarif_report.dumps(res) == serial["sarif"]
    out = StringIO()
    text_report.render(res, Console(file=out, highlight=False, width=200))
    assert out.getvalue() == serial["text"]


def test_jsonl_holds_the_json_contract(corpus: list[str], serial: dict[str, str]) -> None:
    st = _settings(corpus)
    buf = StringIO()
    write_jsonl(_outcomes(corpus, st, runner.InlineBackend(st)), buf, _rts(corpus), None)
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    want = json.loads(serial["json"])
    assert lines[0] == {
        "header": {"schema_version": 1, "stack": None, "runtimes": want["runtimes"]}
    }
    assert [x["artifact"] for x in lines if "artifact" in x] == want["artifacts"]
    assert [x["error"] for x in lines if "error" in x] == want["errors"]
    assert lines[-1]["end"]["artifacts"] == len(want["artifacts"])


def test_cache_second_run_opens_no_archive(
    corpus: list[str], serial: dict[str, str], tmp_path: Path
) -> None:
    """Second run over unchanged files: same bytes, and not one target is opened (counted
    with a CPython audit hook on the ``open`` event, PEP 578)."""
    st = _settings(corpus, hash_files=True)
    opened: list[str] = []
    watching = set(corpus)

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event == "open" and args and str(args[0]) in watching:
            opened.append(str(args[0]))

    sys.addaudithook(hook)
    cache = ResultCache(tmp_path / "c.sqlite3")
    first = StringIO()
    write_json(_outcomes(corpus, st, runner.InlineBackend(st), cache), first, _rts(corpus), None)
    assert first.getvalue() == serial["json"]
    assert set(opened) == watching  # the first run did read them
    assert cache.stats()["results"] == len(corpus)
    opened.clear()
    second = StringIO()
    write_json(_outcomes(corpus, st, runner.InlineBackend(st), cache), second, _rts(corpus), None)
    watching.clear()
    assert opened == []
    assert cache.hits == len(corpus)
    assert second.getvalue() == serial["json"]
    cache.close()


def test_corrupt_package_in_the_middle_is_one_error_line(
    corpus_debs: dict[str, Path], tmp_path: Path
) -> None:
    debs = sorted(str(p) for p in corpus_debs.values())[:6]
    bad = tmp_path / "python3-broken_1.0_all.deb"
    data = Path(debs[0]).read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # cut in the middle of data.tar
    paths = [*debs[:3], str(bad), *debs[3:]]
    res = CliRunner().invoke(
        main, ["check", "--no-installed", "--no-cache", "--jobs", "2", "--format", "jsonl", *paths]
    )
    assert res.exit_code == 2, res.output
    lines = [json.loads(x) for x in res.output.splitlines()]
    errors = [x["error"] for x in lines if "error" in x]
    assert len(errors) == 1 and errors[0]["path"] == str(bad)
    assert errors[0]["message"].startswith("data.tar")
    assert [x["artifact"]["path"] for x in lines if "artifact" in x] == debs
    assert lines[-1]["end"] == {"artifacts": 6, "errors": 1, "exit_status": 2}


def test_time_limit_retried_once_then_reported(corpus_debs: dict[str, Path]) -> None:
    """numpy's .deb takes far more than 1 ms: two attempts, then its error line."""
    numpy = str(corpus_debs["python3-numpy"])
    six = str(corpus_debs["python3-six"])
    st = Settings(tuple(RTS), Config(), timeout=0.001)
    attempts: list[str] = []

    class Counting(runner.InlineBackend):
        def submit(self, i: int, path: str, sha256: str | None) -> None:
            attempts.append(path)
            super().submit(i, path, sha256)

    st_six = Settings(tuple(RTS), Config(), timeout=60)
    out = list(runner.run([runner.Target(numpy)], st, backend=Counting(st)))
    assert attempts == [numpy, numpy]
    assert out[0].artifact is None
    assert out[0].errors == ["timed out after 0.001 s (tried twice)"]
    ok = list(runner.run([runner.Target(six)], st_six, backend=runner.InlineBackend(st_six)))
    assert ok[0].artifact is not None and ok[0].errors == []


@pytest.mark.skipif(shutil.which("dpkg-scanpackages") is None, reason="needs dpkg-dev")
def test_repo_mirror_debian(corpus_debs: dict[str, Path], tmp_path: Path) -> None:
    """A Packages.xz made by dpkg-scanpackages over a pool; one listed package removed from
    the mirror is reported; --select-packages filters by name."""
    index, mirror, _ = debian_mirror(corpus_debs.values(), tmp_path)
    gone = mirror / "pool" / "main" / Path(corpus_debs["python3-six"]).name
    gone.unlink()
    listed = read_repo(str(index), str(tmp_path / "mirror"), "python3-*")
    names = {Path(t.path).name for t in listed.targets}
    assert all(n.startswith("python3-") for n in names)
    assert Path(corpus_debs["python3-yaml"]).name in names
    assert [p for p, _ in listed.absent] == [str(gone)]
    for t in listed.targets:  # the index's digests are the files'
        assert (
            t.sha256
            == subprocess.run(["sha256sum", t.path], capture_output=True, text=True).stdout.split()[
                0
            ]
        )
    res = CliRunner().invoke(
        main,
        [
            "check",
            "--no-installed",
            "--no-cache",
            "--format",
            "jsonl",
            "--repo",
            str(index),
            "--mirror",
            str(tmp_path / "mirror"),
            "--select-packages",
            "python3-*",
        ],
    )
    lines = [json.loads(x) for x in res.output.splitlines()]
    assert {Path(x["artifact"]["path"]).name for x in lines if "artifact" in x} == names
    errs = [x["error"] for x in lines if "error" in x]
    assert errs == [
        {
            "path": str(gone),
            "message": f"python3-six is listed in {index} but absent from the mirror",
        }
    ]


@pytest.mark.skipif(shutil.which("createrepo_c") is None, reason="needs createrepo_c")
def test_repo_mirror_rpm(corpus_rpms: list[Path], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for p in corpus_rpms:
        shutil.copy(p, repo / p.name)
    subprocess.run(["createrepo_c", "-q", str(repo)], check=True)
    listed = read_repo(str(repo / "repodata" / "repomd.xml"), str(repo))
    assert sorted(Path(t.path).name for t in listed.targets) == sorted(p.name for p in corpus_rpms)
    assert all(t.sha256 and len(t.sha256) == 64 for t in listed.targets)
    assert listed.absent == []


def test_pool_survives_a_killed_worker(corpus: list[str], serial: dict[str, str]) -> None:
    """SIGKILL one pool process mid-run: the pool is rebuilt, the tasks that were running are
    retried one at a time, and the output is still the serial run's."""
    import signal

    import psutil

    st = _settings(corpus)
    killed: list[int] = []

    def progress(done: int, total: int, cached: int) -> None:
        if done == 3 and not killed:
            servers = [
                p for p in psutil.Process().children() if "forkserver" in " ".join(p.cmdline())
            ]
            workers = [w for s in servers for w in s.children()]  # forked by the server
            assert workers
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)

    out = runner.run(
        [runner.Target(p) for p in corpus], st, backend=runner.PoolBackend(st, 2), progress=progress
    )
    buf = StringIO()
    tally = write_json(with_set_findings(out, RTS, CAT, st.config), buf, _rts(corpus), None)
    assert killed
    assert tally.errors == 0
    assert buf.getvalue() == serial["json"]


def test_cache_commands(
    tmp_path: Path, corpus_debs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COINSTALL_CACHE_DIR", str(tmp_path / "c"))
    debs = sorted(str(p) for p in corpus_debs.values())[:3]
    res = CliRunner().invoke(
        main, ["check", "--no-installed", "--format", "jsonl", "--jobs", "1", *debs]
    )
    assert res.exit_code in (0, 1)
    info = CliRunner().invoke(main, ["cache", "info"])
    assert "3 results, 3 file digests" in info.output
    clear = CliRunner().invoke(main, ["cache", "clear"])
    assert "removed 3 results and 3 file digests" in clear.output
    assert "0 results" in CliRunner().invoke(main, ["cache", "info"]).output


def test_fifo_among_targets_is_one_error_line_with_jobs(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """--jobs 2 with the result cache: a FIFO named like a wheel is refused, never opened (the
    worker once hashed each target before the engine's stat, and blocked on the FIFO)."""
    fifo = tmp_path / "x-1.0-py3-none-any.whl"
    os.mkfifo(fifo)
    good = str(next(iter(corpus_wheels.values())))
    env = {**os.environ, "COINSTALL_CACHE_DIR": str(tmp_path / "cache")}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "coinstall",
            "check",
            "--no-installed",
            "--jobs",
            "2",
            "--format",
            "json",
            str(fifo),
            good,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 2, r.stderr
    doc = json.loads(r.stdout)
    assert [a["path"] for a in doc["artifacts"]] == [good]
    assert [e["path"] for e in doc["errors"]] == [str(fifo)]
    assert "FIFO" in doc["errors"][0]["message"]
