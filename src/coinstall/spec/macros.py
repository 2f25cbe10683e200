"""Stack macros: the RPM macro file coinstall writes for a stack (``coinstall macros``) and loads
for every spec it reads, so a spec expands the same on any machine, with or without Fedora's,
EPEL's or openSUSE's macro packages.

The values come from coinstall's runtime catalogue (extension suffix, cache tag, multiarch
triplet of each version) and, when interpreters are given, from those interpreters themselves
(``sysconfig`` paths under the ``/usr`` prefix, the way Fedora's ``%python3_sitelib`` asks
``%__python3``).  Per-version values are looked up by a small Lua table keyed by the dotted
version, so a spec that sets ``%global python3_pkgversion 3.11`` (RHEL alternative stacks) or
``%global __python3 /usr/bin/python3.11`` reads that stack's values, like Fedora's memoized
macros do.

Sources, cited again in the written file:

* Fedora python-rpm-macros ``macros.python-srpm`` (``%python3_pkgversion``, ``%__python3``,
  ``%py3_dist``, ``%py_provides``, ``%pypi_source``), ``macros.python3`` (``%python3_sitelib``
  ... ``%python3_cache_tag``, ``%py3_shbang_opts`` = ``-s`` plus ``P`` on 3.11+,
  ``%py3_shebang_fix``, ``%pytest``), pyproject-rpm-macros (``%pyproject_wheel``,
  ``%pyproject_install``, ``%pyproject_save_files``, ``%pyproject_files``);
* EPEL 7 python-epel-rpm-macros ``macros.python3_other`` (``%__python3_other``,
  ``%python3_other_sitelib``, ``%py3_other_build``, ``%py3_other_install``) and
  ``macros.python-srpm`` of the EPEL 7 branch (``%python3_other_pkgversion``);
* openSUSE python-rpm-macros ``default-prjconf`` (``%pythons``, ``%primary_python``),
  ``flavor.in`` (``%__python3XY``, ``%python3XY_sitelib``, ``%python_bin_suffix``),
  ``macros.lua`` (``%python_module``, ``%python_expand``, ``%python_files``).

Macros coinstall adds that no distribution file has (named so, in the file): the ``_other``
forms of the pyproject macros (``%pyproject_other_wheel``, ``%pyproject_other_install``,
``%pyproject_other_save_files``, ``%pyproject_other_files``, ``%pytest_other``,
``%py3_other_dist``, ``%py3_other_shebang_fix``), which the EPEL layout of a pyproject spec
needs for its second stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jinja2

from coinstall.runtimes.catalogue import HOST_TRIPLET, Catalogue
from coinstall.runtimes.stack import Stack

#: The macro file's text (templates/macros.j2): RPM macros and Lua, byte for byte, with the
#: stack's values filled in.  Not HTML: nothing is escaped.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("coinstall.spec", "templates"),
    autoescape=False,
    trim_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)

#: The styles ``coinstall macros --style`` writes.  ``fedora``: the default stack owns
#: ``python3`` (``%python3_pkgversion 3``); ``alt``: one alternative stack
#: (``%python3_pkgversion 3.X``, RHEL 8-10); ``epel``: the default stack plus
#: ``%python3_other_pkgversion`` (EPEL 7's layout, generalised); ``suse``: openSUSE flavors.
STYLES = ("fedora", "alt", "epel", "suse")


class MacrosError(ValueError):
    """The macros cannot be written: an interpreter that does not run or reports another
    version than the stack names; ``str()`` is one line."""


@dataclass(frozen=True)
class VersionFacts:
    """What the macros need of one Python version.

    Attributes:
        version: ``"3.12"``.
        interpreter: the interpreter path the build runs (``/usr/bin/python3.12`` or pyenv's).
        sitelib, sitearch: ``sysconfig`` ``purelib``/``platlib`` under the ``/usr`` prefix.
        ext_suffix: ``EXT_SUFFIX`` (``.cpython-312-x86_64-linux-gnu.so``).
        cache_tag: ``sys.implementation.cache_tag``.
        triplet: the multiarch triplet.
        safe_path: whether the interpreter has ``-P`` (``sys.flags.safe_path``, 3.11+).
        source: ``"catalogue"`` or ``"probe"``.
    """

    version: str
    interpreter: str
    sitelib: str
    sitearch: str
    ext_suffix: str
    cache_tag: str
    triplet: str
    safe_path: bool
    source: str


def catalogue_facts(
    version: tuple[int, int], catalogue: Catalogue, libdir: str = "/usr/lib64"
) -> VersionFacts:
    """The facts of one version from the catalogue alone, in Fedora's install layout:
    ``/usr/lib/pythonX.Y/site-packages`` and ``<libdir>/pythonX.Y/site-packages``
    (``%_libdir``; Fedora ``python3.X.spec``, ``platlibdir`` = ``lib64`` on 64-bit).

    Raises:
        MacrosError: the catalogue does not know CPython ``version``.
    """
    v = f"{version[0]}.{version[1]}"
    rt = None
    for flags in ("", "m"):  # 3.3-3.7 release builds have the pymalloc flag m
        rt = rt or catalogue.predict(
            "cpython", version, flags, platform="linux", triplet=HOST_TRIPLET
        )
    if rt is None or not rt.extension_suffixes:
        raise MacrosError(f"the runtime catalogue does not know CPython {v}")
    return VersionFacts(
        version=v,
        interpreter=f"/usr/bin/python{v}",
        sitelib=f"/usr/lib/python{v}/site-packages",
        sitearch=f"{libdir}/python{v}/site-packages",
        ext_suffix=rt.extension_suffixes[0],
        cache_tag=rt.cache_tag or "",
        triplet=rt.multiarch or HOST_TRIPLET,
        safe_path=version >= (3, 11),
        source="catalogue",
    )


def probe_facts(version: tuple[int, int], interpreter: str) -> VersionFacts:
    """The facts of one version as a real interpreter reports them, the way Fedora's
    ``macros.python3`` asks ``%__python3`` at build time: the discovery probe's answer
    (:func:`coinstall.runtimes.discovery.probe`: its cache, else one run of the probe script
    through :func:`coinstall.runtimes.run.run_script`), so an interpreter ``coinstall
    runtimes`` or an earlier ``coinstall macros`` already asked is not started again.

    Raises:
        MacrosError: it does not run, it is not Python ``version``, or it cannot say its
            ``/usr`` layout.
    """
    from coinstall.runtimes import discovery  # only with --interpreter

    v = f"{version[0]}.{version[1]}"
    results, errors = discovery.probe([interpreter])
    if errors:
        raise MacrosError(f"{interpreter}: cannot ask it for its layout ({errors[0].message})")
    data = results[0].data
    got = ".".join(str(n) for n in data["version"])
    if got != v:
        raise MacrosError(f"{interpreter} is Python {got}, not {v}")
    if data["usr_purelib"] is None or data["usr_platlib"] is None:
        raise MacrosError(f"{interpreter}: cannot ask it for its layout (no sysconfig paths)")
    return VersionFacts(
        v,
        interpreter,
        data["usr_purelib"],
        data["usr_platlib"],
        data["ext_suffix"] or "",
        data["cache_tag"] or "",
        data["multiarch"] or HOST_TRIPLET,
        data["safe_path"],
        "probe",
    )


def stack_facts(
    stack: Stack, catalogue: Catalogue, interpreters: Mapping[str, str] | None = None
) -> list[VersionFacts]:
    """Facts for every version of ``stack`` (default first): probed where ``interpreters``
    maps the dotted version to a path, else from the catalogue.

    Raises:
        MacrosError: an unknown version or a bad interpreter.
    """
    out = []
    for ver in stack.versions:
        key = f"{ver[0]}.{ver[1]}"
        path = (interpreters or {}).get(key)
        out.append(probe_facts(ver, path) if path else catalogue_facts(ver, catalogue))
    return out


def _lua_table(facts: Sequence[VersionFacts]) -> str:
    rows = []
    for f in facts:
        rows.append(
            f'["{f.version}"]={{py="{f.interpreter}",sitelib="{f.sitelib}",'
            f'sitearch="{f.sitearch}",ext="{f.ext_suffix}",tag="{f.cache_tag}",'
            f'triplet="{f.triplet}",P="{"P" if f.safe_path else ""}"}}'
        )
    return "{" + ",".join(rows) + "}"


def _flavor(version: str) -> str:
    return "python" + version.replace(".", "")


def render(stack: Stack, style: str, facts: Sequence[VersionFacts]) -> str:
    """The macro file text for ``stack`` in ``style`` (one of :data:`STYLES`), rendered from
    ``spec/templates/macros.j2`` (the file's RPM macros and Lua; this function checks the
    stack and computes the values the template fills in).

    ``facts`` are :func:`stack_facts` of the same stack.  The file defines the macros of every
    style (so any spec reads), with the values of the chosen style:

    * ``fedora``: ``%python3_pkgversion 3``, the default owns ``python3-foo``;
    * ``alt``: ``%python3_pkgversion`` = the default version (``3.12``), ``python3.12-foo``;
    * ``epel``: ``alt`` plus ``%python3_other_pkgversion`` = the first other version and
      ``%with_python3_other 1``;
    * ``suse``: ``%pythons`` lists every version's flavor, ``%primary_python`` the default.

    Raises:
        MacrosError: ``style`` unknown, the stack has no default, or ``epel`` without another
            version.
    """
    if style not in STYLES:
        raise MacrosError(f"unknown style {style!r} (expected {', '.join(STYLES)})")
    if stack.default is None or not facts:
        raise MacrosError("the stack names no default version (default=3.X)")
    default = facts[0]
    others = list(facts[1:])
    if style == "epel" and not others:
        raise MacrosError("the epel style needs another stack (other=3.X)")
    if style == "epel" and len(others) > 1:
        # EPEL 7 macros.python-srpm: one %python3_other_pkgversion
        raise MacrosError(
            f"the epel style has one other stack (%python3_other_pkgversion); {stack} names "
            f"{len(others)}: write one macro file per other stack"
        )
    other = others[0] if others else None

    # EPEL spells the version without a dot (EPEL 7 macros.python-srpm: 36 and 34; EPEL 8
    # wiki EPEL/Python3X: 38), so `0%{?python3_other_pkgversion}` is a number in %if; RHEL
    # 8-10 alternative stacks spell it with one (3.11, RHEL "Packaging Python 3 RPMs")
    def spelled(f: VersionFacts) -> str:
        return f.version.replace(".", "") if style == "epel" else f.version

    return _TEMPLATES.get_template("macros.j2").render(
        style=style,
        stack=str(stack),
        facts=list(facts),
        default=default,
        other=other,
        others=others,
        pkgversion="3" if style == "fedora" else spelled(default),
        table=_lua_table(facts),
        spelled=spelled,
        flavor=_flavor,
    )


def absent_interpreters(facts: Sequence[VersionFacts]) -> list[str]:
    """The interpreter paths the macro file names that do not exist on this machine (the
    catalogue's ``/usr/bin/pythonX.Y`` where no such Python is installed): rpmbuild with
    the file runs them, so the build would fail with "command not found"."""
    return [f.interpreter for f in facts if not os.path.exists(f.interpreter)]
