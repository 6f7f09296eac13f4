"""The console's admin requests: each action's arguments are checked, bad ones are named."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import admin, enrolment, wire
from protocol.errors import WireError
from protocol.keys import PrivateKeys


def test_list_defaults_and_filters() -> None:
    action, args = admin.validate_admin_request({"action": "conflicts.list"})
    assert action == "conflicts.list"
    assert args["status"] == "open" and args["limit"] == 200 and args["offset"] == 0
    assert args["commune"] is None and args["kind"] is None
    _, args = admin.validate_admin_request(
        {
            "action": "conflicts.list",
            "args": {"commune": "02701", "kind": "duplicate", "min_age_days": 3, "limit": 50},
        }
    )
    assert (args["commune"], args["kind"], args["min_age_days"], args["limit"]) == (
        "02701",
        "duplicate",
        3,
        50,
    )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"action": "conflicts.drop"}, "unknown admin action"),
        ({"action": "conflicts.list", "args": {"kind": "other"}}, "args.kind"),
        ({"action": "conflicts.list", "args": {"limit": 501}}, "args.limit"),
        ({"action": "conflicts.list", "args": {"commune": "27"}}, "args.commune"),
        ({"action": "conflicts.get", "args": {}}, "args.id"),
        ({"action": "conflicts.resolve", "args": {"id": 1, "choices": {}}}, "args.choices"),
        (
            {"action": "conflicts.resolve", "args": {"id": 1, "choices": {"a": {"take": "x"}}}},
            "args.choices['a']",
        ),
        (
            {
                "action": "conflicts.resolve",
                "args": {"id": 1, "choices": {"a": {"take": "current"}}, "reason": "  "},
            },
            "args.reason is required",
        ),
        (
            {"action": "duplicates.decide", "args": {"id": 2, "decision": "merge"}},
            "args.decision",
        ),
        ({"action": "devices.revoke", "args": {"device_id": "d1"}}, "args.reason is required"),
        ({"action": "devices.issue_code", "args": {"commune": "02701", "ttl_hours": 0}}, "ttl"),
        ({"action": "stats.dossiers", "args": {"period": "day"}}, "args.period"),
        ({"action": "stats.dossiers", "args": {"since": "1/1/2026"}}, "args.since"),
    ],
)
def test_bad_arguments_are_named(request_: dict[str, object], message: str) -> None:
    with pytest.raises(WireError, match=message.replace("[", r"\[").replace("]", r"\]")):
        admin.validate_admin_request(request_)


def test_resolution_choices() -> None:
    _, args = admin.validate_admin_request(
        {
            "action": "conflicts.resolve",
            "args": {
                "id": 7,
                "choices": {
                    "data.tre_ten": {"take": "incoming"},
                    "data.tre_ho": {"take": "current"},
                    "data.tre_ten_dem": {"value": "Văn"},
                },
                "reason": "Theo giấy chứng sinh",
            },
        }
    )
    assert args["choices"]["data.tre_ten_dem"] == {"value": "Văn"}
    assert args["reason"] == "Theo giấy chứng sinh"
    # A whole-record choice keeps or deletes; it can not be given a value.
    with pytest.raises(WireError):
        admin.validate_choices({"_record": {"value": "x"}})
    assert admin.validate_choices({"_record": {"take": "current"}}) == {
        "_record": {"take": "current"}
    }


def test_device_report_in_a_sync_request() -> None:
    request = wire.validate_sync_request(
        {"report": {"pending": 3, "app_version": "0.2.0", "last_error": None}}
    )
    assert request["report"] == {"pending": 3, "app_version": "0.2.0", "last_error": None}
    assert wire.validate_sync_request({})["report"] is None
    with pytest.raises(WireError, match="sync.report.pending"):
        wire.validate_sync_request({"report": {"pending": -1}})


def test_operator_enrolment_proof_is_bound_to_the_province_scope() -> None:
    keys = PrivateKeys.generate().public()
    code = enrolment.generate_code()
    proof = enrolment.enrol_proof(code, "op-1", admin.OPERATOR_SCOPE, keys)
    request = enrolment.validate_operator_enrol_request(
        {"operator_id": "op-1", "keys": keys.to_json(), "proof": proof, "label": "CNTT"}
    )
    key = enrolment.enrol_key(code)
    assert enrolment.proof_with_key(key, "op-1", admin.OPERATOR_SCOPE, request["keys"]) == proof
    # The same code proven for a commune is a different proof: a device can't become an operator.
    assert enrolment.enrol_proof(code, "op-1", "02701", keys) != proof


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(admin.ACTIONS + ("nope",)),
    st.dictionaries(
        st.sampled_from(
            ["id", "choices", "reason", "commune", "kind", "limit", "decision", "period"]
        ),
        json_values,
    ),
)
def test_arbitrary_arguments_only_raise_wire_error(action: str, args: dict[str, object]) -> None:
    try:
        admin.validate_admin_request({"action": action, "args": args})
    except WireError:
        pass
