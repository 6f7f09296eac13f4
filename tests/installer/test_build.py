"""The installers' build code without the network: closures, locks, manifests, re-packed
wheels, the Debian baseline."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from installer import debs, windows_python
from installer.build_debian import store_wheel
from installer.common import verify_manifest, write_manifest
from installer.wheels import TARGETS, locked_hashes, missing_requirements


def _fake_wheel(folder: Path, name: str, version: str, requires: list[str]) -> Path:
    """Write a minimal wheel whose METADATA declares ``requires``."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}-{version}.dist-info/METADATA", meta)
        zf.writestr(f"{name}/__init__.py", "VALUE = 1\n" * 100)
    return path


def test_closure_evaluates_markers_and_extras_for_the_target_not_the_build_machine(
    tmp_path: Path,
) -> None:
    wheels = [
        _fake_wheel(tmp_path, "motcua", "0.1.0", ["tzlocal>=5", "psycopg[binary]>=3.2"]),
        _fake_wheel(tmp_path, "tzlocal", "5.3", ['tzdata; platform_system == "Windows"']),
        _fake_wheel(
            tmp_path,
            "psycopg",
            "3.2.0",
            [
                'psycopg-binary==3.2.0; extra == "binary"',
                'backports-zoneinfo; python_version < "3.9"',
            ],
        ),
        _fake_wheel(tmp_path, "psycopg_binary", "3.2.0", []),
    ]
    linux = TARGETS["linux-cp311"]
    windows = TARGETS["win-cp311"]
    assert missing_requirements(wheels, linux, "motcua") == []
    assert [str(r) for r in missing_requirements(wheels, windows, "motcua")] == [
        'tzdata; platform_system == "Windows"'
    ]
    # A wheel of the wrong version does not satisfy the requirement.
    (tmp_path / "psycopg_binary-3.2.0-py3-none-any.whl").unlink()
    _fake_wheel(tmp_path, "psycopg_binary", "3.1.0", [])
    wheels = sorted(tmp_path.glob("*.whl"))
    assert [r.name for r in missing_requirements(wheels, linux, "motcua")] == ["psycopg-binary"]


def test_manifest_detects_changed_missing_and_unlisted_files(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "a-1-py3-none-any.whl").write_bytes(b"a")
    (tmp_path / "install.sh").write_text("echo hi\n", encoding="utf-8")
    write_manifest(tmp_path)
    assert verify_manifest(tmp_path) == []
    (tmp_path / "install.sh").write_text("echo evil\n", encoding="utf-8")
    (tmp_path / "wheels" / "b-1-py3-none-any.whl").write_bytes(b"b")
    (tmp_path / "wheels" / "a-1-py3-none-any.whl").unlink()
    assert verify_manifest(tmp_path) == [
        "checksum mismatch: install.sh",
        "missing: wheels/a-1-py3-none-any.whl",
        "not in the manifest: wheels/b-1-py3-none-any.whl",
    ]


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_target_has_a_lock_pinning_one_hashed_wheel_per_distribution(name: str) -> None:
    pins = locked_hashes(TARGETS[name])
    names = [pin.split("==")[0] for pin in pins.values()]
    assert len(names) == len(set(names)) > 10
    assert all(len(digest) == 64 for digest in pins)
    assert "cryptography" in names and "sqlcipher3-wheels" in names and "pip" in names
    assert not {"sqlalchemy", "psycopg", "starlette", "uvicorn"} & set(names)


def test_the_windows_python_is_pinned_by_hash() -> None:
    text = windows_python.LOCK.read_text(encoding="utf-8")
    for package, version in windows_python.SDISTS.items():
        assert f"{package}=={version} --hash=sha256:" in text


def test_a_stored_wheel_has_the_same_members_uncompressed(tmp_path: Path) -> None:
    src = _fake_wheel(tmp_path, "demo", "1.0", [])
    out = tmp_path / "out"
    out.mkdir()
    stored = store_wheel(src, out)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(stored) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        assert all(a.read(n) == b.read(n) for n in a.namelist())
        assert {i.compress_type for i in b.infolist()} == {zipfile.ZIP_STORED}
    assert stored.stat().st_size > src.stat().st_size


def _stanza(name: str, priority: str, depends: str = "", provides: str = "") -> str:
    lines = [f"Package: {name}", "Status: install ok installed", f"Priority: {priority}"]
    lines += [f"Depends: {depends}"] if depends else []
    lines += [f"Provides: {provides}"] if provides else []
    return "\n".join(lines)


def test_the_debian_baseline_is_required_packages_and_python3_with_their_dependencies() -> None:
    status = "\n\n".join(
        [
            _stanza("libc6", "required"),
            _stanza("mawk", "required", provides="awk"),
            _stanza("base-files", "required", depends="awk"),
            _stanza("python3", "optional", depends="python3.11 (>= 3.11.2), libc6"),
            _stanza("python3.11", "optional", depends="libmissing | libc6"),
            _stanza("libx11-6", "optional", depends="libc6"),
            _stanza("python3-tk", "optional", depends="libx11-6"),
        ]
    )
    baseline = debs.baseline_status(status)
    assert sorted(debs._stanzas(baseline)) == [
        "base-files",
        "libc6",
        "mawk",
        "python3",
        "python3.11",
    ]
