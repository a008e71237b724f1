"""The word lists behind name scrubbing: keys that match however a word is written, and lists that agree."""

from __future__ import annotations

from survey.services.submissions import name_lexicon as lexicon


def test_fold_drops_every_diacritic_one_character_for_one() -> None:
    text = "Đặng Thị Ánh Nguyệt, Huỳnh Ưng Ẩn, ỷ ợ ữ"
    assert lexicon.fold(text) == "dang thi anh nguyet, huynh ung an, y o u"
    assert len(lexicon.fold(text)) == len(text)


def test_key_reads_old_and_new_tone_placement_alike() -> None:
    assert lexicon.key("Hoà") == lexicon.key("hòa") == "hòa"
    assert lexicon.key("THUỶ") == lexicon.key("Thủy")
    assert lexicon.key("Khoẻ") == "khỏe"
    assert lexicon.key("Quý") == "quý"  # "qu" is the onset: the tone stays on y
    assert lexicon.key("Hoàng") == "hoàng"  # a closed syllable has one placement only


def test_no_stop_word_is_a_common_name_word() -> None:
    assert not lexicon.STOP & lexicon.NAME_WORDS_COMMON
    assert {"nguyễn", "văn", "thị", "lan", "tư", "bảo"} <= lexicon.NAME_WORDS_COMMON
    assert {"ubnd", "phường", "quầy"} <= lexicon.STOP
    # A rare given name that is also an office stays a stop word: "cán bộ Sở Tư pháp".
    assert "sở" in lexicon.GIVEN_RARE & lexicon.STOP
    assert "so" in lexicon.STOP_FOLDED and "phong" not in lexicon.STOP_FOLDED  # "phòng" folds to "Phong"


def test_the_stricter_lists_are_inside_the_general_ones() -> None:
    assert lexicon.SURNAMES_UNAMBIGUOUS <= lexicon.SURNAMES
    assert lexicon.SURNAMES_UNAMBIGUOUS_FOLDED <= lexicon.SURNAMES_FOLDED
    assert lexicon.HONORIFICS_FOLDED_STRONG <= lexicon.HONORIFICS_FOLDED
    assert all(len(pair) == 2 for pair in lexicon.STOP_PAIRS | lexicon.COMPOUNDS)  # read as pairs only
    assert all(len(place) >= 2 for place in lexicon.PLACE_NAMES)
