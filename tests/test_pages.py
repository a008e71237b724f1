"""Information pages: one h1, the reader's language, and the methodology's key statements."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize(
    ("lang", "h1", "phrases"),
    [
        ("vi", "Phương pháp tính chỉ số hài lòng", ["mẫu tự nguyện", "quầy trong một ngày", "Korn–Graubard"]),
        (
            "en",
            "How the satisfaction indices are calculated",
            ["opt-in sample", "one counter on one day", "do <strong>not</strong> cover self-selection bias"],
        ),
    ],
)
def test_methodology_page_states_the_design(client: FlaskClient, lang: str, h1: str, phrases: list[str]) -> None:
    response = client.get(f"/methodology?lang={lang}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in html
    assert html.count("<h1>") == 1 and f"<h1>{h1}</h1>" in html
    assert f"<title>{h1} – SIPAS</title>" in html
    for phrase in phrases:
        assert phrase in html


@pytest.mark.parametrize(("lang", "phrase"), [("vi", "tối đa 10 phút"), ("en", "at most 10 minutes")])
def test_privacy_page_addresses_citizens_one_way_and_states_how_long_a_returned_form_is_kept(
    client: FlaskClient, lang: str, phrase: str
) -> None:
    html = client.get(f"/privacy?lang={lang}").get_data(as_text=True)
    assert phrase in html  # the returned form keeps the unscrubbed comment that long (RETURNED_FORM_SECONDS)
    if lang == "vi":
        assert "bạn" not in html.lower() and "ông/bà" in html
