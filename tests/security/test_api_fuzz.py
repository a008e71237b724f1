"""Schemathesis against /api/v1/openapi.json: generated requests never give a 5xx and always answer as documented.

The schema is loaded from the app itself, and every generated case (valid and invalid query strings, path
values, headers and upload bodies) is sent through the WSGI app inside the test's rolled-back transaction.
Each answer must have a documented status, content type, headers and body schema; errors must be
``application/problem+json``. Run with an administrator's token, with a token whose user lacks the
capabilities (an agency viewer: 403 where documented), and with no token (401 everywhere but the document).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from survey.db import db
from survey.models import TransactionVolume

#: Generated cases per operation and generation mode: bounded so the whole file stays a few seconds long.
EXAMPLES = 12
CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]
PROBLEM = "application/problem+json"


def _volumes() -> list[tuple[Any, ...]]:
    """Every stored volume row (a refused import must leave them exactly as they were)."""
    columns = (TransactionVolume.agency_id, TransactionVolume.counter_id, TransactionVolume.field_id,
               TransactionVolume.month, TransactionVolume.transactions)  # fmt: skip
    return [tuple(row) for row in db.session.execute(select(*columns).order_by(*columns))]


def _operations(app: Flask) -> Iterator[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} >= {("GET", "/responses"), ("POST", "/volumes")}
    yield from operations


def _fuzz(app: Flask, token: str | None, expect: Callable[[Any, Any], None], examples: int = EXAMPLES) -> int:
    """Send generated cases of every operation, in both generation modes; returns how many were sent."""
    sent = [0]
    for operation in _operations(app):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _examples(app, operation.as_strategy(generation_mode=mode), token, expect, examples, sent)
    return sent[0]


def _examples(
    app: Flask, strategy: Any, token: str | None, expect: Callable[[Any, Any], None], examples: int, sent: list[int]
) -> None:
    client = app.test_client(use_cookies=False)
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    @settings(
        max_examples=examples, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        request = case.as_transport_kwargs(headers=headers)
        if not token:
            # A generated Authorization header (a header parameter) must not sneak a token in.
            request["headers"].pop("Authorization", None)
        before = _volumes()
        reply = client.open(**request)
        label = f"{case.method} {case.formatted_path} {case.query} {case.headers}"
        assert reply.status_code < 500, f"{label}: {reply.status_code} {reply.get_data(as_text=True)[:300]}"
        if reply.status_code >= 400:
            assert reply.mimetype == PROBLEM, f"{label}: {reply.status_code} as {reply.mimetype}"
        case.validate_response(reply, checks=CHECKS)
        expect(case, reply)
        if case.method == "POST" and reply.status_code != 200:
            # A refused import stores nothing: not some rows of the file, not an empty batch.
            assert _volumes() == before, f"{label}: refused with {reply.status_code} but rows were stored"
        reply.close()
        sent[0] += 1

    run()


@pytest.mark.slow
def test_generated_requests_with_an_administrators_token_answer_as_documented(staff_app: Flask, token_of) -> None:  # type: ignore[no-untyped-def]
    statuses: set[int] = set()

    def expect(case: Any, reply: Any) -> None:
        assert reply.status_code not in (401, 403), f"{case.method} {case.formatted_path}: {reply.status_code}"
        statuses.add(reply.status_code)

    assert _fuzz(staff_app, token_of("system_admin"), expect) > 100
    # Not vacuous: some generated requests succeed and some are refused as invalid.
    assert 200 in statuses
    assert statuses & {400, 404, 415, 422}


def _has_nul(case: Any) -> bool:
    parts = [case.formatted_path, *(f"{k}{v}" for k, v in (case.query or {}).items())]
    return any("\x00" in str(part) for part in parts)


@pytest.mark.slow
def test_generated_requests_with_a_viewers_token_get_403_where_it_lacks_capabilities(
    staff_app: Flask, token_of
) -> None:  # type: ignore[no-untyped-def]
    # An agency viewer reads indices and agencies, but not microdata, volumes or the PAR report.
    forbidden = {"/responses", "/volumes", "/par-report"}

    def expect(case: Any, reply: Any) -> None:
        if _has_nul(case):
            assert reply.status_code == 400
        elif case.path in forbidden:
            assert reply.status_code == 403, f"{case.method} {case.formatted_path}: {reply.status_code}"
        assert reply.status_code != 401

    assert _fuzz(staff_app, token_of("agency_viewer"), expect, examples=6) > 50


@pytest.mark.slow
def test_generated_requests_without_a_token_get_401_everywhere_but_the_document(staff_app: Flask) -> None:
    def expect(case: Any, reply: Any) -> None:
        if _has_nul(case):
            assert reply.status_code == 400  # malformed before anything else: no query ever sees a NUL
        elif case.path == "/openapi.json":
            assert reply.status_code == 200
        else:
            assert reply.status_code == 401, f"{case.method} {case.formatted_path}: {reply.status_code}"
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")

    assert _fuzz(staff_app, None, expect, examples=4) > 30
