"""Wire messages: canonical JSON, change and request checks, enrolment codes and proofs."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import enrolment, errors, limits, wire
from protocol.keys import PrivateKeys

CHANGE = {
    "change_id": "0192f1e2-0000-7000-8000-000000000001",
    "device_id": "0192f1e2-0000-7000-8000-0000000000dd",
    "device_seq": 17,
    "entity": "dossier",
    "entity_id": "0192f1e2-0000-7000-8000-0000000000aa",
    "op": "upsert",
    "base_version": 3,
    "fields": {"data.tre_ten": ["An", "Ân"], "status": ["tiep_nhan", "dang_xu_ly"]},
    "hlc": "1764145000123-0000-0192f1e2-0000-7000-8000-0000000000dd",
    "clerk": "lan",
    "commune": "02701",
}


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert wire.canonical_json({"b": 1, "a": "Ân"}) == '{"a":"Ân","b":1}'.encode()
    with pytest.raises(ValueError):
        wire.canonical_json({"x": float("nan")})


def test_architecture_change_is_valid() -> None:
    assert wire.validate_change(CHANGE) == CHANGE


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("entity", "person", "entity"),
        ("op", "merge", "op"),
        ("device_seq", 0, "device_seq"),
        ("device_seq", True, "device_seq"),
        ("base_version", -1, "base_version"),
        ("commune", "2701", "commune"),
        ("change_id", "", "change_id"),
        ("change_id", "a b", "change_id"),
        ("fields", {"data.x": "new"}, "old, new"),
        ("fields", {"Data X": [None, 1]}, "malformed key"),
        ("fields", {"data.x": [None, {"nested": 1}]}, "text, a number"),
        ("fields", [], "fields"),
        ("hlc", 5, "hlc"),
    ],
)
def test_malformed_changes_are_named(key: str, value: object, message: str) -> None:
    bad = copy.deepcopy(CHANGE)
    bad[key] = value
    with pytest.raises(errors.WireError, match=message):
        wire.validate_change(bad)


def test_missing_key_is_named() -> None:
    bad = {k: v for k, v in CHANGE.items() if k != "entity_id"}
    with pytest.raises(errors.WireError, match="entity_id is missing"):
        wire.validate_change(bad)


def test_sync_request_defaults_and_limits() -> None:
    req = wire.validate_sync_request({})
    assert req == {
        "cursor": "",
        "changes": [],
        "limit": limits.DEFAULT_PULL_LIMIT,
        "want_blocks": [],
        "session": False,
        "epoch": None,
        "report": None,
    }
    with pytest.raises(errors.WireError, match="limit"):
        wire.validate_sync_request({"limit": limits.MAX_PULL_LIMIT + 1})
    with pytest.raises(errors.WireError, match=r"changes\[0\]"):
        wire.validate_sync_request({"changes": [{"entity": "dossier"}]})
    blocks = wire.validate_sync_request({"want_blocks": [{"book_type": "KS", "year": 2026}]})
    assert blocks["want_blocks"] == [{"book_type": "KS", "year": 2026, "after": 0}]


def test_codes_are_typable_and_forgiving() -> None:
    code = enrolment.generate_code()
    assert len(code) == 11 and code[5] == "-"
    assert enrolment.normalize_code(code.lower().replace("-", " ")) == code.replace("-", "")
    assert enrolment.normalize_code("ABCDE-FGHIO") == "ABCDEFGH10"
    assert enrolment.format_code("abcdefgh10") == "ABCDE-FGH10"
    for bad in ["", "ABCDE", "ABCDE-FGHJK-1", "ABCDE-FGHJ!", 12345]:
        with pytest.raises(errors.WireError):
            enrolment.normalize_code(bad)  # type: ignore[arg-type]


def test_enrol_proof_binds_code_device_commune_and_keys() -> None:
    keys = PrivateKeys.generate().public()
    other_keys = PrivateKeys.generate().public()
    code = enrolment.generate_code()
    proof = enrolment.enrol_proof(code, "dev1", "02701", keys)
    assert proof == enrolment.enrol_proof(code.lower(), "dev1", "02701", keys)
    assert proof != enrolment.enrol_proof(enrolment.generate_code(), "dev1", "02701", keys)
    assert proof != enrolment.enrol_proof(code, "dev2", "02701", keys)
    assert proof != enrolment.enrol_proof(code, "dev1", "02702", keys)
    assert proof != enrolment.enrol_proof(code, "dev1", "02701", other_keys)
    body = {
        "device_id": "dev1",
        "commune": "02701",
        "keys": keys.to_json(),
        "proof": proof,
        "label": "PC",
    }
    assert enrolment.validate_enrol_request(body)["keys"] == keys
    with pytest.raises(errors.WireError, match="keys"):
        enrolment.validate_enrol_request({**body, "keys": {"sign": "AA"}})


def test_missing_and_chunk_requests() -> None:
    sha = "a" * 64
    assert wire.validate_missing_request({"hashes": [sha]}) == [sha]
    with pytest.raises(errors.WireError):
        wire.validate_missing_request({"hashes": ["A" * 64]})
    info = wire.validate_chunk_header({"a": sha, "o": 0, "n": 10, "c": sha})
    assert info == {"sha256": sha, "offset": 0, "size": 10, "chunk_sha256": sha}
    with pytest.raises(errors.WireError):
        wire.validate_chunk_header({"a": sha, "o": -1, "n": 10, "c": sha})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_only_raises_wire_error(obj: object) -> None:
    for check in (
        wire.validate_change,
        wire.validate_sync_request,
        enrolment.validate_enrol_request,
    ):
        try:
            check(obj)
        except errors.WireError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(CHANGE)), json_values, max_size=6))
def test_mutated_changes_only_raise_wire_error(mutation: dict[str, object]) -> None:
    try:
        wire.validate_change({**CHANGE, **mutation})
    except errors.WireError:
        pass
