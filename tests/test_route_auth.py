"""Every registered route × every role (and anonymous) × a foreign agency's ids: no data crosses scopes.

Modelled on GOV.UK Notify's ``test_all_routes_have_authentication``: a new route is covered without
anyone remembering to add it. Routes open to everyone must be on :data:`PUBLIC_ENDPOINTS`; every other
route must refuse a foreign agency's ids (403/404, or a redirect to sign-in for anonymous users) and the
foreign agency's name and index must never appear in a body.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask import Flask, current_app, g
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.agency.formatting import pct
from survey.db import db, utcnow
from survey.models import Agency, ApiToken, Counter, Instrument, Response, RoleAssignment, SurveyPeriod, User
from survey.models.codes import ROLES
from survey.services.identity import api_tokens
from survey.services.identity.users import create_user
from survey.services.statistics import dashboard
from survey.services.statistics.indices import IndexQuery, compute_indices
from tests.conftest import hidden_fields

#: Endpoints anyone may use without signing in (citizens, health checks, static files, sign-in itself).
PUBLIC_ENDPOINTS = {
    "static",
    "public.index",
    "public.survey",
    "public.thanks",
    "public.service_worker",
    "public.favicon",
    "pages.methodology",
    "status.healthz",
    "status.readyz",
    "pages.privacy",
    "auth.sign_in",
    "api.openapi",
    # The public results page (only provinces that opted in) and a digest's signed unsubscribe link.
    "results.index",
    "results.agency",
    "notifications.unsubscribe",
}

#: The sibling department each agency-scoped demo role must not see (province roles get a foreign province).
SIBLING = "so-tai-chinh"
FOREIGN_PROVINCE = "tinh-ngoai-vung"
#: Public id of the foreign user's export job, and the year of the foreign PAR scheme.
FOREIGN_JOB = "f" * 32
FOREIGN_YEAR = 2026
#: Ids of the foreign province's user, role assignment and survey period (set by ``_foreign_province``).
FOREIGN_IDS: dict[str, int] = {}


def _foreign_province() -> tuple[Agency, Counter, Response]:
    """A second province with a counter and a response, outside every demo role's scope."""
    session = db.session
    province = session.scalar(select(Agency).where(Agency.code == "ninh-binh"))
    instrument = session.scalar(select(Instrument).order_by(Instrument.id))
    assert province is not None and instrument is not None
    agency = Agency(
        code=FOREIGN_PROVINCE,
        kind="province",
        name_vi="UBND tỉnh Ngoại Vùng",
        name_en="Outer Region Provincial Committee",
        admin_unit_id=province.admin_unit_id,
    )
    counter = Counter(agency=agency, code="quay-99", name_vi="Quầy Ngoại Vùng 99", instrument_id=instrument.id)
    session.add_all([agency, counter])
    session.flush()
    response = Response(
        submission_id=uuid.uuid4(),
        agency_id=agency.id,
        counter_id=counter.id,
        instrument_id=instrument.id,
        received_at=utcnow(),
        received_on=dt.date(2026, 10, 5),
    )
    session.add(response)
    # Administration routes take user, role and survey-period ids: those of the foreign province.
    user = User(email="nguoi@ngoai-vung.example", display_name="Ngoại Vùng", password_hash="x")
    user.roles.append(RoleAssignment(role="agency_manager", agency_id=agency.id))
    period = SurveyPeriod(agency_id=agency.id, name="Đợt", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31))
    session.add_all([user, period])
    session.commit()
    FOREIGN_IDS.update(user_id=user.id, role_id=user.roles[0].id, period_id=period.id)
    # An export job of that user and the province's PAR scheme: nobody else may open them.
    from survey.models import ExportJob, ParSchemeRecord
    from survey.services.statistics.par_report import example_definition

    session.add(ExportJob(public_id=FOREIGN_JOB, user_id=user.id, format="csv", filters="{}", status="done"))
    definition = example_definition(FOREIGN_PROVINCE, FOREIGN_YEAR)
    session.add(ParSchemeRecord(agency_id=agency.id, year=FOREIGN_YEAR, definition=definition))
    # An audit event about the foreign province, naming it: auditors of other agencies must not see it.
    from survey.services.identity import audit

    audit.record(
        session,
        "agency.renamed",
        target_type="agency",
        target_id=agency.id,
        details={"agency_id": agency.id, "to": {"name_vi": agency.name_vi, "name_en": agency.name_en}},
    )
    session.commit()
    return agency, counter, response


def _sibling_index(agency: Agency) -> str:
    """The sibling's overall index for the year of its latest response, as a dashboard would print it."""
    day = dashboard.latest_day(db.session, [agency.id])
    assert day is not None
    period = dashboard.period_containing("year", day)
    choices = dashboard.instruments_in_use(db.session, [agency.id], period)
    report = compute_indices(db.session, IndexQuery(choices[0].id, period.start, period.end, agency_ids=[agency.id]))
    with current_app.test_request_context("/?lang=vi"):
        g.pop("_flask_babel", None)  # the test's app context is shared: drop the cached locale
        return pct(report.get(agency.id, "overall").estimate)


def _foreign_token() -> ApiToken:
    """An API token of a user in the foreign province: no one else may revoke it."""
    owner = create_user(
        "ngoai.vung@test.sipas.vn", "Người dùng ngoại vùng", "mật khẩu đủ dài 12", "agency_viewer", FOREIGN_PROVINCE
    )
    return api_tokens.create_token(owner.id, "ngoại vùng", None).token


def _url(app: Flask, rule, agency: Agency, counter: Counter, response: Response, token_id: int = 0) -> str:  # type: ignore[no-untyped-def]
    values = {"code": agency.code, "counter_id": counter.id, "response_id": response.id, "token_id": token_id}
    values.update(FOREIGN_IDS)
    values.update(public_id=FOREIGN_JOB, instrument_id=response.instrument_id, year=FOREIGN_YEAR)
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"{rule.endpoint}: add a foreign value for {sorted(unknown)} to this test"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})


def _csrf(client: FlaskClient) -> str:
    return hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]


def test_public_routes_are_only_the_allow_listed_ones(staff_app: Flask) -> None:
    protected = {name for name, bp in staff_app.blueprints.items() if getattr(bp, "sipas_protected", None) is not None}
    for rule in staff_app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0] if "." in rule.endpoint else None
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        assert blueprint in protected, f"{rule.endpoint} ({rule.rule}) is neither guarded nor allow-listed"


@pytest.mark.parametrize("role", [None, *ROLES], ids=["anonymous", *ROLES])
def test_no_route_shows_a_foreign_agency(staff_app: Flask, signed_in, role: str | None) -> None:  # type: ignore[no-untyped-def]
    foreign_province, foreign_counter, foreign_response = _foreign_province()
    foreign_token = _foreign_token()
    sibling = db.session.scalar(select(Agency).where(Agency.code == SIBLING))
    assert sibling is not None
    if role in ("agency_manager", "agency_viewer", None):
        foreign = sibling
        counter = db.session.scalar(select(Counter).where(Counter.agency_id == sibling.id).order_by(Counter.id))
        response = db.session.scalar(select(Response).where(Response.agency_id == sibling.id).order_by(Response.id))
        assert counter is not None and response is not None
        secrets = [sibling.name_vi, sibling.name_en or "", _sibling_index(sibling)]
    else:
        foreign, counter, response = foreign_province, foreign_counter, foreign_response
        # A system administrator's scope is everything: there is no foreign agency, only the < 500 check.
        secrets = [] if role == "system_admin" else [foreign.name_vi, foreign.name_en or "", "Quầy Ngoại Vùng 99"]
    client = staff_app.test_client() if role is None else signed_in(role)
    token = _csrf(client) if role is not None else ""
    checked = 0
    rules = sorted(staff_app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.sign_out")  # sign out last
    for rule in rules:
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _url(staff_app, rule, foreign, counter, response, foreign_token.id)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                reply = client.get(url)
            else:
                reply = client.open(url, method=method, data={"csrf_token": token, "active": "no"})
            body = reply.get_data().decode("utf-8", errors="replace")
            checked += 1
            assert reply.status_code < 500, f"{method} {url} as {role}: {reply.status_code}"
            for secret in secrets:
                assert secret not in body, f"{method} {url} as {role} shows {secret!r}"
            if rule.endpoint.startswith("api."):
                # Token-only: no session cookie (or none at all) reads the API, whoever signed in.
                assert reply.status_code == 401, f"{method} {url} as {role}: {reply.status_code}"
            elif role is None and method != "GET":
                # CSRFProtect runs before the blueprint guard: an anonymous POST has no valid token.
                assert reply.status_code == 400, f"{method} {url}"
            elif role is None:
                assert reply.status_code == 302 and "/auth/sign-in" in reply.headers["Location"], f"{method} {url}"
            elif "token_id" in rule.arguments:
                assert reply.status_code == 404, f"{method} {url} as {role}: {reply.status_code}"
            elif "code" in rule.arguments and (role != "system_admin"):
                assert reply.status_code in (403, 404), f"{method} {url} as {role}: {reply.status_code}"
    assert checked >= 15
    db.session.expire_all()
    assert foreign_token.revoked_at is None  # tokens are personal: not even a system administrator revoked it
    if role != "system_admin":
        # Nothing above changed the foreign counter or response (every refused POST changed nothing).
        db.session.expire_all()
        assert (counter.active, counter.key_version) == (True, 1)
        assert response.status == "valid"


@pytest.mark.parametrize(
    ("role", "own", "dashboard_status", "counters_status", "audit_status"),
    [
        ("system_admin", "so-tu-phap", 200, 200, 200),
        ("province_admin", "so-tu-phap", 200, 200, 403),
        ("agency_manager", "so-tu-phap", 200, 200, 403),
        ("agency_viewer", "hoa-lu", 200, 403, 403),
        ("statistician", "so-tu-phap", 200, 403, 403),
        ("auditor", "so-tu-phap", 403, 403, 200),
    ],
)
def test_each_role_reaches_its_own_pages(signed_in, role, own, dashboard_status, counters_status, audit_status) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(role)
    assert client.get(f"/agency/{own}/").status_code == dashboard_status
    assert client.get(f"/agency/{own}/counters").status_code == counters_status
    assert client.get("/admin/audit").status_code == audit_status
