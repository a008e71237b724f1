"""Hostile input: SQL injection in every query-string filter, QR token forgery and replay, a fuzzed survey form."""

from __future__ import annotations

import string
import uuid

import pytest
from flask import Flask, g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from survey.db import db
from survey.models import Answer, Counter, Response, ResponseTally
from survey.services.submissions.links import counter_survey_path
from survey.services.submissions.tokens import sign_counter
from tests.conftest import hidden_fields
from tests.security.conftest import placeholder_url, rules

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE responses; --",
    "1) UNION SELECT password_hash FROM users --",
    "\x00",
    "9" * 40,
]
#: Every filter name the pages read, plus a few they might read one day.
FILTERS = [
    "period", "month", "quarter", "year", "date_from", "date_to", "from", "to", "instrument", "agency",
    "counter", "field", "status", "q", "page", "sort", "order", "weighted", "flagged", "compare", "handled",
    "kind", "action", "actor", "format", "code", "lang",
]  # fmt: skip


def _counts() -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model)) or 0 for model in (Response, Answer, ResponseTally)
    )


@pytest.mark.slow
def test_sql_injection_in_every_filter_of_every_get_page_is_never_a_500(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("system_admin")
    before = _counts()
    known = {"code": "ninh-binh"}
    pages = [r for r in rules(staff_app, "GET") if r.endpoint not in ("auth.sign_out", "status.healthz")]
    for rule in pages:
        url = placeholder_url(staff_app, rule, known)
        for payload in INJECTIONS:
            response = client.get(url, query_string=dict.fromkeys(FILTERS, payload))
            assert response.status_code < 500, f"{rule.rule} with {payload!r}: {response.status_code}"
            response.close()
    assert _counts() == before


@pytest.mark.usefixtures("demo")
def test_forged_tampered_and_replayed_qr_tokens(app: Flask, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    client = app.test_client()
    genuine = counter_survey_path(app.config, counter)
    forged = "/s/" + sign_counter("an attacker's guess at the secret key, long enough", counter.id, counter.key_version)
    tampered = genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB")
    other_counter = "/s/" + sign_counter(app.config["SECRET_KEY"], 10_000_000, 1)
    for path in (forged, tampered, other_counter, "/s/" + "A" * 500, "/s/../../etc/passwd"):
        assert client.get(path).status_code in (404, 410), path
        assert client.post(path, data={}).status_code in (400, 404, 410), path
    # Replay: the same submission posted again (a resent form, a copied request) is stored once.
    token = hidden_fields(client.get(genuine).get_data(as_text=True))["csrf_token"]
    data = survey_answers(counter.instrument, csrf_token=token)
    before = _counts()
    assert client.post(genuine, data=data).status_code == 303
    assert client.post(genuine, data=data).status_code == 303
    assert _counts()[0] == before[0] + 1
    # A token of a revoked poster (key version bumped) no longer takes answers.
    with db.write() as session:
        session.get(Counter, counter.id).key_version += 1
    g.pop("csrf_token", None)
    assert client.post(genuine, data={**data, "submission_id": str(uuid.uuid4())}).status_code == 410


_field_names = st.one_of(
    st.sampled_from(["submission_id", "respondent_type", "adult", "comment", "dossier_code", "field", "gender",
                     "age_band", "education", "occupation", "website", "q_q01", "q_q05", "q_b01", "csrf_token"]),
    st.text(string.ascii_letters + "_", min_size=1, max_size=12),
)  # fmt: skip
_values = st.one_of(
    st.sampled_from(["", "1", "4", "5", "6", "0", "-1", "na", "y", "person", "organisation", "'", "<script>"]),
    st.text(max_size=300),
)


@pytest.mark.slow
@pytest.mark.usefixtures("demo")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(_field_names, _values, max_size=12), drop=st.sets(st.integers(0, 30), max_size=6))
def test_fuzzed_survey_posts_never_500_and_never_store_half_a_response(app: Flask, survey_answers, extra, drop) -> None:  # type: ignore[no-untyped-def]
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    client = app.test_client()
    path = counter_survey_path(app.config, counter)
    g.pop("csrf_token", None)
    token = hidden_fields(client.get(path).get_data(as_text=True))["csrf_token"]
    data = survey_answers(counter.instrument, csrf_token=token)
    keys = sorted(data)
    for index in drop:
        if index < len(keys) and keys[index] != "csrf_token":
            data.pop(keys[index], None)
    data.update({k: v for k, v in extra.items() if k != "csrf_token"})
    response = client.post(path, data=data)
    assert response.status_code in (303, 400, 409, 422), response.status_code
    # Whatever happened, every stored response is whole: all its answers, counted once in the tallies.
    items = len(counter.instrument.items)
    for response_row in db.session.scalars(select(Response).where(Response.counter_id == counter.id)):
        answered = db.session.scalar(select(func.count()).where(Answer.response_id == response_row.id))
        assert answered <= items
    # A form with errors goes back to the citizen by POST/redirect/GET (303 to the form, ?f=...): nothing stored.
    accepted = response.status_code == 303 and "/thanks" in response.headers.get("Location", "")
    if response.status_code == 303 and not accepted:
        try:
            returned = uuid.UUID(str(data.get("submission_id")))
        except ValueError:
            returned = None
        if returned is not None:
            assert db.session.scalar(select(Response).where(Response.submission_id == returned)) is None
    if accepted and data.get("website", "") == "":
        try:
            submission = uuid.UUID(str(data.get("submission_id")))
        except ValueError:
            return
        stored = db.session.scalar(select(Response).where(Response.submission_id == submission))
        assert stored is not None
        answered = db.session.scalar(select(func.count()).where(Answer.response_id == stored.id))
        required = sum(1 for item in counter.instrument.items if not item.optional)
        assert answered >= required


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    "path", ["/agency/so-tu-phap%00/", "/agency/?period=year%00", "/api/v1/agencies?page=1%00", "/s/abc%00def"]
)
def test_a_nul_byte_anywhere_in_the_request_is_a_400(client, path: str) -> None:  # type: ignore[no-untyped-def]
    reply = client.get(path)
    assert reply.status_code == 400
    if path.startswith("/api/"):
        assert reply.content_type == "application/problem+json"
