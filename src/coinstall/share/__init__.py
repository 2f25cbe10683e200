"""``coinstall share``: one shared site directory for many runtimes.

A distribution every target runtime can use (pure Python, or stable ABI with a baseline at most
the lowest target) is installed once into a shared directory that a ``.pth`` hook puts on each
runtime's ``sys.path`` after its own site-packages; each runtime compiles its own bytecode
into ``__pycache__`` beside the sources (PEP 3147).

* :mod:`coinstall.share.site` -- the shared site: targets, hooks, record database, lock,
  transactions (journal, recovery).
* :mod:`coinstall.share.resolve` -- pip interplay: what each runtime's pip would install.
* :mod:`coinstall.share.install` -- acceptance verdicts, installer destination, bytecode,
  install/remove/verify.

This package knows no screen; ``report/share_text.py`` renders its results.
"""
