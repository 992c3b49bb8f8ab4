"""SMS segment calculator: GSM 03.38 / UCS-2 rules, checked against the shared test vectors."""

from __future__ import annotations

import io
import json

import pytest

from twoway.core.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    LOOKALIKE_REPLACEMENTS,
    graphemes,
    replace_lookalikes,
    segment_info,
)
from twoway.core.segments_cli import run

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧: 3 emoji + 2 ZWJ = 8 units
FLAG_US = "\U0001f1fa\U0001f1f8"  # 🇺🇸: 2 regional indicators = 4 units
GRIN = "\U0001f600"  # 😀


# --- the "SMS segments" table of the shared vectors README, every row ---------------------

VECTORS = [
    ("A" * 160, "GSM-7", 1),
    ("A" * 161, "GSM-7", 2),
    ("A" * 306, "GSM-7", 2),
    ("A" * 307, "GSM-7", 3),
    ("A" * 459, "GSM-7", 3),
    ("A" * 460, "GSM-7", 4),
    ("€" * 80, "GSM-7", 1),
    ("€" * 81, "GSM-7", 2),
    ("[" + "A" * 158, "GSM-7", 1),
    ("[" + "A" * 159, "GSM-7", 2),
    ("A" * 152 + "{" + "A" * 10, "GSM-7", 2),
    ("é" * 160, "GSM-7", 1),
    ("á" * 70, "UCS-2", 1),
    ("á" * 71, "UCS-2", 2),
    ("á" * 134, "UCS-2", 2),
    ("á" * 135, "UCS-2", 3),
    (GRIN + "A" * 68, "UCS-2", 1),
    (GRIN + "A" * 69, "UCS-2", 2),
    (GRIN * 35, "UCS-2", 1),
    (GRIN * 36, "UCS-2", 2),
]


@pytest.mark.parametrize(("text", "encoding", "segments"), VECTORS)
def test_readme_vectors(text: str, encoding: str, segments: int) -> None:
    info = segment_info(text)
    assert (info.encoding, info.segments) == (encoding, segments)


@pytest.mark.parametrize(
    "text", ["ç", "ça va", "A" * 100 + "ç" + "A" * 100, "garçon", "A" * 200 + "ç"]
)
def test_c_cedilla_anywhere_forces_ucs2(text: str) -> None:
    info = segment_info(text)
    assert info.encoding == "UCS-2"
    assert info.non_gsm == ["ç"]


def test_capital_c_cedilla_is_gsm() -> None:
    assert segment_info("Ça").encoding == "GSM-7"


# --- character tables ----------------------------------------------------------------------


def test_gsm_tables_have_spec_sizes() -> None:
    # 128 positions minus the ESC code; the extension adds 9 printable chars and form feed.
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("ch", sorted(GSM7_EXTENSION))
def test_each_escape_costs_two_septets(ch: str) -> None:
    info = segment_info(ch)
    assert (info.encoding, info.characters, info.units) == ("GSM-7", 1, 2)


@pytest.mark.parametrize("ch", ["\t", "`", "\x1b", "ç", "µ", "\u00a0", "á"])
def test_characters_outside_gsm(ch: str) -> None:
    assert segment_info(ch).encoding == "UCS-2"


# --- units, characters, non_gsm ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "characters", "units"),
    [
        ("", "GSM-7", 0, 0),
        ("hello", "GSM-7", 5, 5),
        ("[x]", "GSM-7", 3, 5),
        ("5€ \f", "GSM-7", 4, 6),
        ("a\nb\r\n", "GSM-7", 5, 5),
        (GRIN, "UCS-2", 1, 2),
        ("á" + GRIN, "UCS-2", 2, 3),
        (FAMILY, "UCS-2", 5, 8),
        (FLAG_US, "UCS-2", 2, 4),
        # In UCS-2 escapes lose their meaning: every BMP char is one unit.
        ("€[ç", "UCS-2", 3, 3),
    ],
)
def test_units_and_characters(text: str, encoding: str, characters: int, units: int) -> None:
    info = segment_info(text)
    assert (info.encoding, info.characters, info.units) == (encoding, characters, units)


def test_empty_text_has_no_segments() -> None:
    info = segment_info("")
    assert (info.segments, info.per_segment, info.remaining) == (0, 160, 160)
    assert info.non_gsm == []


def test_non_gsm_distinct_in_order_of_first_appearance() -> None:
    info = segment_info(f"ça {GRIN} — déjà ça {GRIN} “x” —")
    assert info.non_gsm == ["ç", GRIN, "—", "“", "”"]


def test_non_gsm_empty_for_gsm_text() -> None:
    assert segment_info("Prices: 5€ {today} [only]").non_gsm == []


@pytest.mark.parametrize(
    ("text", "per_segment", "remaining"),
    [
        ("hello", 160, 155),
        ("A" * 160, 160, 0),
        ("A" * 161, 153, 145),
        ("á" * 10, 70, 60),
        ("á" * 71, 67, 63),
    ],
)
def test_per_segment_and_remaining(text: str, per_segment: int, remaining: int) -> None:
    info = segment_info(text)
    assert (info.per_segment, info.remaining) == (per_segment, remaining)


def test_dict_shapes() -> None:
    info = segment_info("hi ç")
    assert info.as_dict() == {
        "encoding": "UCS-2",
        "segments": 1,
        "characters": 4,
        "units": 4,
        "non_gsm": ["ç"],
    }
    assert info.as_composer_dict() == {**info.as_dict(), "per_segment": 70, "remaining": 66}


# --- boundaries: escape pairs and graphemes are never split -------------------------------


def test_escape_pair_moves_to_next_part() -> None:
    info = segment_info("A" * 152 + "{" + "A" * 10)
    # 152 septets in part 1 (one wasted), then "{" (2) + 10.
    assert (info.units, info.segments, info.remaining) == (164, 2, 153 - 12)


def test_escape_pair_that_fits_exactly_stays() -> None:
    info = segment_info("A" * 151 + "{" + "A" * 153)
    assert (info.units, info.segments, info.remaining) == (306, 2, 0)


def test_moving_an_escape_pair_can_add_a_part() -> None:
    # 306 septets would fit two parts if the pair could be split; it can't, so three.
    info = segment_info("A" * 152 + "€" + "A" * 152)
    assert (info.units, info.segments) == (306, 3)


def test_surrogate_pair_moves_to_next_part() -> None:
    # 134 units would fill two parts exactly if the emoji could be cut in half.
    info = segment_info("A" * 66 + GRIN + "A" * 66)
    assert (info.units, info.segments) == (134, 3)


def test_zwj_family_not_split() -> None:
    text = "A" * 64 + FAMILY + "A" * 60
    info = segment_info(text)
    # 132 units fit in two parts only by cutting the family; kept whole it needs three.
    assert (info.units, info.segments) == (132, 3)
    assert FAMILY in graphemes(text)


def test_flag_not_split() -> None:
    text = "A" * 65 + FLAG_US + "A" * 64
    info = segment_info(text)
    assert (info.units, info.segments) == (133, 3)
    assert FLAG_US in graphemes(text)


def test_combining_mark_stays_with_its_base() -> None:
    info = segment_info("A" * 66 + "e\u0301" + "A" * 66)
    assert (info.encoding, info.units, info.segments) == ("UCS-2", 134, 3)


def test_grapheme_that_fits_stays_in_part() -> None:
    info = segment_info("A" * 59 + FAMILY + "A" * 67)
    assert (info.units, info.segments, info.remaining) == (134, 2, 0)


def test_oversized_grapheme_falls_back_to_code_points() -> None:
    # A base with 100 combining marks cannot fit any part; it must still be sendable.
    info = segment_info("a" + "\u0301" * 100)
    assert (info.units, info.segments) == (101, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FAMILY + FLAG_US, [FAMILY, FLAG_US]),
        (FLAG_US + "\U0001f1eb\U0001f1f7", [FLAG_US, "\U0001f1eb\U0001f1f7"]),
        ("\U0001f1fa\U0001f1f8\U0001f1eb", [FLAG_US, "\U0001f1eb"]),
        ("\U0001f44d\U0001f3fd!", ["\U0001f44d\U0001f3fd", "!"]),  # skin tone
        ("\u2764\ufe0fx", ["\u2764\ufe0f", "x"]),  # emoji presentation selector
        ("1\ufe0f\u20e3#", ["1\ufe0f\u20e3", "#"]),  # keycap
        ("e\u0301\u0302a", ["e\u0301\u0302", "a"]),  # combining marks
        (
            "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f?",
            ["\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "?"],
        ),  # tag sequence (Scotland)
        (
            "\U0001f469\u200d\u2764\ufe0f\u200d\U0001f468",
            ["\U0001f469\u200d\u2764\ufe0f\u200d\U0001f468"],
        ),  # ZWJ through a BMP emoji with VS16
        ("a\r\nb", ["a", "\r\n", "b"]),
        ("\n\u0301", ["\n", "\u0301"]),  # no extending a control
        ("\u1100\u1161\u11a8\ud55c", ["\u1100\u1161\u11a8", "\ud55c"]),  # Hangul jamo
        ("abc", ["a", "b", "c"]),
    ],
)
def test_graphemes(text: str, expected: list[str]) -> None:
    assert graphemes(text) == expected
    assert "".join(graphemes(text)) == text


# --- look-alikes -----------------------------------------------------------------------------


def test_lookalike_replacement_turns_ucs2_into_gsm7() -> None:
    text = "\u201cHello\u201d \u2013 it\u2019s \u2018fine\u2019\u2026 see you\u00a0soon \u2014 ok"
    assert segment_info(text).encoding == "UCS-2"
    fixed = replace_lookalikes(text)
    assert fixed == "\"Hello\" - it's 'fine'... see you soon - ok"
    assert segment_info(fixed).encoding == "GSM-7"


def test_lookalike_replacement_leaves_other_text_alone() -> None:
    assert replace_lookalikes("ça 😀 {ok}") == "ça 😀 {ok}"


def test_lookalike_table_maps_non_gsm_to_gsm() -> None:
    for source, target in LOOKALIKE_REPLACEMENTS.items():
        assert segment_info(source).encoding == "UCS-2", source
        assert segment_info(target).encoding == "GSM-7", source


# --- CLI -------------------------------------------------------------------------------------


def _run(argv: list[str], stdin_text: str = "") -> tuple[int, list[str]]:
    out = io.StringIO()
    code = run(argv, io.StringIO(stdin_text), out)
    return code, out.getvalue().splitlines()


def test_cli_argument() -> None:
    code, lines = _run(["hello"])
    assert code == 0
    assert lines == [
        '{"encoding": "GSM-7", "segments": 1, "characters": 5, "units": 5, "non_gsm": []}'
    ]


def test_cli_argument_keeps_unicode_readable() -> None:
    code, lines = _run(["ça 😀"])
    assert code == 0
    assert lines == [
        '{"encoding": "UCS-2", "segments": 1, "characters": 4, "units": 5, "non_gsm": ["ç", "😀"]}'
    ]


def test_cli_stdin_lines() -> None:
    stdin = '"hello"\n\n   \n"A\\nB"\n' + json.dumps("A" * 161) + "\n"
    code, lines = _run([], stdin)
    assert code == 0
    results = [json.loads(line) for line in lines]
    assert [r["units"] for r in results] == [5, 3, 161]
    assert [r["segments"] for r in results] == [1, 1, 2]


def test_cli_stdin_bad_lines_report_and_keep_going() -> None:
    stdin = '"ok"\nnot json\n\n42\n"ç"\n'
    code, lines = _run([], stdin)
    assert code == 1
    results = [json.loads(line) for line in lines]
    assert len(results) == 4
    assert results[0]["encoding"] == "GSM-7"
    assert results[1]["error"].startswith("line 2: ")
    assert results[2]["error"].startswith("line 4: ")
    assert set(results[1]) == set(results[2]) == {"error"}
    assert results[3] == {
        "encoding": "UCS-2",
        "segments": 1,
        "characters": 1,
        "units": 1,
        "non_gsm": ["ç"],
    }


def test_cli_empty_stdin() -> None:
    assert _run([], "") == (0, [])
