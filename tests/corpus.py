"""Pinned corpus of real packages (PyPI wheels, Debian bookworm .debs, shared RPMs) for the tests.

Files are downloaded once into a cache directory and reused: ``$COINSTALL_TEST_CACHE`` if set,
otherwise ``<repo>/.cache/corpus`` (gitignored).  Every file is pinned by exact file name and
sha256, so every test run sees byte-identical inputs.

* Wheels are fetched with ``pip download --no-deps --only-binary=:all:`` and pip's cross-target
  options (``--python-version/--implementation/--abi/--platform``), which are derived from the
  pinned file name itself (see :func:`pip_target_args`).
* Debs are fetched with ``apt-get download NAME[:ARCH]=VERSION`` (needs bookworm apt lists; run
  ``apt-get update`` once if apt cannot find the pinned version).
* RPMs are not downloaded: they live in the repository, ``tests/data/rpm/`` (provenance:
  ``tests/data/PROVENANCE.md``).

Run ``python tests/corpus.py`` to pre-fetch everything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RPM_DIR = REPO_ROOT / "tests" / "data" / "rpm"
SPEC_DIR = REPO_ROOT / "tests" / "data" / "spec"
CACHE_ENV = "COINSTALL_TEST_CACHE"

# Python version used as the download target for pure (``pyN-none-any``) wheels.
PURE_PY3_TARGET = "3.12"
PURE_PY2_TARGET = "2.7"

WHEELS: dict[str, str] = {
    # (a) quoted in the issue
    "numpy-cp312": "numpy-2.1.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    # (b) old "m"/"mu" ABI era, version-specific CPython wheels (same PyYAML release)
    "pyyaml-cp27mu": "PyYAML-5.4.1-cp27-cp27mu-manylinux1_x86_64.whl",
    "pyyaml-cp36m": "PyYAML-5.4.1-cp36-cp36m-manylinux1_x86_64.whl",
    "pyyaml-cp37m": "PyYAML-5.4.1-cp37-cp37m-manylinux1_x86_64.whl",
    # ... and one with a four-tag compressed platform set incl. manylinux2010
    "pyyaml-cp37m-2010": (
        "PyYAML-6.0-cp37-cp37m-manylinux_2_5_x86_64.manylinux1_x86_64"
        ".manylinux_2_12_x86_64.manylinux2010_x86_64.whl"
    ),
    # (c) new era, version-specific; cp313 vs cp313t (free-threaded) of the same release
    "pyyaml-cp311": "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "pyyaml-cp313": "PyYAML-6.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "markupsafe-cp313": (
        "MarkupSafe-3.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    ),
    "markupsafe-cp313t": (
        "MarkupSafe-3.0.2-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    ),
    # (d) stable ABI (abi3) wheels; bcrypt also for aarch64 (ELF machine mismatch)
    "cryptography-abi3": "cryptography-43.0.3-cp39-abi3-manylinux_2_28_x86_64.whl",
    "bcrypt-abi3": "bcrypt-4.2.1-cp39-abi3-manylinux_2_28_x86_64.whl",
    "bcrypt-abi3-aarch64": "bcrypt-4.2.1-cp39-abi3-manylinux_2_28_aarch64.whl",
    "pynacl-abi3": (
        "PyNaCl-1.5.0-cp36-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"
        ".manylinux_2_24_x86_64.whl"
    ),
    # (e) PyPy 7.3 / Python 3.9 (matches the PyPy 7.3.11 on the test machine)
    "numpy-pypy39": (
        "numpy-1.26.4-pp39-pypy39_pp73-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    ),
    # (f) pure wheels; click 8.2.0 has Requires-Python >=3.10
    "six": "six-1.16.0-py2.py3-none-any.whl",
    "requests": "requests-2.32.3-py3-none-any.whl",
    "attrs": "attrs-24.2.0-py3-none-any.whl",
    "click": "click-8.2.0-py3-none-any.whl",
    # --- issue 3, extension/co-installability/metadata rules (rules-r3) ---
    # cp36-abi3 but imports PyUnicode_AsUTF8AndSize (stable ABI since 3.10): abi3audit's README
    # example of an ABI version mismatch
    "procmaps-abi3": "procmaps-0.5.0-cp36-abi3-manylinux2010_x86_64.whl",
    # --- issue 13 part 1: one numpy release version (cp312) across platforms, cryptography's
    # abi3 wheels for Windows and macOS (universal2: x86_64 and arm64 slices)
    "numpy-cp312-linux-aarch64": (
        "numpy-2.1.3-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    ),
    "numpy-cp312-macos-x86_64": "numpy-2.1.3-cp312-cp312-macosx_10_13_x86_64.whl",
    "numpy-cp312-macos-arm64": "numpy-2.1.3-cp312-cp312-macosx_11_0_arm64.whl",
    "numpy-cp312-win-amd64": "numpy-2.1.3-cp312-cp312-win_amd64.whl",
    "numpy-cp312-win32": "numpy-2.1.3-cp312-cp312-win32.whl",
    "cryptography-abi3-win-amd64": "cryptography-43.0.3-cp39-abi3-win_amd64.whl",
    "cryptography-abi3-macos-universal2": (
        "cryptography-43.0.3-cp39-abi3-macosx_10_9_universal2.whl"
    ),
    # --- issue 18: orjson's musllinux wheels; cp38-cp310 name their module
    # .cpython-3X-x86_64-linux-gnu.so (CPython <= 3.10 on musl says -linux-gnu), cp311+ -linux-musl
    "orjson-musl-cp38": "orjson-3.10.12-cp38-cp38-musllinux_1_2_x86_64.whl",
    "orjson-musl-cp39": "orjson-3.10.12-cp39-cp39-musllinux_1_2_x86_64.whl",
    "orjson-musl-cp310": "orjson-3.10.12-cp310-cp310-musllinux_1_2_x86_64.whl",
    "orjson-musl-cp311": "orjson-3.10.12-cp311-cp311-musllinux_1_2_x86_64.whl",
    "orjson-musl-cp312": "orjson-3.10.12-cp312-cp312-musllinux_1_2_x86_64.whl",
    "orjson-musl-cp313": "orjson-3.10.12-cp313-cp313-musllinux_1_2_x86_64.whl",
    # msgpack's version-specific modules (untagged copies: tests/test_untagged_truth.py)
    "msgpack-cp310": "msgpack-1.1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "msgpack-cp311": "msgpack-1.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "msgpack-cp312": "msgpack-1.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "msgpack-cp313": "msgpack-1.1.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
}

#: pip constraints for the ``coinstall share`` tests and benchmark: every version pip may pick
#: there.  charset-normalizer 3.4.0 ships mypyc-compiled cpXY-cpXY wheels and a py3-none-any
#: one; cryptography 43.0.3 ships cp37-abi3 and cp39-abi3 wheels; cffi (needed by
#: cryptography) is version-specific and goes into each runtime's own site-packages.
SHARE_CONSTRAINTS = """\
requests==2.32.3
idna==3.10
certifi==2024.8.30
charset-normalizer==3.4.0
urllib3==2.2.3
attrs==24.2.0
six==1.16.0
tomli==2.0.1
cryptography==43.0.3
cffi==1.17.1
pycparser==2.22
"""

#: Wheels tests/test_share.py installs from files, fetched once into the corpus cache (pinned by
#: name and sha256 like every corpus file; kept apart from WHEELS so the tests that count the
#: main corpus keep their numbers): each venv's cffi build and pycparser, installed by real pip
#: with ``--no-index``; tomli for the tests whose subject is the transaction (lock, kill,
#: upgrade, remove), not pip's resolution against the index (the module fixture,
#: test_upgrade_replaces_a_distribution_in_place and
#: test_upgrade_refused_where_an_installed_requirement_excludes_it resolve by name).  A file
#: needs no index request: none of the six pip runs of such an install waits on the network.
_SHARE_CFFI = "cffi-1.17.1-cp{v}-cp{v}-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SHARE_WHEELS: dict[str, str] = {
    **{f"cffi-3.{m}": _SHARE_CFFI.format(v=f"3{m}") for m in range(8, 14)},
    "pycparser": "pycparser-2.22-py3-none-any.whl",
    "tomli": "tomli-2.0.1-py3-none-any.whl",
    "tomli-2.0.2": "tomli-2.0.2-py3-none-any.whl",
}
SHARE_WHEEL_SHA256: dict[str, str] = {
    "cffi-3.8": "0e2b1fac190ae3ebfe37b979cc1ce69c81f4e4fe5746bb401dca63a9062cdaf1",
    "cffi-3.9": "cdf5ce3acdfd1661132f2a9c19cac174758dc2352bfe37d98aa7512c6b7178b3",
    "cffi-3.10": "2bb1a08b8008b281856e5971307cc386a8e9c5b625ac297e853d36da6efe9c17",
    "cffi-3.11": "610faea79c43e44c71e1ec53a554553fa22321b65fae24889706c0a84d4ad86d",
    "cffi-3.12": "b62ce867176a75d03a665bad002af8e6d54644fad99a3c70905c543130e39d93",
    "cffi-3.13": "dd398dbc6773384a17fe0d3e7eeb8d1a21c2200473ee6806bb5e6a8e62bb73dd",
    "pycparser": "c3702b6d3dd8c7abc1afa565d7e63d53a1d0bd86cdc24edd75470f4de499cfcc",
    "tomli": "939de3e7a6161af0c887ef91b7d41a53e7c5a1ca976325f429cb46ea9bc30ecc",
    "tomli-2.0.2": "2ebe24485c53d303f690b0ec092806a085f07af5a5aa1464f3931eec36caaa38",
}


DEBS: dict[str, str] = {
    "python3-numpy": "python3-numpy_1%3a1.24.2-1+deb12u1_amd64.deb",
    "python3-yaml": "python3-yaml_6.0-3+b2_amd64.deb",
    "python3-cryptography": "python3-cryptography_38.0.4-3+deb12u1_amd64.deb",
    "python3-six": "python3-six_1.16.0-4_all.deb",
    # ships /usr/bin/chardetect with a "#!/usr/bin/python3" shebang
    "python3-chardet": "python3-chardet_5.1.0+dfsg-2_all.deb",
    # bytecode/runtime-packages rules: the runtime package that ships /usr/bin/python3.11
    "python3.11-minimal": "python3.11-minimal_3.11.2-6+deb12u9_amd64.deb",
    # --- rules area: naming, dependencies, scripts, entry points (issue 3, rules-r2)
    # executable stdlib modules with #!/usr/bin/env python3 and no Depends on python3
    # (lintian: python3-script-but-no-python3-dep)
    "libpython3.11-stdlib": "libpython3.11-stdlib_3.11.2-6+deb12u9_amd64.deb",
    # Depends on python3 and python-apt-common (a version-independent data package)
    "python3-apt": "python3-apt_2.6.0_amd64.deb",
    # --- issue 13 part 7: Depends: python3 (>= 3.10.8-0~), python3 (<< 3.12) with extensions
    # built for 3.11 only (python3-stdlib-extensions; the lower bound names python3-defaults)
    "python3-tk": "python3-tk_3.11.2-3_amd64.deb",
    "python3-gdbm": "python3-gdbm_3.11.2-3_amd64.deb",
    # modules in LLVM's own prefix, /usr/lib/llvm-14/lib/python3.11/dist-packages/lldb/
    "python3-lldb-14": "python3-lldb-14_1%3a14.0.6-12_amd64.deb",
    # --- issue 12 (the archive run's false positives): python3-minimal ships /usr/bin/python3
    # and the scripts that run with it (py3compile) and debpython in /usr/share/python3/;
    # python3-clang-13/-14 Provide, Conflict with and Replace python-clang-x.y and ship the
    # same clang/ module (alternatives, never installed together)
    "python3-minimal": "python3-minimal_3.11.2-1+b1_amd64.deb",
    "python3-clang-13": "python3-clang-13_1%3a13.0.1-11+b2_amd64.deb",
    "python3-clang-14": "python3-clang-14_1%3a14.0.6-12_amd64.deb",
}

WHEEL_SHA256: dict[str, str] = {  # name -> sha256 of WHEELS[name]
    "numpy-cp312": "2312b2aa89e1f43ecea6da6ea9a810d06aae08321609d8dc0d0eda6d946a541b",
    "pyyaml-cp27mu": "bb4191dfc9306777bc594117aee052446b3fa88737cd13b7188d0e7aa8162185",
    "pyyaml-cp36m": "4e0583d24c881e14342eaf4ec5fbc97f934b999a6828693a99157fde912540cc",
    "pyyaml-cp37m": "e1d4970ea66be07ae37a3c2e48b5ec63f7ba6804bdddfdbd3cfd954d25a82e63",
    "pyyaml-cp37m-2010": "231710d57adfd809ef5d34183b8ed1eeae3f76459c18fb4a0b373ad56bedcdd9",
    "pyyaml-cp311": "3ad2a3decf9aaba3d29c8f537ac4b243e36bef957511b4766cb0057d32b0be85",
    "pyyaml-cp313": "70b189594dbe54f75ab3a1acec5f1e3faa7e8cf2f1e08d9b561cb41b845f69d5",
    "markupsafe-cp313": "15ab75ef81add55874e7ab7055e9c397312385bd9ced94920f2802310c930396",
    "markupsafe-cp313t": "c0ef13eaeee5b615fb07c9a7dadb38eac06a0608b41570d8ade51c56539e509d",
    "cryptography-abi3": "c2e6fc39c4ab499049df3bdf567f768a723a5e8464816e8f009f121a5a9f4405",
    "bcrypt-abi3": "687cf30e6681eeda39548a93ce9bfbb300e48b4d445a43db4298d2474d2a1e54",
    "bcrypt-abi3-aarch64": "533e7f3bcf2f07caee7ad98124fab7499cb3333ba2274f7a36cf1daee7409d99",
    "pynacl-abi3": "0c84947a22519e013607c9be43706dd42513f9e6ae5d39d3613ca1e142fba44d",
    "numpy-pypy39": "95a7476c59002f2f6c590b9b7b998306fba6a5aa646b1e22ddfeaf8f78c3a29c",
    "six": "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
    "requests": "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6",
    "attrs": "81921eb96de3191c8258c199618104dd27ac608d9366f5e35d011eae1867ede2",
    "click": "6b303f0b2aa85f1cb4e5303078fadcbcd4e476f114fab9b5007005711839325c",
    # --- issue 3, extension/co-installability/metadata rules (rules-r3) ---
    "procmaps-abi3": "5854501e8e03d80273a08c745b2ee244606dcc4a53753b9d923f28d7a1f32c23",
    # --- issue 13 part 1 (platforms)
    "numpy-cp312-linux-aarch64": "8637dcd2caa676e475503d1f8fdb327bc495554e10838019651b76d17b98e512",
    "numpy-cp312-macos-x86_64": "f55ba01150f52b1027829b50d70ef1dafd9821ea82905b63936668403c3b471e",
    "numpy-cp312-macos-arm64": "13138eadd4f4da03074851a698ffa7e405f41a0845a6b1ad135b81596e4e9958",
    "numpy-cp312-win-amd64": "0d30c543f02e84e92c4b1f415b7c6b5326cbe45ee7882b6b77db7195fb971e3a",
    "numpy-cp312-win32": "e6988e90fcf617da2b5c78902fe8e668361b43b4fe26dbf2d7b0f8034d4cafb9",
    "cryptography-abi3-win-amd64": (
        "0c580952eef9bf68c4747774cde7ec1d85a6e61de97281f2dba83c7d2c806362"
    ),
    "cryptography-abi3-macos-universal2": (
        "8ac43ae87929a5982f5948ceda07001ee5e83227fd69cf55b109144938d96984"
    ),
    # --- issue 18 (musl)
    "orjson-musl-cp38": "5535163054d6cbf2796f93e4f0dbc800f61914c0e3c4ed8499cf6ece22b4a3da",
    "orjson-musl-cp39": "ff31d22ecc5fb85ef62c7d4afe8301d10c558d00dd24274d4bbe464380d3cd69",
    "orjson-musl-cp310": "7a3273e99f367f137d5b3fecb5e9f45bcdbfac2a8b2f32fbc72129bbd48789c2",
    "orjson-musl-cp311": "038d42c7bc0606443459b8fe2d1f121db474c49067d8d14c6a075bbea8bf14dd",
    "orjson-musl-cp312": "16135ccca03445f37921fa4b585cff9a58aa8d81ebcb27622e69bfadd220b32c",
    "orjson-musl-cp313": "5f29c5d282bb2d577c2a6bbde88d8fdcc4919c593f806aac50133f01b733846e",
    "msgpack-cp310": "d8ce0b22b890be5d252de90d0e0d119f363012027cf256185fc3d474c44b1b9e",
    "msgpack-cp311": "5e1da8f11a3dd397f0a32c76165cf0c4eb95b31013a94f6ecc0b280c05c91b59",
    "msgpack-cp312": "17fb65dd0bec285907f68b15734a993ad3fc94332b5bb21b0435846228de1f39",
    "msgpack-cp313": "0907e1a7119b337971a689153665764adc34e89175f9a34793307d9def08e6ca",
}

DEB_SHA256: dict[str, str] = {  # name -> sha256 of DEBS[name]
    "python3-numpy": "64c6e18bd85f881328d70071154c2d8b93fd6de2e07855f81fad5e499694ac03",
    "python3-yaml": "8d0db0b3099298fe039b94e4c52a6987798a90d23b80de3ac13c3cb75cf622a2",
    "python3-cryptography": "c1a53527b03b36910cbb864b71c09091bd2bc3d824b73b8bc3135bfeb6ca3292",
    "python3-six": "fd189e9cecbcf17a1fc20aec30055c8afa9c1eec00cd6e7ab385087a2ab3b0d3",
    "python3-chardet": "271227b4ca709db673d8bff58b64f4a590ab17b50a9616d49aacc459bbd05f85",
    # bytecode/runtime-packages rules
    "python3.11-minimal": "b5f855ab922dfcd5d1a3223b2118c3dae13ffc7751b0cd5dc24740386323a33a",
    # --- rules area: naming, dependencies, scripts, entry points (issue 3, rules-r2)
    "libpython3.11-stdlib": "10f13e000ee757f5f2d2d3569f9e30546214a0c850acd78695feae373bfa3e53",
    "python3-apt": "21faa053e5f9a01f89ec7b4e1f77652658f74328ec01f24550d3714e6c13ad20",
    "python3-tk": "33badffb9316204fda015b1a9d331c03bd322dfbb217930de5dd5ca95b6af7d2",
    "python3-gdbm": "a141cef48a9acfd9ac5aa8c08cc356fc25f3accafed4261eee26bc2bb1aaf5fd",
    "python3-lldb-14": "afc1024971ca02fd7d9c3f48c7ee998f4e68eac57919274200b31db07021a670",
    # --- issue 12
    "python3-minimal": "30f9618670e686d781afbfc713eb0830c29d2819e9cb2a0488800dad6bb99faa",
    "python3-clang-13": "f50457ec457437a8635f41139074078a8daf7f3ed1a66dded5cab5d64e51e9ad",
    "python3-clang-14": "f4c68013238b3b3198e5043e266bedd8fc56df90285da87fc8d3ad9473a4f26d",
}


class CorpusError(RuntimeError):
    """A pinned corpus file could not be fetched or does not match its pin."""


def cache_dir() -> Path:
    """The corpus cache directory (created on demand)."""
    env = os.environ.get(CACHE_ENV)
    path = Path(env) if env else REPO_ROOT / ".cache" / "corpus"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- wheels


def _python_version(tag: str) -> str:
    """'cp313' -> '3.13', 'pp39' -> '3.9', 'cp27' -> '2.7'."""
    digits = tag[2:]
    if len(digits) < 2 or not digits.isdigit():
        raise CorpusError(f"cannot derive a Python version from tag {tag!r}")
    return f"{digits[0]}.{digits[1:]}"


_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def _platform_rank(platform: str) -> tuple[int, int]:
    """(glibc major, minor) of a manylinux platform tag; (0, 0) for anything else."""
    prefix, _, _arch = platform.partition("_")
    if prefix in _LEGACY_MANYLINUX:
        return _LEGACY_MANYLINUX[prefix]
    parts = platform.split("_")
    if parts[0] == "manylinux" and len(parts) > 3 and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return (0, 0)


def pip_target_args(filename: str) -> list[str]:
    """pip's cross-target options that select exactly the pinned wheel ``filename``."""
    parts = filename.removesuffix(".whl").split("-")
    if len(parts) not in (5, 6) or not filename.endswith(".whl"):
        raise CorpusError(f"not a wheel file name: {filename!r}")
    pythons, abis, platforms = (p.split(".") for p in parts[-3:])
    if abis == ["none"] and all(p.startswith("py") for p in pythons):
        # pure ("py3-none-any") or a generic-Python platform wheel holding only a binary or data
        # ("py3-none-manylinux_2_17_x86_64", e.g. ruff): any interpreter version of that major
        version = PURE_PY3_TARGET if any(p.startswith("py3") for p in pythons) else PURE_PY2_TARGET
        implementation = "py"
    else:
        impls = {p[:2] for p in pythons}
        if len(impls) != 1:
            raise CorpusError(f"mixed implementations in {filename!r}")
        implementation = impls.pop()
        version = _python_version(max(pythons, key=lambda p: int(p[2:] or 0)))
    args = ["--python-version", version, "--implementation", implementation]
    for abi in abis:
        args += ["--abi", abi]
    # pip ranks the first --platform highest: put the newest glibc first, so that when a release
    # has several files (e.g. "manylinux_2_17..." and "manylinux_2_17....manylinux_2_24...") the
    # pinned one, whose set contains the newest tag, wins.
    for platform in sorted(platforms, key=_platform_rank, reverse=True):
        args += ["--platform", platform]
    return args


def _wheel_requirement(filename: str) -> str:
    name, version = filename.split("-")[:2]
    return f"{name}=={version}"


def _pip_command() -> list[str]:
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    venv_python = REPO_ROOT / ".venv" / "bin" / "python"
    if venv_python.exists():
        return [str(venv_python), "-m", "pip"]
    raise CorpusError(f"pip is not available for {sys.executable} (needed to fetch wheels)")


def _download_wheel(filename: str, dest: Path) -> None:
    cmd = [
        *_pip_command(),
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        *pip_target_args(filename),
        _wheel_requirement(filename),
        "-d",
        str(dest),
    ]
    _run(cmd, cwd=dest, what=f"pip download of {filename}")


# --------------------------------------------------------------------------- debs


def apt_spec(filename: str) -> str:
    """The ``apt-get download`` argument for a pinned .deb file name.

    'python3-numpy_1%3a1.24.2-1+deb12u1_amd64.deb' -> 'python3-numpy:amd64=1:1.24.2-1+deb12u1'
    """
    parts = filename.removesuffix(".deb").split("_")
    if len(parts) != 3 or not filename.endswith(".deb"):
        raise CorpusError(f"not a .deb file name: {filename!r}")
    name, version, arch = parts
    version = urllib.parse.unquote(version)
    return f"{name}={version}" if arch == "all" else f"{name}:{arch}={version}"


def _download_deb(filename: str, dest: Path) -> None:
    if shutil.which("apt-get") is None:
        raise CorpusError(f"apt-get is not available (needed to fetch {filename})")
    # dest is a private (0700) temp dir: apt falls back to an unsandboxed download as root,
    # which only prints a warning.
    cmd = ["apt-get", "download", "-q", apt_spec(filename)]
    _run(
        cmd,
        cwd=dest,
        what=f"apt-get download of {filename}",
        hint="if apt cannot find the version, run `apt-get update` (bookworm lists) and retry",
    )


# --------------------------------------------------------------------------- common


def _run(cmd: list[str], *, cwd: Path, what: str, hint: str = "") -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        msg = f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{output}"
        if hint:
            msg += f"\nhint: {hint}"
        raise CorpusError(msg)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(kind: str, filename: str, sha256: str, download: Callable[[str, Path], None]) -> Path:
    """Return the cached ``kind/filename``, downloading and verifying it first if missing."""
    target_dir = cache_dir() / kind
    target = target_dir / filename
    if target.is_file():
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{kind}-", dir=cache_dir()))
    try:
        download(filename, tmp)
        got = sorted(p.name for p in tmp.iterdir() if p.is_file())
        if got != [filename]:
            raise CorpusError(
                f"expected the download to produce exactly {filename!r}, got {got!r}; "
                "the pin no longer matches what the archive serves"
            )
        actual = _sha256(tmp / filename)
        if actual != sha256:
            raise CorpusError(f"sha256 mismatch for {filename}: pinned {sha256}, got {actual}")
        os.replace(tmp / filename, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def fetch_wheel(filename: str, sha256: str) -> Path:
    """Path of the cached wheel ``filename`` (downloaded with pip and checked against
    ``sha256`` if missing).  Also used by pin lists kept elsewhere (``benchmarks/bench_corpus.py``).

    Raises:
        CorpusError: pip failed, produced another file, or the file's sha256 differs.
    """
    return _fetch("wheels", filename, sha256, _download_wheel)


def fetch_deb(filename: str, sha256: str) -> Path:
    """Path of the cached .deb ``filename`` (downloaded with ``apt-get download`` and checked
    against ``sha256`` if missing).

    Raises:
        CorpusError: apt-get failed, produced another file, or the file's sha256 differs.
    """
    return _fetch("debs", filename, sha256, _download_deb)


def _fetch_many(names: Iterable[str], fetch: Callable[[str], Path], jobs: int) -> dict[str, Path]:
    names = list(names)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(zip(names, pool.map(fetch, names), strict=True))


@dataclass(frozen=True)
class PinnedSet:
    """One set of pinned files: ``files`` (name -> file name) and ``sha256`` (name -> the file's
    SHA-256, the same names), each fetched by ``fetch(file name, sha256) -> Path``, ``jobs`` at a
    time (1 for apt-get, whose lock is one per machine)."""

    kind: str
    files: dict[str, str]
    sha256: dict[str, str]
    fetch: Callable[[str, str], Path]
    jobs: int = 1

    def __post_init__(self) -> None:
        if self.files.keys() != self.sha256.keys():
            raise CorpusError(
                f"pinned {self.kind}s without a sha256 or the reverse: "
                f"{sorted(self.files.keys() ^ self.sha256.keys())}"
            )

    def path(self, name: str) -> Path:
        """Path of the cached pinned file ``files[name]`` (downloaded if missing)."""
        if name not in self.files:
            raise KeyError(f"no pinned {self.kind} {name!r}; known: {sorted(self.files)}")
        return self.fetch(self.files[name], self.sha256[name])

    def fetch_all(self, jobs: int | None = None) -> dict[str, Path]:
        """Fetch every file of the set; name -> path."""
        return _fetch_many(self.files, self.path, self.jobs if jobs is None else jobs)


PINNED_WHEELS = PinnedSet("wheel", WHEELS, WHEEL_SHA256, fetch_wheel, jobs=4)
PINNED_DEBS = PinnedSet("deb", DEBS, DEB_SHA256, fetch_deb)
PINNED_SHARE_WHEELS = PinnedSet("wheel", SHARE_WHEELS, SHARE_WHEEL_SHA256, fetch_wheel, jobs=4)


def wheel(name: str) -> Path:
    """Path of the cached pinned wheel ``WHEELS[name]`` (downloaded if missing)."""
    return PINNED_WHEELS.path(name)


def deb(name: str) -> Path:
    """Path of the cached pinned .deb ``DEBS[name]`` (downloaded if missing)."""
    return PINNED_DEBS.path(name)


def rpms() -> list[Path]:
    """The RPM corpus (``tests/data/rpm/*.rpm``), sorted."""
    return sorted(p for p in RPM_DIR.iterdir() if p.is_file() and p.name.endswith(".rpm"))


def fetch_wheels(jobs: int = 4) -> dict[str, Path]:
    return PINNED_WHEELS.fetch_all(jobs)


def fetch_debs() -> dict[str, Path]:
    return PINNED_DEBS.fetch_all()


def fetch_all(jobs: int = 4) -> tuple[dict[str, Path], dict[str, Path]]:
    """Fetch every pinned wheel and deb; return ``(wheels, debs)`` name -> path."""
    return fetch_wheels(jobs), fetch_debs()


# --------------------------------------------------------------------------- issue 18 item 5
# Inputs the other ground-truth tests do not use (tests/test_newer_truth.py): wheels built for
# the free-threaded 3.13t and for 3.14 / 3.14t, and trixie's and sid's .debs, judged against the
# real 3.13, 3.14 and 3.13t of scripts/interpreters.sh.  Kept apart from WHEELS/DEBS so the tests
# that count the main corpus keep their numbers.  Pinned 2026-12-07.

NEWER_WHEELS: dict[str, str] = {
    "numpy-cp313t": "numpy-2.3.5-cp313-cp313t-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    "numpy-cp314": "numpy-2.3.5-cp314-cp314-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    "numpy-cp314t": "numpy-2.3.5-cp314-cp314t-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    # MarkupSafe 3.0.3's _speedups imports nothing that tells a GIL build from a free-threaded
    # one: its static PyModuleDef's object header does (tests/test_moduledef.py)
    "markupsafe-cp313-303": (
        "markupsafe-3.0.3-cp313-cp313-manylinux2014_x86_64"
        ".manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
    ),
    "markupsafe-cp313t-303": (
        "markupsafe-3.0.3-cp313-cp313t-manylinux2014_x86_64"
        ".manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
    ),
    "markupsafe-cp314": (
        "markupsafe-3.0.3-cp314-cp314-manylinux2014_x86_64"
        ".manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
    ),
    "markupsafe-cp314t": (
        "markupsafe-3.0.3-cp314-cp314t-manylinux2014_x86_64"
        ".manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
    ),
    "pyyaml-cp314": (
        "pyyaml-6.0.3-cp314-cp314-manylinux2014_x86_64"
        ".manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
    ),
    "pyyaml-cp314t": (
        "pyyaml-6.0.3-cp314-cp314t-manylinux2014_x86_64"
        ".manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
    ),
    "msgpack-cp314": (
        "msgpack-1.1.2-cp314-cp314-manylinux2014_x86_64"
        ".manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
    ),
    "msgpack-cp314t": (
        "msgpack-1.1.2-cp314-cp314t-manylinux2014_x86_64"
        ".manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
    ),
}

NEWER_WHEEL_SHA256: dict[str, str] = {
    "numpy-cp313t": "ce581db493ea1a96c0556360ede6607496e8bf9b3a8efa66e06477267bc831e9",
    "numpy-cp314": "fffe29a1ef00883599d1dc2c51aa2e5d80afe49523c261a74933df395c15c520",
    "numpy-cp314t": "09a1bea522b25109bf8e6f3027bd810f7c1085c64a0c7ce050c1676ad0ba010b",
    "markupsafe-cp313-303": "ccfcd093f13f0f0b7fdd0f198b90053bf7b2f02a3927a30e63f3ccc9df56b676",
    "markupsafe-cp313t-303": "8709b08f4a89aa7586de0aadc8da56180242ee0ada3999749b183aa23df95025",
    "markupsafe-cp314": "457a69a9577064c05a97c41f4e65148652db078a3a509039e64d3467b9e7ef97",
    "markupsafe-cp314t": "fed51ac40f757d41b7c48425901843666a6677e3e8eb0abcff09e4ba6e664f50",
    "pyyaml-cp314": "c458b6d084f9b935061bc36216e8a69a7e293a2f1e68bf956dcd9e6cbcd143f5",
    "pyyaml-cp314t": "00c4bdeba853cc34e7dd471f16b4114f4162dc03e6b7afcc2128711f0eca823c",
    "msgpack-cp314": "180759d89a057eab503cf62eeec0aa61c4ea1200dee709f3a8e9397dbb3b6931",
    "msgpack-cp314t": "70c5a7a9fea7f036b716191c29047374c10721c389c21e9ffafad04df8c52c90",
}

#: trixie's and sid's builds, fetched with scripts/interpreters.sh's private apt configuration
#: (its sources.list names bookworm, trixie and sid; the system's lists stay as they are).
NEWER_DEBS: dict[str, str] = {
    "python3-numpy-trixie": "python3-numpy_1%3a2.2.4+ds-1_amd64.deb",
    "python3-cryptography-trixie": "python3-cryptography_43.0.0-3+deb13u1_amd64.deb",
    "python3-yaml-trixie": "python3-yaml_6.0.2-1+b2_amd64.deb",
    "python3-numpy-sid": "python3-numpy_1%3a2.4.6+ds-5+b1_amd64.deb",
    "python3-cryptography-sid": "python3-cryptography_49.0.0-2_amd64.deb",
    "python3-yaml-sid": "python3-yaml_6.0.3-1+b2_amd64.deb",
}

NEWER_DEB_SHA256: dict[str, str] = {
    "python3-numpy-trixie": "eacb51b412e4621e4b6d631a479f6f0589522416e494d8da0e680f1863b5cb44",
    "python3-cryptography-trixie": (
        "edfc3aab6cbc4941aa19798059867696eeae90eb41b6dc2c5197c521da548972"
    ),
    "python3-yaml-trixie": "0019c4e7848c83a0d6bcb78cca902b5cdb1714aa6370ba01955b1fed6f667056",
    "python3-numpy-sid": "ea27616f8124b5729c67d85ca6942144aa17550a82bf99d046b665123f76d61a",
    "python3-cryptography-sid": "ac50561f6f5814424959bc991bc790e443940ee9ce5222277c7e254a233ff0f3",
    "python3-yaml-sid": "f9ff0bf16e9e6bfced516cc5dca25208a3b1e03fedb35457cee67a24572f1cd2",
}

#: scripts/interpreters.sh's private apt directory (sources.list, lists, cache).
PRIVATE_APT = (
    Path(os.environ.get("COINSTALL_TEST_CACHE") or Path.home() / ".cache" / "coinstall-test")
    / "interpreters"
    / "apt"
)


def private_apt_options() -> list[str]:
    """apt options that use only :data:`PRIVATE_APT` (as scripts/interpreters.sh's APT_OPTS)."""
    w = PRIVATE_APT
    return [
        "-o",
        f"Dir::Etc::SourceList={w}/sources.list",
        "-o",
        "Dir::Etc::SourceParts=/dev/null",
        "-o",
        f"Dir::State::Lists={w}/lists",
        "-o",
        f"Dir::Cache={w}/cache",
        "-o",
        "Dir::State::status=/dev/null",
        "-o",
        "Dir::Etc::Preferences=/dev/null",
        "-o",
        "Dir::Etc::PreferencesParts=/dev/null",
        "-o",
        "APT::Architecture=amd64",
        "-o",
        "Acquire::Languages=none",
        "-q",
    ]


def _download_newer_deb(filename: str, dest: Path) -> None:
    if not (PRIVATE_APT / "sources.list").is_file():
        raise CorpusError(
            f"{PRIVATE_APT} has no sources.list: run scripts/setup.sh "
            "(scripts/interpreters.sh makes the private apt configuration)"
        )
    cmd = ["apt-get", *private_apt_options(), "download", apt_spec(filename)]
    _run(
        cmd,
        cwd=dest,
        what=f"apt-get download of {filename} (private lists)",
        hint=f"refresh the private lists: apt-get {' '.join(private_apt_options())} update",
    )


PINNED_NEWER_WHEELS = PinnedSet("wheel", NEWER_WHEELS, NEWER_WHEEL_SHA256, fetch_wheel, jobs=4)
#: trixie/sid .debs, downloaded with the private apt configuration.
PINNED_NEWER_DEBS = PinnedSet(
    "deb", NEWER_DEBS, NEWER_DEB_SHA256, lambda f, h: _fetch("debs", f, h, _download_newer_deb)
)
newer_wheel = PINNED_NEWER_WHEELS.path
newer_deb = PINNED_NEWER_DEBS.path


def fetch_newer() -> tuple[dict[str, Path], dict[str, Path]]:
    """Fetch :data:`NEWER_WHEELS` and :data:`NEWER_DEBS`; return ``(wheels, debs)``."""
    return PINNED_NEWER_WHEELS.fetch_all(), PINNED_NEWER_DEBS.fetch_all()


#: bookworm's python3-saga, whose ``_saga_api.so`` is an untagged SWIG module linked to
#: libpython3.11 (tests/test_saga_truth.py), and the libraries it needs to be imported for real
#: (libsaga-api8 and its libwxbase3.2-1, which needs libpcre2-32-0); fetched like DEBS.
SAGA_DEBS: dict[str, str] = {
    "python3-saga": "python3-saga_8.5.0+dfsg-2_amd64.deb",
    "libsaga-api8": "libsaga-api8_8.5.0+dfsg-2_amd64.deb",
    "libwxbase3.2-1": "libwxbase3.2-1_3.2.2+dfsg-2_amd64.deb",
    "libpcre2-32-0": "libpcre2-32-0_10.42-1+deb12u2_amd64.deb",
}

SAGA_DEB_SHA256: dict[str, str] = {
    "python3-saga": "37c5d2f0bfc242271ff01758bf83923c6a09f694c3b992b86954c120f772fae0",
    "libsaga-api8": "858e19be30004fc239bd016f8c7f0b0f9c8c477930157be2290e66bec56269ac",
    "libwxbase3.2-1": "279afbf346dbf523618ce1ead2f7312c3068249968fb0d1fb4d98a3c823b9f52",
    "libpcre2-32-0": "159c10b6a650cac30de79f93189e7bfdcbc42088ec1e7049a08477e4e93be223",
}


PINNED_SAGA = PinnedSet("deb", SAGA_DEBS, SAGA_DEB_SHA256, fetch_deb)
saga_deb = PINNED_SAGA.path
fetch_saga = PINNED_SAGA.fetch_all


#: Two packages of the bookworm archive with untagged modules whose verdicts are worth a
#: check on every run (scripts/archive_truth.py, tests/test_archive_truth.py): python3-renderdoc's
#: ``renderdoc.so`` (full API, no version-specific symbol: "one of 3.8-3.15, cannot tell"; the
#: real 3.8-3.12 import it, 3.14 and 3.13t crash) with the libraries it needs that a bookworm
#: base lacks, and python3-saga (SAGA_DEBS: stable ABI, links libpython3.11).  Fetched like
#: DEBS; pinned 2026-12-07 from the archive the benchmark fetched.
ARCHIVE_TRUTH_DEBS: dict[str, str] = {
    "python3-renderdoc": "python3-renderdoc_1.24+dfsg-1+deb12u1_amd64.deb",
    "librenderdoc": "librenderdoc_1.24+dfsg-1+deb12u1_amd64.deb",
    "libstb0": "libstb0_0.0~git20220908.8b5f1f3+ds-1_amd64.deb",
    "libxcb-keysyms1": "libxcb-keysyms1_0.4.0-1+b2_amd64.deb",
    "spirv-tools": "spirv-tools_2023.1-2_amd64.deb",
}

ARCHIVE_TRUTH_DEB_SHA256: dict[str, str] = {
    "python3-renderdoc": "9f58a00406ea75eb3acac56e948aa8d80255651f59adf5aa3497e1f9ad0d4e78",
    "librenderdoc": "f3784061fd747e308e9e4ca1ff3450dbc7c69b6a2d4f1aefc42d0fbb82e834b5",
    "libstb0": "72de4b6b991e64ee86f09229f60c3f576f57800f1354154b2a43bb7fcd9d8696",
    "libxcb-keysyms1": "aed1436db9a3e63b10d00c4ed16248b5c82b5dd2963a83a761f406af65eb4b49",
    "spirv-tools": "51b1e7352dc84471623d7be38547009bd7b71ffaa1900e512060f8a22503f2dd",
}


PINNED_ARCHIVE_TRUTH = PinnedSet("deb", ARCHIVE_TRUTH_DEBS, ARCHIVE_TRUTH_DEB_SHA256, fetch_deb)
archive_truth_deb = PINNED_ARCHIVE_TRUTH.path
fetch_archive_truth = PINNED_ARCHIVE_TRUTH.fetch_all


def main() -> int:
    try:
        wheels, debs = fetch_all()
        newer_wheels, newer_debs = fetch_newer()
        saga = fetch_saga()
        saga.update(PINNED_SHARE_WHEELS.fetch_all())
        saga.update(fetch_archive_truth())
    except CorpusError as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 1
    total = 0
    for path in [
        *wheels.values(),
        *debs.values(),
        *newer_wheels.values(),
        *newer_debs.values(),
        *saga.values(),
        *rpms(),
    ]:
        size = path.stat().st_size
        total += size
        print(f"{size:>10}  {path}")
    print(f"{total:>10}  total ({total / 1e6:.1f} MB) in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def debian_mirror(debs: Iterable[Path], root: Path) -> tuple[Path, Path, bytes]:
    """A Debian mirror of ``debs`` under ``root``: ``root/mirror/pool/main/<file>`` (hard
    links, copies across file systems) and ``root/Packages.xz`` written by the real
    ``dpkg-scanpackages --multiversion``.  Returns (index, mirror directory, the index's
    uncompressed text)."""
    mirror = root / "mirror"
    pool = mirror / "pool" / "main"
    pool.mkdir(parents=True)
    for p in debs:
        try:
            os.link(p, pool / p.name)
        except OSError:
            shutil.copy(p, pool / p.name)
    text = subprocess.run(
        ["dpkg-scanpackages", "--multiversion", "pool"], cwd=mirror, capture_output=True, check=True
    ).stdout
    index = root / "Packages.xz"
    index.write_bytes(lzma.compress(text))
    return index, mirror, text
