"""The command line: one module per command group, all registered on :data:`main`.

``runtimes`` (cli/runtimes.py); ``check``, ``rules``, ``explain`` (cli/check.py); ``plan``
(cli/plan.py); ``share`` (cli/share.py).
"""

from coinstall.cli import check, plan, runtimes, share  # noqa: F401  (registers the commands)
from coinstall.cli._common import main

__all__ = ["main"]
