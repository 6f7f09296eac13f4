"""The offline USB bundle: built here for this machine, installed with no network, refused if damaged.

The bundle build downloads wheels from the package registry (this machine and CI reach it); the
install then runs in a network namespace with no interfaces when ``unshare -n`` is allowed, and
always with pip pointed at no index and a dead proxy, so a single download would fail the test.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"


def _load_build_bundle() -> ModuleType:
    """Import installer/build_bundle.py (installer/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("build_bundle", INSTALLER / "build_bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_bundle"] = module
    spec.loader.exec_module(module)
    return module


bb = _load_build_bundle()

linux_x86_64 = pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64",
    reason="the bundle test builds for linux x86_64 only",
)


def _base_python() -> str:
    """Return the interpreter the project's venv was made from (a system-like Python)."""
    base = Path(sys.base_prefix) / "bin"
    for name in (f"python{sys.version_info[0]}.{sys.version_info[1]}", "python3"):
        if (base / name).exists():
            return str(base / name)
    return sys.executable


def _has_tkinter(python: str) -> bool:
    return (
        subprocess.run([python, "-c", "import tkinter; tkinter.Tcl()"], check=False).returncode == 0
    )


def _no_network_prefix() -> list[str]:
    """Return ``["unshare", "-n"]`` when this process may drop into a network namespace."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], check=False).returncode == 0:
        return [unshare, "-n"]
    return []


def _offline_env(home: Path) -> dict[str, str]:
    """Return a minimal environment in which any attempt by pip to download fails, and in which
    pip is offered a folder with a decoy wheel newer than the bundle's (the installer must
    ignore every pip setting of the machine)."""
    decoy = home / "decoy-wheels"
    if not decoy.is_dir():
        decoy.mkdir(parents=True)
        _fake_wheel(decoy, "tzdata", "9999.1", [])
    return {
        "PIP_FIND_LINKS": str(decoy),
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }


class Installed:
    """The folders of one install run: prefix, commands, launchers, and a fake HOME."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.prefix = root / "prefix"
        self.bin = root / "bin"
        self.apps = root / "apps"
        self.home.mkdir(parents=True)

    def run(self, bundle: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        """Run the bundle's install.sh offline into these folders."""
        python = _base_python()
        args = ["--prefix", str(self.prefix), "--bin-dir", str(self.bin)]
        args += ["--apps-dir", str(self.apps), "--python", python]
        if not _has_tkinter(python):
            args.append("--no-gui-check")
        return subprocess.run(
            [*_no_network_prefix(), "bash", str(bundle / "install.sh"), *args, *extra],
            env=_offline_env(self.home),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _snapshot(folder: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under ``folder``, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _make_profiles(home: Path) -> dict[str, dict[str, str]]:
    """Create look-alike profiles at both default places and return their snapshots."""
    snaps = {}
    for rel in (".local/share/motcua", ".motcua"):
        profile = home / rel
        profile.mkdir(parents=True)
        (profile / "config.json").write_text('{"commune": "LC-01"}\n', encoding="utf-8")
        (profile / "store.db").write_bytes(os.urandom(4096))
        snaps[rel] = _snapshot(profile)
    return snaps


# --- the bundle (built once per test session; the pip cache survives between sessions) ---------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build a bundle for this machine's platform (linux x86_64, this CPython) into a temp dir."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        pytest.skip("the bundle test builds for linux x86_64 only")
    out = tmp_path_factory.mktemp("usb") / "motcua"
    # pip's own cache, keyed by the dependency list, so a re-run downloads almost nothing.
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"motcua-installer-pip-cache-{key}"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(INSTALLER / "build_bundle.py"), "--out", str(out)]
        + ["--target", "host", "--pip-cache", str(cache), "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"bundle built in {time.monotonic() - started:.1f} s: {proc.stdout.strip()}")
    return out


@pytest.mark.slow
@linux_x86_64
def test_bundle_holds_every_wheel_and_a_manifest_of_every_file(bundle: Path) -> None:
    info = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    target = bb.host_target()
    assert list(info["targets"]) == [target]
    assert (bundle / "wheels" / info["app_wheel"]).is_file()
    for script in ("install.sh", "install.ps1", "README.md"):
        assert (bundle / script).is_file()
    # Binary wheels only (nothing to compile on the commune PC), pip included for the bootstrap.
    files = sorted(p.name for p in (bundle / "wheels").iterdir())
    assert all(name.endswith(".whl") for name in files)
    for dist in ("pip-", "sqlcipher3_wheels-", "cryptography-", "psycopg_binary-", "pillow-"):
        assert any(name.startswith(dist) for name in files), dist
    # The manifest covers every other file, and the wheels close over the app's requirements.
    listed = {
        line.split("  ", 1)[1]
        for line in (bundle / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    }
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert listed == on_disk - {"SHA256SUMS"}
    assert bb.verify_manifest(bundle) == []
    assert (
        bb.missing_requirements((bundle / "wheels").glob("*.whl"), bb.TARGETS[target], "motcua")
        == []
    )
    # The app's wheel carries its reference data (communes, ethnic groups, holidays).
    with zipfile.ZipFile(bundle / "wheels" / info["app_wheel"]) as zf:
        assert any(n.startswith("desktop/forms/data/") for n in zf.namelist())


@pytest.mark.slow
@linux_x86_64
def test_offline_install_runs_the_app_keeps_profiles_and_reruns_as_an_upgrade(
    bundle: Path, tmp_path: Path
) -> None:
    inst = Installed(tmp_path)
    profiles = _make_profiles(inst.home)

    started = time.monotonic()
    first = inst.run(bundle)
    install_seconds = time.monotonic() - started
    assert first.returncode == 0, first.stdout + first.stderr
    print(f"offline install: {install_seconds:.1f} s")

    env = _offline_env(inst.home)
    helped = subprocess.run(
        [inst.bin / "motcua", "--help"], env=env, capture_output=True, text=True
    )
    assert helped.returncode == 0, helped.stderr
    assert "enrol" in helped.stdout
    python = inst.prefix / "current" / "bin" / "python"
    imported = subprocess.run(
        [python, "-c", "import desktop.app, desktop.store, desktop.sync.client, server.cli"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    # Every installed distribution came from the bundle (this machine's own pip settings, such
    # as a find-links folder, must not leak into the install).
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format", "json"], env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    bundled = {
        w.name.split("-")[0].lower() + "-" + w.name.split("-")[1]
        for w in (bundle / "wheels").glob("*.whl")
    }
    for dist in json.loads(listed.stdout):
        key = dist["name"].lower().replace("-", "_").replace(".", "_") + "-" + dist["version"]
        assert key in bundled, f"{key} was not installed from the bundle"
    app_help = subprocess.run(
        [inst.bin / "motcua-app", "--help"], env=env, capture_output=True, text=True
    )
    assert app_help.returncode == 0 and "--profile" in app_help.stdout
    launcher = (inst.apps / "motcua.desktop").read_text(encoding="utf-8")
    assert "Name=Một Cửa Xã" in launcher
    assert f'Exec="{inst.bin / "motcua-app"}"' in launcher
    first_venv = os.readlink(inst.prefix / "current")

    _installers_visit(inst, tmp_path)

    # Same bundle again: nothing reinstalled, still working.
    again = inst.run(bundle)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "đã được cài" in again.stdout
    assert os.readlink(inst.prefix / "current") == first_venv

    # A newer bundle: a fresh venv becomes current, the previous one stays for a rollback.
    newer = tmp_path / "usb2"
    shutil.copytree(bundle, newer)
    info = json.loads((newer / "bundle.json").read_text(encoding="utf-8"))
    info["built_at"] = "2099-01-01T00:00:00Z"
    (newer / "bundle.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    bb.write_manifest(newer)
    upgrade = inst.run(newer)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    assert os.readlink(inst.prefix / "current") != first_venv
    assert (inst.prefix / first_venv).is_dir()
    assert (
        subprocess.run([inst.bin / "motcua", "--help"], env=env, capture_output=True).returncode
        == 0
    )

    # The clerks' data was never touched, by the first install, the re-run or the upgrade.
    for rel, snap in profiles.items():
        assert _snapshot(inst.home / rel) == snap


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _installers_visit(inst: Installed, tmp_path: Path) -> None:
    """Do what the installer person does next, with the installed commands only: create the
    commune's profile, enrol it with a (local, embedded SQLite) provincial server, sync once."""
    env = {**_offline_env(inst.home), "MOTCUA_PASSWORD": "mat-khau-thu-123"}
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    db = f"sqlite:///{tmp_path / 'province.db'}"
    profile = tmp_path / "commune-profile"

    def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{argv}: {proc.stdout}{proc.stderr}"
        return proc

    run(inst.bin / "motcua", "--profile", profile, "init", "--commune", "02701")
    run(inst.bin / "motcua-server", "--db", db, "init")
    code = run(inst.bin / "motcua-server", "--db", db, "enrol-code", "--commune", "02701")
    port = _free_port()
    server = subprocess.Popen(
        [
            inst.bin / "motcua-server",
            "--db",
            db,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        enrol_code = code.stdout.strip().splitlines()[-1]
        enrolled = run(
            inst.bin / "motcua",
            "--profile",
            profile,
            "enrol",
            "--server",
            url,
            "--code",
            enrol_code,
        )
        assert "02701" in enrolled.stdout
        run(inst.bin / "motcua", "--profile", profile, "sync")  # exit 0 = synced
    finally:
        server.terminate()
        server.wait(timeout=30)


def _damaged_copy(bundle: Path, dest: Path) -> Path:
    shutil.copytree(bundle, dest)
    return dest


@pytest.mark.slow
@linux_x86_64
@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing", "extra wheel"])
def test_damaged_bundle_is_refused_before_anything_is_installed(
    bundle: Path, tmp_path: Path, damage: str
) -> None:
    usb = _damaged_copy(bundle, tmp_path / "usb")
    wheel = next(p for p in sorted((usb / "wheels").glob("cryptography-*.whl")))
    if damage == "flipped byte":
        data = bytearray(wheel.read_bytes())
        data[len(data) // 2] ^= 0x01
        wheel.write_bytes(bytes(data))
    elif damage == "truncated":
        wheel.write_bytes(wheel.read_bytes()[:1000])
    elif damage == "missing":
        wheel.unlink()
    else:
        shutil.copy2(wheel, usb / "wheels" / "evil-1.0-py3-none-any.whl")

    inst = Installed(tmp_path / "pc")
    profiles = _make_profiles(inst.home)
    result = inst.run(usb)

    assert result.returncode != 0
    assert "bị hỏng" in result.stderr or "Tệp lạ" in result.stderr
    assert "nothing was installed" in result.stderr
    assert not inst.prefix.exists() and not inst.bin.exists() and not inst.apps.exists()
    for rel, snap in profiles.items():
        assert _snapshot(inst.home / rel) == snap
    assert bb.verify_manifest(usb) != []


@pytest.mark.slow
@linux_x86_64
def test_a_folder_the_installer_did_not_make_is_never_written(bundle: Path, tmp_path: Path) -> None:
    inst = Installed(tmp_path)
    inst.prefix.mkdir()
    (inst.prefix / "store.db").write_bytes(b"a clerk's data")
    result = inst.run(bundle)
    assert result.returncode != 0
    assert "refusing to install" in result.stderr
    assert sorted(p.name for p in inst.prefix.iterdir()) == ["store.db"]
    assert (inst.prefix / "store.db").read_bytes() == b"a clerk's data"


# --- the dependency closure, per target (no network) ------------------------------------------


def _fake_wheel(folder: Path, name: str, version: str, requires: list[str]) -> Path:
    """Write a minimal wheel whose METADATA declares ``requires``."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}-{version}.dist-info/METADATA", meta)
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
    linux = bb.TARGETS["linux-cp311"]
    windows = bb.TARGETS["win-cp311"]
    assert bb.missing_requirements(wheels, linux, "motcua") == []
    assert [str(r) for r in bb.missing_requirements(wheels, windows, "motcua")] == [
        'tzdata; platform_system == "Windows"'
    ]
    # A wheel of the wrong version does not satisfy the requirement.
    (tmp_path / "psycopg_binary-3.2.0-py3-none-any.whl").unlink()
    _fake_wheel(tmp_path, "psycopg_binary", "3.1.0", [])
    wheels = sorted(tmp_path.glob("*.whl"))
    assert [r.name for r in bb.missing_requirements(wheels, linux, "motcua")] == ["psycopg-binary"]


def test_manifest_detects_changed_missing_and_unlisted_files(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "a-1-py3-none-any.whl").write_bytes(b"a")
    (tmp_path / "install.sh").write_text("echo hi\n", encoding="utf-8")
    bb.write_manifest(tmp_path)
    assert bb.verify_manifest(tmp_path) == []
    (tmp_path / "install.sh").write_text("echo evil\n", encoding="utf-8")
    (tmp_path / "wheels" / "b-1-py3-none-any.whl").write_bytes(b"b")
    (tmp_path / "wheels" / "a-1-py3-none-any.whl").unlink()
    assert bb.verify_manifest(tmp_path) == [
        "checksum mismatch: install.sh",
        "missing: wheels/a-1-py3-none-any.whl",
        "not in the manifest: wheels/b-1-py3-none-any.whl",
    ]


def test_build_refuses_unknown_targets_and_a_non_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(bb.BundleError, match="unknown target"):
        bb.build_bundle(tmp_path / "new", targets=["linux-cp39"])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x", encoding="utf-8")
    with pytest.raises(bb.BundleError, match="not empty"):
        bb.build_bundle(tmp_path / "full", targets=["linux-cp311"])
