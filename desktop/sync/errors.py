"""Why sync failed: the errors of the sync engine and the messages the clerk reads.

Every module of ``desktop.sync`` raises these and nothing imports back from the engine, so
there is no import circle. The message of an error is English (logs, ``motcua sync``); its
``clerk_message`` is plain Vietnamese, shown by the sync indicator as it is.
"""

from __future__ import annotations

from desktop.sync.client import ConnectionFailed, HttpError, TransportError, TransportTimeout
from protocol import errors

__all__ = [
    "EnrolmentError",
    "NotEnrolled",
    "SyncError",
    "as_sync_error",
    "bad_answer",
    "revoked_reason",
]

# Messages for the clerk (the status indicator shows them as they are).
MSG_OFFLINE = "Không kết nối được máy chủ tỉnh. Hồ sơ vẫn được lưu trên máy và sẽ tự đồng bộ lại."
MSG_TIMEOUT = "Máy chủ tỉnh không trả lời kịp (đường truyền chậm). Sẽ tự thử lại."
MSG_REVOKED = "Máy này đã bị thu hồi quyền đồng bộ. Hãy liên hệ CNTT tỉnh để đăng ký lại."
MSG_REVOKED_BECAUSE = (
    "Máy này đã bị CNTT tỉnh thu hồi quyền đồng bộ. Lý do: {reason}. Hồ sơ trên máy vẫn còn "
    "nguyên; hãy liên hệ CNTT tỉnh để được cấp mã đăng ký mới."
)
MSG_CLONED = (
    "Máy chủ phát hiện hai máy dùng chung một danh tính. Hãy liên hệ CNTT tỉnh để đăng ký lại."
)
MSG_BAD_ANSWER = "Phản hồi của máy chủ không hợp lệ (có thể bị giả mạo). Hãy báo CNTT tỉnh."
MSG_SERVER = "Máy chủ tỉnh đang gặp lỗi ({status}). Sẽ tự thử lại."
MSG_REFUSED = "Máy chủ tỉnh từ chối yêu cầu: {message}"
MSG_NOT_ENROLLED = "Máy chưa đăng ký với máy chủ tỉnh."
MSG_UNEXPECTED = (
    "Đồng bộ gặp lỗi không lường trước. Dữ liệu vẫn an toàn trên máy; hãy báo CNTT tỉnh."
)
MSG_BAD_CODE = "Mã đăng ký phải gồm 10 chữ và số."
MSG_BAD_URL = "Địa chỉ máy chủ phải bắt đầu bằng http:// hoặc https://."
MSG_ENROL_REFUSED = "Máy chủ tỉnh từ chối đăng ký: {reason}"

#: Error codes after which the engine shows "offline" rather than "error".
OFFLINE_CODES = ("offline", "timeout")


class SyncError(Exception):
    """Sync could not be done; the message is English, ``clerk_message`` Vietnamese.

    Attributes:
        code: a machine-readable reason (``offline``, ``timeout``, ``revoked``, …).
        clerk_message: the same in plain Vietnamese, for the status indicator.
    """

    def __init__(self, message: str, *, code: str = "error", clerk_message: str = "") -> None:
        """Make an error with its code and the clerk's message (default: the message)."""
        super().__init__(message)
        self.code = code
        self.clerk_message = clerk_message or message


class NotEnrolled(SyncError):
    """The device has no keys or server yet: run ``enrol`` first."""


class EnrolmentError(SyncError):
    """Enrolment failed (wrong, expired or used code; unreachable or untrusted server)."""


def bad_answer(message: str) -> SyncError:
    """Return the error for a server answer that failed verification (never retried)."""
    return SyncError(message, code="bad_answer", clerk_message=MSG_BAD_ANSWER)


def as_sync_error(exc: TransportError) -> SyncError:
    """Translate a transport failure into a SyncError with a message for the clerk."""
    if isinstance(exc, TransportTimeout):
        return SyncError(str(exc), code="timeout", clerk_message=MSG_TIMEOUT)
    if isinstance(exc, ConnectionFailed):
        return SyncError(str(exc), code="offline", clerk_message=MSG_OFFLINE)
    if isinstance(exc, HttpError):
        if exc.code == errors.ERR_REVOKED:
            reason = revoked_reason(exc)
            clerk = MSG_REVOKED_BECAUSE.format(reason=reason) if reason else MSG_REVOKED
            return SyncError(exc.message, code="revoked", clerk_message=clerk)
        if exc.code == errors.ERR_CLONED:
            return SyncError(exc.message, code="cloned", clerk_message=MSG_CLONED)
        if exc.code == errors.ERR_UNKNOWN_DEVICE:
            return SyncError(exc.message, code="revoked", clerk_message=MSG_REVOKED)
        if exc.status >= 500 or exc.status == 429:
            return SyncError(
                str(exc), code="server", clerk_message=MSG_SERVER.format(status=exc.status)
            )
        return SyncError(
            str(exc),
            code=exc.code or "refused",
            clerk_message=MSG_REFUSED.format(message=exc.message),
        )
    return SyncError(str(exc), code="error", clerk_message=MSG_OFFLINE)


#: What the server says when provincial IT gave no reason (nothing to show the clerk).
_NO_REASON = "revoked by provincial IT"


def revoked_reason(exc: HttpError) -> str:
    """Return the reason provincial IT gave for a revocation ("" when none).

    The server words its refusal ``device revoked: <reason>`` (``operator revoked: …`` for
    the console); a ``reason`` key in the error body, when there is one, is taken as it is.
    """
    reason = exc.body.get("reason")
    if not isinstance(reason, str):
        head, colon, rest = exc.message.partition(":")
        reason = rest if colon and head.strip().endswith("revoked") else ""
    reason = reason.strip().rstrip(".").strip()
    return "" if reason == _NO_REASON else reason[:300]


def vi_enrol_reason(message: str) -> str:
    """Return the server's reason for refusing an enrolment, in Vietnamese where known."""
    if "expired" in message:
        return "mã đăng ký đã hết hạn."
    if "already used" in message:
        return "mã đăng ký đã được dùng."
    if "wrong" in message:
        return "mã đăng ký không đúng với xã này."
    return message
