"""``POST /admin`` and ``POST /admin/enrol`` never answer 500, whatever an operator (or anyone)
sends: arbitrary bytes, and well-sealed requests with arbitrary actions and arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import admin, sealing, wire
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, SyncFailed
from tests.server.fake_operator import FakeOperator
from tests.server.test_bad_input import json_values
from tests.server.test_console_conflicts import field_conflict
from tests.server.test_sync import BIRTH

NewDevice = Callable[..., FakeDevice]
NewOperator = Callable[..., FakeOperator]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ARG_NAMES = [
    "id",
    "choices",
    "reason",
    "decision",
    "commune",
    "procedure",
    "kind",
    "status",
    "min_age_days",
    "max_age_days",
    "offset",
    "limit",
    "device_id",
    "ttl_hours",
    "period",
    "since",
    "until",
    "entity_id",
]
#: Argument values that reach deep into the actions: real ids, fields, sides.
useful = st.sampled_from(
    [1, 2, 3, "02701", "02702", "khai_sinh", "field", "duplicate", "open", "all", "week", "month"]
    + ["2026-01-01", "keep_both", "a_duplicate_of_b", "b_duplicate_of_a", "lý do", 0, 500]
    + [
        {"data.tre_ten": {"take": "incoming"}},
        {"_record": {"take": "current"}},
        {"data.tre_ten": {"value": 7}, "status": {"take": "current"}},
        {"status": {"value": None}},
    ]
)


@FUZZ
@given(
    path=st.sampled_from([admin.PATH_ADMIN, admin.PATH_ADMIN_ENROL]), body=st.binary(max_size=3000)
)
def test_arbitrary_bytes_get_a_4xx(client: Any, path: str, body: bytes) -> None:
    resp = client.post(path, content=body)
    assert resp.status_code < 500, (path, resp.status_code)


@FUZZ
@given(
    action=st.sampled_from([*admin.ACTIONS, "conflicts", "", "devices.list "]),
    args=st.dictionaries(st.sampled_from(ARG_NAMES), useful | json_values, max_size=5),
)
def test_sealed_requests_with_any_arguments_never_fail_inside(
    server: SyncServer,
    new_device: NewDevice,
    new_operator: NewOperator,
    action: str,
    args: dict[str, Any],
) -> None:
    if not server.conflicts(None):
        field_conflict(new_device)  # conflicts 1 (field) and, below, 2 (duplicate)
        other = new_device(commune="02702")
        other.create(dict(BIRTH))
        other.sync()
    console = new_operator()
    try:
        console.call(action, **args)
    except SyncFailed as refused:
        assert 400 <= refused.status < 500, refused.body
        assert set(refused.body) == {"error", "code"}


@FUZZ
@given(payload=json_values)
def test_any_json_payload_is_refused_cleanly(new_operator: NewOperator, payload: Any) -> None:
    console = new_operator()
    assert console.server_keys is not None
    sealed = sealing.seal_request(
        wire.canonical_json(payload),
        device_id=console.operator_id,
        device_keys=console.keys,
        server_keys=console.server_keys,
    )
    try:
        console.send(sealed)
    except SyncFailed as refused:
        assert refused.status == 400
