"""The catalogue against every real interpreter on the machine, and against the reference."""

from __future__ import annotations

import pytest

from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery
from coinstall.runtimes.model import Runtime


@pytest.fixture(scope="module")
def installed() -> list[Runtime]:
    found, errors = discovery.discover()
    assert not errors, errors
    return found


def test_catalogue_predicts_every_real_interpreter(installed: list[Runtime]) -> None:
    """Where the catalogue and an interpreter disagree, the catalogue is wrong."""
    cat = catalogue_mod.load()
    assert len(installed) >= 10
    for rt in installed:
        predicted = cat.predict(
            rt.implementation,
            rt.version,
            rt.abiflags,
            platform="linux" if rt.platform.startswith("linux") else rt.platform,
            triplet=rt.multiarch,
            vendor=rt.vendor,
            full_version=rt.full_version,
            implementation_version=rt.implementation_version,
        )
        assert predicted is not None, f"catalogue does not know {rt.id} ({rt.executable})"
        assert predicted.magic == rt.magic, rt.id
        assert predicted.cache_tag == rt.cache_tag, rt.id
        assert predicted.extension_suffixes == rt.extension_suffixes, rt.id
        assert predicted.pyc_header_size == rt.pyc_header_size, rt.id
        # Discovery's ids carry no "+debian" (runtime_id); the catalogue's Debian variant of a
        # line whose Debian build differs (3.13+: .abi3-<triplet>.so) does.
        assert (
            predicted.id.removesuffix("+debian" if rt.vendor == "debian" else "")
            == rt.id.split("@")[0]
        ), rt.id
        if rt.soabi is not None and rt.version >= (3, 2):
            assert predicted.soabi == rt.soabi, rt.id


def _known(platform: str = "linux", triplet: str = "x86_64-linux-gnu") -> dict[str, Runtime]:
    return {r.id: r for r in catalogue_mod.load().known(platform, triplet)}


def test_known_covers_the_runtimes_the_issue_names() -> None:
    k = _known()
    for version in ["2.7", *[f"3.{m}" for m in range(16)]]:
        assert any(r.version_str == version and r.implementation == "cpython" for r in k.values())
    for rid in (
        "cpython-3.12d",
        "cpython-3.13t",
        "cpython-3.14td",
        "cpython-3.7",
        "cpython-3.2u",
        "cpython-3.13+debian",
        "cpython-3.14+debian",
        "pypy-2.7-pp73",
        "pypy-3.9-pp73",
        "pypy-3.11-pp73",
    ):
        assert rid in k, rid
    assert all(r.sources for r in k.values())


# Values from ../shared/reference/cpython-abi.md (sections 1.2, 1.4, 2.3, 2.5) and debian.md 5.2.
@pytest.mark.parametrize(
    ("rid", "magic", "tag"),
    [
        ("cpython-2.7u", 62211, None),
        ("cpython-3.0", 3131, None),
        ("cpython-3.2", 3180, "cpython-32"),
        ("cpython-3.4", 3310, "cpython-34"),
        ("cpython-3.5", 3351, "cpython-35"),
        ("cpython-3.7", 3394, "cpython-37"),
        ("cpython-3.10", 3439, "cpython-310"),
        ("cpython-3.12", 3531, "cpython-312"),
        ("cpython-3.13t", 3571, "cpython-313"),
        ("cpython-3.14", 3627, "cpython-314"),
        ("pypy-3.9-pp73", 336, "pypy39"),
        ("pypy-3.11-pp73", 432, "pypy311"),
        ("pypy-2.7-pp73", 62218, None),
    ],
)
def test_magic_and_cache_tag(rid: str, magic: int, tag: str | None) -> None:
    rt = _known()[rid]
    assert (rt.magic, rt.cache_tag) == (magic, tag)


@pytest.mark.parametrize(
    ("rid", "platform", "suffixes"),
    [
        (
            "cpython-3.15",
            "linux",
            [
                ".cpython-315-x86_64-linux-gnu.so",
                ".abi3-x86_64-linux-gnu.so",
                ".abi3.so",
                ".abi3t-x86_64-linux-gnu.so",
                ".abi3t.so",
                ".so",
            ],
        ),
        (
            "cpython-3.15t",
            "linux",
            [".cpython-315t-x86_64-linux-gnu.so", ".abi3t-x86_64-linux-gnu.so", ".abi3t.so", ".so"],
        ),
        (
            "cpython-3.13+debian",
            "linux",
            [".cpython-313-x86_64-linux-gnu.so", ".abi3.so", ".abi3-x86_64-linux-gnu.so", ".so"],
        ),
        (
            "cpython-3.12d",
            "linux",
            [
                ".cpython-312d-x86_64-linux-gnu.so",
                ".cpython-312-x86_64-linux-gnu.so",
                ".abi3.so",
                ".so",
            ],
        ),
        ("cpython-3.7d", "linux", [".cpython-37dm-x86_64-linux-gnu.so", ".abi3.so", ".so"]),
        ("cpython-3.4", "linux", [".cpython-34m.so", ".abi3.so", ".so"]),
        (
            "cpython-3.4+debian",
            "linux",
            [".cpython-34m-x86_64-linux-gnu.so", ".cpython-34m.so", ".abi3.so", ".so"],
        ),
        ("cpython-2.7u", "linux", [".so", "module.so"]),
        ("cpython-3.14t", "darwin", [".cpython-314t-darwin.so", ".abi3.so", ".so"]),
        (
            "cpython-3.15",
            "darwin",
            [
                ".cpython-315-darwin.so",
                ".abi3-darwin.so",
                ".abi3.so",
                ".abi3t-darwin.so",
                ".abi3t.so",
                ".so",
            ],
        ),
        ("cpython-3.12", "win32", [".cp312-win_amd64.pyd", ".pyd"]),
        ("cpython-3.12d", "win32", ["_d.cp312-win_amd64.pyd", "_d.pyd"]),
        ("cpython-3.13t", "win32", [".cp313t-win_amd64.pyd", ".pyd"]),
        ("pypy-3.10-pp73", "linux", [".pypy310-pp73-x86_64-linux-gnu.so"]),
        ("pypy-3.11-pp73", "darwin", [".pypy311-pp73-darwin.so"]),
        ("pypy-3.11-pp73", "win32", [".pypy311-pp73-win_amd64.pyd"]),
    ],
)
def test_suffix_lists(rid: str, platform: str, suffixes: list[str]) -> None:
    assert list(_known(platform)[rid].extension_suffixes) == suffixes


def test_magic_origin_names_prereleases() -> None:
    cat = catalogue_mod.load()
    o = cat.magic_origin(3500)
    assert o is not None and o.version == "3.12" and not o.release
    assert cat.magic_origin(3350) is not None and cat.magic_origin(3350).release  # type: ignore[union-attr]
    assert cat.magic_origin(12345) is None


def test_provides() -> None:
    assert _known()["cpython-3.12"].provides == ("python(abi) = 3.12", "python-abi-3.12-3531")
