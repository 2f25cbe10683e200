"""``coinstall check --scheduler`` as users run it: a ``dask scheduler`` process and a ``dask
worker`` process (a nanny and two single-threaded worker processes), both on 127.0.0.1 at free
ports, and ``coinstall`` itself as a separate process.  Its JSON equals the ``--jobs 1`` run's byte
for byte; a worker killed (SIGKILL) while it runs a task is survived (the scheduler reschedules the
task, the nanny restarts the worker); a time limit in a worker thread is enforced and retried once.

An earlier version of this file ran the command in-process (click's CliRunner) while the test's
own ``Client`` was the process's default client; that hid a failure every real user met
(``DaskBackend`` asked for a default client that a command-line run does not have: exit 2, "No
clients found")."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coinstall.archive import runner
from coinstall.archive.worker import Settings
from coinstall.config import Config
from coinstall.runtimes import catalogue
from coinstall.runtimes.inventory import combine

distributed = pytest.importorskip("distributed")

CAT = catalogue.load()
RTS = combine([], CAT)
BIN = Path(sys.executable).parent
LIFETIME = 900  # seconds: `timeout` ends the cluster even if teardown never runs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            ["timeout", "-s", "KILL", str(LIFETIME), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # `timeout` and everything it started
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a ``dask scheduler`` with one ``dask worker`` (two processes)."""
    logs = tmp_path_factory.mktemp("dask")
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    procs = [
        _start(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                "127.0.0.1:0",
                "--no-show",
            ],
            logs / "scheduler.log",
        )
    ]
    try:
        procs.append(
            _start(
                [
                    str(BIN / "dask"),
                    "worker",
                    addr,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
                logs / "worker.log",
            )
        )
        with distributed.Client(addr, timeout=60, set_as_default=False) as cl:
            cl.wait_for_workers(2, timeout=120)
        yield addr
    finally:
        for p in reversed(procs):
            _stop(p)


@pytest.fixture(scope="module")
def client(address: str) -> Iterator[distributed.Client]:
    """The test's own view of the cluster (never the coinstall process's)."""
    with distributed.Client(address, timeout=60, set_as_default=False) as cl:
        yield cl


@pytest.fixture(scope="module")
def corpus(
    corpus_wheels: dict[str, Path], corpus_debs: dict[str, Path], corpus_rpms: list[Path]
) -> list[str]:
    return sorted(str(p) for p in [*corpus_wheels.values(), *corpus_debs.values(), *corpus_rpms])


def _coinstall(*args: str) -> list[str]:
    return [
        str(BIN / "coinstall"),
        "check",
        "--no-installed",
        "--no-cache",
        "--format",
        "json",
        *args,
    ]


@pytest.fixture(scope="module")
def serial(corpus: list[str]) -> str:
    res = subprocess.run(
        _coinstall("--jobs", "1", *corpus), capture_output=True, text=True, timeout=600
    )
    assert res.returncode in (0, 1), res.stderr[-3000:]
    return res.stdout


def test_cluster_gives_the_serial_bytes(address: str, corpus: list[str], serial: str) -> None:
    """`coinstall check --scheduler tcp://...` from the command line, as a user runs it."""
    res = subprocess.run(
        _coinstall("--scheduler", address, *corpus), capture_output=True, text=True, timeout=600
    )
    assert res.returncode in (0, 1), res.stderr[-3000:]
    assert res.stderr == ""
    assert len(serial) > 100_000
    assert res.stdout == serial


def test_worker_killed_mid_run(
    address: str, client: distributed.Client, corpus: list[str], serial: str, tmp_path: Path
) -> None:
    pids = client.run(os.getpid)  # worker address -> pid
    assert len(pids) == 2
    # output to files, not pipes: the JSON's header alone fills a pipe nobody reads while polling
    with (tmp_path / "out").open("w") as out_f, (tmp_path / "err").open("w") as err_f:
        proc = subprocess.Popen(
            _coinstall("--scheduler", address, *corpus), stdout=out_f, stderr=err_f, text=True
        )
    killed: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while not killed and proc.poll() is None and time.monotonic() < deadline:
            # kill a worker while it runs one of this run's tasks
            for addr, keys in client.processing().items():
                if addr in pids and any(str(k).startswith("coinstall-check-") for k in keys):
                    os.kill(pids[addr], signal.SIGKILL)
                    killed.append(pids[addr])
                    break
            time.sleep(0.05)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = (tmp_path / "out").read_text(), (tmp_path / "err").read_text()
    assert len(killed) == 1, "the run ended before a worker could be killed"
    assert proc.returncode in (0, 1), err[-3000:] + out[-3000:]  # errors are in the JSON
    assert out == serial
    client.wait_for_workers(2, timeout=120)  # the nanny restarted it
    assert killed[0] not in client.run(os.getpid).values()


def test_time_limit_in_a_worker_thread(
    client: distributed.Client, corpus_debs: dict[str, Path]
) -> None:
    """Dask runs tasks in threads: the limit is an asynchronous exception there."""
    from coinstall.archive.dask_backend import DaskBackend

    numpy = str(corpus_debs["python3-numpy"])
    st = Settings(tuple(RTS), Config(), timeout=0.001)
    out = list(runner.run([runner.Target(numpy)], st, backend=DaskBackend(client, st)))
    assert out[0].artifact is None
    assert out[0].errors == ["timed out after 0.001 s (tried twice)"]
