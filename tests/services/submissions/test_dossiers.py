"""Dossier codes: normalised, shape-checked, hashed with a key derived from SECRET_KEY."""

from __future__ import annotations

import pytest

from survey.services.submissions.dossiers import dossier_hash, is_valid, normalise


@pytest.mark.parametrize(
    ("raw", "normalised", "valid"),
    [
        ("000.00.17.H43-250701-0001", "000.00.17.H43-250701-0001", True),
        (" h43.22 - 250701-0001 ", "H43.22-250701-0001", True),
        ("ab", "AB", False),
        ("H43<script>", "H43<SCRIPT>", False),
        ("-H43-0001", "-H43-0001", False),
        ("Hồ-sơ-01", "HỒ-SƠ-01", False),
        ("", "", False),
    ],
    ids=["official", "blanks-and-case", "too-short", "markup", "leading-dash", "non-ascii", "empty"],
)
def test_normalise_and_shape(raw: str, normalised: str, valid: bool) -> None:
    assert normalise(raw) == normalised
    assert is_valid(normalise(raw)) is valid


def test_hash_is_keyed_stable_and_ignores_case_and_blanks() -> None:
    key = "k" * 40
    h = dossier_hash(key, "H43-250701-0001")
    assert len(h) == 64 and int(h, 16) >= 0
    assert dossier_hash(key, " h43-250701-0001") == h
    assert dossier_hash("z" * 40, "H43-250701-0001") != h
    assert "H43" not in h
