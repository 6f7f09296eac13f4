"""Enrol provincial IT's console with the provincial server, as an *operator*.

Like a commune PC (:mod:`desktop.sync.enrolment`): the console makes fresh keys and keeps them
in the encrypted store before anything is sent (so a lost answer can be retried with the same
keys), proves it holds the one-time code from ``motcua-server operator-code`` without sending
it (the proof is bound to :data:`protocol.admin.OPERATOR_SCOPE` instead of a commune), posts
``POST /admin/enrol``, opens the answer with its keys, checks the answer's MAC with the code
BEFORE pinning the server's keys, and records the server's address in the profile config.

Typical use::

    store = Store.create(path, commune="", username="an", password=..., full_name=...,
                         role="province")
    enrolment = enrol_operator(store, "https://hotich.laocai.example", "7K2QD-M4XTA")
    client = AdminClient.from_store(store)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from desktop.console.errors import bad_answer, from_http, from_transport
from desktop.console.link import ServerLink
from desktop.console.service import ConsoleError
from desktop.store.console_store import ConsoleStore, OperatorEnrolled
from desktop.store.profile import ROLE_PROVINCE
from desktop.sync.client import HttpError, TransportError, TransportPolicy
from desktop.sync.enrolment import checked_url, open_enrol_answer, pending_keys
from desktop.sync.errors import EnrolmentError
from protocol import admin, enrolment, wire
from protocol.errors import KeyError_
from protocol.keys import PrivateKeys

if TYPE_CHECKING:
    from desktop.store.store import Store

__all__ = ["OperatorEnrolment", "enrol_operator", "is_enrolled"]

MSG_NOT_PROVINCE = "Chỉ hồ sơ của CNTT tỉnh mới đăng ký được làm máy quản trị."
MSG_ENROL_REFUSED = "Máy chủ tỉnh từ chối đăng ký máy quản trị: {reason}"
MSG_CODE_EXPIRED = "mã đăng ký đã hết hạn. Hãy xin mã mới."
MSG_CODE_USED = "mã đăng ký đã được dùng. Hãy xin mã mới."
MSG_CODE_WRONG = "mã đăng ký không đúng (hoặc không phải mã dành cho CNTT tỉnh)."
MSG_OPERATOR_TAKEN = "máy chủ đã có một máy quản trị khác với cùng mã máy."


@dataclasses.dataclass(frozen=True)
class OperatorEnrolment:
    """A successful operator enrolment.

    Attributes:
        operator_id: this console's id (the profile's device id), as the server knows it.
        server_url: the server it talks to.
        server_key_id: the id of the pinned server keys.
        name: the operator's name as the server holds it (who signs resolutions).
    """

    operator_id: str
    server_url: str
    server_key_id: str
    name: str


def is_enrolled(store: Store) -> bool:
    """Return whether the profile holds operator keys, a pinned server and its address."""
    console = ConsoleStore(store)
    try:
        return console.identity().enrolled and bool(console.server_url)
    except ValueError:  # unreadable stored keys: enrolling again is the way out
        return False


def enrol_operator(
    store: Store,
    server_url: str,
    code: str,
    *,
    label: str = "",
    policy: TransportPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> OperatorEnrolment:
    """Enrol this provincial profile as an operator of ``server_url`` using ``code``.

    Running it again after a lost answer (or with a fresh code after a revocation) works: the
    keys made the first time are reused.

    Args:
        store: an open profile whose ``config.role`` is ``province``.
        server_url: e.g. ``https://hotich.laocai.example``.
        code: the one-time code from ``motcua-server operator-code`` (case and dashes free).
        label: a name for this PC shown to the server's administrators.
        policy: timeouts and retries (default :class:`TransportPolicy`).
        sleep: how to wait between retries.

    Returns:
        What was pinned, and the operator's name.

    Raises:
        ConsoleError: not a provincial profile; a malformed, wrong, used or expired code; no
            server; an answer that does not prove knowledge of the code (``bad_answer``).
    """
    console = ConsoleStore(store)
    if console.role != ROLE_PROVINCE:
        raise ConsoleError(
            "only a provincial profile can enrol as an operator",
            clerk_message=MSG_NOT_PROVINCE,
            code="not_province",
        )
    try:
        url = checked_url(server_url, code)
    except EnrolmentError as exc:
        raise ConsoleError(str(exc), clerk_message=exc.clerk_message, code=exc.code) from exc
    keys = pending_keys(console, _current_keys(console))
    answer = _post(url, _request_body(console.operator_id, keys, code, label), policy, sleep)
    try:
        payload, server = open_enrol_answer(answer, keys, code)
    except EnrolmentError as exc:
        raise bad_answer(str(exc)) from exc
    if payload.get("operator_id") != console.operator_id:
        raise bad_answer("the server answered for another operator")
    name = str(payload.get("name") or "")
    enrolled_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    console.save_enrolment(
        OperatorEnrolled(keys.to_bytes(), server.to_json(), name, enrolled_at, url)
    )
    return OperatorEnrolment(console.operator_id, url, server.key_id, name)


def _current_keys(console: ConsoleStore) -> PrivateKeys | None:
    """Return the enrolled keys, if readable (enrolling again keeps them, like a device)."""
    try:
        identity = console.identity()
        return PrivateKeys.from_bytes(identity.keys) if identity.keys else None
    except (ValueError, KeyError_):
        return None


def _request_body(operator_id: str, keys: PrivateKeys, code: str, label: str) -> dict[str, object]:
    """Return the ``/admin/enrol`` request: who, which keys, and the proof of the code."""
    public = keys.public()
    return {
        "operator_id": operator_id,
        "keys": public.to_json(),
        "label": label[:100],
        "proof": enrolment.enrol_proof(code, operator_id, admin.OPERATOR_SCOPE, public),
    }


def _post(
    url: str,
    body: dict[str, object],
    policy: TransportPolicy | None,
    sleep: Callable[[float], None],
) -> bytes:
    """Send the enrolment request, retried with backoff (the same request is harmless twice);
    return the answer's body.

    Raises:
        ConsoleError: the server refused the code, or could not be reached.
    """
    link = ServerLink(url, policy=policy or TransportPolicy(), sleep=sleep)
    data = wire.canonical_json(body)
    try:
        return link.retry(
            lambda n: link.post(admin.PATH_ADMIN_ENROL, data, content_type="application/json")
        )
    except HttpError as exc:
        if exc.retryable:  # the server is in trouble, not the code
            raise from_http(exc) from exc
        raise ConsoleError(
            f"operator enrolment refused: {exc.message}",
            clerk_message=MSG_ENROL_REFUSED.format(reason=_refusal_reason(exc.message)),
            code=exc.code or "refused",
        ) from exc
    except TransportError as exc:
        raise from_transport(exc) from exc
    finally:
        link.close()


def _refusal_reason(message: str) -> str:
    """Return the server's reason for refusing an operator enrolment, in Vietnamese."""
    if "expired" in message:
        return MSG_CODE_EXPIRED
    if "already used" in message:
        return MSG_CODE_USED
    if "wrong" in message:
        return MSG_CODE_WRONG
    if "already enrolled" in message:
        return MSG_OPERATOR_TAKEN
    return message
