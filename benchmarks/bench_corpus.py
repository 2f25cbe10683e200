#!/usr/bin/env python3
"""Pinned real packages for the benchmark: the test corpus (``tests/corpus.py``) plus more.

The benchmark needs 30+ wheels and 30+ .debs of every kind a checker meets: pure Python,
version-specific CPython extensions (``cpXY-cpXY``), stable-ABI (``abi3``) extensions, PyPy,
Multi-Arch: same Debian libraries, very large packages, a CPython runtime package.  Every file
is pinned by exact file name and sha256, fetched once into the shared corpus cache
(``$COINSTALL_TEST_CACHE`` or ``.cache/corpus``) with the test corpus' own downloaders
(``pip download`` with cross-target options derived from the file name; ``apt-get download
NAME[:ARCH]=VERSION`` from the bookworm lists), and checked against its sha256 on every run
(:func:`fetch`), so every run reads byte-identical inputs.

Debian removes a superseded point-release or security build (``+deb12uN``) from the mirror
when a newer one arrives; ``apt-get download`` then fails naming the file and the pin has to
move to the newer build (a new file name and sha256).  PyPI files never change.

Run ``python benchmarks/bench_corpus.py`` to pre-fetch and verify everything.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Wheels beyond the test corpus: ``key -> (file name, sha256)``.  Downloaded for CPython 3.12
#: on x86_64 manylinux (pure wheels: any Python 3).
WHEELS: dict[str, tuple[str, str]] = {
    # pure Python, small to very large (botocore: ~13 MB of JSON service models)
    "django": (
        "Django-5.1.4-py3-none-any.whl",
        "236e023f021f5ce7dee5779de7b286565fdea5f4ab86bae5338e3f7b69896cf0",
    ),
    "botocore": (
        "botocore-1.35.80-py3-none-any.whl",
        "36e589dccb62380abd628b08fecfa2f7c89b99f41ec9fc42c467c94008c0be4a",
    ),
    "pip": (
        "pip-24.3.1-py3-none-any.whl",
        "3790624780082365f47549d032f3770eeb2b1e8bd1f7b2e02dace1afa361b4ed",
    ),
    "setuptools": (
        "setuptools-75.6.0-py3-none-any.whl",
        "ce74b49e8f7110f9bf04883b730f4765b774ef3ef28f722cce7c273d253aaf7d",
    ),
    "pygments": (
        "pygments-2.18.0-py3-none-any.whl",
        "b8e6aca0523f3ab76fee51799c488e38782ac06eafcf95e7ba832985c8e7b13a",
    ),
    "urllib3": (
        "urllib3-2.2.3-py3-none-any.whl",
        "ca899ca043dcb1bafa3e262d73aa25c465bfb49e0bd9dd5d59f1d0acba2f8fac",
    ),
    "idna": (
        "idna-3.10-py3-none-any.whl",
        "946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3",
    ),
    "certifi": (
        "certifi-2024.8.30-py3-none-any.whl",
        "922820b53db7a7257ffbda3f597266d435245903d80737e34f8a45ff3e3230d8",
    ),
    "jinja2": (
        "jinja2-3.1.4-py3-none-any.whl",
        "bc5dd2abb727a5319567b7a813e6a2e7318c39f4f487cfe6c89c6f9c7d25197d",
    ),
    "packaging": (
        "packaging-24.2-py3-none-any.whl",
        "09abb1bccd265c01f4a3aa3f7a7db064b36514d2cba19a2f694fe6150451a759",
    ),
    "typing-extensions": (
        "typing_extensions-4.12.2-py3-none-any.whl",
        "04e5ca0351e0f3f85c6853954072df659d0d13fac324d0072316b67d7794700d",
    ),
    # a platform wheel with no extension module at all: one Rust executable in .data/scripts
    "ruff": (
        "ruff-0.8.3-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d7c65bc0cadce32255e93c57d57ecc2cca23149edd52714c0c5d6fa11ec328cd",
    ),
    # version-specific CPython 3.12 extensions (C, Cython, Rust/PyO3)
    "pandas-cp312": (
        "pandas-2.2.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "fffb8ae78d8af97f849404f21411c95062db1496aeb3e56f146f0355c9989319",
    ),
    "pydantic-core-cp312": (
        "pydantic_core-2.27.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "7597c07fbd11515f654d6ece3d0e4e5093edc30a436c63142d9a4b8e22f19c35",
    ),
    "lxml-cp312": (
        "lxml-5.3.0-cp312-cp312-manylinux_2_28_x86_64.whl",
        "3879cc6ce938ff4eb4900d901ed63555c778731a96365e53fadb36437a131a99",
    ),
    "pillow-cp312": (
        "pillow-11.0.0-cp312-cp312-manylinux_2_28_x86_64.whl",
        "00177a63030d612148e659b55ba99527803288cea7c75fb05766ab7981a8c1b7",
    ),
    "psycopg2-binary-cp312": (
        "psycopg2_binary-2.9.10-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "8cd9b4f2cfab88ed4a9106192de509464b75a906462fb846b936eabe45c2063e",
    ),
    "orjson-cp312": (
        "orjson-3.10.12-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "910fdf2ac0637b9a77d1aad65f803bac414f0b06f720073438a7bd8906298192",
    ),
    # msgpack-cp312: now in the test corpus (tests/corpus.py), merged in by all_wheels()
    "regex-cp312": (
        "regex-2024.11.6-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "70b7fa6606c2881c1db9479b0eaa11ed5dfa11c8d60a474ff0e095099f39d98e",
    ),
    "cffi-cp312": (
        "cffi-1.17.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "b62ce867176a75d03a665bad002af8e6d54644fad99a3c70905c543130e39d93",
    ),
    "safetensors-cp312": (
        "safetensors-0.4.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "3685ce7ed036f916316b567152482b7e959dc754fcc4a8342333d222e05f407c",
    ),
    # stable ABI (abi3): C (psutil, argon2 via cffi), Rust/PyO3 (tokenizers), and
    # pycryptodome, whose .so files are plain ctypes libraries, not extension modules
    "psutil-abi3": (
        "psutil-6.1.0-cp36-abi3-manylinux_2_12_x86_64.manylinux2010_x86_64"
        ".manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "498c6979f9c6637ebc3a73b3f87f9eb1ec24e1ce53a7c5173b8508981614a90b",
    ),
    "argon2-cffi-bindings-abi3": (
        "argon2_cffi_bindings-21.2.0-cp36-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "b746dba803a79238e925d9046a63aa26bf86ab2a2fe74ce6b009a1c3f5c8f2ae",
    ),
    "tokenizers-abi3": (
        "tokenizers-0.21.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "e84ca973b3a96894d1707e189c14a774b701596d579ffc7e69debfc036a61a04",
    ),
    "pycryptodome-abi3": (
        "pycryptodome-3.21.0-cp36-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "0714206d467fc911042d01ea3a1847c847bc10884cf674c82e12915cfe1649f8",
    ),
}

#: Debian bookworm .debs beyond the test corpus: ``key -> (file name, sha256)``.
DEBS: dict[str, tuple[str, str]] = {
    # Architecture: all, pure Python; django and pandas are large (~20 MB unpacked)
    "python3-django": (
        "python3-django_3%3a3.2.25-0+deb12u7_all.deb",
        "9ad8ed29d9026207970777e194f658c39b3a7a96a932967f043503fc25bdc319",
    ),
    "python3-pandas": (
        "python3-pandas_1.5.3+dfsg-2_all.deb",
        "4c530b36c107dcfdcbf2a2bef4008a4667b1833084259c0c40ef7d26b7fec0a5",
    ),
    "python3-pip": (
        "python3-pip_23.0.1+dfsg-1_all.deb",
        "d8024ededc6c7fe941ca96aabebdcf2d846fd130eae9d66aad1aa32a84454291",
    ),
    "python3-setuptools": (
        "python3-setuptools_66.1.1-1+deb12u2_all.deb",
        "96f934b8dbe4367c4cf9e4c740aa5c85f9a9ac8875a16556c8677fb342c7838f",
    ),
    "python3-pygments": (
        "python3-pygments_2.14.0+dfsg-1_all.deb",
        "405734a57b8d2722d10413c511d9b63ee78bbbdab8b2b689d7295260bc9618a2",
    ),
    "python3-pytest": (
        "python3-pytest_7.2.1-2_all.deb",
        "bc5df67eb9ea18beddd95eaaa1ffc7bfffc1716d3071e6f405bd22f6a0411416",
    ),
    "python3-requests": (
        "python3-requests_2.28.1+dfsg-1_all.deb",
        "c75b5c05d8d4a813bd83c3d432ffe65a2ca13e771bc91d4b9787690097598603",
    ),
    "python3-urllib3": (
        "python3-urllib3_1.26.12-1+deb12u4_all.deb",
        "9dd6fef10317e437f2195cb5ea8b38d8e39e02106c5fda7b16d58b4bb9a85886",
    ),
    "python3-idna": (
        "python3-idna_3.3-1+deb12u1_all.deb",
        "0bf81fb1906d3aa607482d09aa3bcbab5c263242b1fd1d93be39658fa783af1a",
    ),
    "python3-certifi": (
        "python3-certifi_2022.9.24-1_all.deb",
        "121abb6d0af69b57ce7202be38b2db9150e5d627bbaab6c17fe10650d2ced4fc",
    ),
    "python3-jinja2": (
        "python3-jinja2_3.1.2-1+deb12u3_all.deb",
        "914e3a26742b488bca661dd12dc06198262c3a99b68f2f20ef7310aecdf82cae",
    ),
    "python3-click": (
        "python3-click_8.1.3-2_all.deb",
        "c3af7e231d711f7fdb9a2fac4954061fe423ea517279bc30bf95a0920738279b",
    ),
    "python3-attr": (
        "python3-attr_22.2.0-1_all.deb",
        "6a12ea96a8a909445a982975279f96d7b9a1ff96c912efff39abc8d92372694a",
    ),
    "python3-packaging": (
        "python3-packaging_23.0-1_all.deb",
        "04adb9e09aa8ed5bd8e31d31143fb265c43dcbec70da19f21e37cbe44b0c32cf",
    ),
    # amd64 extension modules; scipy is the largest (~62 MB unpacked)
    "python3-scipy": (
        "python3-scipy_1.10.1-2_amd64.deb",
        "75175eb18aa9ef6424c69050a751335fe686c24b65bc1773d0769a74a21c869d",
    ),
    "python3-markupsafe": (
        "python3-markupsafe_2.1.2-1+b1_amd64.deb",
        "38310d680386db2d1b166be3ac839aa5bc7ead3de235466bd3e13a3ef4962601",
    ),
    "python3-psycopg2": (
        "python3-psycopg2_2.9.5-1+b1_amd64.deb",
        "e4f59385b82c63dc54cce79a53e5f0fbeb6d5b343698a43e135b95cd2823e564",
    ),
    "python3-regex": (
        "python3-regex_0.1.20221031-1+b1_amd64.deb",
        "64f823f4a5fffa69ab6fb21bf7240d162ddc78d6c97f4d03c081fc764952e999",
    ),
    "python3-nacl": (
        "python3-nacl_1.5.0-2_amd64.deb",
        "684bf67e3e9399f6293597e112f88a865f8e6082439a0be7888ce15320a0e12a",
    ),
    "python3-zmq": (
        "python3-zmq_24.0.1-4+b1_amd64.deb",
        "90bedfb29183ff8bc6ca29987c12821a25e3002e34527160ea3a5fc5ea23140e",
    ),
    "python3-psutil": (
        "python3-psutil_5.9.4-1+b1_amd64.deb",
        "177484bcdfb3c0644449c32c6f0b62244e51d5860d801dd7f35bc0848a0dd9dc",
    ),
    "python3-zstandard": (
        "python3-zstandard_0.20.0-3_amd64.deb",
        "c96d16e5ebffd700ef336408e472d0a0c794d970ee6fdd7fceec0155f0ead3a5",
    ),
    # Multi-Arch: allowed (python3-gi) and Multi-Arch: same (the rest); the test corpus adds
    # python3-apt (allowed), libpython3.11-stdlib (same) and python3.11-minimal (the runtime)
    "python3-gi": (
        "python3-gi_3.42.2-3+b1_amd64.deb",
        "6cdf29f0cface26d98c767e83882f471f14ee30cad9e71f81caccd603e97274c",
    ),
    "python3-lxml": (
        "python3-lxml_4.9.2-1+deb12u1_amd64.deb",
        "d344606151e52176477b23763ccacad82d2a7315ec7935275c1c3c9499258606",
    ),
    "python3-pil": (
        "python3-pil_9.4.0-1.1+deb12u1_amd64.deb",
        "85791cb9060c8f49c1709bd43e37700b252dc3b3d349c1aa48962f98fa0a0f6f",
    ),
    "python3-cffi-backend": (
        "python3-cffi-backend_1.15.1-5+b1_amd64.deb",
        "185bd768cc37fb96ac4a2fd6f8c0c31df3e7513d472d9b60015149761955955f",
    ),
    "python3-ujson": (
        "python3-ujson_5.7.0-1_amd64.deb",
        "cf3ee038e7ff45576947311472755102a567510e1d97e5580c46da720a2da1cb",
    ),
    "python3-pandas-lib": (
        "python3-pandas-lib_1.5.3+dfsg-2_amd64.deb",
        "06fc9b046962a348273c76520f1b93ac06ea5bebda8dfeb6ec7d9f97d5970cbb",
    ),
}


def tests_corpus() -> ModuleType:
    """The test corpus module (``tests/corpus.py``): its pins and its downloaders."""
    tests = str(REPO_ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    return importlib.import_module("corpus")


def all_wheels() -> dict[str, tuple[str, str]]:
    """Every benchmark wheel, ``key -> (file name, sha256)``: the test corpus' then ours."""
    tc = tests_corpus()
    return {**{k: (f, tc.WHEEL_SHA256[k]) for k, f in tc.WHEELS.items()}, **WHEELS}


def all_debs() -> dict[str, tuple[str, str]]:
    """Every benchmark .deb, ``key -> (file name, sha256)``: the test corpus' then ours."""
    tc = tests_corpus()
    return {**{k: (f, tc.DEB_SHA256[k]) for k, f in tc.DEBS.items()}, **DEBS}


def rpms() -> list[Path]:
    """Every RPM of the shared corpus (``tests/data/rpm``), sorted."""
    return list(tests_corpus().rpms())


def _verified(fetch: Callable[[str, str], Path]) -> Callable[[tuple[str, str]], Path]:
    """``fetch`` (which checks the hash of what it downloads), then the hash of the cached
    file too: the benchmark must not time a file that changed in the shared cache."""

    def run(pin: tuple[str, str]) -> Path:
        filename, sha256 = pin
        path = fetch(filename, sha256)
        with path.open("rb") as fh:
            actual = hashlib.file_digest(fh, "sha256").hexdigest()
        if actual != sha256:
            raise tests_corpus().CorpusError(
                f"{path}: sha256 {actual} does not match the pin {sha256}; delete the file "
                "to fetch it again"
            )
        return path

    return run


def fetch(jobs: int = 4) -> tuple[dict[str, Path], dict[str, Path]]:
    """Fetch (if missing) and verify every pinned wheel and .deb; ``(wheels, debs)`` as
    ``key -> path``.  Wheels download ``jobs`` at a time; .debs one at a time (apt's lock).

    Raises:
        CorpusError (``tests/corpus.py``): a download failed or a file does not match its pin.
    """
    tc = tests_corpus()
    wheels, debs = all_wheels(), all_debs()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        wheel_paths = list(pool.map(_verified(tc.fetch_wheel), wheels.values()))
    deb_paths = [_verified(tc.fetch_deb)(pin) for pin in debs.values()]
    return (dict(zip(wheels, wheel_paths, strict=True)), dict(zip(debs, deb_paths, strict=True)))


def main() -> int:
    tc = tests_corpus()
    try:
        wheels, debs = fetch()
    except tc.CorpusError as exc:
        print(f"benchmark corpus: {exc}", file=sys.stderr)
        return 1
    paths = [*wheels.values(), *debs.values(), *rpms()]
    total = sum(p.stat().st_size for p in paths)
    print(
        f"{len(wheels)} wheels, {len(debs)} .debs, {len(paths) - len(wheels) - len(debs)} "
        f"RPMs verified: {total / 1e6:.1f} MB in {tc.cache_dir()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
