"""Run a short script of coinstall's in a target interpreter: the one way every module does it.

Runtime discovery (the probe), the spec macros' layout query, the shared site's query, its
byte-compilation and import check, the ``bytecode-stale`` rule's source hashes and the bytecode
fixer's recompilation all start a real interpreter of a runtime with a script coinstall wrote
(nothing from the package under analysis is run: the scripts read their work from stdin and
answer on stdout).  They all go through :func:`run_script`, so they share:

* the options: ``-E`` (no ``PYTHON*`` variable is read), ``-s`` (no user site-packages, unless
  ``user_site``), ``-S`` (no ``site`` import, unless ``site``) and ``-B`` (no bytecode written
  as a side effect; ``py_compile.compile`` still writes what it is asked to).  Not ``-I``:
  CPython 2.7 and 3.0-3.3 reject it (``Modules/main.c``).  Instead, the ``''`` entry ``-c`` puts
  first on ``sys.path`` (CPython ``Modules/main.c``, ``pymain_run_python``) is left harmless by
  running in ``/`` and removed by a one-line prologue before the script runs, which is what
  ``-I`` (which implies ``-P``, ``sys.flags.safe_path``, from 3.11) does for a ``-c`` command;
* an environment without ``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONSTARTUP`` and any other
  ``PYTHON*`` variable, plus whatever the caller names in ``unset``;
* a timeout, after which the process is killed;
* bounded output: stdout and stderr are read as they come, and a process that writes more than
  ``max_output`` bytes is killed (memory never grows with what a script prints);
* one error type, :class:`RunError`, whose ``str()`` is one line.

Imports nothing of coinstall's.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

#: Seconds a script may run when the caller does not say.
DEFAULT_TIMEOUT = 60.0
#: Bytes of stdout (and, separately, of stderr) read before the process is killed.
DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024
#: Removes the ``''`` entry of ``-c`` from ``sys.path`` before the caller's script runs.
PROLOGUE = "import sys; sys.path[:] = [p for p in sys.path if p]; del sys\n"

_CHUNK = 65536


class RunError(Exception):
    """A script could not be run to the end in an interpreter.

    Attributes:
        interpreter: the executable as given.
        reason: one line, without the interpreter (``timed out after 20 s``, ``cannot run:
            No such file or directory``, ``exited 1: SyntaxError: ...``).

    ``str()`` is ``"<interpreter>: <reason>"``.
    """

    def __init__(self, interpreter: str, reason: str) -> None:
        super().__init__(f"{interpreter}: {reason}")
        self.interpreter = interpreter
        self.reason = reason


@dataclass(frozen=True)
class RunResult:
    """What a script wrote: ``returncode``, ``stdout`` and ``stderr`` (bytes, each at most the
    ``max_output`` of the call)."""

    returncode: int
    stdout: bytes
    stderr: bytes

    def text(self) -> str:
        """stdout decoded as UTF-8 (undecodable bytes replaced)."""
        return self.stdout.decode("utf-8", "replace")

    def last_line(self) -> str:
        """The last non-blank line of stdout, stripped; ``""`` if there is none."""
        return last_line(self.stdout)

    def error_tail(self) -> str:
        """The last non-blank line of stderr (else of stdout), at most 300 characters, else
        ``"no output"``: what to show a user when the script failed."""
        return (last_line(self.stderr) or last_line(self.stdout))[:300] or "no output"


def last_line(data: bytes) -> str:
    """The last non-blank line of ``data`` (UTF-8, undecodable bytes replaced), stripped."""
    for line in reversed(data.decode("utf-8", "replace").splitlines()):
        if line.strip():
            return line.strip()
    return ""


def interpreter_flags(*, site: bool = False, user_site: bool = False) -> list[str]:
    """The options :func:`run_script` gives the interpreter (see the module docs)."""
    flags = ["-E"]
    if not user_site:
        flags.append("-s")
    if not site:
        flags.append("-S")
    flags.append("-B")
    return flags


def script_env(unset: Sequence[str] = ()) -> dict[str, str]:
    """This process's environment without any ``PYTHON*`` variable and without ``unset``."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k not in unset}


def run_script(
    interpreter: str,
    source: str,
    *,
    stdin: str | bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    site: bool = False,
    user_site: bool = False,
    safe_path: bool = True,
    unset: Sequence[str] = (),
    max_output: int = DEFAULT_MAX_OUTPUT,
    check: bool = True,
) -> RunResult:
    """Run ``source`` (Python text, given with ``-c`` after :data:`PROLOGUE`) in
    ``interpreter``, in the directory ``/``, with the options of :func:`interpreter_flags`
    and the environment of :func:`script_env`.

    Args:
        interpreter: the executable (not resolved: a virtual environment's ``bin/python``
            stays the environment's).
        source: the script; it must run on every interpreter it is given to.
        stdin: written to the script's stdin (str as UTF-8); None: stdin is ``/dev/null``.
        timeout: seconds (wall clock) before the process is killed.
        site: import ``site`` (the interpreter's own ``.pth`` files and site-packages).
        user_site: also the user's site-packages (``site.ENABLE_USER_SITE``).
        safe_path: run :data:`PROLOGUE` first (False: ``sys.path`` keeps the ``''`` entry a
            user's ``python -c`` has, for a script that reports ``sys.path``).
        unset: more environment variables to remove (``SOURCE_DATE_EPOCH``).
        max_output: bytes of stdout, and of stderr, after which the process is killed.
        check: a non-zero exit status raises :class:`RunError`.

    Returns:
        :class:`RunResult`.

    Raises:
        RunError: the interpreter cannot be started, it timed out, wrote more than
            ``max_output`` bytes, or (``check``) exited with a non-zero status.
    """
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    argv = [
        interpreter,
        *interpreter_flags(site=site, user_site=user_site),
        "-c",
        PROLOGUE + source if safe_path else source,
    ]
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=os.path.abspath(os.sep),
            env=script_env(unset),
        )
    except OSError as exc:
        raise RunError(interpreter, f"cannot run: {exc.strerror or exc}") from None
    try:
        out, err = _communicate(proc, data, timeout, max_output, interpreter)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    result = RunResult(proc.returncode, out, err)
    if check and proc.returncode != 0:
        raise RunError(interpreter, f"exited {proc.returncode}: {result.error_tail()}")
    return result


def _communicate(
    proc: subprocess.Popen[bytes],
    data: bytes | None,
    timeout: float,
    max_output: int,
    interpreter: str,
) -> tuple[bytes, bytes]:
    """``Popen.communicate`` with a cap on what is kept (glue: the standard library's reads
    everything into memory)."""
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + timeout
    chunks: dict[int, list[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    sizes = dict.fromkeys(chunks, 0)
    view = memoryview(data or b"")
    offset = 0
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        if proc.stdin is not None:
            if view:
                os.set_blocking(proc.stdin.fileno(), False)
                sel.register(proc.stdin, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise RunError(interpreter, f"timed out after {timeout:g} s")
            for key, _ in sel.select(left):
                fd = key.fd
                if proc.stdin is not None and key.fileobj is proc.stdin:
                    try:
                        offset += os.write(fd, view[offset : offset + _CHUNK])
                    except BrokenPipeError:
                        offset = len(view)
                    except BlockingIOError:
                        continue
                    if offset >= len(view):
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                sizes[fd] += len(chunk)
                if sizes[fd] > max_output:
                    raise RunError(interpreter, f"wrote more than {max_output} bytes")
                chunks[fd].append(chunk)
    left = deadline - time.monotonic()
    try:
        proc.wait(max(left, 0.001))
    except subprocess.TimeoutExpired:
        raise RunError(interpreter, f"timed out after {timeout:g} s") from None
    return (b"".join(chunks[proc.stdout.fileno()]), b"".join(chunks[proc.stderr.fileno()]))
