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

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coinstall.runtimes.catalogue import HOST_TRIPLET, Catalogue
from coinstall.runtimes.stack import Stack

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


_PROBE = (
    "import json, sys, sysconfig\n"
    "v = {'platbase': '/usr', 'base': '/usr', 'installed_base': '/usr',"
    " 'installed_platbase': '/usr'}\n"
    "print(json.dumps({'version': '%d.%d' % sys.version_info[:2],"
    " 'sitelib': sysconfig.get_path('purelib', 'posix_prefix', vars=v),"
    " 'sitearch': sysconfig.get_path('platlib', 'posix_prefix', vars=v),"
    " 'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX'),"
    " 'cache_tag': sys.implementation.cache_tag,"
    " 'triplet': sysconfig.get_config_var('MULTIARCH') or '',"
    " 'safe_path': hasattr(sys.flags, 'safe_path')}))\n"
)


def catalogue_facts(version: tuple[int, int], catalogue: Catalogue,
                    libdir: str = "/usr/lib64") -> VersionFacts:
    """The facts of one version from the catalogue alone, in Fedora's install layout:
    ``/usr/lib/pythonX.Y/site-packages`` and ``<libdir>/pythonX.Y/site-packages``
    (``%_libdir``; Fedora ``python3.X.spec``, ``platlibdir`` = ``lib64`` on 64-bit).

    Raises:
        MacrosError: the catalogue does not know CPython ``version``.
    """
    v = f"{version[0]}.{version[1]}"
    rt = None
    for flags in ("", "m"):  # 3.3-3.7 release builds have the pymalloc flag m
        rt = rt or catalogue.predict("cpython", version, flags, platform="linux",
                                     triplet=HOST_TRIPLET)
    if rt is None or not rt.extension_suffixes:
        raise MacrosError(f"the runtime catalogue does not know CPython {v}")
    return VersionFacts(
        version=v, interpreter=f"/usr/bin/python{v}",
        sitelib=f"/usr/lib/python{v}/site-packages",
        sitearch=f"{libdir}/python{v}/site-packages",
        ext_suffix=rt.extension_suffixes[0], cache_tag=rt.cache_tag or "",
        triplet=rt.multiarch or HOST_TRIPLET, safe_path=version >= (3, 11), source="catalogue")


def probe_facts(version: tuple[int, int], interpreter: str) -> VersionFacts:
    """The facts of one version asked from a real interpreter (run as ``-E -s -c``, 30 s at
    most), the way Fedora's ``macros.python3`` asks ``%__python3`` at build time.

    Raises:
        MacrosError: it does not run, or it is not Python ``version``.
    """
    v = f"{version[0]}.{version[1]}"
    try:
        out = subprocess.run([interpreter, "-E", "-s", "-c", _PROBE], capture_output=True,
                             timeout=30, check=True, text=True).stdout
        data = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise MacrosError(f"{interpreter}: cannot ask it for its layout ({exc})") from None
    if data.get("version") != v:
        raise MacrosError(f"{interpreter} is Python {data.get('version')}, not {v}")
    return VersionFacts(v, interpreter, data["sitelib"], data["sitearch"],
                        data["ext_suffix"] or "", data["cache_tag"] or "",
                        data["triplet"] or HOST_TRIPLET, bool(data["safe_path"]), "probe")


def stack_facts(stack: Stack, catalogue: Catalogue,
                interpreters: Mapping[str, str] | None = None) -> list[VersionFacts]:
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
            f'triplet="{f.triplet}",P="{"P" if f.safe_path else ""}"}}')
    return "{" + ",".join(rows) + "}"


def _flavor(version: str) -> str:
    return "python" + version.replace(".", "")


def render(stack: Stack, style: str, facts: Sequence[VersionFacts]) -> str:
    """The macro file text for ``stack`` in ``style`` (one of :data:`STYLES`).

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
            f"{len(others)}: write one macro file per other stack")
    other = others[0] if others else None
    # EPEL spells the version without a dot (EPEL 7 macros.python-srpm: 36 and 34; EPEL 8
    # wiki EPEL/Python3X: 38), so `0%{?python3_other_pkgversion}` is a number in %if; RHEL
    # 8-10 alternative stacks spell it with one (3.11, RHEL "Packaging Python 3 RPMs")
    def spelled(f: VersionFacts) -> str:
        return f.version.replace(".", "") if style == "epel" else f.version

    pkgversion = "3" if style == "fedora" else spelled(default)
    table = _lua_table(facts)
    lines = [
        f"# coinstall stack macros: style {style}, stack {stack}",
        "# Written by `coinstall macros`; load with `rpmbuild --load FILE` or copy it into",
        "# /usr/lib/rpm/macros.d/.  Values per version: "
        + "; ".join(f"{f.version} from the {f.source} ({f.interpreter})" for f in facts) + ".",
        "# Sources: Fedora python-rpm-macros macros.python-srpm, macros.python3, python.lua;",
        "# pyproject-rpm-macros; EPEL 7 python-epel-rpm-macros macros.python3_other;",
        "# openSUSE python-rpm-macros default-prjconf, flavor.in, macros.lua.",
        "",
        "# -- the stack (macros.python-srpm: %python3_pkgversion is 3, or 3.X for an",
        "#    alternative stack; EPEL 7 macros.python-srpm: %python3_other_pkgversion)",
        f"%__default_python3_version {default.version}",
        "%__default_python3_pkgversion %__default_python3_version",
        f"%python3_pkgversion {pkgversion}",
    ]
    if style == "epel" and other is not None:
        lines += [f"%python3_other_pkgversion {spelled(other)}",
                  "# %with_python3_other: specs defined it themselves (python-leveldb spec);",
                  "# coinstall's epel style turns the other stack on",
                  "%with_python3_other 1"]
    lines += [
        f"%_coinstall_versions {table}",
        "# the dotted version of a pkgversion (3 -> the default; 36 -> 3.6; 3.11 -> 3.11)",
        "%_coinstall_dotted() %{lua:",
        "  local a = rpm.expand('%1')",
        "  if a == '3' or a == '' or a == '%1' then a = rpm.expand('%__default_python3_version') end",
        "  if not a:find('.', 1, true) and #a >= 2 then a = a:sub(1, 1) .. '.' .. a:sub(2) end",
        "  print(a)",
        "}",
        "# one fact of the version an interpreter path is (python3.12 -> 3.12)",
        "%_coinstall_fact() %{lua:",
        f"  local t = {table}",
        "  local py = rpm.expand('%1')",
        "  local v = py:match('python(%d+%.%d+)$')",
        "  if v == nil then",
        "    for k, e in pairs(t) do if e.py == py then v = k end end",
        "  end",
        "  if v == nil then v = rpm.expand('%__default_python3_version') end",
        "  local e = t[v]",
        "  local what = rpm.expand('%2')",
        "  if what == 'version' then print(v)",
        "  elseif what == 'nodots' then print((v:gsub('%.', '')))",
        "  elseif e ~= nil then print(e[what])",
        "  elseif what == 'sitelib' then print('/usr/lib/python' .. v .. '/site-packages')",
        "  elseif what == 'sitearch' then print(rpm.expand('%_libdir') .. '/python' .. v .. '/site-packages')",
        "  elseif what == 'tag' then print('cpython-' .. (v:gsub('%.', '')))",
        "  elseif what == 'ext' then print('.cpython-' .. (v:gsub('%.', '')) .. '-' .. rpm.expand('%_arch') .. '-linux-gnu.so')",
        "  elseif what == 'P' then print('P')",
        "  else print('') end",
        "}",
        "# the interpreter of a dotted version: the probed path if given, else /usr/bin/pythonX.Y",
        "%_coinstall_python() %{lua:",
        f"  local t = {table}",
        "  local v = rpm.expand('%{_coinstall_dotted %1}')",
        "  if t[v] ~= nil then print(t[v].py) else print('/usr/bin/python' .. v) end",
        "}",
        "# the interpreter a built package runs on the target system, whatever ran the build:",
        "# Fedora macros.python-srpm %__python3 /usr/bin/python%{python3_pkgversion}",
        "# (/usr/bin/python3 for the main Python, /usr/bin/python3.X for a stack); a venv",
        "# or pyenv interpreter given to `coinstall macros` never reaches a shebang",
        "%_coinstall_system_python() %{lua:",
        "  local a = rpm.expand('%1')",
        "  if a == '3' then print('/usr/bin/python3')",
        "  else print('/usr/bin/python' .. rpm.expand('%{_coinstall_dotted ' .. a .. '}')) end",
        "}",
        "%_coinstall_system_python3 %{_coinstall_system_python %{python3_pkgversion}}",
        "%_coinstall_system_python3_other %{_coinstall_system_python "
        "%{?python3_other_pkgversion}%{!?python3_other_pkgversion:3}}",
        "",
        "# -- the default stack (macros.python-srpm, macros.python3)",
        "%__python3 %{_coinstall_python %{python3_pkgversion}}",
        "%python3 %__python3",
        "%python3_version %{_coinstall_fact %{__python3} version}",
        "%python3_version_nodots %{_coinstall_fact %{__python3} nodots}",
        "%python3_sitelib %{_coinstall_fact %{__python3} sitelib}",
        "%python3_sitearch %{_coinstall_fact %{__python3} sitearch}",
        "%python3_platform linux-%{_arch}",
        "%python3_platform_triplet %{_coinstall_fact %{__python3} triplet}",
        "%python3_ext_suffix %{_coinstall_fact %{__python3} ext}",
        "%python3_cache_tag %{_coinstall_fact %{__python3} tag}",
        "# macros.python3: -s always, P when the interpreter has sys.flags.safe_path (3.11+)",
        "%py3_shbang_opts -s%{_coinstall_fact %{__python3} P}",
        "%py3_shbang_opts_nodash s%{_coinstall_fact %{__python3} P}",
        "%py3_shebang_flags s%{_coinstall_fact %{__python3} P}",
        "%py_setup setup.py",
        "%py_shbang_opts %py3_shbang_opts",
        "%__pytest %{__python3} -m pytest",
        "",
        "# -- the other stack (EPEL 7 macros.python3_other; values, not %(...) calls)",
        "%__python3_other %{_coinstall_python %{?python3_other_pkgversion}"
        + ("" if other else "%{!?python3_other_pkgversion:3}") + "}",
        "%python3_other %__python3_other",
        "%python3_other_version %{_coinstall_fact %{__python3_other} version}",
        "%python3_other_version_nodots %{_coinstall_fact %{__python3_other} nodots}",
        "%python3_other_sitelib %{_coinstall_fact %{__python3_other} sitelib}",
        "%python3_other_sitearch %{_coinstall_fact %{__python3_other} sitearch}",
        "%python3_other_platform linux-%{_arch}",
        "%python3_other_ext_suffix %{_coinstall_fact %{__python3_other} ext}",
        "%python3_other_cache_tag %{_coinstall_fact %{__python3_other} tag}",
        "%py3_other_shbang_opts -s%{_coinstall_fact %{__python3_other} P}",
        "%py3_other_shebang_flags s%{_coinstall_fact %{__python3_other} P}",
        "",
        "# -- names (macros.python-srpm %py3_dist, %py_dist_name; python.lua)",
        "%py_dist_name(-) %{lua:",
        "  local name = rpm.expand('%{?1:%{1}}')",
        "  print((string.gsub(string.lower(name), '[^%w%[%]]+', '-')))",
        "}",
        "# python-rpm-generators pythondistdeps.py names a distribution pythonX.Ydist(name)",
        "# (dotted) and, for the main Python only, python3dist(name); macros.python-srpm",
        "# prints 'python' .. %python3_pkgversion .. 'dist', right for 3 and 3.X (RHEL) but",
        "# not for EPEL's undotted 312 (no generator provides python312dist()): dotted here",
        "%_coinstall_distprefix() %{lua:",
        "  local pv = rpm.expand('%1')",
        "  if pv == '3' or pv == '' or pv == '%1' then print('python3')",
        "  else print('python' .. rpm.expand('%{_coinstall_dotted ' .. pv .. '}')) end",
        "}",
        "%py3_dist(-) %{lua:",
        "  local pv = rpm.expand('%{_coinstall_distprefix %python3_pkgversion}')",
        "  local out = {}",
        "  for i = 1, #arg do",
        "    local n = string.gsub(string.lower(arg[i]), '[^%w%[%]]+', '-')",
        "    out[#out + 1] = pv .. 'dist(' .. n .. ')'",
        "  end",
        "  print(table.concat(out, ' '))",
        "}",
        "# coinstall's: the other stack's python3.Xdist() name",
        "%py3_other_dist(-) %{lua:",
        "  local pv = rpm.expand('%{_coinstall_distprefix %{?python3_other_pkgversion}}')",
        "  local out = {}",
        "  for i = 1, #arg do",
        "    local n = string.gsub(string.lower(arg[i]), '[^%w%[%]]+', '-')",
        "    out[#out + 1] = pv .. 'dist(' .. n .. ')'",
        "  end",
        "  print(table.concat(out, ' '))",
        "}",
        "# %py_provides: Provides: NAME = EVR (python.lua alternative names are the",
        "# distribution's business; coinstall adds none)",
        "%py_provides(-) %{lua:",
        "  local evr = rpm.expand('%{?2}%{!?2:%{?epoch:%{epoch}:}%{version}-%{release}}')",
        "  print('Provides: ' .. rpm.expand('%1') .. ' = ' .. evr)",
        "}",
        "# %python_provide is deprecated (macros.python); it provides nothing here",
        "%python_provide(-) %{nil}",
        "# macros.python-srpm: RHEL names the wheel packages per stack (python3.11-pip-wheel)",
        "%python_wheel_pkg_prefix python" + ("" if style == "fedora" else "%{python3_pkgversion}"),
        "%python_wheel_dir %{_datadir}/%{python_wheel_pkg_prefix}-wheels",
        "%python_enable_dependency_generator %{nil}",
        "%python_disable_dependency_generator %{nil}",
        "%__pypi_url https://files.pythonhosted.org/packages/source/",
        "%__pypi_default_extension tar.gz",
        "%pypi_source(-) %{lua:",
        "  local src = rpm.expand('%1')",
        "  local ver = rpm.expand('%2')",
        "  local ext = rpm.expand('%3')",
        "  if src == '%1' or src == '' then src = rpm.expand('%{?srcname}') end",
        "  if src == '' then src = rpm.expand('%{?pypi_name}') end",
        "  if src == '' then src = rpm.expand('%name') end",
        "  if ver == '%2' or ver == '' then ver = rpm.expand('%version'):gsub('~', '') end",
        "  if ext == '%3' or ext == '' then ext = rpm.expand('%__pypi_default_extension') end",
        "  print(rpm.expand('%__pypi_url') .. string.sub(src, 1, 1) .. '/' .. src .. '/' ..",
        "        src .. '-' .. ver .. '.' .. ext)",
        "}",
        "%pycached(-) %{lua:",
        "  local p = rpm.expand('%1')",
        "  local dir, base = p:match('^(.*)/([^/]*)%.py$')",
        "  local m = p:match('/python3%.(%d+)/')",
        "  local tag = m and ('cpython-3' .. m) or '*'",
        # "\\n" in the file, as Fedora's macros.python3 writes it: rpm's macro reader turns a
        # lone backslash-n into "n" (sgmllib.pyn/usr/lib/...: a real spec's %files broke)
        "  print(p .. '\\\\n' .. dir .. '/__pycache__/' .. base .. '.' .. tag .. '{,.opt-?}.pyc')",
        "}",
        "# rpmautospec: coinstall reads %autorelease as release 1",
        "%autorelease %{?-b*}%{!?-b:1}%{?dist}",
        "%autochangelog %{nil}",
        "",
        "# -- building (macros.python3 %py3_build/%py3_install; pip as %py3_install_wheel)",
        # PYTHONDONTWRITEBYTECODE emptied: setup.py install -O1 writes the bytecode %files lists
        # (%pycached); a packager's shell that sets it made the build lose its .pyc files
        "%_coinstall_env CFLAGS=\"${CFLAGS:-${RPM_OPT_FLAGS}}\" LDFLAGS=\"${LDFLAGS:-${RPM_LD_FLAGS}}\" "
        "PYTHONDONTWRITEBYTECODE=",
        "%py3_build(-) %{expand:\\\\\\",
        "  %{_coinstall_env} %{__python3} %{py_setup} %{?py_setup_args} build "
        "--executable=\"%{_coinstall_system_python3} %{py3_shbang_opts}\" %{?*}",
        "}",
        "%py3_install(-) %{expand:\\\\\\",
        "  %{_coinstall_env} %{__python3} %{py_setup} %{?py_setup_args} install -O1 "
        "--skip-build --root %{buildroot} --prefix %{_prefix} %{?*}",
        "  if [ -d %{buildroot}%{_bindir} ]; then",
        "  COINSTALL_SHEBANG_ONLY=%{__python3} %{_coinstall_shebang_fix %{__python3} %{_coinstall_system_python3} %{py3_shebang_flags} %{buildroot}%{_bindir}/*}",
        "  fi",
        "  rm -rfv %{buildroot}%{_bindir}/__pycache__",
        "}",
        "%py3_other_build(-) %{expand:\\\\\\",
        "  %{_coinstall_env} %{__python3_other} %{py_setup} %{?py_setup_args} build "
        "--executable=\"%{_coinstall_system_python3_other} %{py3_other_shbang_opts}\" %{?*}",
        "}",
        "%py3_other_install(-) %{expand:\\\\\\",
        "  %{_coinstall_env} %{__python3_other} %{py_setup} %{?py_setup_args} install -O1 "
        "--skip-build --root %{buildroot} --prefix %{_prefix} %{?*}",
        "  if [ -d %{buildroot}%{_bindir} ]; then",
        "  COINSTALL_SHEBANG_ONLY=%{__python3_other} %{_coinstall_shebang_fix %{__python3_other} %{_coinstall_system_python3_other} %{py3_other_shebang_flags} %{buildroot}%{_bindir}/*}",
        "  fi",
        "  rm -rfv %{buildroot}%{_bindir}/__pycache__",
        "}",
        "%py3_build_wheel(-) %{expand:\\\\\\",
        "  %{_coinstall_env} %{__python3} -m pip wheel --no-deps --no-build-isolation "
        "--wheel-dir dist . %{?*}",
        "}",
        "%py3_other_build_wheel(-) %{expand:\\\\\\",
        "  %{_coinstall_env} %{__python3_other} -m pip wheel --no-deps --no-build-isolation "
        "--wheel-dir dist-other . %{?*}",
        "}",
        "%py3_other_install_wheel(-) %{expand:\\\\\\",
        "  %{__python3_other} -m pip install -I dist-other/%{1} --root %{buildroot} --prefix %{_prefix} "
        "--no-deps --no-index --no-warn-script-location",
        "  if [ -d %{buildroot}%{_bindir} ]; then",
        "  COINSTALL_SHEBANG_ONLY=%{__python3_other} %{_coinstall_shebang_fix %{__python3_other} %{_coinstall_system_python3_other} %{py3_other_shebang_flags} %{buildroot}%{_bindir}/*}",
        "  fi",
        "  rm -rfv %{buildroot}%{_bindir}/__pycache__",
        "}",
        "%py3_install_wheel(-) %{expand:\\\\\\",
        "  %{__python3} -m pip install -I dist/%{1} --root %{buildroot} --prefix %{_prefix} "
        "--no-deps --no-index --no-warn-script-location",
        "  if [ -d %{buildroot}%{_bindir} ]; then",
        "  COINSTALL_SHEBANG_ONLY=%{__python3} %{_coinstall_shebang_fix %{__python3} %{_coinstall_system_python3} %{py3_shebang_flags} %{buildroot}%{_bindir}/*}",
        "  fi",
        "  rm -rfv %{buildroot}%{_bindir}/__pycache__",
        "}",
        "",
        "# -- pyproject-rpm-macros core: wheel, install, save-files (simplified: the file",
        "#    list names the top-level entries the wheel installed and its dist-info)",
        "%_pyproject_wheeldir pyproject-wheeldir%{?python3_pkgversion:-%{python3_pkgversion}}",
        "%_pyproject_other_wheeldir pyproject-wheeldir-%{?python3_other_pkgversion}",
        "%pyproject_files %{_builddir}/pyproject-files-%{python3_pkgversion}",
        "%pyproject_other_files %{_builddir}/pyproject-files-other-%{?python3_other_pkgversion}",
        "%pyproject_buildrequires(-) echo ''",
        "%pyproject_extras_subpkg(-) %{nil}",
        "%python_extras_subpkg(-) %{nil}",
        "%_coinstall_wheel(-) %{expand:\\\\\\",
        "  mkdir -p %2",
        "  %{_coinstall_env} %1 -m pip wheel --no-deps --no-index "
        "%{?_coinstall_wheel_opts}%{!?_coinstall_wheel_opts:--no-build-isolation} --wheel-dir %2 .",
        "}",
        "# %_coinstall_install PYTHON WHEELDIR SITELIB SITEARCH SYSTEM_PYTHON FLAGS: pip",
        "# writes the running interpreter into the scripts' shebangs; pyproject-rpm-macros",
        "# %pyproject_install then runs %py3_shebang_fix %{buildroot}%{_bindir}/* (-i",
        "# %__python3, the system path on Fedora): here SYSTEM_PYTHON, never the build's",
        "%_coinstall_install(-) %{expand:\\\\\\",
        "  %1 -m pip install --root %{buildroot} --prefix %{_prefix} --no-deps --no-index "
        "--no-warn-script-location --ignore-installed %2/*.whl",
        "  if [ -d %{buildroot}%{_bindir} ]; then",
        "  COINSTALL_SHEBANG_ONLY=%1 %{_coinstall_shebang_fix %1 %5 %6 %{buildroot}%{_bindir}/*}",
        "  fi",
        "  rm -rfv %{buildroot}%{_bindir}/__pycache__",
        "  for d in %{buildroot}%3/*.dist-info %{buildroot}%4/*.dist-info; do",
        "    [ -f $d/direct_url.json ] && rm -f $d/direct_url.json && "
        "sed -i '/direct_url.json/d' $d/RECORD || :",
        "  done",
        "}",
        "# %_coinstall_save_files PYTHON SITELIB SITEARCH OUTFILE WHEELDIR GLOBS...:",
        "# the top-level names each wheel installed (its RECORD) that match a glob",
        "%_coinstall_save_files(-) %{expand:\\\\\\",
        "  %1 - %{buildroot} %2 %3 %4 %5 %{lua: for i = 6, #arg do print(arg[i] .. ' ') end} "
        "<<'_COINSTALL_EOF'",
        "import fnmatch, glob, os, sys, zipfile",
        "root, lib, arch, out, wheeldir = sys.argv[1:6]",
        "globs = [g for g in sys.argv[6:] if not g.startswith('-')]",
        "globs = ['*' if g == '+auto' else g for g in globs] or ['*']",
        "seen, lines = set(), []",
        "for whl in glob.glob(os.path.join(wheeldir, '*.whl')):",
        "    with zipfile.ZipFile(whl) as z:",
        "        for n in z.namelist():",
        "            top = n.split('/')[0]",
        "            if '.data' in top or top in seen:",
        "                continue",
        "            seen.add(top)",
        "            for base in (lib, arch):",
        "                if not os.path.lexists(root + base + '/' + top):",
        "                    continue",
        "                name = top.split('.')[0].split('-')[0]",
        "                if top.endswith('.dist-info') or any(",
        "                        fnmatch.fnmatch(name, g) for g in globs):",
        "                    entry = base + '/' + top",
        "                    lines.append(('%%dir ' if top.endswith('.dist-info') else '') + entry)",
        "                    if top.endswith('.py'):",
        "                        lines.append(base + '/__pycache__/' + name + '.*.pyc')",
        "                    if top.endswith('.dist-info'):",
        "                        lines.append(entry + '/*')",
        "                    break",
        "with open(out, 'w') as f:",
        "    f.write(''.join(x + chr(10) for x in sorted(set(lines))))",
        "_COINSTALL_EOF",
        "}",
        "%pyproject_wheel(-) %{_coinstall_wheel %{__python3} %{_pyproject_wheeldir}}",
        "%pyproject_install(-) %{_coinstall_install %{__python3} %{_pyproject_wheeldir} "
        "%{python3_sitelib} %{python3_sitearch} %{_coinstall_system_python3} "
        "%{py3_shebang_flags}}",
        "%pyproject_save_files(-) %{_coinstall_save_files %{__python3} %{python3_sitelib} "
        "%{python3_sitearch} %{pyproject_files} %{_pyproject_wheeldir} %{?*}}",
        "%pyproject_other_wheel(-) %{_coinstall_wheel %{__python3_other} "
        "%{_pyproject_other_wheeldir}}",
        "%pyproject_other_install(-) %{_coinstall_install %{__python3_other} "
        "%{_pyproject_other_wheeldir} %{python3_other_sitelib} %{python3_other_sitearch} "
        "%{_coinstall_system_python3_other} %{py3_other_shebang_flags}}",
        "%pyproject_other_save_files(-) %{_coinstall_save_files %{__python3_other} "
        "%{python3_other_sitelib} %{python3_other_sitearch} %{pyproject_other_files} "
        "%{_pyproject_other_wheeldir} %{?*}}",
        "%_coinstall_pythonpath PYTHONPATH=\"%{buildroot}%{python3_sitearch}:"
        "%{buildroot}%{python3_sitelib}${PYTHONPATH:+:$PYTHONPATH}\" PATH=\"%{buildroot}%{_bindir}:$PATH\"",
        "%_coinstall_other_pythonpath PYTHONPATH=\"%{buildroot}%{python3_other_sitearch}:"
        "%{buildroot}%{python3_other_sitelib}${PYTHONPATH:+:$PYTHONPATH}\" "
        "PATH=\"%{buildroot}%{_bindir}:$PATH\"",
        "%py3_test_envvars %{_coinstall_pythonpath} PYTHONDONTWRITEBYTECODE=1",
        "%pytest %{_coinstall_pythonpath} PYTHONDONTWRITEBYTECODE=1 %{__python3} -m pytest",
        "%pytest_other %{_coinstall_other_pythonpath} PYTHONDONTWRITEBYTECODE=1 "
        "%{__python3_other} -m pytest",
        "# %pyproject_check_import: import every top-level module %pyproject_save_files listed",
        "%_coinstall_check_import(-) PYTHONPATH=\"%{buildroot}%4:%{buildroot}%3\" PYTHONDONTWRITEBYTECODE=1 %1 -c 'import importlib, sys; mods = sorted({l.split(\"/site-packages/\")[1].split(\"/\")[0].split(\".\")[0] for l in open(sys.argv[1]) if \"/site-packages/\" in l and \".dist-info\" not in l and \"__pycache__\" not in l}); [importlib.import_module(m) for m in mods if m.isidentifier()]; print(\"imported\", *mods)' %2",
        "%pyproject_check_import(-) %{_coinstall_check_import %{__python3} %{pyproject_files} %{python3_sitelib} %{python3_sitearch}}",
        "%pyproject_other_check_import(-) %{_coinstall_check_import %{__python3_other} %{pyproject_other_files} %{python3_other_sitelib} %{python3_other_sitearch}}",
        "%py3_check_import(-) %{_coinstall_pythonpath} %{__python3} -c "
        "'import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]' "
        "%{lua: for i = 1, #arg do if arg[i]:sub(1, 1) ~= '-' then "
        "print((arg[i]:gsub(',', ' ')) .. ' ') end end}",
        "%py3_other_check_import(-) %{_coinstall_other_pythonpath} %{__python3_other} -c "
        "'import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]' "
        "%{lua: for i = 1, #arg do if arg[i]:sub(1, 1) ~= '-' then "
        "print((arg[i]:gsub(',', ' ')) .. ' ') end end}",
        "",
        "# -- shebangs (macros.python3 %py3_shebang_fix runs pathfix.py -pni PY -ka FLAGS;",
        "#    the same rule here without pathfix.py: a first line starting #! that names",
        "#    python becomes '#! PY -FLAGS' plus the old flags; directories: *.py only)",
        "# %_coinstall_shebang_fix PYTHON INTERPRETER FLAGS PATHS...: PYTHON runs the fixer",
        "%_coinstall_shebang_fix(-) %{expand:\\\\\\",
        "  %1 -B - %2 %3 %{lua: for i = 4, #arg do print(arg[i] .. ' ') end} <<'_COINSTALL_EOF'",
        "import os, sys",
        "interp, flags = sys.argv[1], sys.argv[2]",
        "# the install macros fix only what their own pip or setup.py wrote (the build's",
        "# interpreter): the other stack's scripts, installed before, stay its own",
        "only = os.environ.get('COINSTALL_SHEBANG_ONLY')",
        "mine = {os.fsencode(x) for x in (only, sys.executable) if x}",
        "def fix(p):",
        "    with open(p, 'rb') as f:",
        "        data = f.read()",
        "    first, nl, rest = data.partition(bytes([10]))",
        "    if not first.startswith(b'#!') or b'python' not in first:",
        "        return",
        "    if only and (first[2:].split() or [b''])[0] not in mine:",
        "        return",
        "    old = first.split(b' -', 1)[1].strip() if b' -' in first else b''",
        "    new = b'#! ' + interp.encode() + (b' -' + flags.encode() + old if flags else b'')",
        "    with open(p, 'wb') as f:",
        "        f.write(new + nl + rest)",
        "for arg in sys.argv[3:]:",
        "    if os.path.isdir(arg):",
        "        for d, _, fs in os.walk(arg):",
        "            for n in fs:",
        "                if n.endswith('.py') and not os.path.islink(os.path.join(d, n)):",
        "                    fix(os.path.join(d, n))",
        "    elif not os.path.islink(arg):",
        "        fix(arg)",
        "_COINSTALL_EOF",
        "}",
        "%py3_shebang_fix(-) %{_coinstall_shebang_fix %{__python3} %{_coinstall_system_python3} "
        "%{py3_shebang_flags} %{?*}}",
        "%py3_other_shebang_fix(-) %{_coinstall_shebang_fix %{__python3_other} "
        "%{_coinstall_system_python3_other} %{py3_other_shebang_flags} %{?*}}",
        "%py_shebang_fix %py3_shebang_fix",
        "",
        "# -- openSUSE flavors (default-prjconf %pythons/%primary_python; flavor.in)",
        "%pythons " + " ".join(_flavor(f.version) for f in ([*others, default])),
        f"%primary_python {_flavor(default.version)}",
        "# macros.lua python_module: one name per flavor; %python inside becomes the",
        "# flavor; a boolean dependency is put in parentheses",
        "%python_module(-) %{lua:",
        "  local names = {}",
        "  local body = table.concat(arg, ' ')",
        "  for f in string.gmatch(rpm.expand('%pythons'), '%S+') do",
        "    local d = f .. '-' .. body:gsub('%%python', f)",
        "    if body:find(' if ') or body:find(' with ') or body:find(' or ') then",
        "      d = '(' .. d .. ')'",
        "    end",
        "    names[#names + 1] = d",
        "  end",
        "  print(table.concat(names, ' '))",
        "}",
        "%python_subpackages %{nil}",
        "# macros.in / compile-macros.sh: per-flavor conditionals; no python2 flavor here",
        "%python_flavor %primary_python",
        "%ifpython2 %if 0",
        "%ifpython3 %if 1",
        "%ifpycache %if 1",
        "%pycache_only() %**",
        "%python_files(-) %{nil}",
        "%python_alternative(-) %{_bindir}/%{basename:%1}",
        "%python_clone(-) %{nil}",
        "%python_install_alternative(-) %{nil}",
        "%python_uninstall_alternative(-) %{nil}",
        "%python_group_libalternatives %{nil}",
        "%python_libalternatives_reset_alternative(-) %{nil}",
        "%python_flavored_alternatives %{nil}",
        "%python_compileall %{nil}",
        # macros.in: setup.py build/install for each flavor; the one flavor here is the
        # default stack's, so they are its %py3_build/%py3_install (an empty body here made a
        # real setup.py spec build an empty package)
        "%python_build(-) %{py3_build %{?**}}",
        "%python_install(-) %{py3_install %{?**}}",
        "%python_exec %{__python3}",
        "%pyunittest(-) %{__python3} -m unittest",
        "%pytest_arch %pytest",
        "%python_sitelib %python3_sitelib",
        "%python_sitearch %python3_sitearch",
        # macros.lua python_expand: the arguments once per flavor, $python the flavor's name
        # (%{$python_sitelib} -> %{python312_sitelib}), then expanded
        "%python_expand(-) %{lua:",
        "  local fl = rpm.expand('%primary_python')",
        "  local body = rpm.expand('%{?**}'):gsub('%$python', fl)",
        "  print(rpm.expand(body))",
        "}",
        "%python_bin_suffix %python3_version",
        "%python_version %python3_version",
        "%fdupes(-) %{nil}",
        "%sle15_python_module_pythons %{nil}",
    ]
    for f in facts:
        fl = _flavor(f.version)
        lines += [f"%__{fl} {f.interpreter}", f"%{fl}_sitelib {f.sitelib}",
                  f"%{fl}_sitearch {f.sitearch}", f"%{fl}_version {f.version}",
                  f"%{fl}_bin_suffix {f.version}"]
    lines.append("")
    return "\n".join(lines)


def absent_interpreters(facts: Sequence[VersionFacts]) -> list[str]:
    """The interpreter paths the macro file names that do not exist on this machine (the
    catalogue's ``/usr/bin/pythonX.Y`` where no such Python is installed): rpmbuild with
    the file runs them, so the build would fail with "command not found"."""
    return [f.interpreter for f in facts if not os.path.exists(f.interpreter)]
