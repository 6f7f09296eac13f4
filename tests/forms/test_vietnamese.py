"""Tests for desktop.forms.vietnamese: normalisation, folding, dates in words, collation."""

from __future__ import annotations

import datetime
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.forms.vietnamese import (
    TONE_ORDER,
    collation_key,
    date_in_words,
    fold,
    name_sort_key,
    normalize,
    number_in_words,
)

# --- strategies ----------------------------------------------------------------------------------

_VOWELS = "aăâeêioôơuưy"
_TONE_MARKS = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
_LOWER_LETTERS = sorted(
    {unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONE_MARKS}
    | set("bcdđghklmnpqrstvx")
)
VIETNAMESE_LETTERS = _LOWER_LETTERS + [c.upper() for c in _LOWER_LETTERS]

vietnamese_words = st.text(alphabet=VIETNAMESE_LETTERS, min_size=1, max_size=8)
vietnamese_text = st.lists(vietnamese_words, min_size=0, max_size=6).map(" ".join)
# Text a clerk might produce: Vietnamese letters, decomposed marks, odd spaces and apostrophes.
messy_text = st.text(
    alphabet=st.sampled_from(
        VIETNAMESE_LETTERS
        + list(" \t\n\xa0\u2009'’‘ʼ´`\u200b\ufeff-,.0123456789")
        + _TONE_MARKS[1:]
        + ["\u0306", "\u0302", "\u031b"]
    ),
    max_size=40,
)

# Pairs that differ only by where the tone mark sits (old vs new style), as syllables.
TONE_PLACEMENT_PAIRS = [
    ("Hoà", "Hòa"),
    ("Thuỷ", "Thủy"),
    ("Quý", "Qúy"),
    ("Khoẻ", "Khỏe"),
    ("Hoá", "Hóa"),
    ("Thuý", "Thúy"),
    ("Loã", "Lõa"),
    ("Hoạ", "Họa"),
]


# --- normalize -----------------------------------------------------------------------------------


def test_normalize_composes_decomposed_input_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    assert decomposed != "Nguyễn Thị Ánh"
    assert normalize(decomposed) == "Nguyễn Thị Ánh"


def test_normalize_collapses_all_whitespace_and_strips() -> None:
    assert normalize("  Giàng\tA\u00a0\u00a0Xà \r\n") == "Giàng A Xà"


@pytest.mark.parametrize("apostrophe", ["\u2019", "\u2018", "\u02bc", "\u00b4", "`", "'"])
def test_normalize_maps_apostrophe_lookalikes(apostrophe: str) -> None:
    assert normalize(f"H{apostrophe}Mông") == "H'Mông"


def test_normalize_drops_invisible_characters() -> None:
    assert normalize("\ufeffSùng\u200b Thị Mỷ") == "Sùng Thị Mỷ"


def test_normalize_keeps_the_clerks_tone_placement() -> None:
    assert normalize("Hoà") == "Hoà"
    assert normalize("Hòa") == "Hòa"
    assert normalize("Thuỷ") != normalize("Thủy")


@given(messy_text)
def test_normalize_is_idempotent_and_nfc(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert "  " not in once and once == once.strip()


@given(st.text())
def test_normalize_is_idempotent_on_any_text(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


# --- fold ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Giàng A Xà", "giang a xa"),
        ("Sùng Thị Mỷ", "sung thi my"),
        ("ĐẶNG Đình Đức", "dang dinh duc"),
        ("Nguyễn  Văn\u00a0An", "nguyen van an"),
        ("H’Mông", "h'mong"),
        ("Ưng Hoàng Phúc", "ung hoang phuc"),
        ("Lào Cai", "lao cai"),
        ("001099012345", "001099012345"),
        (unicodedata.normalize("NFD", "Trần Thị Ngọc Ánh"), "tran thi ngoc anh"),
    ],
)
def test_fold_examples(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(("old_style", "new_style"), TONE_PLACEMENT_PAIRS)
def test_fold_equates_tone_placement_variants(old_style: str, new_style: str) -> None:
    assert fold(old_style) == fold(new_style)
    assert fold(f"Nguyễn Thị {old_style}") == fold(f"nguyen thi {new_style}")


def test_fold_every_vietnamese_letter_is_ascii_lowercase() -> None:
    for letter in VIETNAMESE_LETTERS:
        folded = fold(letter)
        assert len(folded) == 1 and folded.isascii() and folded.islower(), letter


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(messy_text)
def test_fold_is_idempotent_on_vietnamese(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(st.text())
def test_fold_of_normalized_equals_fold(text: str) -> None:
    assert fold(normalize(text)) == fold(text)


@given(st.text())
def test_fold_output_has_no_marks_no_d_stroke_single_spaces(text: str) -> None:
    folded = fold(text)
    assert not any(unicodedata.category(c).startswith("M") for c in folded)
    assert "đ" not in folded and "Đ" not in folded
    assert "  " not in folded and folded == folded.strip()


@given(vietnamese_text)
def test_fold_of_vietnamese_is_plain_ascii_lowercase(text: str) -> None:
    folded = fold(text)
    assert folded.isascii()
    assert folded == folded.lower()


@given(vietnamese_text)
def test_fold_ignores_case(text: str) -> None:
    assert fold(text.upper()) == fold(text)
    assert fold(text.lower()) == fold(text)


@given(st.sampled_from(TONE_PLACEMENT_PAIRS), vietnamese_text, vietnamese_text)
def test_fold_tone_placement_variants_in_context(
    pair: tuple[str, str], before: str, after: str
) -> None:
    old_style, new_style = pair
    assert fold(f"{before} {old_style} {after}") == fold(f"{before} {new_style} {after}")


# --- numbers in words ----------------------------------------------------------------------------

_UNIT_WORDS = {
    "không": 0,
    "một": 1,
    "hai": 2,
    "ba": 3,
    "bốn": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
}


def parse_number_words(text: str) -> int:
    """Read Vietnamese number words back into an int, enforcing the administrative style.

    Rejects spellings the papers never use: "mốt" except after "mươi", "lăm" except after
    "mười"/"mươi", "tư" except after "mươi", "linh"/"lẻ" except between "trăm" and a unit.
    """
    words = text.split(" ")
    total = 0
    pending: int | None = None
    previous = ""
    for index, word in enumerate(words):
        if word in _UNIT_WORDS:
            if word == "năm" and previous in ("mười", "mươi"):
                raise ValueError("5 after tens must be 'lăm'")
            if word == "một" and previous == "mươi":
                raise ValueError("1 after 'mươi' must be 'mốt'")
            if word == "bốn" and previous == "mươi":
                raise ValueError("4 after 'mươi' must be 'tư'")
            pending = _UNIT_WORDS[word]
        elif word == "mốt":
            if previous != "mươi":
                raise ValueError("'mốt' only after 'mươi'")
            pending = 1
        elif word == "tư":
            if previous != "mươi":
                raise ValueError("'tư' only after 'mươi'")
            pending = 4
        elif word == "lăm":
            if previous not in ("mười", "mươi"):
                raise ValueError("'lăm' only after tens")
            pending = 5
        elif word in ("nghìn", "trăm", "mươi"):
            if pending is None:
                raise ValueError(f"{word!r} without a digit")
            total += pending * {"nghìn": 1000, "trăm": 100, "mươi": 10}[word]
            pending = None
        elif word == "mười":
            total += 10
        elif word in ("linh", "lẻ"):
            if previous != "trăm" or index + 1 >= len(words) or words[index + 1] not in _UNIT_WORDS:
                raise ValueError("'linh' only between 'trăm' and a unit")
        else:
            raise ValueError(f"unknown word {word!r}")
        previous = word
    return total + (pending or 0)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "không"),
        (4, "bốn"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (31, "ba mươi mốt"),
        (100, "một trăm"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (1990, "một nghìn chín trăm chín mươi"),
        (2000, "hai nghìn"),
        (2005, "hai nghìn không trăm linh năm"),
        (2010, "hai nghìn không trăm mười"),
        (2020, "hai nghìn không trăm hai mươi"),
        (2025, "hai nghìn không trăm hai mươi lăm"),
        (2100, "hai nghìn một trăm"),
        (9999, "chín nghìn chín trăm chín mươi chín"),
    ],
)
def test_number_in_words_examples(n: int, words: str) -> None:
    assert number_in_words(n) == words


def test_number_in_words_le_variant() -> None:
    assert number_in_words(2005, zero_tens="lẻ") == "hai nghìn không trăm lẻ năm"
    assert number_in_words(105, zero_tens="lẻ") == "một trăm lẻ năm"


@pytest.mark.parametrize("bad", [-1, 10_000, 2.5, True, "12"])
def test_number_in_words_rejects_out_of_range(bad: object) -> None:
    with pytest.raises(ValueError):
        number_in_words(bad)  # type: ignore[arg-type]


def test_number_in_words_rejects_unknown_zero_tens() -> None:
    with pytest.raises(ValueError, match="zero_tens"):
        number_in_words(105, zero_tens="le")


def test_number_in_words_round_trips_for_every_number() -> None:
    for n in range(10_000):
        for zero_tens in ("linh", "lẻ"):
            assert parse_number_words(number_in_words(n, zero_tens=zero_tens)) == n


@given(st.integers(0, 9999), st.sampled_from(["linh", "lẻ"]))
def test_number_in_words_round_trips(n: int, zero_tens: str) -> None:
    words = number_in_words(n, zero_tens=zero_tens)
    assert parse_number_words(words) == n
    assert "mười mốt" not in words


# --- dates in words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "kwargs", "words"),
    [
        (
            datetime.date(2025, 3, 15),
            {},
            "Ngày mười lăm tháng ba năm hai nghìn không trăm hai mươi lăm",
        ),
        (
            datetime.date(2005, 4, 24),
            {},
            "Ngày hai mươi tư tháng tư năm hai nghìn không trăm linh năm",
        ),
        (
            datetime.date(2005, 4, 4),
            {"zero_tens": "lẻ"},
            "Ngày bốn tháng tư năm hai nghìn không trăm lẻ năm",
        ),
        (
            datetime.date(1990, 1, 11),
            {},
            "Ngày mười một tháng một năm một nghìn chín trăm chín mươi",
        ),
        (
            datetime.date(2000, 12, 21),
            {},
            "Ngày hai mươi mốt tháng mười hai năm hai nghìn",
        ),
        (
            datetime.date(2010, 10, 31),
            {},
            "Ngày ba mươi mốt tháng mười năm hai nghìn không trăm mười",
        ),
        (
            datetime.date(2020, 11, 1),
            {"mung": True},
            "Ngày mùng một tháng mười một năm hai nghìn không trăm hai mươi",
        ),
        (
            datetime.date(2020, 11, 10),
            {"mung": True},
            "Ngày mùng mười tháng mười một năm hai nghìn không trăm hai mươi",
        ),
        (
            datetime.date(2020, 11, 11),
            {"mung": True},
            "Ngày mười một tháng mười một năm hai nghìn không trăm hai mươi",
        ),
    ],
)
def test_date_in_words_examples(d: datetime.date, kwargs: dict[str, object], words: str) -> None:
    assert date_in_words(d, **kwargs) == words  # type: ignore[arg-type]


def test_date_in_words_months() -> None:
    months = [date_in_words(datetime.date(2025, m, 2)).split(" tháng ")[1] for m in range(1, 13)]
    names = [m.split(" năm ")[0] for m in months]
    assert names == [
        "một",
        "hai",
        "ba",
        "tư",
        "năm",
        "sáu",
        "bảy",
        "tám",
        "chín",
        "mười",
        "mười một",
        "mười hai",
    ]


def test_date_in_words_accepts_datetime() -> None:
    assert date_in_words(datetime.datetime(2025, 3, 15, 14, 30)) == date_in_words(
        datetime.date(2025, 3, 15)
    )


def test_date_in_words_rejects_non_dates() -> None:
    with pytest.raises(TypeError):
        date_in_words("15/03/2025")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        date_in_words(datetime.date(2025, 3, 15), zero_tens="x")


_DATE_SENTENCE = re.compile(r"Ngày (mùng )?(?P<day>.+?) tháng (?P<month>.+?) năm (?P<year>.+)")


def _check_date_sentence(d: datetime.date, mung: bool, zero_tens: str) -> None:
    words = date_in_words(d, mung=mung, zero_tens=zero_tens)
    assert words.startswith("Ngày ")
    assert not any(c.isdigit() for c in words)
    assert "mười mốt" not in words
    year_words = number_in_words(d.year, zero_tens=zero_tens)
    assert words.endswith(" năm " + year_words)
    match = _DATE_SENTENCE.fullmatch(words)
    assert match is not None
    assert (match.group(1) is not None) == (mung and d.day <= 10)
    month = match.group("month")
    assert (4 if month == "tư" else parse_number_words(month)) == d.month
    assert parse_number_words(match.group("day")) == d.day
    assert parse_number_words(match.group("year")) == d.year


@given(
    st.dates(datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)),
    st.booleans(),
    st.sampled_from(["linh", "lẻ"]),
)
def test_date_in_words_properties(d: datetime.date, mung: bool, zero_tens: str) -> None:
    _check_date_sentence(d, mung, zero_tens)


def test_date_in_words_every_date_1900_to_2100() -> None:
    d = datetime.date(1900, 1, 1)
    one_day = datetime.timedelta(days=1)
    while d.year <= 2100:
        _check_date_sentence(d, False, "linh")
        d += one_day


# --- collation -----------------------------------------------------------------------------------


def test_collation_orders_letters_the_vietnamese_way() -> None:
    words = ["Ân", "Ăn", "An", "Anh", "Đào", "Dương", "Em", "Êm", "Ơn", "Ôn", "On", "Ưng", "Ung"]
    assert sorted(words, key=collation_key) == [
        "An",
        "Anh",
        "Ăn",
        "Ân",
        "Dương",
        "Đào",
        "Em",
        "Êm",
        "On",
        "Ôn",
        "Ơn",
        "Ung",
        "Ưng",
    ]
    # Code-point order gets it wrong (Â U+00C2 before Ă U+0102), which is why the key exists.
    assert sorted(["Ăn", "Ân"]) == ["Ân", "Ăn"]


def test_collation_tone_order_is_secondary() -> None:
    assert TONE_ORDER == ("ngang", "huyền", "sắc", "hỏi", "ngã", "nặng")
    tones = ["Mạ", "Mã", "Mả", "Má", "Mà", "Ma"]
    assert sorted(tones, key=collation_key) == ["Ma", "Mà", "Má", "Mả", "Mã", "Mạ"]
    # A letter difference outranks any tone: "Mạ" < "Man" although nặng is the last tone.
    assert collation_key("Mạ") < collation_key("Man")


def test_collation_is_case_insensitive_and_placement_blind() -> None:
    assert collation_key("GIÀNG A XÀ") == collation_key("giàng a xà")
    for old_style, new_style in TONE_PLACEMENT_PAIRS:
        assert collation_key(old_style) == collation_key(new_style)


def test_collation_ignores_apostrophes_and_sorts_words_before_longer_words() -> None:
    assert collation_key("H'Mông") == collation_key("HMông")
    assert collation_key("An Bình") < collation_key("Anh")


def test_name_sort_key_sorts_by_ten_then_chu_dem_then_ho() -> None:
    people = [
        ("Nguyễn", "Văn", "Ân"),
        ("Trần", "Thị", "An"),
        ("Lê", "", "Anh"),
        ("Giàng", "Thị", "Xà"),
        ("Giàng", "A", "Xà"),
        ("Đỗ", "Văn", "Đức"),
        ("Dương", "Văn", "Dũng"),
        ("Sùng", "Thị", "Mỷ"),
        ("Hoàng", "A", "Xà"),
    ]
    ordered = sorted(people, key=lambda p: name_sort_key(*p))
    assert ordered == [
        ("Trần", "Thị", "An"),
        ("Lê", "", "Anh"),
        ("Nguyễn", "Văn", "Ân"),
        ("Dương", "Văn", "Dũng"),
        ("Đỗ", "Văn", "Đức"),
        ("Sùng", "Thị", "Mỷ"),
        ("Giàng", "A", "Xà"),
        ("Hoàng", "A", "Xà"),
        ("Giàng", "Thị", "Xà"),
    ]


@given(vietnamese_text, vietnamese_text)
def test_collation_key_is_a_consistent_total_order(a: str, b: str) -> None:
    ka, kb = collation_key(a), collation_key(b)
    assert (ka < kb) + (ka == kb) + (ka > kb) == 1
    # Strings that fold to different letters never collate equal.
    if ka == kb:
        assert fold(a) == fold(b)


@settings(max_examples=50)
@given(st.text())
def test_collation_key_accepts_any_text(text: str) -> None:
    primary, tones = collation_key(text)
    assert all(isinstance(w, int) for w in primary + tones)
