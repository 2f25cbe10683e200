"""Scripts: the shebang line.

Sources: execve(2) (``#!interpreter [optional-arg]``; Linux reads at most 256 bytes since 5.1);
PEP 394 (``python``, ``python2``, ``python3`` commands); dh-python ``SHEBANG_RE`` (Debian,
``interpreter.py``); the wheel specification (``#!python`` is rewritten by installers).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

from coinstall.runtimes.model import Runtime

_NAME_RE = re.compile(
    r"^(?P<impl>python|pypy)(?P<version>\d+(?:\.\d+)?)?(?P<flags>[dtmu]*)(?P<dbg>-dbg)?w?$"
)


@dataclass(frozen=True)
class Shebang:
    """A parsed ``#!`` line naming a Python interpreter.

    Attributes:
        raw: the line without ``#!`` and surrounding spaces.
        interpreter: the program the kernel runs (``/usr/bin/env`` or ``/usr/bin/python3.11``).
        command: the Python command named (``python3.11``), after ``env`` if ``env`` is used.
        implementation: ``"python"`` or ``"pypy"``.
        version: ``"3"``, ``"3.11"`` or None when unversioned.
        flags: ABI-flag letters in the name (``d`` in ``python3.11d``); ``-dbg`` counts as ``d``.
        env: True if run through ``env``.
        options: the rest of the line (``-u``, ``-Es``).
        cr: the line ends in a carriage return (a CRLF file).  The kernel reads the line up
            to the newline and strips only spaces and tabs (Linux ``fs/binfmt_script.c``), so
            the ``\r`` is part of the last word: ``#!/usr/bin/python3\r`` runs
            ``/usr/bin/python3\r``, ``#!/usr/bin/env python3\r`` asks env for ``python3\r``;
            neither exists.  The other fields are parsed without it (it is still a script
            meant for Python).
    """

    raw: str
    interpreter: str
    command: str
    implementation: str
    version: str | None
    flags: str
    env: bool
    options: str
    cr: bool = False

    @property
    def unversioned(self) -> bool:
        """True for ``python``/``pypy`` with no version (PEP 394 leaves it undefined)."""
        return self.version is None


def parse_shebang(head: bytes) -> Shebang | None:
    """Parse the first line of a file; None if it is not a shebang naming Python or PyPy.

    ``#!python`` (wheel scripts before installation) parses with interpreter ``python``.
    """
    if not head.startswith(b"#!"):
        return None
    first = head[2:].split(b"\n", 1)[0].rstrip(b" \t")  # what binfmt_script strips
    cr = first.endswith(b"\r")
    line = first.rstrip(b"\r").decode("utf-8", "replace").strip()
    if not line:
        return None
    parts = line.split(None, 1)
    interpreter = parts[0]
    rest = parts[1] if len(parts) > 1 else ""
    command_path = interpreter
    env = interpreter.rsplit("/", 1)[-1] == "env"
    if env:
        args = rest.split()
        while args and args[0].startswith("-"):  # env -S, env -i
            args.pop(0)
        if not args:
            return None
        command_path = args[0]
        rest = " ".join(args[1:])
    command = command_path.rsplit("/", 1)[-1]
    m = _NAME_RE.match(command)
    if not m:
        return None
    flags = m["flags"] + ("d" if m["dbg"] else "")
    return Shebang(line, interpreter, command, m["impl"], m["version"], flags, env, rest, cr)


@functools.cache
def _resolve(shebang_interpreter: str, command: str, env: bool) -> str | None:
    """The real path the shebang starts on this machine (looked up, never run), or None."""
    import shutil  # bz2, lzma, fnmatch: only a /usr/bin/env shebang needs which()

    path = shutil.which(command) if env else shebang_interpreter
    if path and os.path.isfile(path):
        return os.path.realpath(path)
    return None


def runs_on(shebang: Shebang, runtime: Runtime) -> str | None:
    """Whether the command a shebang names can be ``runtime``: None if so, else the reason.

    Installed runtimes answer from the command names found on the machine
    (:attr:`Runtime.commands`); catalogue runtimes from the conventional names:
    ``pythonX.Y[flags]``, ``pythonX`` and ``python`` for release builds, ``pypyX[.Y]`` and
    ``pypy`` for PyPy.  ``#!python`` (a wheel script) is rewritten by the installer for the
    installing runtime, so every runtime can run it.  For an installed runtime, a shebang
    whose interpreter exists on this machine (``/usr/bin/python3``, or ``env python3`` on
    ``PATH``) names exactly the runtime it resolves to.
    """
    if shebang.interpreter == "python" and not shebang.env:
        return None  # installers replace the whole first line, its \r included
    if shebang.cr:
        last = (
            shebang.command
            if shebang.env and not shebang.options
            else (shebang.options.split()[-1] if shebang.options else shebang.interpreter)
        )
        return (
            f"the shebang line ends in a carriage return (CRLF): the kernel looks for "
            f"{last!r} + '\\r', which does not exist"
        )
    impl = "pypy" if runtime.implementation == "pypy" else "python"
    if runtime.installed and runtime.executable:
        target = _resolve(shebang.interpreter, shebang.command, shebang.env)
        if target is not None:
            if target == os.path.realpath(runtime.executable):
                return None
            return f"{shebang.raw} starts {target} here, not {runtime.id}"
    if runtime.installed and runtime.commands:
        if shebang.command in runtime.commands:
            return None
        return f"{runtime.id} is not started by {shebang.command}"
    if impl != shebang.implementation:
        return f"{shebang.command} does not start {runtime.implementation}"
    v = shebang.version
    if v is not None:
        want = v.split(".")
        have = [str(runtime.version[0]), str(runtime.version[1])]
        if want != have[: len(want)]:
            return f"{shebang.command} does not start {runtime.id}"
    want_flags = set(shebang.flags) - {"m", "u"}
    have_flags = set(runtime.abiflags) - {"m", "u"}
    if want_flags != have_flags:
        return f"{shebang.command} does not start {runtime.id}"
    return None
