# mypy: ignore-errors
# ruff: noqa: UP004, UP031, E722
"""coinstall runtime probe: describe the interpreter that runs this file as ONE JSON object.

Not imported by coinstall.  ``coinstall.runtimes.discovery`` runs it through
``coinstall.runtimes.run.run_script`` as::

    INTERPRETER -E -s -S -B -c "<a line that drops '' from sys.path><the source of this file>"

with the working directory ``/`` and no PYTHON* variable in the environment.  ``-I`` is not
used because CPython 2.7 and 3.0-3.3 reject it; ``-E -s -S -B`` exists on every CPython
2.7/3.x and PyPy, and the ``''`` entry that ``-c`` puts first on sys.path is removed before
anything else is imported (here too, for a run outside coinstall).  Running the file
(``INTERPRETER -E -s -S probe_script.py``) works as well: the script's own directory is removed
from sys.path then.

The object is written on one stdout line after the marker ``@@coinstall-probe@@`` (whatever a
``.pth`` file might print cannot be mistaken for it).  On any exception the object still comes,
with an ``"error"`` key.  The code must run unchanged on CPython 2.7, 3.0 to 3.15 and PyPy 2/3:
no f-strings, no annotations, standard library only.
"""
import sys

MARKER = "@@coinstall-probe@@"
DEBIAN_DIRS = ("/usr/lib/python3/dist-packages", "/usr/lib/python2.7/dist-packages")

try:
    TEXT = unicode  # Python 2
except NameError:
    TEXT = str


# Filled in by discovery.probe_source() with the stable ABI manifest's function and data
# names (CPython Misc/stable_abi.toml via abi3info); the probe reports which of them this
# interpreter does not export.
STABLE_ABI_SYMBOLS = []


def _strip_script_dir():
    # -c puts '' first on sys.path; a script run puts its own directory there.
    if "__file__" in globals():
        import os

        here = os.path.dirname(os.path.abspath(__file__))
        if sys.path and os.path.abspath(sys.path[0] or os.curdir) == here:
            del sys.path[0]
    elif sys.path and sys.path[0] == "":
        del sys.path[0]


def _text(value):
    if isinstance(value, bytes) and not isinstance(value, TEXT):
        return value.decode(sys.getfilesystemencoding() or "utf-8", "replace")
    return value


class _Sink(object):
    def write(self, data):
        pass

    def flush(self):
        pass


def _config():
    """(get_config_var, {purelib, platlib, stdlib})."""
    try:
        import sysconfig  # 2.7, 3.2+

        paths = sysconfig.get_paths()
        return sysconfig.get_config_var, dict((k, paths.get(k)) for k in
                                              ("purelib", "platlib", "stdlib"))
    except ImportError:  # 3.0, 3.1
        return _config_distutils()


def _config_distutils():
    """:func:`_config` on CPython 3.0 and 3.1, which have no sysconfig module (2.7 and 3.2
    moved distutils.sysconfig's code there).  No 3.0/3.1 interpreter can be had here:
    tests/test_discovery.py runs this on the real interpreters that have both modules
    (2.7, 3.6-3.11) and checks it answers what sysconfig answers."""
    from distutils import sysconfig

    return sysconfig.get_config_var, {
        "purelib": sysconfig.get_python_lib(0),
        "platlib": sysconfig.get_python_lib(1),
        "stdlib": sysconfig.get_python_lib(standard_lib=1),
    }


def _usr_paths():
    """(purelib, platlib) under the /usr prefix: sysconfig's posix_prefix scheme with every
    base /usr, as Fedora's macros.python3 asks %python3_sitelib and %python3_sitearch
    (read by coinstall macros); (None, None) if this interpreter cannot say."""
    v = {"platbase": "/usr", "base": "/usr", "installed_base": "/usr",
         "installed_platbase": "/usr"}
    try:
        try:
            import sysconfig  # 2.7, 3.2+

            return (sysconfig.get_path("purelib", "posix_prefix", vars=v),
                    sysconfig.get_path("platlib", "posix_prefix", vars=v))
        except ImportError:  # 3.0, 3.1
            return _usr_paths_distutils()
    except Exception:
        return None, None


def _usr_paths_distutils():
    """:func:`_usr_paths` on CPython 3.0 and 3.1 (see :func:`_config_distutils`)."""
    from distutils import sysconfig

    return sysconfig.get_python_lib(0, 0, "/usr"), sysconfig.get_python_lib(1, 0, "/usr")


def _abiflags(name, version, get_var, suffixes):
    flags = getattr(sys, "abiflags", None)
    if flags is None:
        # Python 2 and Windows: pypa/packaging tags._cpython_abis.
        flags = ""
        if name == "cpython":
            debug = get_var("Py_DEBUG")
            has_ext = "_d.pyd" in suffixes
            if debug or (debug is None and (hasattr(sys, "gettotalrefcount") or has_ext)):
                flags += "d"
            if version < (3, 8):
                pymalloc = get_var("WITH_PYMALLOC")
                if pymalloc or pymalloc is None:
                    flags += "m"
            if version < (3, 3):
                usize = get_var("Py_UNICODE_SIZE")
                if usize == 4 or (usize is None and sys.maxunicode == 0x10FFFF):
                    flags += "u"
    if get_var("Py_GIL_DISABLED") == 1 and "t" not in flags:
        flags += "t"
    return flags


def _magic():
    try:
        from importlib.util import MAGIC_NUMBER as raw  # 3.4+
    except ImportError:
        import imp

        raw = imp.get_magic()
    data = bytearray(raw)
    return data[0] | (data[1] << 8)


def _extension_suffixes():
    try:
        from importlib.machinery import EXTENSION_SUFFIXES  # 3.3+

        return list(EXTENSION_SUFFIXES)
    except ImportError:
        import imp

        return [s[0] for s in imp.get_suffixes() if s[2] == imp.C_EXTENSION]


def _venv():
    """PEP 405 as CPython's site.venv() applies it, without site's .pth processing (that would
    run their import lines): when pyvenv.cfg is beside sys.executable or one directory up,
    sys.prefix and sys.exec_prefix become the environment.  Returns the prefixes whose site
    directories are on the path (the environment's, then the base's when
    include-system-site-packages is true), or None outside an environment."""
    import os

    exe = sys.executable
    # PEP 405 is 3.3's; 2.7's site.getsitepackages() takes no prefixes.
    if not exe or sys.version_info < (3, 3):
        return None
    exe_dir = os.path.dirname(os.path.abspath(exe))
    site_prefix = os.path.dirname(exe_dir)
    conf = None
    for d in (exe_dir, site_prefix):
        if os.path.isfile(os.path.join(d, "pyvenv.cfg")):
            conf = os.path.join(d, "pyvenv.cfg")
            break
    if conf is None:
        return None
    system = False
    try:
        f = open(conf, "rb")
        try:
            lines = f.read(1 << 16).decode("utf-8", "replace").splitlines()
        finally:
            f.close()
    except Exception:
        lines = []
    for line in lines:
        if "=" in line:
            key, _, value = line.partition("=")
            if key.strip().lower() == "include-system-site-packages":
                system = value.strip().lower() == "true"
    base = [sys.prefix, sys.exec_prefix] if system else []
    sys.prefix = sys.exec_prefix = site_prefix
    return [site_prefix] + [p for p in base if p != site_prefix]


def _site(pre_site_path, prefixes=None):
    """(site.getsitepackages(), sys.path as site.py would leave it, without user site and
    without the entries of .pth files)."""
    import os

    saved = sys.stdout
    sys.stdout = _Sink()  # 2.x site runs main() on import, and .pth lines may print
    try:
        try:
            import site

            dirs = list(site.getsitepackages(prefixes) if prefixes else site.getsitepackages())
        except Exception:
            dirs = []
    finally:
        sys.stdout = saved
    full = []
    for d in pre_site_path:  # site.removeduppaths(): 3.6 lists its stdlib twice under -S
        if d not in full:
            full.append(d)
    for d in dirs:
        if d not in full and os.path.isdir(d):
            full.append(d)
    return dirs, full


def _stable_abi_missing(name, version):
    """Stable-ABI names this interpreter does not export (None if it cannot tell)."""
    if name != "cpython" or version[0] < 3 or not STABLE_ABI_SYMBOLS:
        return None
    try:
        import ctypes

        api = ctypes.pythonapi
    except Exception:
        return None
    missing = []
    for sym in STABLE_ABI_SYMBOLS:
        try:
            getattr(api, sym)
        except AttributeError:
            missing.append(sym)
    return missing


def _probe():
    import platform

    impl = getattr(sys, "implementation", None)  # 3.3+
    name = impl.name if impl is not None else platform.python_implementation().lower()
    version = tuple(sys.version_info[:2])
    pypy = getattr(sys, "pypy_version_info", None)
    prefixes = _venv()  # before sysconfig is read: its paths follow sys.prefix
    get_var, paths = _config()
    suffixes = _extension_suffixes()

    cache_tag = getattr(impl, "cache_tag", None)
    if impl is None and version >= (3, 2):
        import imp

        cache_tag = imp.get_tag()

    multiarch = get_var("MULTIARCH") or getattr(impl, "_multiarch", None)
    usr_purelib, usr_platlib = _usr_paths()
    pre_site_path = list(sys.path)
    site_dirs, sys_path = _site(pre_site_path, prefixes)
    # Debian's scheme (its patched site.py): dist-packages under the prefix, normally /usr;
    # under another prefix when a Debian build is unpacked elsewhere (a chroot, the test set-up's
    # private roots of trixie's 3.13 and sid's 3.14, see scripts/interpreters.sh).
    debian_dirs = set(DEBIAN_DIRS)
    for prefix in (sys.prefix, getattr(sys, "base_prefix", sys.prefix)):
        for d in DEBIAN_DIRS:
            debian_dirs.add(prefix.rstrip("/") + d[len("/usr"):])
    debian = False
    for d in sys_path + site_dirs:
        if d in debian_dirs:
            debian = True

    info = {
        "implementation": name,
        "version": list(version),
        "full_version": platform.python_version(),
        "implementation_version": (pypy and "%d.%d.%d" % tuple(pypy[:3])) or None,
        "abiflags": _abiflags(name, version, get_var, suffixes),
        "magic": _magic(),
        "cache_tag": cache_tag,
        "soabi": get_var("SOABI"),
        "extension_suffixes": suffixes,
        "multiarch": multiarch,
        "platform": sys.platform,
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "stdlib": paths["stdlib"],
        "sys_path": sys_path,
        "site_packages": site_dirs,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "debian": debian,
        "stable_abi_missing": _stable_abi_missing(name, version),
        # what coinstall macros writes (Fedora macros.python3: %python3_ext_suffix asks
        # EXT_SUFFIX, %py3_shbang_opts whether sys.flags has safe_path, i.e. -P)
        "ext_suffix": get_var("EXT_SUFFIX"),
        "safe_path": hasattr(sys.flags, "safe_path"),
        "usr_purelib": usr_purelib,
        "usr_platlib": usr_platlib,
    }
    out = {}
    for key, value in info.items():
        if isinstance(value, list):
            value = [_text(v) for v in value]
        elif value is None:
            out[key] = None
            continue
        out[key] = _text(value)
    return out


def main():
    try:
        import warnings

        warnings.simplefilter("ignore")
    except Exception:
        pass
    try:
        _strip_script_dir()
        import json
    except Exception:
        exc = sys.exc_info()[1]
        sys.stdout.write(MARKER + '{"error": "cannot import json: %s"}\n'
                         % repr(str(exc)).replace('"', "'").replace("\\", "/"))
        return
    try:
        info = _probe()
        text = json.dumps(info, sort_keys=True)
    except:  # anything at all, SystemExit from a .pth line included
        exc = sys.exc_info()[1]
        text = json.dumps({"error": "%s: %s" % (type(exc).__name__, _text(str(exc)))})
    sys.stdout.write(MARKER + text + "\n")
    sys.stdout.flush()


# `-c` and a script run are __main__; tests/test_discovery.py executes the source under
# another name to call one function
if __name__ == "__main__":
    main()
