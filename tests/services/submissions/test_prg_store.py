"""Forms sent back for corrections are kept briefly, by the digest of a random key, for one counter, once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import Counter, ReturnedForm
from survey.services.submissions.store import (
    RETURNED_FORM_MAX_FIELDS,
    RETURNED_FORM_MAX_VALUE,
    RETURNED_FORM_SECONDS,
    keep_returned_form,
    returned_form,
)

pytestmark = pytest.mark.usefixtures("demo")
T0 = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def _counters() -> list[Counter]:
    return list(db.session.scalars(select(Counter).order_by(Counter.id)))


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ReturnedForm)) or 0


def test_a_kept_form_is_read_once_by_its_own_counter() -> None:
    counter, other = _counters()[:2]
    fields = [("q_q01", "4"), ("comment", "Nhanh gọn, chu đáo"), ("gender", "female")]
    key = keep_returned_form(counter.id, 422, fields, now=T0)
    assert len(key) >= 22 and _rows() == 1
    assert returned_form(other.id, key, now=T0) is None  # another counter's page cannot open it
    assert returned_form(counter.id, key, consume=False, now=T0) == (422, fields)  # a look leaves it
    assert returned_form(counter.id, key, now=T0) == (422, fields)
    assert returned_form(counter.id, key, now=T0) is None and _rows() == 0


def test_a_kept_form_expires() -> None:
    counter = _counters()[0]
    key = keep_returned_form(counter.id, 409, [("dossier_code", "H43-1")], now=T0)
    late = T0 + dt.timedelta(seconds=RETURNED_FORM_SECONDS)
    assert returned_form(counter.id, key, consume=False, now=late) is None
    assert returned_form(counter.id, key, now=late) is None
    assert _rows() == 0  # an expired row met on the way is deleted too


def test_keeping_a_form_purges_the_expired_ones() -> None:
    counter = _counters()[0]
    for _ in range(3):
        keep_returned_form(counter.id, 422, [("q_q01", "1")], now=T0)
    keep_returned_form(counter.id, 422, [("q_q01", "1")], now=T0 + dt.timedelta(seconds=RETURNED_FORM_SECONDS + 1))
    assert _rows() == 1


def test_a_kept_form_is_bounded_in_fields_and_length() -> None:
    counter = _counters()[0]
    fields = [(f"f{i}", "x" * 10_000) for i in range(RETURNED_FORM_MAX_FIELDS + 50)]
    key = keep_returned_form(counter.id, 422, fields, now=T0)
    kept = returned_form(counter.id, key, now=T0)
    assert kept is not None
    assert len(kept[1]) == RETURNED_FORM_MAX_FIELDS and {len(v) for _, v in kept[1]} == {RETURNED_FORM_MAX_VALUE}


@pytest.mark.parametrize("key", ["", "a", "a" * 65, "ab cd" * 5, "é" * 24, "../" * 8])
def test_a_malformed_key_is_nothing(key: str) -> None:
    assert returned_form(_counters()[0].id, key) is None


def test_showing_a_kept_form_also_purges_the_expired_ones() -> None:
    counter = _counters()[0]
    keep_returned_form(counter.id, 422, [("q_q01", "1")], now=T0)
    later = T0 + dt.timedelta(seconds=RETURNED_FORM_SECONDS + 1)
    key = keep_returned_form(counter.id, 422, [("q_q01", "2")], now=later - dt.timedelta(seconds=2))
    assert _rows() == 2
    assert returned_form(counter.id, key, now=later) == (422, [("q_q01", "2")])
    assert _rows() == 0
