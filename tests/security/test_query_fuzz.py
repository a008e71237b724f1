"""Hostile query strings on every GET route, for every role and for anonymous visitors: never a 5xx.

The routes come from the URL map (a new page is covered without anyone adding it), each with real path
values of the role's own agency so the views get past their 404s. Every request carries one hostile
query string: numbers past every column's range, negative, non-ASCII digits, ``url_for``'s own argument
names (``code``, ``endpoint``, ``_method`` ...), Unicode, repeated keys, empty values, overlong strings.
Integer filters are sent without a period, so the views read them (a bad period alone stops at a 400).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from survey.bounded_int import MAX_BIGINT
from survey.db import db
from survey.models import Agency, Counter, Instrument, Response
from survey.models.codes import ROLES
from tests.security.conftest import placeholder_url, rules

#: Every id, page and number filter a page reads (or might read one day).
NUMBERS = ["counter", "field", "instrument", "page", "per_page", "agency", "user", "role", "actor", "id", "year",
           "survey_period", "response", "token", "job", "limit", "offset"]  # fmt: skip
#: Period names, text filters and the names url_for keeps for itself.
PERIOD = ["period", "month", "quarter", "year", "date_from", "date_to", "from", "to", "survey_period"]
TEXT = ["status", "q", "sort", "order", "weighted", "flagged", "compare", "handled", "kind", "action", "format",
        "lang", "before", "code", "next"]  # fmt: skip
#: (``endpoint`` has its own test below, until the language switch stops passing the query to url_for.)
URL_FOR = ["code", "_method", "_external", "_anchor", "_scheme", "_external_host", "values", "lang"]
ALL = sorted(set(NUMBERS + PERIOD + TEXT))

HUGE = "9" * 23
_QUERIES: list[tuple[str, Any]] = [
    ("huge", dict.fromkeys(NUMBERS, HUGE)),
    ("2**63", dict.fromkeys(NUMBERS, str(2**63))),
    ("2**63-1", dict.fromkeys(NUMBERS, str(2**63 - 1))),
    ("2**31", dict.fromkeys(NUMBERS, str(2**31))),
    ("negative and zero", {name: ("-1", "0")[n % 2] for n, name in enumerate(NUMBERS)}),
    ("superscript two", dict.fromkeys(NUMBERS, "²")),
    ("arabic-indic digits", dict.fromkeys(NUMBERS, "١٢")),
    ("url_for names", {**dict.fromkeys(URL_FOR, "x"), "_method": "POST", "_external": "1"}),
    ("survey period", {"period": "survey", "survey_period": HUGE}),
    ("period numbers", {"period": "year", "year": HUGE, "month": HUGE, "quarter": HUGE}),
    ("cursor", {"before": f"2026-01-01.{HUGE}"}),
    ("unicode", dict.fromkeys(ALL, "Tiếng Việt ☃ \U0001f600 \u202e\ufeff")),
    ("repeated keys", [(name, value) for name in ALL for value in ("1", "x", "", HUGE)]),
    ("empty values", dict.fromkeys(ALL, "")),
    ("overlong", dict.fromkeys(ALL, "9" * 2000)),
]
#: A system administrator reaches every view and gets every query string; the other roles a rotating fifth
#: (so each string still meets each route under several roles), to keep the run near 20 s per database.
SHARE = 5
#: Slow pages get a rotating share of that (the public directory draws every counter's QR code, about a second).
HEAVY = {"public.index": 20, "agency.trends": 4}
#: Not here: signing out ends the session the rest needs; static files are no view.
SKIPPED = {"auth.sign_out", "static"}


def _queries(role: str | None, rule_index: int, endpoint: str) -> list[tuple[str, Any]]:
    share = (1 if role == "system_admin" else SHARE) * HEAVY.get(endpoint, 1)
    offset = rule_index + (ROLES.index(role) + 1 if role else 0)
    return [query for number, query in enumerate(_QUERIES) if (offset + number) % share == 0]


def _known(code: str) -> dict[str, object]:
    """Path values of ``code``'s own agency: a real counter, response and questionnaire."""
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    ids = [agency.id, *db.session.scalars(select(Agency.id).where(Agency.parent_id == agency.id))]
    counter = db.session.scalar(select(Counter.id).where(Counter.agency_id.in_(ids)).order_by(Counter.id))
    response = db.session.scalar(select(Response.id).where(Response.agency_id.in_(ids)).order_by(Response.id))
    instrument = db.session.scalar(select(Instrument.id).order_by(Instrument.id))
    return {"code": code, "counter_id": counter, "response_id": response, "instrument_id": instrument, "year": 2026}


@pytest.mark.slow
@pytest.mark.parametrize("role", [None, *ROLES], ids=["anonymous", *ROLES])
def test_hostile_query_strings_on_every_get_route_are_never_a_5xx(  # type: ignore[no-untyped-def]
    staff_app: Flask, signed_in, logins, role: str | None
) -> None:
    client = staff_app.test_client() if role is None else signed_in(role)
    own = (logins[role].agency if role else None) or "ninh-binh"
    known = _known(own)
    pages = [r for r in rules(staff_app, "GET") if r.endpoint not in SKIPPED]
    assert len(pages) >= 20
    sent, failures = 0, []
    for index, rule in enumerate(pages):
        queries = _queries(role, index, rule.endpoint)
        sent += len(queries)
        failures += _failures(client, [placeholder_url(staff_app, rule, known)], queries)
    assert not failures, f"as {role or 'anonymous'}:\n" + "\n".join(failures)
    assert sent >= (len(pages) - len(HEAVY)) * len(_QUERIES) // SHARE


def _failures(client, urls: list[str], queries: list[tuple[str, Any]]) -> list[str]:  # type: ignore[no-untyped-def]
    """Each URL with each query: the ones answered with a 5xx (or raised: an error page that failed too)."""
    failures = []
    for url in urls:
        for name, query in queries:
            try:
                reply = client.get(url, query_string=query)
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{url} ({name}): {exc!r}")
                continue
            if reply.status_code >= 500:
                failures.append(f"{url} ({name}): {reply.status_code}")
            reply.close()
    return failures


def test_an_endpoint_argument_in_the_query_is_never_a_5xx(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    known = _known("ninh-binh")
    urls = [placeholder_url(staff_app, r, known) for r in rules(staff_app, "GET") if r.endpoint not in SKIPPED]
    failures = _failures(signed_in("system_admin"), urls, [("endpoint=x", {"endpoint": "x"})])
    assert not failures, "\n".join(failures)


def test_a_non_ascii_digit_survey_period_is_never_a_5xx(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    known = _known("ninh-binh")
    urls = [placeholder_url(staff_app, r, known) for r in rules(staff_app, "GET") if r.endpoint.startswith("agency.")]
    failures = _failures(
        signed_in("system_admin"), urls, [("survey period ²", {"period": "survey", "survey_period": "²"})]
    )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("value", [2**31, 2**63 - 1, 2**63, int("9" * 23)], ids=["2**31", "2**63-1", "2**63", "huge"])
def test_path_integers_out_of_range_are_404_on_every_get_route(staff_app: Flask, signed_in, value: int) -> None:  # type: ignore[no-untyped-def]
    """Every ``<int:...>`` of the URL map is bounded by the app's converter (BIGINT ids: ``<bigint:...>``)."""
    client = signed_in("system_admin")
    known = _known("ninh-binh")
    checked = 0
    for rule in rules(staff_app, "GET"):
        converters = rule._converters  # noqa: SLF001  (werkzeug keeps them per rule)
        for name in [n for n in rule.arguments if isinstance(converters[n], IntegerConverter)]:
            limit = converters[name].max
            assert limit is not None and limit <= MAX_BIGINT, f"{rule.rule}: <{name}> is unbounded"
            reply = client.get(placeholder_url(staff_app, rule, {**known, name: value}))
            checked += 1
            assert reply.status_code < 500, f"{rule.rule} with {name}={value}: {reply.status_code}"
            if value > limit:
                assert reply.status_code == 404, f"{rule.rule} with {name}={value}: {reply.status_code}"
    assert checked >= 5
