from __future__ import annotations

import pytest

from survey.services.submissions.scrub import clean_comment, scrub_personal_data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gọi 0912345678 nhé", "Gọi [***] nhé"),
        ("SĐT 0912.345.678", "SĐT [***]"),
        ("số +84 912 345 678", "số [***]"),
        ("CCCD 001099012345 của tôi", "CCCD [***] của tôi"),
        ("CMND 123456789", "CMND [***]"),
        ("mail lan.nguyen+sipas@example.com.vn giúp", "mail [***] giúp"),
        ("Chờ 45 phút, quầy số 3, năm 2026", "Chờ 45 phút, quầy số 3, năm 2026"),
    ],
    ids=["mobile", "dotted", "international", "cccd", "cmnd", "email", "ordinary-numbers"],
)
def test_scrub_personal_data(text: str, expected: str) -> None:
    assert scrub_personal_data(text) == expected


def test_clean_comment_normalises_and_drops_empty() -> None:
    assert clean_comment("  \r\n ") is None
    assert clean_comment(None) is None
    assert clean_comment("a\r\nb") == "a\nb"
