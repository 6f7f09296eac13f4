"""Why a console call failed, in words provincial IT reads: every failure as a ConsoleError.

The console's screens show :attr:`ConsoleError.clerk_message` as it is; the English message
goes to the log. Codes are the server's error codes (``protocol.errors.ERR_*``) or the
console's own (``offline``, ``timeout``, ``server``, ``bad_answer``, ``not_enrolled``,
``uncertain``, ``stale``…), so a screen may act on them (e.g. reload after ``stale``).
"""

from __future__ import annotations

import re

from desktop.console.service import ConsoleError
from desktop.sync.client import HttpError, TransportError, TransportTimeout
from desktop.sync.errors import revoked_reason
from protocol import errors

__all__ = [
    "bad_answer",
    "from_http",
    "from_transport",
    "from_wire",
    "not_enrolled",
]

MSG_OFFLINE = "Không kết nối được máy chủ tỉnh. Hãy kiểm tra mạng rồi thử lại."
MSG_TIMEOUT = "Máy chủ tỉnh không trả lời kịp (đường truyền chậm). Hãy thử lại sau ít phút."
#: A write whose answer never came: it may or may not have been done.
MSG_UNSURE = (
    " Chưa rõ máy chủ đã ghi nhận thao tác hay chưa: hãy tải lại để kiểm tra trước khi làm lại."
)
MSG_SERVER = "Máy chủ tỉnh đang gặp lỗi (mã {status}). Hãy thử lại sau ít phút."
MSG_BUSY = "Máy chủ tỉnh đang bận. Hãy thử lại sau ít phút."
MSG_REVOKED = "Quyền quản trị của máy này đã bị thu hồi. Hãy xin mã mới và đăng ký lại."
MSG_REVOKED_BECAUSE = (
    "Quyền quản trị của máy này đã bị thu hồi. Lý do: {reason}. Hãy xin mã mới và đăng ký lại."
)
MSG_UNKNOWN_OPERATOR = (
    "Máy chủ tỉnh không nhận ra máy quản trị này. Hãy đăng ký lại bằng một mã mới "
    "(motcua-server operator-code)."
)
MSG_NOT_ENROLLED = (
    "Máy này chưa được đăng ký làm máy quản trị của máy chủ tỉnh. Hãy đăng ký bằng mã do "
    "quản trị máy chủ cấp (motcua-server operator-code)."
)
MSG_NOT_FOUND = (
    "Không tìm thấy {what} trên máy chủ tỉnh (số không đúng hoặc dữ liệu đã thay đổi). "
    "Hãy tải lại danh sách."
)
MSG_BAD_ARGUMENT = "Thông tin «{label}» còn thiếu hoặc chưa hợp lệ. Hãy kiểm tra lại."
MSG_BAD_REQUEST = "Máy chủ tỉnh từ chối yêu cầu vì thông tin chưa hợp lệ. Hãy kiểm tra lại."
MSG_STALE = (
    "Dữ liệu trên máy chủ đã thay đổi (có thể cán bộ khác vừa xử lý). Hãy tải lại rồi thử lại."
)
MSG_BAD_ENVELOPE = (
    "Máy chủ tỉnh không mở được yêu cầu của máy này (khoá máy chủ có thể đã đổi). "
    "Hãy đăng ký lại máy quản trị."
)
MSG_BAD_ANSWER = (
    "Phản hồi của máy chủ tỉnh không hợp lệ (có thể bị giả mạo). Không có gì được lưu; "
    "hãy báo quản trị hệ thống."
)
MSG_REFUSED = "Máy chủ tỉnh từ chối yêu cầu (HTTP {status}): {message}"

#: The Vietnamese name of each argument of ``protocol.admin``'s actions, to name a bad one.
ARGUMENT_LABELS = {
    "id": "số xung đột",
    "choices": "lựa chọn từng trường",
    "reason": "lý do",
    "decision": "quyết định",
    "commune": "mã xã",
    "procedure": "thủ tục",
    "kind": "loại xung đột",
    "status": "trạng thái",
    "min_age_days": "tuổi tối thiểu (ngày)",
    "max_age_days": "tuổi tối đa (ngày)",
    "offset": "vị trí trang",
    "limit": "số dòng mỗi trang",
    "device_id": "mã thiết bị",
    "ttl_hours": "thời hạn của mã (giờ)",
    "period": "kỳ thống kê",
    "since": "từ ngày",
    "until": "đến ngày",
    "entity_id": "mã hồ sơ",
}
_ARGUMENT = re.compile(r"\bargs\.(\w+)")


def argument_label(message: str) -> str | None:
    """Return the Vietnamese name of the argument an English error message names, if any."""
    match = _ARGUMENT.search(message)
    if match is None:
        return None
    return ARGUMENT_LABELS.get(match.group(1), match.group(1))


def from_wire(exc: errors.WireError) -> ConsoleError:
    """Return the error for arguments the console refused before sending (naming the bad one)."""
    return _bad_request(f"bad console request: {exc}", str(exc))


def _bad_request(english: str, message: str) -> ConsoleError:
    label = argument_label(message)
    clerk = MSG_BAD_ARGUMENT.format(label=label) if label else MSG_BAD_REQUEST
    return ConsoleError(english, clerk_message=clerk, code=errors.ERR_BAD_REQUEST)


def not_enrolled(
    english: str = "this profile is not enrolled as a console operator",
) -> ConsoleError:
    """Return the error for a profile with no operator keys or server yet."""
    return ConsoleError(english, clerk_message=MSG_NOT_ENROLLED, code="not_enrolled")


def bad_answer(english: str) -> ConsoleError:
    """Return the error for an answer that failed verification (never retried, nothing kept)."""
    return ConsoleError(english, clerk_message=MSG_BAD_ANSWER, code="bad_answer")


def from_http(exc: HttpError, *, what: str = "dữ liệu") -> ConsoleError:
    """Return the error for a refusal of the server (``what`` names the thing asked for).

    Args:
        exc: the HTTP error and its ``{"error", "code"}`` body.
        what: the Vietnamese name of what was asked for, for "not found".
    """
    english = f"the server refused: HTTP {exc.status}: {exc.message}"
    code = exc.code
    if code == errors.ERR_REVOKED:
        reason = revoked_reason(exc)
        clerk = MSG_REVOKED_BECAUSE.format(reason=reason) if reason else MSG_REVOKED
        return ConsoleError(english, clerk_message=clerk, code=code)
    if code == errors.ERR_UNKNOWN_DEVICE:
        return ConsoleError(english, clerk_message=MSG_UNKNOWN_OPERATOR, code=code)
    if code == errors.ERR_NOT_FOUND or exc.status == 404:
        return ConsoleError(
            english, clerk_message=MSG_NOT_FOUND.format(what=what), code=errors.ERR_NOT_FOUND
        )
    if exc.status == 409:
        return ConsoleError(english, clerk_message=MSG_STALE, code="stale")
    if code == errors.ERR_BAD_ENVELOPE:
        return ConsoleError(english, clerk_message=MSG_BAD_ENVELOPE, code=code)
    if code == errors.ERR_BAD_REQUEST or exc.status == 400:
        return _bad_request(english, exc.message)
    if code == errors.ERR_BUSY or exc.status in (429, 503):
        return ConsoleError(english, clerk_message=MSG_BUSY, code=errors.ERR_BUSY)
    if exc.status >= 500:
        return ConsoleError(
            english, clerk_message=MSG_SERVER.format(status=exc.status), code="server"
        )
    return ConsoleError(
        english,
        clerk_message=MSG_REFUSED.format(status=exc.status, message=exc.message),
        code=code or "refused",
    )


def from_transport(
    exc: TransportError, *, what: str = "dữ liệu", unsure: bool = False
) -> ConsoleError:
    """Return the error for a request that got no usable answer.

    Args:
        exc: the transport's failure.
        what: the Vietnamese name of what was asked for.
        unsure: the request changes something and may have been done before its answer was
            lost: the message says to check before doing it again.
    """
    if isinstance(exc, HttpError):
        return from_http(exc, what=what)
    tail = MSG_UNSURE if unsure else ""
    if isinstance(exc, TransportTimeout):
        return ConsoleError(str(exc), clerk_message=MSG_TIMEOUT + tail, code="timeout")
    # ConnectionFailed, or any other transport failure: the server could not be reached.
    return ConsoleError(str(exc), clerk_message=MSG_OFFLINE + tail, code="offline")
