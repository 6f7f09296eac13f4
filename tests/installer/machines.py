"""The stand-in PCs the installers are tested on: a wine prefix and a Debian 12 chroot.

Both are made fresh for a test session, from Debian packages only (``scripts/installer-tools``
installs what is missing when run as root). A test skips only when a tool truly cannot be had.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(
    os.environ.get("MOTCUA_INSTALLER_CACHE") or Path.home() / ".cache" / "motcua-installer"
)
DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: A Debian 12 system as small as they come (priority required, and apt), plus the Python every
#: Debian/Ubuntu desktop has and the xz that unpacks the bundle.
CHROOT_INCLUDE = ("python3", "xz-utils")
#: wine 8.0 has no bcryptprimitives.dll; current cryptography imports ProcessPrng from it (real
#: Windows 10 has it). This forwarder to RtlGenRandom (same arguments, fills the buffer) goes into
#: the TEST wine prefix only, never into the installer.
BCRYPT_DEF = "LIBRARY bcryptprimitives.dll\nEXPORTS\n  ProcessPrng = advapi32.SystemFunction036\n"


def ensure_tools() -> None:
    """Install the build and test tools when missing (as root), else skip with the reason."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "installer-tools")], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"installer tools cannot be installed here: {done.stderr.strip()}")


def require_root() -> None:
    """Skip unless root: the chroot, its mounts and the network namespaces need it (CI is)."""
    if os.geteuid() != 0:
        pytest.skip("needs root (debootstrap, mount, unshare --net); CI runs as root")


def snapshot(folder: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under ``folder``, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class Wine:
    """A fresh 64-bit wine prefix under Xvfb: a Windows PC to install on.

    Attributes:
        prefix: the prefix folder (``drive_c`` inside).
        env: the environment of every wine command.
    """

    def __init__(self, prefix: Path, display: str) -> None:
        self.prefix = prefix
        self.env = {
            **os.environ,
            "WINEPREFIX": str(prefix),
            "WINEDEBUG": "-all",
            "DISPLAY": display,
            # No Mono/Gecko download prompts, no Linux menu entries for the shortcuts.
            "WINEDLLOVERRIDES": "mscoree,mshtml=;winemenubuilder.exe=d",
        }
        self.run("wineboot", "-i")
        self._add_bcrypt_forwarder(prefix.parent)
        self._add_times_stand_in()

    def run(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a command in the prefix and wait for every process it started to end."""
        done = subprocess.run(
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=timeout, check=False)
        return done

    def c(self, windows_path: str) -> Path:
        """Return the Linux path of a ``C:\\...`` path of the prefix."""
        rel = windows_path[3:].replace("\\", "/")
        return self.prefix / "drive_c" / rel

    def _add_bcrypt_forwarder(self, work: Path) -> None:
        """Build the test-only ``bcryptprimitives.dll`` with mingw binutils into system32."""
        (work / "bcryptprimitives.def").write_text(BCRYPT_DEF, encoding="ascii")
        exp = work / "bcryptprimitives.exp"
        dll = self.c("C:\\windows\\system32\\bcryptprimitives.dll")
        for cmd in (
            ["x86_64-w64-mingw32-dlltool", "--def", str(work / "bcryptprimitives.def")]
            + ["--output-exp", str(exp)],
            ["x86_64-w64-mingw32-ld", "-shared", "--dll", "-e", "0", "-nostdlib", "-o"]
            + [str(dll), str(exp)],
        ):
            subprocess.run(cmd, check=True, capture_output=True)

    def _add_times_stand_in(self) -> None:
        """Give the prefix the Times New Roman every Windows 10 has (wine has none): Liberation
        Serif 2, metric-compatible, under Times' file names."""
        fonts = self.c("C:\\windows\\Fonts")
        source = Path("/usr/share/fonts/truetype/liberation2")
        faces = {"Regular": "times", "Bold": "timesbd", "Italic": "timesi", "BoldItalic": "timesbi"}
        for style, name in faces.items():
            shutil.copy2(source / f"LiberationSerif-{style}.ttf", fonts / f"{name}.ttf")

    def registry_value(self, key: str, name: str) -> str | None:
        """Return a string value of ``HKLM\\key`` as saved in the prefix's ``system.reg`` (the
        wine server saves it when it exits, which :meth:`run` waits for), or None when absent."""
        text = (self.prefix / "system.reg").read_text(encoding="ascii", errors="replace")
        section = "[" + key.removeprefix("HKLM\\").replace("\\", "\\\\") + "]"
        start = text.lower().find(section.lower())
        if start < 0:
            return None
        body = text[start:].split("\n\n", 1)[0]
        found = re.search(rf'^"{re.escape(name)}"="((?:[^"\\]|\\.)*)"$', body, re.MULTILINE)
        if found is None:
            return None
        return re.sub(
            r"\\(x[0-9a-fA-F]{1,4}|.)",
            lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x" else m.group(1),
            found.group(1),
        )

    def close(self) -> None:
        """Stop the prefix's wine server."""
        subprocess.run(["wineserver", "-k"], env=self.env, check=False, timeout=60)


def debian_base() -> Path:
    """Return the cached tarball of a fresh Debian 12 base system, made now if missing."""
    tarball = CACHE / "chroot" / f"debian12-minbase-{'-'.join(CHROOT_INCLUDE)}.tar"
    if tarball.is_file():
        return tarball
    tarball.parent.mkdir(parents=True, exist_ok=True)
    work = tarball.parent / "build"
    shutil.rmtree(work, ignore_errors=True)
    started = time.monotonic()
    subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(CHROOT_INCLUDE)}"]
        + ["bookworm", str(work), DEBIAN_MIRROR],
        check=True,
        capture_output=True,
        timeout=900,
    )
    partial = tarball.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(work), "-cf", str(partial), "."], check=True)
    partial.replace(tarball)
    shutil.rmtree(work)
    print(f"debootstrap of Debian 12: {time.monotonic() - started:.0f} s")
    return tarball


class Chroot:
    """A fresh Debian 12 system in a folder; commands run in it with no network at all.

    Attributes:
        root: the system's root folder.
        display: the X display passed in (its socket is bind-mounted).
    """

    def __init__(self, root: Path, display: str) -> None:
        self.root = root
        self.display = display
        root.mkdir(parents=True)
        with tarfile.open(debian_base()) as tar:
            tar.extractall(root, filter="fully_trusted")

    def run(self, script: str, *, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run a shell script as root in the chroot, in a new network namespace with no
        interfaces (not even loopback up) and a private mount namespace."""
        mounts = (
            f"mount -t proc proc {self.root}/proc && mount --rbind /dev {self.root}/dev && "
            f"mkdir -p {self.root}/tmp/.X11-unix && "
            f"mount --bind /tmp/.X11-unix {self.root}/tmp/.X11-unix"
        )
        env = "HOME=/root PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8"
        inner = f"{mounts} && exec chroot {self.root} /usr/bin/env -i {env} DISPLAY={self.display}"
        return subprocess.run(
            ["unshare", "--net", "--mount", "--fork", "sh", "-c", f'{inner} sh -c "$0"', script],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def path(self, inside: str) -> Path:
        """Return the host path of a path inside the chroot."""
        return self.root / inside.lstrip("/")
