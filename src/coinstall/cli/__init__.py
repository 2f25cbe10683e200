"""The command line: one module per command group, all registered on :data:`main`.

``runtimes`` (cli/runtimes.py); ``check``, ``rules``, ``explain`` (cli/check.py); ``plan``
(cli/plan.py); ``share`` (cli/share.py); ``spec``, ``macros`` (cli/spec.py).
"""

from coinstall.cli import check, plan, runtimes, share, spec  # noqa: F401  (registers commands)
from coinstall.cli._common import main

__all__ = ["main"]
