"""``coinstall fix``: repairs declared by the rules (``fixer`` in their data), one
engine (:mod:`coinstall.fix.engine`), per-area fixers (:mod:`~coinstall.fix.shebang`,
:mod:`~coinstall.fix.entry_points`, :mod:`~coinstall.fix.extensions`,
:mod:`~coinstall.fix.bytecode`)."""
