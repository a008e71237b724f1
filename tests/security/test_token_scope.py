"""API token scope escalation: a token reads and writes only what its user may, whatever the request says.

Hostile agency parameters (siblings, parents, a foreign province, case and Unicode look-alikes, lists,
repeated parameters, wildcards, SQL) never widen a token's scope; a token is only ever its whole secret;
a token cannot be revoked by anyone but its owner; imports need ``import_volumes`` and stay in scope, all
or nothing.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, ApiToken, TransactionVolume, User
from survey.services.identity import api_tokens
from survey.services.identity.users import create_user
from survey.services.statistics.dashboard import agency_subtree_ids
from tests.conftest import hidden_fields

HEADER = "agency_code,counter_code,field_code,month,count\n"
OWN_ROW = "so-tu-phap,,ly-lich-tu-phap,2026-05,123\n"
FOREIGN_ROW = "so-tai-chinh,,doanh-nghiep,2026-05,77\n"
PASSWORD = "mat-khau-rat-dai-123"  # noqa: S105


def _hostile(outside: str) -> list[str]:
    """Ways to ask for ``outside`` (an agency the token may not read) in one query-string value."""
    return [
        outside,
        outside.upper(),
        outside.title(),
        f" {outside} ",
        f"{outside}\t",
        f"so-tu-phap,{outside}",
        f"{outside},so-tu-phap",
        f"{outside}%",
        outside.replace("o", "о", 1),  # a Cyrillic о
        "*",
        "%",
        "_%",
        "all",
        "' OR '1'='1",
        f"{outside}' --",
        f"{outside}\x00",
        f"so-tu-phap' OR code='{outside}",
    ]


@pytest.fixture
def foreign_province(staff_app: Flask) -> Iterator[Agency]:
    """Another province with a department (a second tenant of the same database)."""
    province = db.session.scalar(select(Agency).where(Agency.code == "ninh-binh"))
    with db.write() as session:
        other = Agency(code="tinh-khac", kind="province", name_vi="Tỉnh Khác", name_en="Other Province",
                       admin_unit_id=province.admin_unit_id)  # fmt: skip
        session.add(other)
        session.flush()
        session.add(Agency(code="so-khac", kind="department", name_vi="Sở Khác", name_en="Other Department",
                           parent_id=other.id, admin_unit_id=province.admin_unit_id))  # fmt: skip
    yield db.session.scalar(select(Agency).where(Agency.code == "tinh-khac"))


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _token(user: User) -> str:
    return api_tokens.create_token(user.id, "security", None).secret


def _department_statistician() -> User:
    email = f"thongke.{secrets.token_hex(3)}@test.sipas.vn"
    return create_user(email, "Thống kê Sở Tư pháp", PASSWORD, "statistician", "so-tu-phap")


def _client(app: Flask) -> FlaskClient:
    return app.test_client(use_cookies=False)


def _get(app: Flask, token: str, path: str, query: list[tuple[str, str]] | None = None) -> Any:
    return _client(app).get(f"/api/v1/{path}", query_string=query, headers={"Authorization": f"Bearer {token}"})


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _check_no_leak(reply: Any, label: str, forbidden_codes: set[str], forbidden_names: set[str]) -> None:
    assert reply.status_code in (200, 400, 403, 404, 422), f"{label}: {reply.status_code}"
    text = reply.get_data(as_text=True)
    leaked = {name for name in forbidden_names if name in text}
    assert not leaked, f"{label}: {reply.status_code} shows {leaked}"
    if reply.status_code == 200:
        # A success names only agencies in scope (an error may echo the code that was asked for).
        shown = set(_strings(reply.get_json())) & forbidden_codes
        assert not shown, f"{label}: 200 with {shown}"


ENDPOINTS = [
    ("indices", "agency", {"period": "2026"}),
    ("responses", "agency", {"instrument": "sipas-2017", "limit": "5"}),
    ("volumes", "agency", {}),
    ("agencies", None, {}),
    ("par-report", "province", {"period": "2026"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("role", ["agency_manager", "agency_viewer", "department_statistician"])
def test_no_agency_parameter_widens_a_tokens_scope(staff_app: Flask, logins, foreign_province, role: str) -> None:  # type: ignore[no-untyped-def]
    user = _department_statistician() if role == "department_statistician" else _user(logins[role].email)
    token = _token(user)
    home = user.roles[0].agency_id
    allowed = set(agency_subtree_ids(db.session, db.session.get(Agency, home)))
    agencies = list(db.session.scalars(select(Agency)))
    assert {a.id for a in agencies} - set(allowed), "the scope must leave something out"
    forbidden = [a for a in agencies if a.id not in allowed]
    forbidden_codes = {a.code for a in forbidden}
    forbidden_names = {a.name_vi for a in forbidden} | {a.name_en for a in forbidden if a.name_en}
    # Names that contain an allowed agency's name would match its own answers; leave those out of the check.
    allowed_names = {a.name_vi for a in agencies if a.id in allowed}
    forbidden_names = {n for n in forbidden_names if not any(n in own for own in allowed_names)}
    sibling = "so-tai-chinh" if home != _agency_id("so-tai-chinh") else "so-tu-phap"
    parent = "ninh-binh"
    # Control: the check does catch a leak (an administrator's token reads the sibling).
    control = _get(staff_app, _token(_user(logins["system_admin"].email)), "indices", [("agency", sibling)])
    with pytest.raises(AssertionError):
        _check_no_leak(control, "control", forbidden_codes, forbidden_names)
    checked = 0
    for outside in (sibling, parent, "tinh-khac", "so-khac"):
        for value in _hostile(outside):
            for path, param, base in ENDPOINTS:
                queries: list[list[tuple[str, str]]] = [
                    [*base.items(), ("agency_id", str(_agency_id(outside)))],
                    [*base.items(), ("agencies", value)],
                    [*base.items(), (f"{param or 'agency'}[]", value)],
                ]
                if param:
                    queries += [
                        [*base.items(), (param, value)],
                        [*base.items(), (param, "so-tu-phap"), (param, value)],
                        [*base.items(), (param, value), (param, "so-tu-phap")],
                    ]
                for query in queries:
                    reply = _get(staff_app, token, path, query)
                    _check_no_leak(reply, f"{role} GET {path} {query!r}", forbidden_codes, forbidden_names)
                    checked += 1
            for path in (f"agencies/{value}", f"agencies/{value}/counters"):
                reply = _get(staff_app, token, path)
                _check_no_leak(reply, f"{role} GET {path!r}", forbidden_codes, forbidden_names)
                assert reply.status_code in (400, 403, 404), f"{role} GET {path!r}: {reply.status_code}"
                checked += 1
    assert checked > 500


def _agency_id(code: str) -> int:
    agency_id = db.session.scalar(select(Agency.id).where(Agency.code == code))
    assert agency_id is not None
    return agency_id


def test_a_token_is_its_whole_secret_and_nothing_else(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    admin = _user(logins["system_admin"].email)
    issued = api_tokens.create_token(admin.id, "security", None)
    revoked = api_tokens.create_token(admin.id, "revoked", None)
    api_tokens.revoke_token(admin.id, revoked.token.id)
    row = db.session.get(ApiToken, issued.token.id)
    assert _get(staff_app, issued.secret, "agencies").status_code == 200
    for presented in [
        revoked.secret,
        str(issued.token.id),
        f"sipas_{issued.token.id}",
        row.prefix,
        row.token_digest,
        f"sipas_{row.token_digest}",
        issued.secret[:-1],
        issued.secret + "x",
        issued.secret.upper(),
        f"{issued.secret} {revoked.secret}",
        f"{revoked.secret},{issued.secret}",
        "sipas_" + "A" * 43,
        "sipas_%",
        "sipas_' OR '1'='1",
    ]:
        reply = _get(staff_app, presented, "agencies")
        assert reply.status_code == 401, f"{presented!r}: {reply.status_code}"
    # Other schemes and places do not carry a token either.
    for headers in (
        {"Authorization": f"Basic {issued.secret}"},
        {"Authorization": f"Token {issued.secret}"},
        {"X-Api-Token": issued.secret},
        {"Cookie": f"token={issued.secret}"},
    ):
        assert _client(staff_app).get("/api/v1/agencies", headers=headers).status_code == 401, headers
    assert _client(staff_app).get(f"/api/v1/agencies?token={issued.secret}").status_code in (401, 422)
    assert _client(staff_app).get(f"/api/v1/agencies?access_token={issued.secret}").status_code in (401, 422)


def test_a_signed_in_administrators_cookie_does_not_lift_a_viewers_token(staff_app: Flask, signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in("system_admin")
    viewer = _token(_user(logins["agency_viewer"].email))
    reply = browser.get("/api/v1/responses?instrument=sipas-2017", headers={"Authorization": f"Bearer {viewer}"})
    assert reply.status_code == 403
    reply = browser.get("/api/v1/agencies/so-tai-chinh", headers={"Authorization": f"Bearer {viewer}"})
    assert reply.status_code == 404


def test_nobody_revokes_another_users_token_through_the_account_page(staff_app: Flask, signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    admin = _user(logins["system_admin"].email)
    victim = api_tokens.create_token(admin.id, "victim", None)
    for role in ("agency_manager", "agency_viewer", "statistician", "province_admin"):
        client = signed_in(role)
        own = api_tokens.create_token(_user(logins[role].email).id, "own", None)
        token = hidden_fields(client.get("/account/tokens").get_data(as_text=True))["csrf_token"]
        for target in (victim.token.id, 10_000_000):
            reply = client.post(f"/account/tokens/{target}/revoke", data={"csrf_token": token})
            assert reply.status_code == 404, f"{role} revoking {target}: {reply.status_code}"
        # Other shapes of the id never reach another row (the route takes an integer only).
        for target in (f"{own.token.id},{victim.token.id}", f"-{victim.token.id}", f"{victim.token.id}.0", "0x1"):
            reply = client.post(f"/account/tokens/{target}/revoke", data={"csrf_token": token})
            assert reply.status_code in (404, 405), f"{role} revoking {target!r}: {reply.status_code}"
        # Its own token is revocable (the refusals above are not a broken route).
        assert client.post(f"/account/tokens/{own.token.id}/revoke", data={"csrf_token": token}).status_code == 303
    assert api_tokens.status(db.session.get(ApiToken, victim.token.id)) == "active"
    assert _get(staff_app, victim.secret, "agencies").status_code == 200


def _volumes() -> list[tuple[Any, ...]]:
    """Every stored volume row (a refused import must leave them exactly as they were)."""
    columns = (TransactionVolume.agency_id, TransactionVolume.counter_id, TransactionVolume.field_id,
               TransactionVolume.month, TransactionVolume.transactions)  # fmt: skip
    return [tuple(row) for row in db.session.execute(select(*columns).order_by(*columns))]


def _post_volumes(app: Flask, token: str, text: str, name: str = "v.csv") -> Any:
    return _client(app).post(
        "/api/v1/volumes",
        data={"file": (io.BytesIO(text.encode("utf-8")), name)},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def test_importing_volumes_needs_the_capability_and_stays_in_scope(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    before = _volumes()
    for role in ("agency_viewer", "auditor", "statistician"):
        reply = _post_volumes(staff_app, _token(_user(logins[role].email)), HEADER + OWN_ROW)
        assert reply.status_code == 403, f"{role}: {reply.status_code}"
        assert reply.mimetype == "application/problem+json"
    reply = _post_volumes(staff_app, _token(_department_statistician()), HEADER + OWN_ROW)
    assert reply.status_code == 403
    assert _volumes() == before
    # A manager of so-tu-phap: a sibling's rows, hidden among its own, in any spelling, refuse the whole file.
    manager = _token(_user(logins["agency_manager"].email))
    foreigns = [FOREIGN_ROW, FOREIGN_ROW.upper(), " " + FOREIGN_ROW]
    foreigns += [FOREIGN_ROW.replace("so-tai-chinh", other) for other in ("ninh-binh", "*", "so-tai-chinh' --")]
    for foreign in foreigns:
        for text in (HEADER + OWN_ROW + foreign, HEADER + foreign + OWN_ROW):
            reply = _post_volumes(staff_app, manager, text)
            assert reply.status_code in (400, 403, 404, 422), f"{foreign!r}: {reply.status_code}"
            assert reply.mimetype == "application/problem+json"
            assert _volumes() == before, f"{foreign!r}: rows were stored"
    # The same file without the foreign row is imported: the refusals above are about scope, not format.
    reply = _post_volumes(staff_app, manager, HEADER + OWN_ROW)
    assert reply.status_code == 200 and reply.get_json()["rows_imported"] == 1
    assert _volumes() != before
