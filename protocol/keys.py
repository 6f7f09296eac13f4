"""Key pairs of devices and of the provincial server, and how they are written down.

Every party (each commune PC and the server) holds two keys:

* an **Ed25519** signing key: every envelope it sends is signed with it (64-byte signatures);
* an **HPKE** key for the hybrid KEM ML-KEM-768 + X25519 (RFC 9180 with the
  ``MLKEM768_X25519`` KEM): envelopes addressed to it are sealed so that recording the traffic
  today and breaking X25519 later (a quantum computer) is not enough to read lifelong records.

:class:`PrivateKeys` serialises to 132 bytes (``b"MCK1"`` + the Ed25519 seed, the ML-KEM seed
and the X25519 private key); :class:`PublicKeys` to a small JSON object of base64url strings.
A key id is the first 8 bytes (16 hex digits) of SHA-256 over the three public keys, so it names
the whole set.

Both the devices and the server use this module.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519

from protocol.errors import KeyError_

__all__ = [
    "PrivateKeys",
    "PublicKeys",
    "b64d",
    "b64e",
    "key_id_of",
]

_PRIVATE_MAGIC = b"MCK1"
_PRIVATE_LEN = len(_PRIVATE_MAGIC) + 32 + 64 + 32
_MLKEM768_PUBLIC_LEN = 1184


def b64e(data: bytes) -> str:
    """Return ``data`` as unpadded base64url text (the form keys and MACs take in JSON)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Decode unpadded (or padded) base64url text.

    Raises:
        KeyError_: when ``text`` is not a string of valid base64url.
    """
    if not isinstance(text, str):
        raise KeyError_("expected base64url text")
    try:
        raw = text.encode("ascii")
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise KeyError_("invalid base64url text") from exc


def key_id_of(sign: bytes, hpke_mlkem: bytes, hpke_x25519: bytes) -> str:
    """Return the 16-hex-digit id naming a set of public keys."""
    return hashlib.sha256(sign + hpke_mlkem + hpke_x25519).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class PublicKeys:
    """The public half of a party's keys, as raw bytes.

    Attributes:
        sign: Ed25519 public key (32 bytes).
        hpke_mlkem: ML-KEM-768 encapsulation key (1,184 bytes).
        hpke_x25519: X25519 public key (32 bytes).
    """

    sign: bytes
    hpke_mlkem: bytes
    hpke_x25519: bytes

    def __post_init__(self) -> None:
        if len(self.sign) != 32 or len(self.hpke_x25519) != 32:
            raise KeyError_("Ed25519 and X25519 public keys are 32 bytes")
        if len(self.hpke_mlkem) != _MLKEM768_PUBLIC_LEN:
            raise KeyError_("an ML-KEM-768 public key is 1184 bytes")

    @property
    def key_id(self) -> str:
        """Return the 16-hex-digit id of this key set."""
        return key_id_of(self.sign, self.hpke_mlkem, self.hpke_x25519)

    def verify_key(self) -> ed25519.Ed25519PublicKey:
        """Return the Ed25519 key that checks this party's signatures."""
        return ed25519.Ed25519PublicKey.from_public_bytes(self.sign)

    def hpke_public_key(self) -> hpke.MLKEM768X25519PublicKey:
        """Return the hybrid HPKE key that envelopes for this party are sealed to."""
        try:
            return hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(self.hpke_mlkem),
                x25519.X25519PublicKey.from_public_bytes(self.hpke_x25519),
            )
        except ValueError as exc:
            raise KeyError_("invalid HPKE public key") from exc

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Return True when ``signature`` is this party's Ed25519 signature of ``message``."""
        try:
            self.verify_key().verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, str]:
        """Return the keys as a JSON-ready dict of base64url strings (with the key id)."""
        return {
            "sign": b64e(self.sign),
            "hpke_mlkem": b64e(self.hpke_mlkem),
            "hpke_x25519": b64e(self.hpke_x25519),
            "key_id": self.key_id,
        }

    @classmethod
    def from_json(cls, obj: Any) -> PublicKeys:
        """Read keys written by :meth:`to_json` (``key_id``, when present, must match).

        Raises:
            KeyError_: when a key is missing, malformed or the key id disagrees.
        """
        if not isinstance(obj, dict):
            raise KeyError_("public keys must be a JSON object")
        try:
            keys = cls(b64d(obj["sign"]), b64d(obj["hpke_mlkem"]), b64d(obj["hpke_x25519"]))
        except KeyError as exc:
            raise KeyError_(f"public keys lack {exc.args[0]!r}") from exc
        if "key_id" in obj and obj["key_id"] != keys.key_id:
            raise KeyError_("public key id does not match the keys")
        return keys


@dataclasses.dataclass(frozen=True)
class PrivateKeys:
    """A party's private keys (keep them secret: the store keeps a device's encrypted).

    Attributes:
        sign_seed: Ed25519 private key (32 bytes).
        mlkem_seed: ML-KEM-768 seed (64 bytes).
        x25519_private: X25519 private key (32 bytes).
    """

    sign_seed: bytes = dataclasses.field(repr=False)
    mlkem_seed: bytes = dataclasses.field(repr=False)
    x25519_private: bytes = dataclasses.field(repr=False)

    @classmethod
    def generate(cls) -> PrivateKeys:
        """Return fresh random keys."""
        from cryptography.hazmat.primitives import serialization

        raw = serialization.Encoding.Raw
        fmt = serialization.PrivateFormat.Raw
        none = serialization.NoEncryption()
        sign = ed25519.Ed25519PrivateKey.generate().private_bytes(raw, fmt, none)
        kem = mlkem.MLKEM768PrivateKey.generate().private_bytes_raw()
        xk = x25519.X25519PrivateKey.generate().private_bytes(raw, fmt, none)
        return cls(sign, kem, xk)

    def signing_key(self) -> ed25519.Ed25519PrivateKey:
        """Return the Ed25519 key that signs this party's envelopes."""
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.sign_seed)

    def hpke_private_key(self) -> hpke.MLKEM768X25519PrivateKey:
        """Return the hybrid HPKE key that opens envelopes sealed to this party."""
        return hpke.MLKEM768X25519PrivateKey(
            mlkem.MLKEM768PrivateKey.from_seed_bytes(self.mlkem_seed),
            x25519.X25519PrivateKey.from_private_bytes(self.x25519_private),
        )

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message``."""
        return self.signing_key().sign(message)

    def public(self) -> PublicKeys:
        """Return the matching public keys."""
        from cryptography.hazmat.primitives import serialization

        raw = serialization.Encoding.Raw
        pub = serialization.PublicFormat.Raw
        return PublicKeys(
            sign=self.signing_key().public_key().public_bytes(raw, pub),
            hpke_mlkem=mlkem.MLKEM768PrivateKey.from_seed_bytes(self.mlkem_seed)
            .public_key()
            .public_bytes_raw(),
            hpke_x25519=x25519.X25519PrivateKey.from_private_bytes(self.x25519_private)
            .public_key()
            .public_bytes(raw, pub),
        )

    def to_bytes(self) -> bytes:
        """Return the 132-byte serialisation (magic ``MCK1`` + the three secrets)."""
        return _PRIVATE_MAGIC + self.sign_seed + self.mlkem_seed + self.x25519_private

    @classmethod
    def from_bytes(cls, data: bytes) -> PrivateKeys:
        """Read keys written by :meth:`to_bytes`.

        Raises:
            KeyError_: when ``data`` is not a serialised key set.
        """
        if len(data) != _PRIVATE_LEN or not data.startswith(_PRIVATE_MAGIC):
            raise KeyError_("not a Một Cửa Xã private key set")
        body = data[len(_PRIVATE_MAGIC) :]
        return cls(body[:32], body[32:96], body[96:128])
