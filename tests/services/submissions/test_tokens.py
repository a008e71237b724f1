"""Signed counter tokens: a genuinely signed token whose ids no column can hold is unknown (404), never a 500."""

from __future__ import annotations

import pytest
from flask import Flask

from survey.bounded_int import MAX_INTEGER
from survey.services.submissions.tokens import read_counter_token, sign_counter

SECRET = "a test secret key that is long enough to sign with"


@pytest.mark.parametrize(
    ("counter_id", "key_version"), [(2**63, 1), (2**31, 1), (1, 2**31), (1, 2**63), (10**30, 1), (0, 1), (1, -1)]
)
def test_ids_out_of_range_are_no_token(counter_id: int, key_version: int) -> None:
    assert read_counter_token(SECRET, sign_counter(SECRET, counter_id, key_version)) is None


def test_ids_in_range_are_read() -> None:
    token = read_counter_token(SECRET, sign_counter(SECRET, MAX_INTEGER, MAX_INTEGER))
    assert token is not None and (token.counter_id, token.key_version) == (MAX_INTEGER, MAX_INTEGER)


@pytest.mark.parametrize("counter_id", [2**63, 2**31, 2**63 - 1])
@pytest.mark.parametrize("suffix", ["", "/thanks"])
def test_survey_and_thanks_pages_of_an_out_of_range_counter_are_404(app: Flask, counter_id: int, suffix: str) -> None:
    token = sign_counter(app.config["SECRET_KEY"], counter_id, 1)
    assert app.test_client().get(f"/s/{token}{suffix}").status_code == 404
