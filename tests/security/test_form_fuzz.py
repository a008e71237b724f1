"""Hypothesis fuzz of every staff form a system administrator can POST: never a 500, never half an import.

The routes come from the URL map (as in test_csrf.py), with real ids in their URLs so the views get past
their 404s. Each example posts a valid CSRF token plus random fields: names from the page's own form mixed
with invented ones, values long, empty, numeric, Unicode or hostile. The volume import gets garbage files,
including a valid row followed by broken ones: the import is all or nothing, so nothing may be stored.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import string
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from survey.db import db
from survey.models import (
    Agency,
    ApiToken,
    Counter,
    Response,
    RoleAssignment,
    SurveyPeriod,
    TransactionVolume,
    User,
)
from survey.services.identity import api_tokens
from survey.services.statistics import par_report
from tests.conftest import hidden_fields
from tests.security.conftest import placeholder_url, rules

#: Examples per route (about 25 routes): enough to hit each field with odd values, bounded for speed.
EXAMPLES = 25
#: Not fuzzed here: signing out ends the session the rest needs; the survey form and the API have their own fuzz.
SKIPPED = {"auth.sign_out", "public.survey", "api.import_volumes"}
_FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
HEADER = "agency_code,counter_code,field_code,month,count\n"
#: The title of the CSRF refusal page (Vietnamese: the test app's default locale).
SESSION_EXPIRED = "Phiên làm việc đã hết hạn"
VALID_ROW = "so-tu-phap,,ly-lich-tu-phap,2026-05,123\n"

_values = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "2026", "y", "yes", "no", "on", "true", "none", "so-tu-phap", "ninh-binh",
                     "2026-13-45", "9" * 40, "' OR '1'='1", "<script>alert(1)</script>", "../../etc/passwd", "\x00",
                     "a" * 5000]),
    st.text(max_size=200),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)  # fmt: skip


def _volumes() -> list[tuple[Any, ...]]:
    """Every stored volume row (a refused import must leave them exactly as they were)."""
    columns = (TransactionVolume.agency_id, TransactionVolume.counter_id, TransactionVolume.field_id,
               TransactionVolume.month, TransactionVolume.transactions)  # fmt: skip
    return [tuple(row) for row in db.session.execute(select(*columns).order_by(*columns))]


def _known(admin: User, other: User) -> dict[str, dict[str, object]]:
    """Real URL values by endpoint (a placeholder id would stop every view at its 404)."""
    agency = db.session.scalar(select(Agency).where(Agency.code == "so-tu-phap"))
    counter = db.session.scalar(select(Counter).where(Counter.agency_id == agency.id).order_by(Counter.id))
    response = db.session.scalar(select(Response).where(Response.agency_id == agency.id).order_by(Response.id))
    province = db.session.scalar(select(Agency).where(Agency.code == "ninh-binh"))
    # A named period and a stored PAR scheme to edit (the seeded province has neither).
    with db.write() as session:
        period = SurveyPeriod(
            agency_id=province.id, name="Đợt khảo sát thử", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 6, 30)
        )
        session.add(period)
    scheme = par_report.create_from_example(province, 2026, admin.id)
    role = db.session.scalar(select(RoleAssignment).where(RoleAssignment.user_id == other.id))
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == admin.id))
    common: dict[str, object] = {
        "code": agency.code,
        "counter_id": counter.id,
        "response_id": response.id,
        # Another user's account: fuzzing the administrator's own could lock the test out half way.
        "user_id": other.id,
        "role_id": role.id,
        "token_id": token.id,
        "period_id": period.id,
    }
    # Comment follow-up needs a comment; the public-results opt-in a province; unsubscribing a signed token.
    from flask import current_app

    from survey.services.notifications.tokens import unsubscribe_token

    with db.write() as session:
        commented = session.get(Response, response.id)
        commented.comment = commented.comment or "Góp ý để kiểm thử"
    followup = {"code": agency.code, "response_id": response.id}
    return {
        "": common,
        "admin.par_scheme_edit": {"code": province.code, "year": scheme.year},
        "admin.public_results_setting": {"code": province.code},
        "agency.comment_followup": followup,
        "agency.comment_publish": followup,
        "notifications.unsubscribe": {"token": unsubscribe_token(current_app.config["SECRET_KEY"], other.id)},
    }


def _field_names(client: FlaskClient, url: str, rule_methods: set[str]) -> list[str]:
    """The names of the fields the page's own form has (when the same URL has a GET page)."""
    if "GET" not in rule_methods:
        return []
    page = client.get(url)
    names = sorted(set(_FIELD.findall(page.get_data(as_text=True))) - {"csrf_token"})
    page.close()
    return names


def _garbage_files() -> st.SearchStrategy[tuple[bytes, str]]:
    names = st.sampled_from(["v.csv", "v.xlsx", "v.txt", "../../v.csv", "/etc/passwd", "v.csv\x00.xlsx", "", "v"])
    contents = st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=500).map(lambda t: t.encode("utf-8")),
        # A valid header and a valid first row, then rows of which at least the count is not a whole number.
        st.lists(
            st.tuples(st.text(max_size=20), st.text(max_size=20), st.text(string.ascii_letters, min_size=1)),
            min_size=1,
            max_size=5,
        ).map(lambda rows: (HEADER + VALID_ROW + "".join(f"{a},,{b},2026-05,{c}\n" for a, b, c in rows)).encode()),
        # Something shaped like an .xlsx (a ZIP) but cut short or corrupted.
        st.binary(max_size=500).map(lambda b: b"PK\x03\x04" + b),
    )
    return st.tuples(contents, names)


def _post_examples(client: FlaskClient, url: str, token: str, names: Any, *, upload: bool) -> set[int]:
    """Post EXAMPLES random forms to ``url``; the statuses seen."""
    statuses: set[int] = set()

    @settings(
        max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(fields=st.dictionaries(names, _values, max_size=10), garbage=_garbage_files(), check_only=st.booleans())
    def post(fields: dict[str, str], garbage: tuple[bytes, str], check_only: bool) -> None:
        data: dict[str, Any] = {**fields, "csrf_token": token}
        before = _volumes()
        if upload:
            content, name = garbage
            data["file"] = (io.BytesIO(content), name)
            if check_only:
                data["check_only"] = "y"
        reply = client.post(url, data=data, content_type="multipart/form-data" if upload else None)
        body = reply.get_data(as_text=True)
        assert reply.status_code < 500, f"POST {url} {fields!r}: {reply.status_code} {body[:300]}"
        assert SESSION_EXPIRED not in body, f"POST {url}: the CSRF token was refused, so nothing was fuzzed"
        statuses.add(reply.status_code)
        if upload:
            assert _volumes() == before, f"garbage {garbage!r} imported rows"
        reply.close()

    post()
    return statuses


@pytest.mark.slow
def test_fuzzed_staff_forms_never_500(staff_app: Flask, signed_in, logins, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A valid export request runs inline and writes into a temporary directory, never into instance/.
    staff_app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    staff_app.config["EXPORT_JOBS_INLINE"] = True
    client = signed_in("system_admin")
    admin = db.session.scalar(select(User).where(User.email == logins["system_admin"].email))
    other = db.session.scalar(select(User).where(User.email == logins["agency_viewer"].email))
    api_tokens.create_token(admin.id, "fuzzed", None)
    known = _known(admin, other)
    token = hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]
    fuzzed = []
    for rule in rules(staff_app, "POST"):
        if rule.endpoint in SKIPPED:
            continue
        url = placeholder_url(staff_app, rule, {**known[""], **known.get(rule.endpoint, {})})
        real = _field_names(client, url, set(rule.methods or ()))
        names = st.one_of(
            st.sampled_from([*real, "active", "email", "name", "code", "year", "role", "agency"]),
            st.text(string.ascii_letters + "_-[]", min_size=1, max_size=15),
        )
        statuses = _post_examples(client, url, token, names, upload=rule.endpoint == "admin.volumes")
        fuzzed.append((rule.endpoint, statuses))
    # The garbage files reached the importer and were refused; a valid file is imported (the check above can fail).
    assert 422 in dict(fuzzed)["admin.volumes"]
    before = _volumes()
    valid = {"csrf_token": token, "file": (io.BytesIO((HEADER + VALID_ROW).encode()), "v.csv")}
    assert client.post("/admin/volumes", data=valid, content_type="multipart/form-data").status_code == 200
    assert _volumes() != before
    endpoints = {endpoint for endpoint, _ in fuzzed}
    assert {"admin.volumes", "admin.user_new", "admin.agency", "agency.counter", "downloads.exports_page"} <= endpoints
    # Not vacuous: most routes were reached (not stopped at a 404 by a wrong id in the URL).
    reached = [endpoint for endpoint, statuses in fuzzed if statuses - {404}]
    assert len(reached) >= len(fuzzed) - 2, [f for f in fuzzed if f[1] == {404}]
