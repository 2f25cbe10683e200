"""What the librpm coinstall reads specs with lacks of what real specs use, and the stand-ins
that let such a spec be read.

coinstall parses specs with the ``rpm`` bindings of the machine (Debian 12: rpm 4.18.0).
Fedora rawhide specs use newer rpm and Fedora's own build configuration; without these
stand-ins 40 of 200 rawhide ``python-*.spec`` files (every 12th of
major/fedora-rpm-specs 10e71f1, 2026-08-22) were "unreadable":

* rpm 4.20's declarative builds (rpm ``docs/manual/buildsystem.md``): the preamble tags
  ``BuildSystem:`` and ``BuildOption(<section>):`` (16 of the 40: "Unknown tag:
  BuildSystem"). :func:`for_librpm` comments them out, one line for one line, so the rest of
  the spec is read; the sections rpm 4.20 would generate from ``%buildsystem_<name>_<section>``
  are not synthesised (rules see the sections the spec writes).
* Fedora's forge macros (redhat-rpm-config ``macros.forge``: ``%forgemeta``,
  ``%forgesource``, ``%forgesetup``, ``%forgeautosetup``; 15 of the 40: "Unknown tag:
  %forgemeta"): :data:`READING_MACROS` defines inert stand-ins.  They compute nothing of
  what the real Lua computes (archive names, ``%{distprefix}``); the stack rules read none
  of it.
* rpm 4.19's string macros ``%{sub}``, ``%{len}``, ``%{upper}``, ``%{lower}``,
  ``%{reverse}``, ``%{rep}`` (rpm-macros(7), "String operations": Lua's ``string`` functions
  as macros; 2 of the 40, in ``Release:``, where specfile's sanitizer writes the
  ``%(c=%{commit}; echo ${c:0:7})`` short-commit idiom as ``%{sub %{commit} 1 7}``): defined
  with the same meaning in rpm's Lua (``string.*``, which the parse worker keeps).

A spec's own definition of any of these names wins (the stand-ins are loaded before the
stack macros and the spec).  Nothing here runs a program: the worker's sandbox stays as it is.
"""

from __future__ import annotations

import re

#: rpm 4.20 declarative-build tags (rpm ``build/parsePreamble.c``: ``RPMTAG_BUILDSYSTEM``,
#: ``RPMTAG_BUILDOPTION``), as a line of a preamble writes them.
#: Also inside a conditional expansion (``%{!?with_bootstrap:BuildOption(...): ...}``,
#: Fedora's python-sphinx-theme-builder).
_DECLARATIVE = re.compile(
    r"^[ \t]*(?:%\{!?\??\w+:)?(?:BuildSystem|BuildOption(?:\([^)]*\))?)[ \t]*:", re.I | re.M
)

#: Loaded into the parse worker's librpm before the stack macros (see the module docstring).
READING_MACROS = "\n".join(
    [
        # Fedora redhat-rpm-config macros.forge: option letters as the real macros take them
        "%forgemeta(z:isva) %{nil}",
        "%forgesource %{?forgeurl}%{!?forgeurl:https://forge.invalid/%{name}}/archive/"
        "%{name}-%{version}.tar.gz",
        "%forgesetup(z:va) %setup -q",
        "%forgeautosetup(z:vNS:p:) %autosetup -p1",
        # rpm 4.19 string macros (rpmio/macro.c doFoo in 4.19), 1-based like string.sub
        '%sub() %{lua: local s = rpm.expand("%1") local i = tonumber(rpm.expand("%2")) or 1 '
        'local j = tonumber(rpm.expand("%3")) or -1 print(string.sub(s, i, j))}',
        '%len() %{lua: print(string.len(rpm.expand("%*")))}',
        '%upper() %{lua: print(string.upper(rpm.expand("%*")))}',
        '%lower() %{lua: print(string.lower(rpm.expand("%*")))}',
        '%reverse() %{lua: print(string.reverse(rpm.expand("%*")))}',
        '%rep() %{lua: print(string.rep(rpm.expand("%1"), tonumber(rpm.expand("%2")) or 0))}',
        "",
    ]
)


def for_librpm(text: str) -> str:
    """``text`` with rpm 4.20's ``BuildSystem:``/``BuildOption(...):`` lines commented out
    (``#`` in front; the same number of lines), for a librpm older than 4.20."""
    return _DECLARATIVE.sub(lambda m: "#" + m.group(0), text)


def declarative_lines(lines: list[str]) -> list[int]:
    """The 1-based numbers of the lines that declare rpm 4.20's build system
    (``BuildSystem:``/``BuildOption``): a port to a distribution whose rpm is older (EPEL
    9: 4.16, EPEL 10: 4.19) must write the sections instead, and one to openSUSE (whose
    python-rpm-macros ``macros/060-buildsystem`` define ``%buildsystem_pyproject_*`` with
    other arguments than Fedora's pyproject-rpm-macros) must rewrite the options."""
    return [n for n, t in enumerate(lines, 1) if _DECLARATIVE.match(t)]
