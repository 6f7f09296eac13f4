"""Sign the local audit chain with the device key, once per sync.

The audit log is a hash chain (``desktop.store.audit``): an edited entry breaks it, but
entries cut from its end cannot be seen from the chain alone. Each sync signs the entries
added since the last signature; whoever holds the device's public key (the server pinned it
at enrolment) can tell whether the log was rewritten after the fact.
"""

from __future__ import annotations

from desktop.store.sync_store import AuditRange, SyncStore
from protocol.keys import PrivateKeys, b64e


def audit_message(device_id: str, first_seq: int, last_seq: int, head_hash: str) -> bytes:
    """Return the bytes the device signs for a range of its audit chain."""
    return f"motcua-audit-v1\n{device_id}\n{first_seq}\n{last_seq}\n{head_hash}".encode()


def sign_new_audit_entries(store: SyncStore, keys: PrivateKeys) -> AuditRange | None:
    """Sign the entries no signature covers yet; return the range signed (None: nothing new)."""
    device_id = store.device_id

    def sign(todo: AuditRange) -> str:
        message = audit_message(device_id, todo.first_seq, todo.last_seq, todo.head_hash)
        return b64e(keys.sign(message))

    return store.sign_audit(sign, key_id=keys.public().key_id)
