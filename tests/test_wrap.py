"""maps.diagram._wrap: lines by display width that break Japanese between characters,
follow kinsoku and never split a word that fits on a line; _clean keeps emoji whole."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from maps.diagram import NO_LINE_END, NO_LINE_START, _clean, _clusters, _display_width, _html, _wrap

KANJI_KANA = "製品導入検討顧客声計算見積契約あいうえおかきくけこアイウエオカキクケコ"
CLOSERS = "、。）」』】〉》！？ー・ぁぃぅぇぉっゃゅょァィゥェォッャュョ"
OPENERS = "（「『【〈《"
LATIN_WORD = re.compile(r"[A-Za-z0-9'.,-]+")


def spans(text: str, lines: list[str]) -> list[tuple[int, int]]:
    """Where each line sits in `text`, asserting that the lines are the text in order
    with nothing left out but white space at the breaks."""
    found, position = [], 0
    for line in lines:
        while position < len(text) and text[position].isspace() and not text.startswith(line, position):
            position += 1
        assert text.startswith(line, position), (text, lines)
        found.append((position, position + len(line)))
        position += len(line)
    assert not text[position:].strip(), (text, lines)
    return found


# -- examples ----------------------------------------------------------------------------


def test_english_wraps_between_words():
    assert _wrap("Quarterly executive business review", 24) == ["Quarterly executive", "business review"]


def test_hyphenated_words_stay_whole():
    assert _wrap("LinkedIn thought-leadership ads", 24) == ["LinkedIn", "thought-leadership ads"]


def test_japanese_breaks_between_characters_by_display_width():
    assert _wrap("顧客の声を聞いて製品を改善する", 10) == ["顧客の声を", "聞いて製品", "を改善する"]
    assert all(_display_width(line) <= 10 for line in _wrap("顧客の声を聞いて製品を改善する", 10))


def test_mixed_text_breaks_around_english_words_not_inside_them():
    assert _wrap("ROIシミュレーター for CFOs", 10) == ["ROIシミュ", "レーター", "for CFOs"]
    assert _wrap("ROIシミュレーター for CFOs", 24) == ["ROIシミュレーター for", "CFOs"]
    assert _wrap("CFO向けのROIシミュレーター", 12) == ["CFO向けのROI", "シミュレー", "ター"]


def test_no_line_starts_with_closing_punctuation_or_small_kana():
    # "お。" and "おっ" move down together rather than start a line with "。" or "っ".
    assert _wrap("あいうえお。", 10) == ["あいうえ", "お。"]
    assert _wrap("あいうえおっかきくけこ。さしすせそ", 10) == ["あいうえ", "おっかきく", "けこ。さし", "すせそ"]
    assert _wrap("導入を検討。次はデモ", 10) == ["導入を検", "討。次はデ", "モ"]


def test_no_line_ends_with_an_opening_bracket():
    lines = _wrap("あいうえ「かきくけこ」", 10)
    assert lines == ["あいうえ", "「かきくけ", "こ」"]


def test_a_word_wider_than_the_line_is_cut_and_only_that_word():
    assert _wrap("Supercalifragilisticexpialidocious word", 10) == [
        "Supercalif",
        "ragilistic",
        "expialidoc",
        "ious word",
    ]


def test_empty_text_is_one_empty_line():
    assert _wrap("", 10) == [""]


def test_emoji_and_zwj_sequences_stay_whole_and_count_two():
    text = "👩‍💻 エンジニア 🇯🇵 チーム 👍🏽"
    lines = _wrap(text, 8)
    assert "👩‍💻" in lines[0] and any("🇯🇵" in line for line in lines) and any("👍🏽" in line for line in lines)
    assert _display_width("👩‍💻") == _display_width("🇯🇵") == _display_width("👍🏽") == _display_width("❤️") == 2


def test_clean_keeps_emoji_joiners_and_variation_selectors_but_drops_controls():
    assert _clean("👩\u200d💻 ❤\ufe0f") == "👩\u200d💻 ❤\ufe0f"
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert _clean(scotland) == scotland
    assert _clean("a\x07b\u202ec\ufeffd\nline\U000e0067") == "a b c d line"


def test_html_still_cuts_long_text_and_keeps_emoji_whole():
    assert _html("🚀" * 80, 24, 60, 3).count("…") == 1
    assert "\u200d" in _html("Launch 👩‍💻 team")


# -- properties ---------------------------------------------------------------------------

latin = st.from_regex(r"[A-Za-z][a-z]{0,14}", fullmatch=True)
japanese = st.text(KANJI_KANA + CLOSERS + OPENERS, min_size=1, max_size=12)
mixed = st.lists(
    st.one_of(latin, japanese, st.sampled_from(["🚀", "👩‍💻", "🇯🇵", "ROI", "CFO", "、", "。"])), max_size=20
)
separators = st.sampled_from(["", " ", " ", " "])


@st.composite
def mixed_text(draw) -> str:
    pieces = draw(mixed)
    return "".join(piece + draw(separators) for piece in pieces).strip()


@given(mixed_text(), st.integers(min_value=2, max_value=40))
@example("ROIシミュレーター for CFOs", 10)
def test_lines_are_the_text_minus_the_spaces_at_breaks(text, width):
    lines = _wrap(text, width)
    spans(text, lines)
    assert all(line == line.strip() for line in lines)


@given(mixed_text(), st.integers(min_value=2, max_value=40))
def test_no_line_is_wider_than_the_width(text, width):
    assert all(_display_width(line) <= width for line in _wrap(text, width))


@given(mixed_text(), st.integers(min_value=2, max_value=40))
@example("an extraordinarily long word", 12)
def test_no_word_that_fits_on_a_line_is_split(text, width):
    lines = _wrap(text, width)
    ends = {end for _start, end in spans(text, lines)[:-1]}
    for word in LATIN_WORD.finditer(text):
        if _display_width(word.group()) <= width:
            assert not any(word.start() < end < word.end() for end in ends), (word.group(), lines)


@st.composite
def japanese_syllables(draw) -> str:
    """Japanese whose kinsoku groups ("「字」", "字っ") are at most 6 columns wide."""
    count = draw(st.integers(min_value=1, max_value=30))
    syllables = []
    for _ in range(count):
        opener = draw(st.sampled_from(["", "", ""] + list(OPENERS)))
        closer = draw(st.sampled_from(["", "", ""] + list(CLOSERS)))
        syllables.append(opener + draw(st.sampled_from(KANJI_KANA)) + closer)
    return "".join(syllables)


@given(japanese_syllables(), st.integers(min_value=6, max_value=30))
@example("あいうえお。かきくけこ「さしすせそ」", 10)
def test_kinsoku_holds_wherever_the_lines_break(text, width):
    lines = _wrap(text, width)
    assert "".join(lines) == text
    assert all(line[0] not in NO_LINE_START for line in lines[1:])
    assert all(line[-1] not in NO_LINE_END for line in lines[:-1])
    assert all(_display_width(line) <= width for line in lines)


@given(st.text(max_size=80), st.integers(min_value=1, max_value=30))
def test_any_text_wraps_back_into_itself(text, width):
    lines = _wrap(text, width)
    spans(text, lines)
    assert all(_display_width(line) <= width or len(_clusters(line)) == 1 for line in lines)


@given(st.text(max_size=200))
def test_html_of_any_text_is_escaped_one_picture_line_per_line(text):
    label = _html(text)
    assert "<" not in label.replace("<BR/>", "") and "\n" not in label
    assert label.count("<BR/>") <= 2


@pytest.mark.parametrize("width", [1, 2, 3])
def test_tiny_widths_still_give_every_character(width):
    text = "あ「い」う ROI"
    lines = _wrap(text, width)
    spans(text, lines)
