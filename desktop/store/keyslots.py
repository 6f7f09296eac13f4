"""Key slots: one random database key, wrapped once per clerk password and once for recovery.

The database key is 32 random bytes given to SQLCipher as a raw key. It never changes, so
adding or removing a clerk rewrites only ``keyslots.json``, never the data.

* A **password slot** derives a wrapping key from the clerk's password with scrypt (the
  parameters are recorded in the slot, so they can be raised later without breaking old
  slots) and wraps the database key with AES-256-GCM. The username is the associated data,
  so a slot cannot be moved to another name.
* The **recovery slot** seals the database key with HPKE (RFC 9180: X25519, HKDF-SHA256,
  ChaCha20-Poly1305) to the province's recovery public key. Provincial IT opens it with the
  private key when every clerk has forgotten their password. X25519 rather than the hybrid
  ML-KEM suite because cryptography 50 cannot serialise hybrid public keys, which an
  installer must carry to the commune as bytes.

The sidecar is plain JSON, written atomically; it holds usernames and wrapped keys only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.store.errors import ProfileNotFound, StoreError, WrongPassword
from desktop.store.fileio import atomic_write

FORMAT = 1
KEY_BYTES = 32
#: scrypt cost: 2**16 takes about 0.3 s on the 2-core reference machine (see docs/store.md).
#: ``MOTCUA_SCRYPT_LOG2N`` lowers it for tests and benchmarks (never below 2**10).
DEFAULT_LOG2N = 16
SCRYPT_R = 8
SCRYPT_P = 1
_AAD_PREFIX = b"motcua-keyslot-v1|"
_RECOVERY_INFO = b"motcua-recovery-slot-v1"


def new_database_key() -> bytes:
    """Return a fresh random 32-byte database key."""
    return os.urandom(KEY_BYTES)


def _log2n() -> int:
    raw = os.environ.get("MOTCUA_SCRYPT_LOG2N")
    if raw and raw.isdigit():
        return max(10, min(20, int(raw)))
    return DEFAULT_LOG2N


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode("utf-8"))


def _recovery_suite() -> Any:
    from cryptography.hazmat.primitives import hpke

    return hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


def generate_recovery_keypair() -> tuple[bytes, bytes]:
    """Return a new (private, public) X25519 recovery key pair as raw 32-byte values."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import x25519

    private = x25519.X25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    priv = private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pub = private.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    return priv, pub


@dataclass
class KeySlots:
    """The key slots of one profile, as held in ``keyslots.json``.

    Attributes:
        path: the sidecar file.
        slots: the slot dictionaries, in the order they were added.
    """

    path: Path
    slots: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> KeySlots:
        """Read the sidecar.

        Raises:
            ProfileNotFound: the file does not exist.
            StoreError: the file is not a key-slot file.
        """
        path = Path(path)
        try:
            raw = json.loads(path.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise ProfileNotFound(f"no key slots at {path}: not a motcua profile") from exc
        except (OSError, ValueError) as exc:
            raise StoreError(f"key slot file {path} is unreadable: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise StoreError(f"key slot file {path} has an unknown format")
        return cls(path=path, slots=list(raw.get("slots", [])))

    @classmethod
    def from_bytes(cls, path: Path, content: bytes) -> KeySlots:
        """Parse sidecar content (e.g. from a backup) as if it lived at ``path``."""
        try:
            raw = json.loads(content.decode("utf-8"))
        except ValueError as exc:
            raise StoreError("key slot data is unreadable") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise StoreError("key slot data has an unknown format")
        return cls(path=Path(path), slots=list(raw.get("slots", [])))

    def to_bytes(self) -> bytes:
        """Return the sidecar content."""
        body = {"format": FORMAT, "slots": self.slots}
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("utf-8")

    def save(self) -> None:
        """Write the sidecar atomically (temporary file, fsync, rename, directory fsync)."""
        atomic_write(self.path, self.to_bytes())

    def usernames(self) -> list[str]:
        """Return the usernames that have a password slot."""
        return [s["username"] for s in self.slots if s.get("type") == "password"]

    def has_recovery(self) -> bool:
        """Return True when a recovery slot exists."""
        return any(s.get("type") == "recovery" for s in self.slots)

    def add_password_slot(
        self, username: str, password: str, db_key: bytes, *, log2n: int | None = None
    ) -> None:
        """Wrap ``db_key`` under ``password`` for ``username`` (replacing their old slot).

        Raises:
            StoreError: the password is empty.
        """
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not password:
            raise StoreError("the password must not be empty")
        n = 2 ** (log2n or _log2n())
        salt, nonce = os.urandom(16), os.urandom(12)
        kek = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
        wrapped = AESGCM(kek).encrypt(nonce, db_key, _AAD_PREFIX + username.encode("utf-8"))
        self.slots = [s for s in self.slots if s.get("username") != username]
        self.slots.append(
            {
                "type": "password",
                "username": username,
                "kdf": "scrypt",
                "n": n,
                "r": SCRYPT_R,
                "p": SCRYPT_P,
                "salt": salt.hex(),
                "aead": "AES-256-GCM",
                "nonce": nonce.hex(),
                "wrapped_key": wrapped.hex(),
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            }
        )

    def remove_password_slot(self, username: str) -> None:
        """Drop the slot of ``username``.

        Raises:
            StoreError: it is the last password slot (the store would become unopenable
                without the recovery key).
        """
        remaining = [s for s in self.slots if s.get("username") != username]
        if not any(s.get("type") == "password" for s in remaining):
            raise StoreError("cannot remove the last clerk's key slot")
        self.slots = remaining

    def unlock(self, username: str, password: str) -> bytes:
        """Return the database key from the slot of ``username``.

        Raises:
            WrongPassword: no such clerk, or the password is wrong.
        """
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        for slot in self.slots:
            if slot.get("type") == "password" and slot.get("username") == username:
                kek = _scrypt(
                    password, bytes.fromhex(slot["salt"]), slot["n"], slot["r"], slot["p"]
                )
                try:
                    return AESGCM(kek).decrypt(
                        bytes.fromhex(slot["nonce"]),
                        bytes.fromhex(slot["wrapped_key"]),
                        _AAD_PREFIX + username.encode("utf-8"),
                    )
                except InvalidTag:
                    break
        # One message for an unknown name and a wrong password: do not tell which.
        raise WrongPassword("wrong username or password")

    def set_recovery(self, public_key: bytes, db_key: bytes) -> None:
        """Seal ``db_key`` to the province's X25519 recovery public key (32 raw bytes).

        Raises:
            StoreError: the public key is not 32 bytes.
        """
        from cryptography.hazmat.primitives.asymmetric import x25519

        if len(public_key) != 32:
            raise StoreError("the recovery public key must be 32 raw X25519 bytes")
        pub = x25519.X25519PublicKey.from_public_bytes(public_key)
        sealed = _recovery_suite().encrypt(db_key, pub, _RECOVERY_INFO)
        self.slots = [s for s in self.slots if s.get("type") != "recovery"]
        self.slots.append(
            {
                "type": "recovery",
                "kem": "DHKEM(X25519, HKDF-SHA256)",
                "kdf": "HKDF-SHA256",
                "aead": "ChaCha20Poly1305",
                "public_key": public_key.hex(),
                "sealed_key": sealed.hex(),
            }
        )

    def unlock_with_recovery(self, private_key: bytes) -> bytes:
        """Return the database key from the recovery slot.

        Raises:
            WrongPassword: no recovery slot, or the private key does not open it.
        """
        from cryptography.hazmat.primitives.asymmetric import x25519

        for slot in self.slots:
            if slot.get("type") == "recovery":
                try:
                    priv = x25519.X25519PrivateKey.from_private_bytes(private_key)
                    return bytes(
                        _recovery_suite().decrypt(
                            bytes.fromhex(slot["sealed_key"]), priv, _RECOVERY_INFO
                        )
                    )
                except Exception as exc:  # any failure means: this key does not open it
                    raise WrongPassword("the recovery key does not open this profile") from exc
        raise WrongPassword("this profile has no recovery slot")
