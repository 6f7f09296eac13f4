"""Vietnamese text rules: input normalisation, search folding, dates in words and collation.

Everything a clerk types goes through :func:`normalize` before it is stored, so that the same
name typed with Unikey on Windows, pasted from a PDF or read from a CCCD QR code compares equal.
:func:`fold` turns text into the search key stored in the full-text index (no diacritics, đ→d,
case-folded). :func:`date_in_words` and :func:`number_in_words` write dates the way civil-status
papers do, and :func:`collation_key` / :func:`name_sort_key` sort people in Vietnamese order.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from functools import lru_cache

__all__ = [
    "TONE_ORDER",
    "collation_key",
    "date_in_words",
    "fold",
    "name_sort_key",
    "normalize",
    "number_in_words",
]

# --- normalize -----------------------------------------------------------------------------------

# Apostrophe look-alikes that keyboards, Word's autocorrect and PDFs put into names like H'Mông.
_APOSTROPHES = "\u2019\u2018\u02bc\u00b4\u0060\u2032\uff07"
# Invisible characters that come in with copy-paste (zero-width space/joiners, word joiner, BOM).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"

_NORMALIZE_TABLE: dict[int, str | None] = {ord(c): "'" for c in _APOSTROPHES}
_NORMALIZE_TABLE.update({ord(c): None for c in _INVISIBLE})
# Searching first is cheaper than translating: almost no input contains these characters.
_NEEDS_MAPPING = re.compile(f"[{_APOSTROPHES}{_INVISIBLE}]")


def normalize(text: str) -> str:
    """Return ``text`` cleaned for storage, keeping the clerk's spelling.

    The text is put in Unicode NFC, apostrophe look-alikes (’ ‘ ʼ ´ `) become ``'``, invisible
    characters (zero-width spaces, BOM, soft hyphen) are dropped and every run of whitespace
    (spaces, tabs, newlines, no-break spaces) becomes one space, with none at either end.
    Tone placement is left as typed (``Hoà`` stays ``Hoà``); only :func:`fold` equates variants.

    Args:
        text: Any string.

    Returns:
        The normalised string (idempotent: ``normalize(normalize(x)) == normalize(x)``).
    """
    if _NEEDS_MAPPING.search(text):
        text = text.translate(_NORMALIZE_TABLE)
    if not text.isascii():
        nfc = unicodedata.normalize("NFC", text)
        # NFC maps a few Greek accents (U+1FEF, U+1FFD) to ` and ´: map those too.
        if nfc != text and _NEEDS_MAPPING.search(nfc):
            nfc = nfc.translate(_NORMALIZE_TABLE)
        text = nfc
    return " ".join(text.split())


# --- fold ----------------------------------------------------------------------------------------

# Letters with diacritics that fold to an ASCII letter are computed once from the Latin blocks
# (this covers all 134 precomposed Vietnamese letters and common foreign ones) so that folding a
# name is a single str.translate call instead of a unicodedata lookup per character.
_LATIN_RANGES = ((0x00C0, 0x0250), (0x1E00, 0x1F00))


def _build_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for start, stop in _LATIN_RANGES:
        for cp in range(start, stop):
            ch = chr(cp)
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            )
            base = base.casefold()
            if base and base.isascii() and base.isalpha() and base != ch:
                table[cp] = base
    # Stroke letters have no decomposition: đ/Đ must be mapped explicitly (FTS5 keeps them).
    for ch in "đĐ\u0189\u0256":  # đ Đ and the look-alike African D that some fonts substitute
        table[ord(ch)] = "d"
    for cp in range(ord("A"), ord("Z") + 1):
        table[cp] = chr(cp + 32)
    # Combining diacritics left over from decomposed input.
    for cp in range(0x0300, 0x0370):
        table[cp] = None
    # casefold() can bring apostrophe look-alikes back (ŉ → ʼn): apply normalize's mapping too.
    table.update(_NORMALIZE_TABLE)
    return table


_FOLD_TABLE = _build_fold_table()
# str.translate looks a list up by index about twice as fast as a dict by key; characters past
# the list's end (IndexError) are left as they are and handled by the slow path.
_FOLD_LIST: list[str | None] = [_FOLD_TABLE.get(cp, chr(cp)) for cp in range(0x2100)]


def _fold_slow(text: str) -> str:
    """Fold characters outside the precomputed table (decomposed or non-Latin text)."""
    # Repeat until stable: NFC can recompose a letter whose casefold brings a new mark back
    # (Greek iota subscript). Property tests over all of Unicode settle within 3 rounds.
    for _ in range(3):
        decomposed = unicodedata.normalize("NFD", text.casefold())
        kept = "".join(c for c in decomposed if unicodedata.category(c)[0] != "M")
        # NFC recomposes scripts whose letters decompose into non-mark parts (Hangul syllables).
        folded = unicodedata.normalize("NFC", kept).translate(_FOLD_TABLE)
        if folded == text:
            break
        text = folded
    return folded


def fold(text: str) -> str:
    """Return the search key of ``text``: no diacritics, ``đ`` → ``d``, case-folded.

    Tone-placement variants fold equal (``Hoà``/``Hòa``, ``Thuỷ``/``Thủy``, ``Quý``/``Qúy``), as
    do upper and lower case. Used for the full-text index, so it is a couple of ``str.translate``
    calls for Vietnamese text.

    Args:
        text: Any string.

    Returns:
        A lowercase string with single spaces and no combining marks (ASCII for Vietnamese).
    """
    folded = normalize(text).translate(_FOLD_LIST)
    if not folded.isascii():
        # A mark removed from between two spaces would leave a double space behind.
        return " ".join(_fold_slow(folded).split())
    if "  " in folded or folded[:1] == " " or folded[-1:] == " ":
        folded = " ".join(folded.split())
    return folded


# --- numbers and dates in words ------------------------------------------------------------------

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_ZERO_TENS = ("linh", "lẻ")


def _check_zero_tens(zero_tens: str) -> None:
    if zero_tens not in _ZERO_TENS:
        raise ValueError(f"zero_tens must be 'linh' or 'lẻ', not {zero_tens!r}")


def _below_hundred(n: int) -> list[str]:
    """Words of 1..99 (empty for 0) without any 'linh': 'mười một', 'hai mươi mốt', 'mười lăm'."""
    tens, unit = divmod(n, 10)
    words: list[str] = []
    if tens == 1:
        words.append("mười")
    elif tens > 1:
        words += [_DIGITS[tens], "mươi"]
    if unit == 0:
        return words
    if unit == 1 and tens >= 2:
        words.append("mốt")  # 21 hai mươi mốt, but 11 is mười một
    elif unit == 4 and tens >= 2:
        words.append("tư")  # 24 hai mươi tư, but 14 is mười bốn
    elif unit == 5 and tens >= 1:
        words.append("lăm")  # 15 mười lăm, 25 hai mươi lăm
    else:
        words.append(_DIGITS[unit])
    return words


def number_in_words(n: int, *, zero_tens: str = "linh") -> str:
    """Write ``n`` (0..9999) in Vietnamese words in the administrative style.

    Examples: 105 → "một trăm linh năm", 2005 → "hai nghìn không trăm linh năm" ("lẻ năm" with
    ``zero_tens="lẻ"``), 2025 → "hai nghìn không trăm hai mươi lăm", 1990 → "một nghìn chín trăm
    chín mươi", 11 → "mười một", 21 → "hai mươi mốt", 24 → "hai mươi tư".

    Args:
        n: The number, 0 to 9999.
        zero_tens: Word for an empty tens place before a unit: "linh" (default) or "lẻ".

    Returns:
        The words, lowercase, separated by single spaces.

    Raises:
        ValueError: ``n`` is out of range or ``zero_tens`` is not "linh"/"lẻ".
    """
    _check_zero_tens(zero_tens)
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 9999:
        raise ValueError(f"number_in_words takes an integer from 0 to 9999, not {n!r}")
    if n == 0:
        return _DIGITS[0]
    thousands, rest = divmod(n, 1000)
    hundreds, below = divmod(rest, 100)
    words: list[str] = []
    if thousands:
        words += [_DIGITS[thousands], "nghìn"]
        if rest == 0:
            return " ".join(words)
    if thousands or hundreds:
        # After a thousand the hundreds place is always read, even when zero ("không trăm").
        words += [_DIGITS[hundreds], "trăm"]
        if 0 < below < 10:
            words += [zero_tens, _DIGITS[below]]
            return " ".join(words)
    words += _below_hundred(below)
    return " ".join(words)


def _day_words(day: int, *, mung: bool) -> str:
    words = number_in_words(day)
    return f"mùng {words}" if mung and day <= 10 else words


def _month_words(month: int) -> str:
    # Administrative papers write "tháng tư" for April and "tháng một" (never the lunar "giêng").
    return "tư" if month == 4 else number_in_words(month)


def date_in_words(d: datetime.date, *, mung: bool = False, zero_tens: str = "linh") -> str:
    """Write a date in words as civil-status papers do.

    15/03/2025 → "Ngày mười lăm tháng ba năm hai nghìn không trăm hai mươi lăm".

    Args:
        d: The date (a ``datetime`` is accepted and its time ignored).
        mung: Write "mùng" before days 1 to 10 ("Ngày mùng một tháng …"), as some localities do.
        zero_tens: "linh" (default) or "lẻ" for an empty tens place (2005 → "… linh năm").

    Returns:
        The sentence, starting with "Ngày".

    Raises:
        ValueError: ``zero_tens`` is not "linh"/"lẻ".
        TypeError: ``d`` is not a date.
    """
    if not isinstance(d, datetime.date):
        raise TypeError(f"date_in_words takes a datetime.date, not {type(d).__name__}")
    _check_zero_tens(zero_tens)
    return (
        f"Ngày {_day_words(d.day, mung=mung)} tháng {_month_words(d.month)}"
        f" năm {number_in_words(d.year, zero_tens=zero_tens)}"
    )


# --- collation -----------------------------------------------------------------------------------

# Primary order of letters: Vietnamese alphabet with f, j, w, z (foreign names) in Latin order.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_WEIGHT = {c: 1000 + i for i, c in enumerate(_ALPHABET)}

#: Secondary (tone) order used by :func:`collation_key`: no tone (ngang) < huyền < sắc < hỏi <
#: ngã < nặng, the order of the Vietnamese dictionary tradition (Từ điển tiếng Việt, Hoàng Phê).
TONE_ORDER = ("ngang", "huyền", "sắc", "hỏi", "ngã", "nặng")
_TONE_MARKS = {"\u0300": 1, "\u0301": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}

_SPACE_WEIGHT = 1
_DIGIT_WEIGHT = 100  # digits sort before letters, in numeric order of the single digit


@lru_cache(maxsize=4096)
def _char_weights(ch: str) -> tuple[int | None, int]:
    """Return (primary weight or None when ignorable, tone) of one lowercase NFC character."""
    if ch in _LETTER_WEIGHT:
        return _LETTER_WEIGHT[ch], 0
    if ch.isspace():
        return _SPACE_WEIGHT, 0
    if "0" <= ch <= "9":
        return _DIGIT_WEIGHT + ord(ch) - 48, 0
    parts = unicodedata.normalize("NFD", ch)
    tone = 0
    kept = []
    for part in parts:
        if part in _TONE_MARKS:
            tone = _TONE_MARKS[part]
        elif not unicodedata.combining(part) or part in "\u0306\u0302\u031b":
            # Breve, circumflex and horn make distinct letters (ă, â, ê, ô, ơ, ư): keep them.
            kept.append(part)
    base = unicodedata.normalize("NFC", "".join(kept))
    if base in _LETTER_WEIGHT:
        return _LETTER_WEIGHT[base], tone
    if base[:1] in _LETTER_WEIGHT:  # a foreign letter such as ç or ñ sorts with its base letter
        return _LETTER_WEIGHT[base[0]], tone
    if not base or not base[0].isalnum():
        return None, tone  # punctuation (the ' in H'Mông, hyphens) is ignored, as in UCA
    return 10_000 + ord(base[0]), tone


def collation_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Return a key that sorts strings in Vietnamese order, case-insensitively.

    Primary level: letters in the order a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y
    (not code-point order), digits before letters, punctuation ignored. Secondary level: the tone
    of each word in :data:`TONE_ORDER`, so ``Ma < Mà < Má < Mả < Mã < Mạ`` and tone-placement
    variants (``Hoà``/``Hòa``) are equal.

    Args:
        text: Any string.

    Returns:
        ``(primary weights, tone per word)``; compare keys with ``<``.
    """
    primary: list[int] = []
    tones: list[int] = []
    for word in normalize(text).casefold().split(" "):
        if primary:
            primary.append(_SPACE_WEIGHT)
        word_tone = 0
        for ch in word:
            weight, tone = _char_weights(ch)
            if weight is not None:
                primary.append(weight)
            if tone and not word_tone:
                word_tone = tone
        tones.append(word_tone)
    return tuple(primary), tuple(tones)


def name_sort_key(ho: str, chu_dem: str, ten: str) -> tuple[object, ...]:
    """Return a key that sorts people by tên, then chữ đệm, then họ, in Vietnamese order.

    Args:
        ho: Family name (họ), e.g. "Giàng".
        chu_dem: Middle name (chữ đệm), e.g. "A" or "Thị"; may be empty.
        ten: Given name (tên), e.g. "Xà".

    Returns:
        A tuple to use as ``key=`` when sorting lists of people.
    """
    return collation_key(ten), collation_key(chu_dem), collation_key(ho)
