"""The provincial IT console's requests to the server, and the shapes of the answers.

The console is an *operator*: enrolled like a device (one-time code from ``motcua-server
operator-code``, HMAC proof, pinned server keys) and talking to ``POST /admin`` with the same
sealed, signed envelopes (:mod:`protocol.sealing`) — conflict records carry names and ID numbers,
so they never travel in clear. A request's payload is ``{"action": ACTION, "args": {...}}``; the
answer is ``{"result": ...}`` (errors are the usual ``{"error", "code"}`` bodies).

Each action's arguments are checked here (:func:`validate_admin_request`), by the server before
it acts and by the console before it sends; the ``TypedDict`` classes below are the answers'
shapes, which the server builds and the console reads.
"""

from __future__ import annotations

from typing import Any, TypedDict

from protocol.errors import WireError
from protocol.wire import check_commune, check_id, check_text

__all__ = [
    "ACTIONS",
    "CONFLICT_KINDS",
    "DECISIONS",
    "DUPLICATE_OF_FIELD",
    "OPERATOR_SCOPE",
    "PATH_ADMIN",
    "PATH_ADMIN_ENROL",
    "CommuneHealth",
    "ConflictDetail",
    "ConflictSummary",
    "Delivery",
    "DeviceInfo",
    "DuplicateDetail",
    "FieldRow",
    "IssuedCode",
    "Page",
    "RecordVersion",
    "Resolved",
    "StatsRow",
    "VersionInfo",
    "validate_admin_request",
    "validate_choices",
]

PATH_ADMIN = "/admin"
PATH_ADMIN_ENROL = "/admin/enrol"
#: What an operator's enrolment proof is bound to instead of a commune code.
OPERATOR_SCOPE = "province"

#: Conflict kinds: two edits of one field, a delete/cancel against an edit, the same event
#: registered twice, two dossiers given one register book number.
KIND_FIELD, KIND_DELETE, KIND_DUPLICATE, KIND_BOOK_NUMBER = (
    "field",
    "delete",
    "duplicate",
    "book_number",
)
CONFLICT_KINDS = (KIND_FIELD, KIND_DELETE, KIND_DUPLICATE, KIND_BOOK_NUMBER)

#: Decisions on a suspected duplicate: both are real, or one (``a`` is the conflict's record,
#: ``b`` the other one) is a duplicate of the other. Nothing is ever deleted: the duplicate gets
#: :data:`DUPLICATE_OF_FIELD` set to the other's id, by a signed resolution change.
KEEP_BOTH, A_DUPLICATE_OF_B, B_DUPLICATE_OF_A = "keep_both", "a_duplicate_of_b", "b_duplicate_of_a"
DECISIONS = (KEEP_BOTH, A_DUPLICATE_OF_B, B_DUPLICATE_OF_A)
DUPLICATE_OF_FIELD = "duplicate_of"

#: Per-field choices in a resolution.
TAKE_CURRENT, TAKE_INCOMING = "current", "incoming"

#: Statuses a conflict list may ask for.
LIST_STATUSES = ("open", "resolved", "all")

ACTIONS = (
    "conflicts.list",
    "conflicts.get",
    "conflicts.resolve",
    "duplicates.get",
    "duplicates.decide",
    "devices.list",
    "devices.issue_code",
    "devices.revoke",
    "health.communes",
    "stats.dossiers",
    "records.history",
)

MAX_PAGE = 500


# --- answers ---------------------------------------------------------------------------------


class Page(TypedDict):
    """A page of a list: ``items`` from ``offset``, of ``total`` matching."""

    total: int
    offset: int
    items: list[Any]


class ConflictSummary(TypedDict):
    """One row of the conflict inbox."""

    id: int
    kind: str
    status: str
    entity_id: str
    other_entity_id: str | None
    commune: str
    other_commune: str | None
    procedure: str | None
    title: str  # who the dossier is about (e.g. the child's name), for the row
    dossier_no: str | None
    fields: list[str]  # the clashing fields
    device_id: str  # the device whose change raised it
    clerk: str
    created_at: int  # server time, Unix ms
    resolved_at: int | None
    #: For a resolved conflict in a list: how many of the commune's active devices hold the
    #: resolution, of how many (None in a conflict's detail, which lists the deliveries).
    delivered: int | None
    devices: int | None


class VersionInfo(TypedDict):
    """Where one side of a conflict came from."""

    version: int | None  # record version (None for the incoming change, not applied)
    commune: str
    device_id: str
    device_label: str
    clerk: str
    clock_ms: int | None  # the device's clock when the change was made (from its HLC)
    received_at: int | None  # server time it arrived
    clock_suspect: bool  # that device's clock is known to be wrong


class FieldRow(TypedDict):
    """One field of a conflict, side by side."""

    field: str
    label: str  # the Vietnamese label of the form field
    base: Any
    current: Any
    incoming: Any
    differs: bool  # current and incoming differ
    clashing: bool  # one of the conflict's clashing fields


class Delivery(TypedDict):
    """Whether a device of the commune has received a resolution yet."""

    device_id: str
    label: str
    status: str  # the device's status (active / revoked / cloned)
    received_at: int | None  # server time of the first sync that stored it, None if not yet


class ConflictDetail(TypedDict):
    """A conflict opened in the inbox."""

    conflict: ConflictSummary
    fields: list[FieldRow]
    base: VersionInfo
    current: VersionInfo
    incoming: VersionInfo
    incoming_deletes: bool  # the incoming change deletes / cancels the record
    current_deleted: bool
    resolution: Resolved | None
    resolution_reason: str | None
    resolved_by: str | None
    deliveries: list[Delivery]


class Resolved(TypedDict):
    """What a resolution made."""

    conflict_id: int
    change_id: str | None  # None when closed without a change (duplicates kept both)
    server_seq: int | None
    version: int | None


class DuplicateDetail(TypedDict):
    """A suspected duplicate: both records and the evidence."""

    conflict: ConflictSummary
    a: dict[str, Any]  # the conflict's record: its values (flat record keys)
    b: dict[str, Any]  # the other record
    a_info: VersionInfo
    b_info: VersionInfo
    evidence: list[FieldRow]  # fields compared; ``differs`` False where they matched
    matched: list[str]  # the fields that made them suspected duplicates


class DeviceInfo(TypedDict):
    """One enrolled device."""

    device_id: str
    commune: str
    commune_name: str
    label: str
    status: str
    status_reason: str
    enrolled_at: int
    last_seen: int | None
    last_sync: int | None
    pending_reported: int | None  # changes waiting on the device, as it last reported
    app_version: str | None
    clock_offset_ms: int | None
    flagged_skew: bool
    last_error: str | None  # the last error the device reported (a code)
    rejected: int  # its changes the server rejected
    conflicts_open: int  # open conflicts its changes raised


class IssuedCode(TypedDict):
    """A one-time enrolment code."""

    code: str
    commune: str
    expires_at: int


class CommuneHealth(TypedDict):
    """One commune in the sync health overview."""

    commune: str
    name: str
    devices: int  # active devices
    last_sync: int | None  # the latest sync of any of its devices
    stale: bool  # no sync for more than a day (or never)
    conflicts_open: int
    errors: int  # devices reporting an error, revoked or cloned
    pending: int  # dossier changes waiting on its devices (as reported)
    dossiers: int  # dossiers the server holds for it


class StatsRow(TypedDict):
    """One cell of the statistics cube: a count of dossiers."""

    commune: str
    procedure: str
    status: str
    period: str  # ISO date of the period's first day (Monday of the week, 1st of the month)
    late_registration: bool  # registered after the legal deadline of the event
    processing: str  # on_time | late (done after the promised date) | open | overdue | cancelled
    count: int


class RecordVersion(TypedDict):
    """One version of a record, from its history (every losing value stays there)."""

    version: int
    server_seq: int
    device_id: str
    clerk: str
    received_at: int | None
    changed: dict[str, Any]
    deleted: bool
    kind: str  # change | resolution


# --- requests --------------------------------------------------------------------------------


def _int(args: dict[str, Any], key: str, default: int, *, minimum: int, maximum: int) -> int:
    value = args.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise WireError(f"args.{key} must be an integer in [{minimum}, {maximum}]")
    return value


def _optional(args: dict[str, Any], key: str, check: Any) -> Any:
    value = args.get(key)
    return None if value in (None, "") else check(value, f"args.{key}")


def _choice(value: object, where: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise WireError(f"{where} must be one of {', '.join(allowed)}")
    return str(value)


def _reason(args: dict[str, Any]) -> str:
    reason = check_text(args.get("reason", ""), "args.reason", maximum=1000).strip()
    if not reason:
        raise WireError("args.reason is required: say why")
    return reason


def _conflict_id(args: dict[str, Any]) -> int:
    return _int(args, "id", 0, minimum=1, maximum=2**62)


def validate_choices(obj: object) -> dict[str, dict[str, Any]]:
    """Check a resolution's per-field choices.

    Shape: ``{field: {"take": "current" | "incoming"} | {"value": any JSON scalar}}``; the
    pseudo-field ``"_record"`` with a ``take`` keeps or deletes the whole record (delete/cancel
    conflicts).

    Raises:
        WireError: when a choice is malformed or there is none.
    """
    if not isinstance(obj, dict) or not obj or len(obj) > 500:
        raise WireError("args.choices must be an object of 1-500 field choices")
    clean: dict[str, dict[str, Any]] = {}
    for field, choice in obj.items():
        where = f"args.choices[{field!r}]"
        if not isinstance(field, str) or not 0 < len(field) <= 100:
            raise WireError("args.choices has a malformed field name")
        if not isinstance(choice, dict) or len(choice) != 1:
            raise WireError(f"{where} must be {{'take': ...}} or {{'value': ...}}")
        if "take" in choice:
            clean[field] = {"take": _choice(choice["take"], where, (TAKE_CURRENT, TAKE_INCOMING))}
        elif "value" in choice and field != "_record":
            value = choice["value"]
            if value is not None and not isinstance(value, (str, int, float, bool)):
                raise WireError(f"{where}.value must be text, a number, true/false or null")
            if isinstance(value, str) and len(value) > 20_000:
                raise WireError(f"{where}.value is too long")
            clean[field] = {"value": value}
        else:
            raise WireError(f"{where} must be {{'take': ...}} or {{'value': ...}}")
    return clean


def _list_args(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "commune": _optional(args, "commune", check_commune),
        "procedure": _optional(args, "procedure", check_id),
        "kind": None
        if args.get("kind") in (None, "")
        else _choice(args["kind"], "args.kind", CONFLICT_KINDS),
        "status": _choice(args.get("status", "open"), "args.status", LIST_STATUSES),
        "min_age_days": _int(args, "min_age_days", 0, minimum=0, maximum=100_000),
        "max_age_days": args.get("max_age_days")
        if args.get("max_age_days") is None
        else _int(args, "max_age_days", 0, minimum=0, maximum=100_000),
        "offset": _int(args, "offset", 0, minimum=0, maximum=10_000_000),
        "limit": _int(args, "limit", 200, minimum=1, maximum=MAX_PAGE),
    }


def _stats_args(args: dict[str, Any]) -> dict[str, Any]:
    period = _choice(args.get("period", "month"), "args.period", ("week", "month"))
    out: dict[str, Any] = {"period": period}
    for key in ("since", "until"):
        value = args.get(key)
        if value is not None:
            text = check_text(value, f"args.{key}", maximum=10)
            if len(text) != 10 or text[4] != "-" or text[7] != "-":
                raise WireError(f"args.{key} must be an ISO date YYYY-MM-DD")
        out[key] = value
    return out


def validate_admin_request(obj: object) -> tuple[str, dict[str, Any]]:
    """Check an ``/admin`` payload; return the action and its clean arguments.

    Raises:
        WireError: unknown action or malformed arguments (naming the first problem).
    """
    if not isinstance(obj, dict):
        raise WireError("admin request must be a JSON object")
    action = obj.get("action")
    if action not in ACTIONS:
        raise WireError(f"unknown admin action {action!r}")
    args = obj.get("args", {})
    if not isinstance(args, dict):
        raise WireError("args must be an object")
    if action == "conflicts.list":
        return action, _list_args(args)
    if action in ("conflicts.get", "duplicates.get"):
        return action, {"id": _conflict_id(args)}
    if action == "conflicts.resolve":
        return action, {
            "id": _conflict_id(args),
            "choices": validate_choices(args.get("choices")),
            "reason": _reason(args),
        }
    if action == "duplicates.decide":
        return action, {
            "id": _conflict_id(args),
            "decision": _choice(args.get("decision"), "args.decision", DECISIONS),
            "reason": _reason(args),
        }
    if action == "devices.list":
        return action, {"commune": _optional(args, "commune", check_commune)}
    if action == "devices.issue_code":
        hours = args.get("ttl_hours", 72)
        if not isinstance(hours, (int, float)) or isinstance(hours, bool) or not 0 < hours <= 720:
            raise WireError("args.ttl_hours must be a number of hours in (0, 720]")
        return action, {
            "commune": check_commune(args.get("commune"), "args.commune"),
            "ttl_hours": float(hours),
        }
    if action == "devices.revoke":
        return action, {
            "device_id": check_id(args.get("device_id"), "args.device_id"),
            "reason": _reason(args),
        }
    if action == "stats.dossiers":
        return action, _stats_args(args)
    if action == "records.history":
        return action, {"entity_id": check_id(args.get("entity_id"), "args.entity_id")}
    return action, {}  # health.communes
