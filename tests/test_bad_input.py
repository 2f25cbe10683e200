"""Bad input: one clear line per problem naming the file, the other targets still checked,
exit status 2, never a traceback, nothing written."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from corpus import deb, rpms

COINSTALL = [sys.executable, "-m", "coinstall"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COINSTALL, *args], capture_output=True, text=True, timeout=120)


def _ar(members: list[tuple[str, bytes]]) -> bytes:
    """A minimal ar(5) archive (test scaffolding for hand-made hostile .debs)."""
    out = b"!<arch>\n"
    for name, data in members:
        hdr = f"{name:<16}{0:<12}{0:<6}{0:<6}{0o100644:<8o}{len(data):<10}`\n".encode()
        out += hdr + data + (b"\n" if len(data) % 2 else b"")
    return out


def _tar(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture()
def bad_targets(tmp_path: Path) -> dict[str, Path]:
    good_rpm = rpms()[0]
    out = {}
    p = tmp_path / "truncated.rpm"
    data = good_rpm.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    out["truncated-rpm"] = p
    yaml_deb = deb("python3-yaml").read_bytes()
    p = tmp_path / "truncated.deb"
    p.write_bytes(yaml_deb[: len(yaml_deb) - 5000])
    out["truncated-deb"] = p
    p = tmp_path / "notazip-1.0-py3-none-any.whl"
    p.write_text("hello")
    out["not-zip"] = p
    p = tmp_path / "random.deb"
    p.write_bytes(b"\x00" * 100)
    out["not-deb"] = p
    p = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("evil-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: evil\n"
                                                   "Version: 1.0\n")
        zf.writestr("../escape.py", "x = 1\n")
        zf.writestr("/etc/abs.py", "x = 1\n")
        zf.writestr("evil/__init__.py", "")
    out["evil-wheel"] = p
    p = tmp_path / "evil_1.0_all.deb"
    control = _tar([("./control", b"Package: evil\nVersion: 1.0\nArchitecture: all\n")])
    payload = _tar([("./usr/lib/python3/dist-packages/ok.py", b""),
                    ("../../outside.py", b"x"), ("/abs/path.py", b"x")])
    p.write_bytes(_ar([("debian-binary", b"2.0\n"), ("control.tar.gz", control),
                       ("data.tar.gz", payload)]))
    out["evil-deb"] = p
    out["missing"] = tmp_path / "does-not-exist.rpm"
    return out


@pytest.mark.network
def test_each_bad_target_gets_one_line_and_the_rest_is_checked(
    bad_targets: dict[str, Path], tmp_path: Path
) -> None:
    good = str(rpms()[0])
    targets = [str(p) for p in bad_targets.values()]
    before = set(tmp_path.iterdir())
    proc = _run("check", "--no-installed", "--format", "json", good, *targets)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    report = json.loads(proc.stdout)
    checked = {a["path"] for a in report["artifacts"]}
    assert good in checked
    errors = report["errors"]
    for key, path in bad_targets.items():
        mine = [e for e in errors if e["path"] == str(path)]
        assert mine, f"{key}: no error reported"
        for e in mine:
            assert "\n" not in e["message"] and e["message"], (key, e)
    evil = [e["message"] for e in errors if e["path"] == str(bad_targets["evil-wheel"])]
    assert any("../escape.py" in m for m in evil) and any("/etc/abs.py" in m for m in evil)
    evil_deb = [e["message"] for e in errors if e["path"] == str(bad_targets["evil-deb"])]
    assert any("outside.py" in m for m in evil_deb) and any("/abs/path.py" in m for m in evil_deb)
    # The hostile packages' safe members were still checked.
    assert str(bad_targets["evil-deb"]) in checked
    # Nothing was written beside the inputs (no extraction).
    assert set(tmp_path.iterdir()) == before
    assert not (tmp_path.parent / "escape.py").exists()


@pytest.mark.network
def test_text_mode_prints_one_line_per_bad_target(bad_targets: dict[str, Path]) -> None:
    proc = _run("check", "--no-installed", str(bad_targets["truncated-deb"]),
                str(bad_targets["not-zip"]), str(bad_targets["missing"]))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("coinstall: ")]
    assert len(lines) == 3
    assert any("truncated.deb" in ln for ln in lines)
    assert any("no such file" in ln for ln in lines)


def test_bad_usage_exits_2() -> None:
    proc = _run("check", "--format", "xml")
    assert proc.returncode == 2
