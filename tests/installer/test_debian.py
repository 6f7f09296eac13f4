"""The Debian/Ubuntu bundle: built here, installed with no network into a fresh Debian 12
chroot (system packages from its .deb files), self-checked, upgraded in place and uninstalled
with the clerk's data kept; refused when damaged; and, on this machine, enrolled and synced
with a provincial server started from the development virtualenv."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from installer.common import APP_EXTRAS, PROJECT_NAME, verify_manifest, write_manifest
from installer.wheels import LINUX_TARGETS, missing_requirements
from tests.installer.conftest import ReleaseBuilds
from tests.installer.machines import Chroot, require_root, snapshot

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "mat-khau-thu-123"
SERVER_LIBRARIES = ("sqlalchemy", "psycopg", "starlette", "uvicorn")


@pytest.fixture(scope="module")
def tarball(release_builds: ReleaseBuilds) -> Path:
    """The bundle as released, for the version in pyproject.toml."""
    return release_builds.get("debian", "motcua-*-debian.tar.xz")


@pytest.fixture(scope="module")
def bundle(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the bundle's folder, unpacked on this machine (read-only use: copy to change)."""
    out = tmp_path_factory.mktemp("deb-unpacked")
    with tarfile.open(tarball) as tar:
        tar.extractall(out, filter="data")
    (folder,) = out.iterdir()
    return folder


def test_bundle_is_at_most_60_mb_and_holds_every_wheel_for_python_310_to_313(
    tarball: Path, bundle: Path
) -> None:
    print(f"debian bundle: {tarball.stat().st_size / 1e6:.1f} MB")
    assert tarball.stat().st_size <= 60e6
    info = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    assert info["app_extras"] == APP_EXTRAS == "desktop"
    assert sorted(info["targets"]) == [t.name for t in LINUX_TARGETS]
    wheels = sorted((bundle / "wheels").glob("*.whl"))
    for target in LINUX_TARGETS:  # each Python finds its whole closure, markers evaluated for it
        assert missing_requirements(wheels, target, PROJECT_NAME, [APP_EXTRAS]) == []
    names = [w.name.lower() for w in wheels]
    assert not [n for n in names if n.startswith(SERVER_LIBRARIES)]  # ~45 MB less per stick
    assert any(n.startswith("pip-") for n in names)
    # Stored, not deflated (xz dedupes the four builds), and still valid wheels.
    with zipfile.ZipFile(next(w for w in wheels if w.name.startswith("pillow-"))) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
        assert zf.testzip() is None
    for package in ("python3-tk", "fonts-liberation2", "python3-venv"):
        listed = (bundle / "debs" / f"{package}.list").read_text(encoding="utf-8").split()
        assert any(name.startswith(f"{package}_") for name in listed)
        assert all((bundle / "debs" / name).is_file() for name in listed)
    assert verify_manifest(bundle) == []


def _newer_copy(bundle: Path, dest: Path, version: str) -> Path:
    """Copy the bundle as a newer release would differ: another version, its own manifest."""
    shutil.copytree(bundle, dest)
    info = json.loads((dest / "bundle.json").read_text(encoding="utf-8"))
    info["version"] = version
    (dest / "bundle.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    write_manifest(dest)
    return dest


def test_bundle_installs_offline_in_a_fresh_debian_12_and_upgrades_keeping_the_data(
    tarball: Path, bundle: Path, display: str, tmp_path: Path
) -> None:
    require_root()
    pc = Chroot(tmp_path / "pc", display)
    usb = pc.path("/media/usb")
    usb.mkdir(parents=True, exist_ok=True)
    shutil.copy2(tarball, usb / tarball.name)
    folder = f"/media/usb/{bundle.name}"
    started = time.monotonic()
    done = pc.run(f"cd /media/usb && tar -xf {tarball.name} && bash {folder}/install.sh")
    print(f"debian offline install (unpack included): {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "python3-tk" in done.stdout  # installed from the stick's .deb files
    assert pc.path("/usr/share/applications/motcua.desktop").is_file()
    assert "Name=Một Cửa Xã" in pc.path("/usr/share/applications/motcua.desktop").read_text(
        encoding="utf-8"
    )

    checked = pc.run("motcua --self-check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "self-check passed" in checked.stdout

    made = pc.run(
        f"MOTCUA_PASSWORD={PASSWORD} motcua init --commune 02701 --username lan "
        "--full-name 'Lò Thị Lan'"
    )
    assert made.returncode == 0, made.stdout + made.stderr
    profile = pc.path("/root/.local/share/motcua")
    data = snapshot(profile)
    first = (pc.path("/opt/motcua") / "current").readlink()

    _newer_copy(bundle, pc.path("/media/usb2/motcua"), "99.0.0")
    upgraded = pc.run("bash /media/usb2/motcua/install.sh && motcua --self-check")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert (pc.path("/opt/motcua") / "current").readlink() != first
    assert snapshot(profile) == data
    listed = pc.run(f"MOTCUA_PASSWORD={PASSWORD} motcua users list")
    assert listed.returncode == 0 and "lan" in listed.stdout, listed.stderr

    removed = pc.run("bash /media/usb2/motcua/install.sh --uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not pc.path("/opt/motcua").exists() and not pc.path("/usr/local/bin/motcua").exists()
    assert snapshot(profile) == data


# --- on this machine: damaged sticks, a folder not ours, enrolment ------------------------------


def _offline_env(home: Path) -> dict[str, str]:
    """Return an environment in which any download by pip fails, and pip is offered a decoy
    wheel folder (the installer must ignore every pip setting of the machine)."""
    return {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PIP_FIND_LINKS": str(home / "decoy"),
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }


class HostInstall:
    """One install of a bundle on this machine into private folders, offline."""

    def __init__(self, root: Path) -> None:
        require_root()
        self.home = root / "home"
        self.prefix = root / "prefix"
        self.bin = root / "bin"
        self.apps = root / "apps"
        (self.home / "decoy").mkdir(parents=True)

    def run(self, bundle: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        """Run the bundle's install.sh in a network namespace with no interfaces."""
        args = ["--prefix", str(self.prefix), "--bin-dir", str(self.bin)]
        args += ["--apps-dir", str(self.apps), "--python", _base_python(), "--no-gui-check"]
        return subprocess.run(
            ["unshare", "--net", "bash", str(bundle / "install.sh"), *args, *extra],
            env=_offline_env(self.home),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _base_python() -> str:
    """Return the interpreter the development venv was made from (a system-like Python)."""
    base = Path(sys.base_prefix) / "bin"
    for name in (f"python{sys.version_info[0]}.{sys.version_info[1]}", "python3"):
        if (base / name).exists():
            return str(base / name)
    return sys.executable


def _look_alike_profile(home: Path) -> Path:
    """Create a look-alike profile at the default place; return its folder."""
    profile = home / ".local" / "share" / "motcua"
    profile.mkdir(parents=True)
    (profile / "config.json").write_text('{"commune": "02701"}\n', encoding="utf-8")
    (profile / "store.db").write_bytes(b"\x00" * 4096)
    return profile


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing", "extra wheel"])
def test_a_damaged_bundle_is_refused_before_anything_is_installed(
    bundle: Path, tmp_path: Path, damage: str
) -> None:
    usb = tmp_path / "usb"
    shutil.copytree(bundle, usb)
    wheel = sorted((usb / "wheels").glob("cryptography-*.whl"))[0]
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
    inst = HostInstall(tmp_path / "pc")
    profile = _look_alike_profile(inst.home)
    before = snapshot(profile)
    result = inst.run(usb)
    assert result.returncode != 0
    assert "bị hỏng" in result.stderr or "Tệp lạ" in result.stderr
    assert "nothing was installed" in result.stderr
    assert not inst.prefix.exists() and not inst.bin.exists() and not inst.apps.exists()
    assert snapshot(profile) == before
    assert verify_manifest(usb) != []


def test_a_folder_the_installer_did_not_make_is_never_written(bundle: Path, tmp_path: Path) -> None:
    inst = HostInstall(tmp_path)
    inst.prefix.mkdir()
    (inst.prefix / "store.db").write_bytes(b"a clerk's data")
    result = inst.run(bundle)
    assert result.returncode != 0
    assert "refusing to install" in result.stderr
    assert sorted(p.name for p in inst.prefix.iterdir()) == ["store.db"]
    assert (inst.prefix / "store.db").read_bytes() == b"a clerk's data"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_installed_commands_enrol_with_a_provincial_server_and_sync(
    bundle: Path, tmp_path: Path
) -> None:
    """What the installer person does next, with the installed ``motcua`` only; the provincial
    server runs from the development venv (a commune PC has no server libraries)."""
    inst = HostInstall(tmp_path)
    done = inst.run(bundle)
    assert done.returncode == 0, done.stdout + done.stderr
    env = {**_offline_env(inst.home), "MOTCUA_PASSWORD": PASSWORD}
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    db = f"sqlite:///{tmp_path / 'province.db'}"
    profile = tmp_path / "commune-profile"
    motcua = str(inst.bin / "motcua")
    server = [sys.executable, "-m", "server", "--db", db]

    def run(*argv: str) -> str:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, f"{argv}: {proc.stdout}{proc.stderr}"
        return proc.stdout

    run(motcua, "--profile", str(profile), "init", "--commune", "02701")
    run(*server, "init")
    code = run(*server, "enrol-code", "--commune", "02701").strip().splitlines()[-1]
    port = _free_port()
    serving = subprocess.Popen(
        [*server, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
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
        enrolled = run(motcua, "--profile", str(profile), "enrol", "--server", url, "--code", code)
        assert "02701" in enrolled
        run(motcua, "--profile", str(profile), "sync")  # exit 0 = synced
    finally:
        serving.terminate()
        serving.wait(timeout=30)
