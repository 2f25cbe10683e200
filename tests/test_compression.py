"""The one switch on compression kinds (issue 21 item 4): .deb members, RPM payloads and
package indices name their kind three ways and read it through one function."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma

import lz4.frame
import pytest
import zstandard

from coinstall.artifacts.compression import (
    KINDS,
    kind_of_magic,
    kind_of_member,
    kind_of_rpm_payload,
    open_decompressed,
)

DATA = b"Package: python3-yaml\nVersion: 6.0-3\n\n" * 2000
COMPRESS = {
    "gz": gzip.compress,
    "xz": lzma.compress,
    "bz2": bz2.compress,
    "zst": lambda d: zstandard.ZstdCompressor().compress(d),
    "lz4": lz4.frame.compress,
}


@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_every_kind_is_told_and_read(kind: str) -> None:
    blob = COMPRESS[kind](DATA)
    assert kind_of_magic(blob[:8]) == kind
    stream = open_decompressed(io.BytesIO(blob), kind)
    out = b""
    while chunk := stream.read(1000):
        assert len(chunk) <= 1000  # a read never returns more than asked
        out += chunk
    assert out == DATA


def test_the_three_namings_agree() -> None:
    assert {kind_of_member(f"data.tar{s}") for s in ("", ".gz", ".xz", ".bz2", ".zst")} == {
        "none",
        "gz",
        "xz",
        "bz2",
        "zst",
    }
    assert [kind_of_rpm_payload(c) for c in ("", "gzip", "xz", "lzma", "bzip2", "zstd")] == [
        "gz",
        "gz",
        "xz",
        "xz",
        "bz2",
        "zst",
    ]
    assert kind_of_member("data.tar.lzma") is None and kind_of_rpm_payload("lzip") is None
    assert set(COMPRESS) | {"none"} == set(KINDS)


def test_a_zstd_frame_cut_short_is_an_error() -> None:
    # zstandard's own stream reader returns the bytes it got and stops without a word
    blob = zstandard.ZstdCompressor().compress(DATA)[:-20]
    stream = open_decompressed(io.BytesIO(blob), "zst")
    with pytest.raises(EOFError, match="ends early"):
        while stream.read(4096):
            pass
