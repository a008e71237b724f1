"""What the endpoints answer: the dashboards' and exports' own numbers, stable pages, readable Vietnamese,
specific validation messages, all-or-nothing volume imports and the PAR report."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import Agency, AuditEvent, Instrument, TransactionVolume
from survey.services.exports import responses
from survey.services.statistics import dashboard, par_report
from survey.services.statistics.breakdowns import breakdown
from survey.services.statistics.indices import TOTAL, IndexQuery, compute_indices
from tests.api.conftest import Api

YEAR = dashboard.Period("year", dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _instrument(code: str = "sipas-2017") -> Instrument:
    return db.session.scalars(select(Instrument).where(Instrument.code == code)).one()


@pytest.fixture
def admin(token_for: Callable[[str], str]) -> str:
    return token_for("system_admin")


def test_vietnamese_text_is_sent_as_utf8_and_survives(api: Api, admin: str) -> None:
    reply = api.get("agencies/so-tu-phap", admin)
    raw = reply.get_data()
    assert "Sở Tư pháp".encode() in raw and b"\\u" not in raw
    assert json.loads(raw.decode("utf-8"))["name_vi"] == _agency("so-tu-phap").name_vi
    instruments = api.get("instruments?code=sipas-2017", admin).get_json()["items"][0]
    first = _instrument().items[0]
    item = instruments["elements"][0]["items"][0]
    assert (item["code"], item["text_vi"], item["text_en"]) == (first.code, first.text_vi, first.text_en)
    assert instruments["scale"]["levels"][0]["label_vi"] == "Rất không hài lòng"


def test_indices_equal_the_dashboards_computation(api: Api, admin: str) -> None:
    body = api.get("indices?agency=so-tu-phap,ninh-binh&period=2026&instrument=sipas-2017", admin).get_json()
    province = _agency("ninh-binh")
    report = compute_indices(
        db.session,
        IndexQuery(
            _instrument().id, YEAR.start, YEAR.end, agency_ids=dashboard.agency_subtree_ids(db.session, province)
        ),
    )
    by_code = {r["agency"]["code"]: r for r in body["results"]}
    for code, domain in [("so-tu-phap", _agency("so-tu-phap").id), ("ninh-binh", TOTAL)]:
        result = by_code[code]
        assert result["method"]["questionnaire"] == "sipas-2017 v1"
        assert result["method"]["period"] == {"kind": "year", "from": "2026-01-01", "to": "2026-12-31"}
        assert result["method"]["weighting"] == report.weighting and result["method"]["design"] == report.design
        estimates = {(e["target"], e["kind"]): e for e in result["estimates"]}
        expected = [e for e in report.estimates if e.domain == domain]
        assert len(estimates) == len(expected) > 40
        for e in expected:
            got = estimates[(e.target, e.kind)]
            assert got["estimate"] == pytest.approx(e.estimate, abs=1e-12)
            assert got["se"] == pytest.approx(e.se, abs=1e-12)
            assert (got["ci"]["lower"], got["ci"]["upper"]) == pytest.approx(e.ci, abs=1e-12)
            assert (got["n"], got["df"], got["ci_method"]) == (e.n, e.df, e.ci_method)
            assert [f["code"] for f in got["flags"]] == [f.code for f in e.flags]
        assert estimates[("overall", "share")]["target_type"] == "overall"
        assert estimates[("access", "share")]["target_type"] == "element"
        assert estimates[("q01", "mean")]["target_type"] == "item"


def test_index_filters_by_target_and_kind(api: Api, admin: str) -> None:
    body = api.get("indices?agency=so-tu-phap&period=2026&target=overall,q01&kind=share", admin).get_json()
    assert sorted((e["target"], e["kind"]) for e in body["results"][0]["estimates"]) == [
        ("overall", "share"),
        ("q01", "share"),
    ]


def test_counter_domains_equal_the_dashboard_breakdown(api: Api, admin: str) -> None:
    agency = _agency("so-tu-phap")
    body = api.get("indices?agency=so-tu-phap&domain=counter&period=2026&instrument=sipas-2017", admin).get_json()
    expected = breakdown(db.session, [agency.id], _instrument().id, YEAR, "vi", by_counter=True)
    codes = {c.id: c.code for c in agency.counters}
    got = {r["domain"]["code"]: r for r in body["results"]}
    assert set(got) == {codes.get(row.key) for row in expected.counters}
    for row in expected.counters:
        result = got[codes.get(row.key)]
        assert result["domain"]["responses"] == row.responses
        assert result["estimates"][0]["estimate"] == pytest.approx(row.share.estimate, abs=1e-12)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("query", "name", "words"),
    [
        ("indices?from=2026-02-30&to=2026-03-31", "from", "YYYY-MM-DD"),
        ("indices?from=2026-03-01", "to", "both"),
        ("indices?from=2026-03-01&to=2026-02-01", "to", "on or after"),
        ("indices?period=2026&from=2026-01-01&to=2026-02-01", "period", "not both"),
        ("indices?period=26-Q3", "period", "YYYY-Qn"),
        ("indices?period=1999", "period", "2000"),
        ("indices?instrument=khong-co", "instrument", "unknown instrument"),
        ("indices?domain=tinh", "domain", "agency, counter, field"),
        ("indices?target=q99", "target", "q99"),
        ("indices?kind=median", "kind", "median"),
        ("indices?form=2026-01-01", "form", "unknown parameter"),
        ("agencies?page=0", "page", "1 to"),
        ("agencies?page=abc", "page", "'abc'"),
        ("agencies?per_page=501", "per_page", "500"),
        ("agencies?page=1&page=2", "page", "once"),
        ("responses?instrument=sipas-2017&after=-1", "after", "whole number"),
        ("responses?instrument=sipas-2017&status=deleted", "status", "valid, excluded, all"),
        ("volumes?from=2026-5", "from", "YYYY-MM"),
        ("volumes?from=2026-06&to=2026-05", "to", "on or after"),
    ],
)
def test_validation_errors_are_422_and_name_the_parameter(
    api: Api, admin: str, query: str, name: str, words: str
) -> None:
    reply = api.get(query, admin)
    assert reply.status_code == 422
    body = reply.get_json()
    assert body["type"] == "urn:sipas:problem:validation"
    assert any(e["name"] == name and e["in"] == "query" and words in e["detail"] for e in body["errors"]), body


def test_a_period_without_data_is_a_specific_422(api: Api, admin: str) -> None:
    reply = api.get("indices?agency=so-tu-phap&period=2001", admin)
    assert reply.status_code == 422
    assert reply.get_json()["type"] == "urn:sipas:problem:no-data"
    assert "2001-01-01" in reply.get_json()["detail"]


def test_pages_are_stable_and_cover_the_list_once(api: Api, admin: str) -> None:
    whole = api.get("agencies?per_page=500", admin).get_json()
    assert whole["pages"] == 1 and whole["next_page"] is None
    codes = [a["code"] for a in whole["items"]]
    assert codes == sorted(codes) and len(codes) == whole["total"]
    paged: list[str] = []
    page: int | None = 1
    while page is not None:
        body = api.get(f"agencies?per_page=4&page={page}", admin).get_json()
        assert body == api.get(f"agencies?per_page=4&page={page}", admin).get_json()  # asked again: same page
        paged += [a["code"] for a in body["items"]]
        page = body["next_page"]
    assert paged == codes
    beyond = api.get("agencies?per_page=4&page=999", admin).get_json()
    assert beyond["items"] == [] and beyond["total"] == len(codes)


def test_response_pages_follow_each_other_and_equal_the_export(api: Api, admin: str) -> None:
    query = "responses?agency=so-tu-phap&instrument=sipas-2017&status=all&limit=97"
    rows: list[dict[str, Any]] = []
    after = 0
    while True:
        body = api.get(f"{query}&after={after}", admin).get_json()
        rows += body["items"]
        if body["next_after"] is None:
            break
        after = body["next_after"]
    total = body["total"]
    assert len(rows) == total > 97
    ids = [r["response_id"] for r in rows]
    assert ids == sorted(set(ids))
    plan = responses.plan_export(
        db.session,
        responses.ExportRequest(
            agency_ids=responses.agency_subtree(db.session, ["so-tu-phap"]), instrument="sipas-2017", status="all"
        ),
    )
    names = [c.name for c in plan.columns]
    expected = [
        dict(zip(names, row, strict=True))
        for chunk in responses.stream_rows(db.session, plan, sanitise=False)
        for row in chunk
    ]
    assert [c["name"] for c in body["columns"]] == names
    assert rows == json.loads(json.dumps(expected))
    weights = {r["weight"] for r in rows if r["status"] == "valid"}
    assert None not in weights and len(weights) > 1  # the cell weights of the export, not 1
    q01 = next(c for c in body["columns"] if c["name"] == "q01")
    assert q01["kind"] == "score" and q01["categories"][-1] == {
        "code": 9,
        "value": "9",
        "label_vi": "Không trả lời",
        "label_en": "Not answered",
    }


def test_the_first_response_page_of_a_read_is_audited(api: Api, admin: str) -> None:
    def reads() -> int:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "responses.read_api")
        return int(db.session.scalar(query) or 0)

    before = reads()
    first = api.get("responses?agency=so-tu-phap&instrument=sipas-2017&limit=5", admin).get_json()
    api.get(f"responses?agency=so-tu-phap&instrument=sipas-2017&limit=5&after={first['next_after']}", admin)
    assert reads() == before + 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "responses.read_api")).all()[-1]
    assert event.details["rows"] == first["total"] and event.details["filters"]["agencies"] == ["so-tu-phap"]


def _volumes() -> int:
    return int(db.session.scalar(select(func.count()).select_from(TransactionVolume)) or 0)


def test_a_bad_volume_file_is_refused_whole_with_every_problem(api: Api, token_for: Callable[[str], str]) -> None:
    token = token_for("province_admin")
    before = _volumes()
    text = (
        "agency_code,counter_code,field_code,month,count\n"
        "so-tu-phap,,ly-lich-tu-phap,2026-05,120\n"
        "so-tu-phap,,khong-co,2026-05,5\n"
        "so-tu-phap,,chung-thuc,05-2026,7\n"
        "so-tu-phap,,chung-thuc,2026-06,-1\n"
    )
    reply = api.open("volumes", "POST", token, data={"file": (io.BytesIO(text.encode()), "thang-5.csv")})
    assert reply.status_code == 422
    body = reply.get_json()
    assert body["type"] == "urn:sipas:problem:invalid-file"
    assert [e["row"] for e in body["errors"]] == [3, 4, 5]
    assert "khong-co" in body["errors"][0]["detail"]
    assert _volumes() == before  # nothing partial was written


def test_a_good_volume_file_is_imported_and_listed(api: Api, token_for: Callable[[str], str]) -> None:
    token = token_for("province_admin")
    text = "agency_code;field_code;month;count\nso-tu-phap;ly-lich-tu-phap;2026-05;4321\n"
    reply = api.open("volumes", "POST", token, data={"file": (io.BytesIO(text.encode("utf-8-sig")), "v.csv")})
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json() == {
        "rows_imported": 1,
        "months_replaced": 1,
        "agencies": ["so-tu-phap"],
        "months": ["2026-05"],
    }
    listed = api.get("volumes?agency=so-tu-phap&from=2026-05&to=2026-05", token).get_json()
    assert [(v["field"], v["transactions"], v["source"]) for v in listed["items"]] == [
        ("ly-lich-tu-phap", 4321, "import:v.csv")
    ]
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "volumes.imported")).first()


def test_the_par_report_equals_the_report_service(api: Api, token_for: Callable[[str], str]) -> None:
    reply = api.get("par-report?period=2026&instrument=sipas-2017", token_for("province_admin"))
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    province = _agency("ninh-binh")
    chosen = par_report.scheme_for(db.session, province, 2026)
    report = par_report.build_par_report(
        db.session,
        chosen.scheme,
        _instrument().id,
        YEAR.start,
        YEAR.end,
        dashboard.agency_subtree_ids(db.session, province),
    )
    assert body["scheme"]["example"] is chosen.scheme.example and body["scheme"]["stored"] is (not chosen.fallback)
    expected = [dict(zip(report.headers, row, strict=True)) for row in report.rows]
    assert [a["agency"] for a in body["agencies"]] == [r["agency"] for r in expected]
    for got, want in zip(body["agencies"], expected, strict=True):
        assert got["rank"] == want["rank"]
        assert got["total_points"] == pytest.approx(want["total_points"], abs=1e-12)
        assert got["index_pct"] == pytest.approx(want["index_pct"], abs=1e-12)
        assert got["points"] == pytest.approx({k[7:]: v for k, v in want.items() if k.startswith("points_")}, abs=1e-12)
    assert sum(c["max_points"] for c in body["scheme"]["criteria"]) == body["scheme"]["max_points"]


def test_an_unexpected_error_is_a_500_problem_without_details(api: Api, admin: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from survey.services.administration import listings

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(listings, "agencies", broken)
    reply = api.get("agencies", admin)
    assert reply.status_code == 500 and reply.mimetype == "application/problem+json"
    body = reply.get_json()
    assert body["title"] == "Internal Server Error" and "secret internals" not in reply.get_data(as_text=True)


def test_a_too_large_upload_is_a_413_problem(api: Api, token_for: Callable[[str], str]) -> None:
    from survey.services.administration.volumes import MAX_FILE_BYTES

    # The multipart body built by hand: the test client would spool a large file to an unclosed temporary file.
    boundary = "sipas-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'.encode()
        + b"a" * (MAX_FILE_BYTES + 128 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    reply = api.open(
        "volumes",
        "POST",
        token_for("province_admin"),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert reply.status_code == 413 and reply.mimetype == "application/problem+json"
