"""RPM spec files for parallel Python stacks: read (packit's ``specfile`` + librpm through the
``rpm`` bindings), lint (rules of the catalogue in ``rules/spec_*.py``), port to another stack
layout (``alt``, ``epel``, ``suse``), and the stack macros every read uses (:mod:`.macros`).

Sources of the facts: Fedora python-rpm-macros (``macros.python-srpm``, ``macros.python3``,
``python.lua``), the EPEL 7 ``macros.python3_other`` (python-epel-rpm-macros), openSUSE
python-rpm-macros (``macros.lua``, ``flavor.in``, ``default-prjconf``); copies of the real files
are in ``tests/data/spec/macros/``.
"""
