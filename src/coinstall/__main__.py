"""``python -m coinstall`` and the ``coinstall`` console script (pyproject.toml
``[project.scripts]``: :func:`run`).

``coinstall --version`` is answered here, before click is imported: the version is
:data:`coinstall.__version__`, which the build writes into the package metadata, so it is the
metadata's version without importlib.metadata (which with click was most of a version query's
start-up: issue 22).  Every other command line is click's (:data:`coinstall.cli.main`).
"""

from __future__ import annotations

import os
import sys


def _prog_name() -> str | None:
    """The program name click prints (``click.utils._detect_program_name``, copied for POSIX:
    the script's base name, or ``python -m PACKAGE`` when run as a module); None where that
    function has more cases (Windows), so that click answers there."""
    if os.name == "nt":
        return None
    main = sys.modules.get("__main__")
    package = getattr(main, "__package__", None)
    path = sys.argv[0]
    if not package:
        return os.path.basename(path)
    name = os.path.splitext(os.path.basename(path))[0]
    module = package if name == "__main__" else f"{package}.{name}"
    return f"python -m {module.lstrip('.')}"


def run() -> None:
    """The command line: ``--version`` alone is answered here, anything else by click."""
    if sys.argv[1:] == ["--version"]:
        prog = _prog_name()
        if prog is not None:
            from coinstall import __version__

            # click.version_option's message, byte for byte
            sys.stdout.write(f"{prog}, version {__version__}\n")
            sys.stdout.flush()
            return
    from coinstall.cli import main

    main()


if __name__ == "__main__":
    run()
