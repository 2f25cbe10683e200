"""``coinstall check --scheduler``: a real Dask LocalCluster of two worker processes over TCP on
loopback checks the pinned corpus and gives the serial run's JSON byte for byte; a worker
killed mid-run is survived (the scheduler reschedules its tasks); a time limit in a worker
thread is enforced and retried once."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner

from coinstall.archive import runner, setrules
from coinstall.archive.output import with_set_findings, write_json
from coinstall.archive.worker import Settings
from coinstall.check import check, run_runtimes
from coinstall.cli import main
from coinstall.config import Config
from coinstall.report import json as json_report
from coinstall.runtimes import catalogue
from coinstall.runtimes.inventory import combine

distributed = pytest.importorskip("distributed")

CAT = catalogue.load()
RTS = combine([], CAT)


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       protocol="tcp", host="127.0.0.1",
                                       dashboard_address=None, silence_logs=40)
    cl = distributed.Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()


@pytest.fixture(scope="module")
def corpus(corpus_wheels: dict[str, Path], corpus_debs: dict[str, Path],
           corpus_rpms: list[Path]) -> list[str]:
    return sorted(str(p) for p in [*corpus_wheels.values(), *corpus_debs.values(),
                                   *corpus_rpms])


@pytest.fixture(scope="module")
def serial(corpus: list[str]) -> str:
    return json_report.dumps(check(corpus, RTS, CAT, Config()), None) + "\n"


def test_cluster_gives_the_serial_bytes(client: distributed.Client, corpus: list[str],
                                        serial: str) -> None:
    """Through the command line, as a user runs it against a scheduler address."""
    addr = client.scheduler.address
    assert addr.startswith("tcp://127.0.0.1:")
    res = CliRunner().invoke(main, ["check", "--no-installed", "--no-cache", "--format", "json",
                                    "--scheduler", addr, *corpus])
    assert res.exit_code in (0, 1), res.output[-3000:]
    assert res.output == serial


def test_worker_killed_mid_run(client: distributed.Client, corpus: list[str],
                               serial: str) -> None:
    before = client.run(os.getpid)
    assert len(before) == 2
    victim = sorted(before.values())[0]
    killed: list[int] = []

    def progress(done: int, total: int, cached: int) -> None:
        if done == 2 and not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    from coinstall.archive.dask_backend import DaskBackend

    cfg = Config()
    st = Settings(tuple(RTS), cfg, digests=True, set_index=bool(setrules.active(cfg)))
    out = runner.run([runner.Target(p) for p in corpus], st, backend=DaskBackend(client, st),
                     progress=progress)
    buf = StringIO()
    tally = write_json(with_set_findings(out, RTS, CAT, cfg), buf, run_runtimes(corpus, RTS, CAT),
                       None)
    assert killed == [victim]
    assert tally.errors == 0
    assert buf.getvalue() == serial
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert victim not in client.run(os.getpid).values()


def test_time_limit_in_a_worker_thread(client: distributed.Client,
                                       corpus_debs: dict[str, Path]) -> None:
    """Dask runs tasks in threads: the limit is an asynchronous exception there."""
    from coinstall.archive.dask_backend import DaskBackend

    numpy = str(corpus_debs["python3-numpy"])
    st = Settings(tuple(RTS), Config(), timeout=0.001)
    out = list(runner.run([runner.Target(numpy)], st, backend=DaskBackend(client, st)))
    assert out[0].artifact is None
    assert out[0].errors == ["timed out after 0.001 s (tried twice)"]
