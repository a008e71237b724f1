"""PAR schemes in the admin area: start from the example, edit as a whole, refuse malformed schemes, audit."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.db import db
from survey.models import Agency, AuditEvent, ParSchemeRecord
from survey.services.statistics import par_report
from tests.conftest import hidden_fields

YEAR = 2027


def _token(client: FlaskClient, url: str = "/admin/par") -> str:
    return hidden_fields(client.get(url).get_data(as_text=True))["csrf_token"]


def _start(client: FlaskClient, year: int = YEAR, province: str = "ninh-binh"):  # type: ignore[no-untyped-def]
    return client.post("/admin/par/new", data={"csrf_token": _token(client), "province": province, "year": str(year)})


def _record() -> ParSchemeRecord:
    province = db.session.scalars(select(Agency).where(Agency.code == "ninh-binh")).one()
    record = par_report.stored_scheme(db.session, province.id, YEAR)
    assert record is not None
    db.session.refresh(record)
    return record


def _form_data(client: FlaskClient, scheme: par_report.SchemeFile, **overrides: str) -> dict[str, str]:
    url = f"/admin/par/ninh-binh/{YEAR}"
    data = {
        "csrf_token": _token(client, url),
        "title_vi": scheme.title_vi,
        "title_en": scheme.title_en,
        "source": scheme.source,
    }
    if scheme.example:
        data["example"] = "y"
    for i, c in enumerate(scheme.scheme.criteria):
        data.update(
            {
                f"criteria-{i}-code": c.code,
                f"criteria-{i}-name_vi": scheme.names[c.code][0],
                f"criteria-{i}-name_en": scheme.names[c.code][1],
                f"criteria-{i}-max_points": f"{c.max_points:g}",
                f"criteria-{i}-index": c.index,
                f"criteria-{i}-conversion": c.conversion,
            }
        )
    data.update(overrides)
    return data


def test_schemes_are_for_par_managers_only(signed_in) -> None:  # type: ignore[no-untyped-def]
    page = signed_in("province_admin").get("/admin/par")
    assert page.status_code == 200 and page.get_data(as_text=True).count("<h1>") == 1
    for role in ("statistician", "agency_manager", "auditor"):
        assert signed_in(role).get("/admin/par").status_code == 403


def test_start_from_the_example_copies_it_marked_as_example(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    reply = _start(client)
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"/admin/par/ninh-binh/{YEAR}")
    record = _record()
    scheme = par_report.parse_scheme(record.definition)
    assert record.example is True and scheme.example is True
    assert (scheme.scheme.jurisdiction, scheme.scheme.year, scheme.scheme.max_points) == ("ninh-binh", YEAR, 10.0)
    assert "EXAMPLE ONLY" in record.definition  # the example's warning comments travel with the copy
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "par_scheme.created")).one()
    assert event.target_id == f"ninh-binh-{YEAR}"
    listing = client.get("/admin/par").get_data(as_text=True)
    assert f"/admin/par/ninh-binh/{YEAR}" in listing and "Ví dụ, không chính thức" in listing
    again = _start(client)
    assert again.status_code == 409 and "Đã có khung điểm cho tỉnh và năm này" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ParSchemeRecord)) == 1


def test_editing_saves_the_whole_scheme_and_audits_it(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    _start(client)
    page = client.get(f"/admin/par/ninh-binh/{YEAR}").get_data(as_text=True)
    assert 'value="civil_servants"' in page and "<legend>Các tiêu chí</legend>" in page
    scheme = par_report.parse_scheme(_record().definition)
    data = _form_data(client, scheme, source='Quyết định 45/QĐ-UBND "năm 2027"', **{"criteria-0-max_points": "6,5"})
    data.pop("example")
    data.update({"criteria-5-remove": "y"})  # drop "feedback"
    data.update({"criteria-6-code": "extra", "criteria-6-name_vi": "Tiêu chí bổ sung", "criteria-6-max_points": "0.5",
                 "criteria-6-index": "results", "criteria-6-conversion": "linear"})  # fmt: skip
    reply = client.post(f"/admin/par/ninh-binh/{YEAR}", data=data)
    assert reply.status_code == 303, reply.get_data(as_text=True)[:3000]
    record = _record()
    saved = par_report.parse_scheme(record.definition)
    assert record.example is False and saved.example is False
    assert [c.code for c in saved.scheme.criteria] == [
        "sipas",
        "access",
        "procedures",
        "civil_servants",
        "results",
        "extra",
    ]
    assert saved.scheme.max_points == pytest.approx(6.5 + 4 + 0.5)
    assert saved.source == 'Quyết định 45/QĐ-UBND "năm 2027"' and saved.names["extra"] == ("Tiêu chí bổ sung",) * 2
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "par_scheme.updated")).one()
    assert event.details["example"] is False and event.details["max_points"] == pytest.approx(11.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"criteria-1-code": "sipas"}, "Mỗi tiêu chí cần một mã riêng"),
        ({"criteria-0-code": "Chỉ số"}, "Nhập mã gồm chữ thường không dấu"),
        ({"criteria-0-max_points": "nhiều"}, "Nhập điểm tối đa là một số lớn hơn 0"),
        ({"criteria-0-max_points": "0"}, "Nhập điểm tối đa là một số lớn hơn 0"),
        ({"criteria-0-max_points": "inf"}, "Nhập điểm tối đa là một số lớn hơn 0"),
        ({"criteria-0-index": "khong_co"}, "Chọn chỉ số dùng để tính tiêu chí này"),
        ({"criteria-0-conversion": "log"}, "Chọn cách quy đổi"),
        ({"criteria-0-name_vi": ""}, "Nhập tên tiếng Việt của tiêu chí"),
        ({f"criteria-{i}-remove": "y" for i in range(6)}, "Nhập ít nhất một tiêu chí"),
    ],
    ids=[
        "duplicate",
        "bad-code",
        "not-a-number",
        "zero",
        "infinite",
        "unknown-index",
        "conversion",
        "no-name",
        "empty",
    ],
)
def test_a_malformed_scheme_is_refused_and_nothing_is_stored(signed_in, overrides, message) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    _start(client)
    before = _record().definition
    scheme = par_report.parse_scheme(before)
    reply = client.post(f"/admin/par/ninh-binh/{YEAR}", data=_form_data(client, scheme, **overrides))
    html = reply.get_data(as_text=True)
    assert reply.status_code == 422 and message in html and "<title>Lỗi:" in html and 'class="error-summary"' in html
    assert _record().definition == before
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "par_scheme.updated")).first() is None


def test_bad_start_input_is_refused(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    reply = _start(client, year=1999)
    assert reply.status_code == 422 and "Hãy nhập năm gồm bốn chữ số" in reply.get_data(as_text=True)
    assert _start(client, province="so-tu-phap").status_code == 422  # not a province in the list
    assert db.session.scalar(select(func.count()).select_from(ParSchemeRecord)) == 0
    assert client.get(f"/admin/par/ninh-binh/{YEAR}").status_code == 404  # nothing stored: nothing to edit


def test_the_validator_checks_text_as_a_whole() -> None:
    good = par_report.EXAMPLE_SCHEME.read_text(encoding="utf-8")
    assert par_report.parse_scheme(good).scheme.max_points == 10.0
    broken = [
        (good.replace('code = "access"', 'code = "sipas"'), "used twice"),
        (good.replace("max_points = 5.0", "max_points = -1"), "max_points must be positive"),
        (good.replace('conversion = "linear"', 'conversion = "log"'), "unknown conversion"),
        ("example = true\nyear = 2026\n[[criteria]]\ncode = 'a'\nmax_points = 1\n", "jurisdiction"),
        ("this is = = not toml", "stored"),
    ]
    for text, reason in broken:
        with pytest.raises(par_report.ParReportError, match=reason):
            par_report.parse_scheme(text, "stored")


def test_scheme_text_round_trips_through_the_form_draft() -> None:
    draft = par_report.SchemeDraft(
        jurisdiction="ninh-binh",
        year=2027,
        example=False,
        title_vi='Điểm "XHH"\\ năm 2027',
        title_en="Survey points",
        source="45/QĐ-UBND\tngày 2/1/2027",
        criteria=(par_report.CriterionDraft("sipas", "Chỉ số\nchung", "Overall", 6.25, "overall"),),
    )
    assert par_report.scheme_draft(par_report.parse_scheme(par_report.scheme_toml(draft))) == draft
