"""The dossier lifecycle, declared once: statuses, their names, and the moves allowed.

tiếp nhận → đang xử lý → chờ ký → hoàn thành; or trả lại / huỷ from any state that is not final.
The store enforces the moves, the screens show the names and the action of each move, and the
server treats a move to huỷ like a delete when it merges.
"""

from __future__ import annotations

__all__ = [
    "ACTION_LABELS",
    "CANCELLED",
    "CHO_KY",
    "DANG_XU_LY",
    "FINAL_STATUSES",
    "HOAN_THANH",
    "HUY",
    "STATUSES",
    "STATUS_FIELD",
    "STATUS_LABELS",
    "TIEP_NHAN",
    "TRANSITIONS",
    "TRA_LAI",
    "allowed_transitions",
    "status_label",
]

TIEP_NHAN, DANG_XU_LY, CHO_KY = "tiep_nhan", "dang_xu_ly", "cho_ky"
HOAN_THANH, TRA_LAI, HUY = "hoan_thanh", "tra_lai", "huy"
STATUSES = (TIEP_NHAN, DANG_XU_LY, CHO_KY, HOAN_THANH, TRA_LAI, HUY)
FINAL_STATUSES = frozenset({HOAN_THANH, TRA_LAI, HUY})
#: The status that cancels a dossier (huỷ): the server treats it like a delete for conflicts.
CANCELLED = HUY
#: The record key that holds the status.
STATUS_FIELD = "status"

#: The lifecycle: allowed moves from each status. Same-day procedures (birth, death) may go
#: straight from tiếp nhận to chờ ký; huỷ is allowed from every non-final state.
TRANSITIONS: dict[str, frozenset[str]] = {
    TIEP_NHAN: frozenset({DANG_XU_LY, CHO_KY, TRA_LAI, HUY}),
    DANG_XU_LY: frozenset({CHO_KY, TRA_LAI, HUY}),
    CHO_KY: frozenset({HOAN_THANH, TRA_LAI, HUY}),
    HOAN_THANH: frozenset(),
    TRA_LAI: frozenset(),
    HUY: frozenset(),
}

#: The Vietnamese name of each status.
STATUS_LABELS = {
    TIEP_NHAN: "Tiếp nhận",
    DANG_XU_LY: "Đang xử lý",
    CHO_KY: "Chờ ký",
    HOAN_THANH: "Hoàn thành",
    TRA_LAI: "Trả lại",
    HUY: "Huỷ",
}

#: What the clerk does to move a dossier into each status (the button and dialog text).
ACTION_LABELS = {
    DANG_XU_LY: "Chuyển xử lý",
    CHO_KY: "Trình ký",
    HOAN_THANH: "Hoàn thành (đã ký)",
    TRA_LAI: "Trả lại hồ sơ",
    HUY: "Huỷ hồ sơ",
}


def allowed_transitions(status: str) -> frozenset[str]:
    """Return the statuses a dossier in ``status`` may move to."""
    return TRANSITIONS.get(status, frozenset())


def status_label(status: str | None) -> str:
    """Return the Vietnamese name of a dossier status (the code itself when unknown)."""
    if not status:
        return ""
    return STATUS_LABELS.get(status, status)
