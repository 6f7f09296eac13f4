"""Tests for desktop.forms.idcard: reading the chip ID card QR payload by content."""

from __future__ import annotations

import dataclasses
import datetime
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from desktop.forms.idcard import MAX_QR_LENGTH, IdCard, IdCardError, parse_cccd_qr

TODAY = datetime.date(2025, 11, 26)

CARD_2021 = "001099012345|123456789|Nguyễn Văn An|01011999|Nam|Số 1, Phường X, Hà Nội|15072021"


def parse(raw: object) -> IdCard:
    return parse_cccd_qr(raw, today=TODAY)  # type: ignore[arg-type]


# --- the payloads we know ------------------------------------------------------------------------


def test_2021_card_with_old_id() -> None:
    card = parse(CARD_2021)
    assert card.id_number == "001099012345"
    assert card.old_id == "123456789"
    assert card.full_name == "Nguyễn Văn An"
    assert card.birth_date == datetime.date(1999, 1, 1)
    assert card.sex == "Nam"
    assert card.address == "Số 1, Phường X, Hà Nội"
    assert card.issue_date == datetime.date(2021, 7, 15)
    assert card.expiry_date is None
    assert card.raw == CARD_2021
    # The 2021 QR has no expiry date: the clerk is told to read it off the card.
    assert card.warnings == ("Mã QR không ghi ngày hết hạn của thẻ; hãy xem trên mặt thẻ.",)


def test_2021_card_without_old_id_has_an_empty_field() -> None:
    raw = "010301012345||Sùng Thị Mỷ|02022001|Nữ|Thôn Sín Chải, xã Bắc Hà, tỉnh Lào Cai|10042021"
    card = parse(raw)
    assert card.old_id is None
    assert (card.full_name, card.sex) == ("Sùng Thị Mỷ", "Nữ")
    assert card.address == "Thôn Sín Chải, xã Bắc Hà, tỉnh Lào Cai"
    assert card.issue_date == datetime.date(2021, 4, 10)


def test_six_field_variant_without_old_id() -> None:
    raw = "010099001234|Giàng A Xà|15061999|Nam|Bản Lầu, xã Mường Khương, tỉnh Lào Cai|20032022"
    card = parse(raw)
    assert card.id_number == "010099001234"
    assert card.old_id is None
    assert card.full_name == "Giàng A Xà"
    assert card.birth_date == datetime.date(1999, 6, 15)
    assert card.issue_date == datetime.date(2022, 3, 20)
    assert card.address == "Bản Lầu, xã Mường Khương, tỉnh Lào Cai"


def test_2024_style_payload_with_expiry_date() -> None:
    raw = "010301012345||Sùng Thị Mỷ|02022001|Nữ|Thôn Sín Chải, xã Bắc Hà, tỉnh Lào Cai|01072024|02022026"
    card = parse(raw)
    assert card.issue_date == datetime.date(2024, 7, 1)
    assert card.expiry_date == datetime.date(2026, 2, 2)
    assert card.warnings == ()


def test_fields_are_recognised_by_content_not_position() -> None:
    # A hypothetical layout: name first, dates out of order, old 12-digit CCCD after the address.
    raw = (
        "Giàng Thị Dợ|NỮ|Thôn Na Hối, xã Bắc Hà, tỉnh Lào Cai|05052040|05052000"
        "|010300009876|01082024|010300009876"
    )
    card = parse(raw)
    assert card.full_name == "Giàng Thị Dợ"
    assert card.sex == "Nữ"
    assert card.id_number == "010300009876"
    assert card.old_id == "010300009876"
    assert card.birth_date == datetime.date(2000, 5, 5)
    assert card.issue_date == datetime.date(2024, 8, 1)
    assert card.expiry_date == datetime.date(2040, 5, 5)


def test_two_dates_where_the_second_is_the_legal_expiry() -> None:
    # Cards expire on the holder's birthday at 25, 40 or 60: that date is not an issue date.
    raw = "010099001234|Giàng A Xà|15061999|Nam|Bản Lầu, xã Mường Khương, tỉnh Lào Cai|15062024"
    card = parse(raw)
    assert card.issue_date is None
    assert card.expiry_date == datetime.date(2024, 6, 15)
    assert "Mã QR không ghi ngày cấp thẻ; hãy xem trên mặt thẻ." in card.warnings
    assert "Thẻ đã hết hạn từ ngày 15/06/2024." in card.warnings


def test_two_dates_where_the_second_is_in_the_future_is_an_expiry() -> None:
    raw = "001099012345||Nguyễn Văn An|01011999|Nam|Số 1, Phường X, Hà Nội|31122035"
    card = parse(raw)
    assert (card.issue_date, card.expiry_date) == (None, datetime.date(2035, 12, 31))


def test_card_without_expiry_says_so() -> None:
    raw = "001060012345||Nguyễn Văn Bảy|01011960|Nam|Số 1, Phường X, Hà Nội|01072021|Không thời hạn"
    card = parse(raw)
    assert card.expiry_date is None
    assert not any("hết hạn" in w for w in card.warnings)


@pytest.mark.parametrize(
    ("written", "sex"), [("NAM", "Nam"), ("nam", "Nam"), ("Nu", "Nữ"), ("nữ", "Nữ"), ("NỮ", "Nữ")]
)
def test_sex_is_case_and_diacritic_tolerant(written: str, sex: str) -> None:
    raw = CARD_2021.replace("|Nam|", f"|{written}|")
    assert parse(raw).sex == sex


# --- what scanners and clerks do to the text -----------------------------------------------------


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r", "\t", "  "])
def test_keyboard_wedge_line_endings_are_ignored(ending: str) -> None:
    card = parse(CARD_2021 + ending)
    assert card.issue_date == datetime.date(2021, 7, 15)
    assert card.raw == CARD_2021 + ending  # kept exactly as received


def test_symbology_identifier_prefix_is_ignored() -> None:
    assert parse("]Q1" + CARD_2021).id_number == "001099012345"


def test_text_fields_are_normalised() -> None:
    raw = "001099012345||H’Hen  Niê|01011999|Nữ|Buôn\u00a0Ko Sier,  Đắk Lắk|15072021"
    raw = raw.replace("001099", "066199")
    card = parse(raw)
    assert card.full_name == "H'Hen Niê"
    assert card.address == "Buôn Ko Sier, Đắk Lắk"


def test_decomposed_unicode_is_composed() -> None:
    import unicodedata

    card = parse(unicodedata.normalize("NFD", CARD_2021))
    assert card.full_name == "Nguyễn Văn An"
    assert card.sex == "Nam"


def test_utf8_bytes_are_accepted() -> None:
    assert parse(CARD_2021.encode("utf-8")).full_name == "Nguyễn Văn An"


def test_a_single_date_is_the_birth_date_and_the_rest_is_flagged() -> None:
    card = parse("001099012345|Nguyễn Văn An|Nam|Số 1, Hà Nội|01011999")
    assert card.birth_date == datetime.date(1999, 1, 1)
    assert (card.issue_date, card.expiry_date) == (None, None)
    assert len(card.warnings) == 2  # no issue date, no expiry date


def test_address_that_looks_like_a_name_still_comes_second() -> None:
    raw = "010099001234|Giàng A Xà|15061999|Nam|Lào Cai|20032022"
    card = parse(raw)
    assert (card.full_name, card.address) == ("Giàng A Xà", "Lào Cai")


# --- warnings ------------------------------------------------------------------------------------


def test_id_disagreeing_with_birth_year_and_sex_is_a_warning() -> None:
    # Century/sex digit 1 means a woman born in the 1900s; the card says a man born in 2001.
    raw = "010101012345||Giàng A Pử|01012001|Nam|Bản Phố, xã Bắc Hà, tỉnh Lào Cai|01072021"
    card = parse(raw)
    joined = " ".join(card.warnings)
    assert "giới tính" in joined
    assert "2001" in joined


def test_several_old_ids_keep_the_first_and_warn() -> None:
    raw = "001099012345|123456789|987654321|Nguyễn Văn An|01011999|Nam|Số 1, Hà Nội|15072021"
    card = parse(raw)
    assert card.old_id == "123456789"
    assert any("987654321" in w for w in card.warnings)


def test_unrecognised_fields_are_reported() -> None:
    raw = CARD_2021 + "|0912345678"
    card = parse(raw)
    assert any("0912345678" in w for w in card.warnings)


def test_issue_date_in_the_future_points_at_the_pc_clock() -> None:
    raw = CARD_2021 + "|15072046"
    card = parse_cccd_qr(raw, today=datetime.date(2021, 1, 1))
    assert any("ngày giờ của máy tính" in w for w in card.warnings)


# --- garbage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "english"),
    [
        ("", "no '|'"),
        ("Nguyễn Văn An", "no '|'"),
        ("|||||", "no 12-digit ID"),
        ("001099012345|Nguyễn Văn An|01011999|Số 1, Hà Nội", "no sex"),
        ("001099012345|Nguyễn Văn An|31021999|Nam|Số 1, Hà Nội", "not a valid DDMMYYYY date"),
        ("001099012345|01011999|Nam|Số 1, Hà Nội|15072021", "name"),
        ("001099012345|Nguyễn Văn An|01011999|Nam|15072021", "no address"),
        ("001099012345|Nguyễn Văn An|01011999|Nam|Nữ|Số 1, Hà Nội", "conflicting sex"),
        (
            "001099012345|Nguyễn Văn An|01011999|Nam|Số 1, Hà Nội|15072021|01012030|01012031",
            "4 dates",
        ),
        ("001099012345|001099012346|001099012347|An|01011999|Nam|Hà Nội", "12-digit numbers"),
        ("001099012345|Nguyễn Văn An|01012099|Nam|Số 1, Hà Nội", "future"),
        ("001099012345|Nguyễn Văn An|01011999|Nam|Số 1, Hà Nội|01011999", "equal"),
        ("|".join(["x"] * 40), "fields"),
        (CARD_2021 + CARD_2021, None),  # scanned twice into one box
    ],
)
def test_garbage_raises_id_card_error_with_both_messages(raw: str, english: str | None) -> None:
    with pytest.raises(IdCardError) as caught:
        parse(raw)
    error = caught.value
    assert isinstance(error, ValueError)
    if english:
        assert english in str(error)
    assert error.message_vi.startswith("Không đọc được mã QR thẻ căn cước")
    assert error.__cause__ is None  # a deliberate refusal, not a bug caught by the safety net


@pytest.mark.parametrize("raw", [None, 12345, ["a|b"], b"\xff\xfe|||", object()])
def test_non_text_raises_id_card_error(raw: object) -> None:
    with pytest.raises(IdCardError):
        parse(raw)


def test_huge_input_is_refused_at_once() -> None:
    huge = CARD_2021 + "|" + "Nguyễn " * 2_000_000
    start = time.perf_counter()
    with pytest.raises(IdCardError, match=str(MAX_QR_LENGTH)):
        parse(huge)
    assert time.perf_counter() - start < 0.05


# --- properties ----------------------------------------------------------------------------------


def _check_outcome(raw: object) -> None:
    """Parse; the only allowed failure is a deliberate IdCardError, and success is consistent."""
    try:
        card = parse(raw)
    except IdCardError as error:
        assert error.__cause__ is None, f"internal error turned into IdCardError: {error!r}"
        assert error.message_vi and str(error)
        return
    assert len(card.id_number) == 12 and card.id_number.isdigit()
    assert card.sex in ("Nam", "Nữ")
    assert card.full_name and card.address
    assert card.birth_date <= TODAY
    if card.issue_date:
        assert card.birth_date < card.issue_date
    if card.expiry_date:
        assert card.birth_date < card.expiry_date
        assert card.issue_date is None or card.issue_date < card.expiry_date
    assert all(isinstance(w, str) for w in card.warnings)


@given(st.text(max_size=300))
def test_arbitrary_text_only_ever_raises_id_card_error(raw: str) -> None:
    _check_outcome(raw)


_field = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[0-9]{8,12}", fullmatch=True),
    st.sampled_from(["", "Nam", "Nữ", "NU", "Không thời hạn", "Giàng A Xà", "Số 1, Hà Nội"]),
    st.dates(datetime.date(1700, 1, 1), datetime.date(2400, 1, 1)).map(
        lambda d: d.strftime("%d%m") + f"{d.year:04d}"
    ),
)


@given(st.lists(_field, max_size=20).map("|".join))
def test_arbitrary_text_with_pipes_only_ever_raises_id_card_error(raw: str) -> None:
    _check_outcome(raw)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_ever_raise_id_card_error(raw: bytes) -> None:
    _check_outcome(raw)


@given(st.data())
def test_mutated_valid_payloads_only_ever_raise_id_card_error(data: st.DataObject) -> None:
    raw = CARD_2021
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace", "swap", "drop"]))
        if action == "insert":
            raw = raw[:position] + data.draw(st.text(min_size=1, max_size=5)) + raw[position:]
        elif action == "delete":
            raw = raw[:position] + raw[position + 1 :]
        elif action == "replace":
            raw = raw[:position] + data.draw(st.characters()) + raw[position + 1 :]
        else:
            fields = raw.split("|")
            i = data.draw(st.integers(0, len(fields) - 1))
            j = data.draw(st.integers(0, len(fields) - 1))
            if action == "swap":
                fields[i], fields[j] = fields[j], fields[i]
            else:
                del fields[i]
            raw = "|".join(fields)
    _check_outcome(raw)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=MAX_QR_LENGTH + 1, max_size=MAX_QR_LENGTH + 50))
def test_anything_longer_than_the_cap_is_refused(raw: str) -> None:
    with pytest.raises(IdCardError, match="characters, more than"):
        parse(raw)


# A generator of real-looking payloads, to check that parsing by content recovers every field
# whatever the order of the fields.
_SYLLABLES = ["Giàng", "Sùng", "Thị", "Mỷ", "Xà", "Nguyễn", "Văn", "Ánh", "Lò", "Dợ", "Ly", "A"]
_names = st.lists(st.sampled_from(_SYLLABLES), min_size=2, max_size=5).map(" ".join)
_addresses = st.tuples(
    st.sampled_from(["Thôn", "Bản", "Tổ"]),
    st.integers(1, 30),
    st.sampled_from(["xã Bắc Hà", "phường Cam Đường", "xã Mường Khương"]),
).map(lambda t: f"{t[0]} {t[1]}, {t[2]}, tỉnh Lào Cai")


def _ddmmyyyy(d: datetime.date) -> str:
    return d.strftime("%d%m") + f"{d.year:04d}"


@given(
    id_number=st.from_regex(r"[0-9]{12}", fullmatch=True),
    old_id=st.one_of(st.none(), st.from_regex(r"[0-9]{9}", fullmatch=True)),
    name=_names,
    sex=st.sampled_from(["Nam", "Nữ"]),
    address=_addresses,
    birth=st.dates(datetime.date(1920, 1, 1), datetime.date(2020, 1, 1)),
    issue_after=st.integers(1, 3000),
    expiry_after=st.one_of(st.none(), st.integers(1, 15000)),
    order=st.randoms(use_true_random=False),
    ending=st.sampled_from(["", "\r\n", "\n"]),
)
def test_round_trip_in_any_field_order(
    id_number: str,
    old_id: str | None,
    name: str,
    sex: str,
    address: str,
    birth: datetime.date,
    issue_after: int,
    expiry_after: int | None,
    order: object,
    ending: str,
) -> None:
    issue = min(birth + datetime.timedelta(days=issue_after * 10), TODAY)
    assume(issue > birth)
    expiry = issue + datetime.timedelta(days=expiry_after) if expiry_after else None
    fields = [id_number, old_id or "", name, _ddmmyyyy(birth), sex, address, _ddmmyyyy(issue)]
    if expiry:
        fields.append(_ddmmyyyy(expiry))
    order.shuffle(fields)  # type: ignore[attr-defined]
    if expiry is None and (issue.month, issue.day) == (birth.month, birth.day):
        # An issue date on a 14th/25th/40th/60th birthday reads as an expiry date: by design.
        assume(issue.year - birth.year not in (14, 25, 40, 60))
    card = parse("|".join(fields) + ending)
    expected = IdCard(
        id_number=id_number,
        old_id=old_id,
        full_name=name,
        birth_date=birth,
        sex=sex,
        address=address,
        issue_date=issue,
        expiry_date=expiry,
        raw="|".join(fields) + ending,
        warnings=card.warnings,
    )
    assert card == expected


def test_id_card_is_immutable() -> None:
    card = parse(CARD_2021)
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.full_name = "x"  # type: ignore[misc]
