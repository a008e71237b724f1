"""A token reads exactly what its user may: agencies outside the scope are 404 (and never shown),
capabilities the user lacks are 403."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select

from survey.db import db
from survey.models import Agency, Instrument, Response, TransactionVolume
from survey.services.statistics import index_cache
from survey.services.statistics.dashboard import agency_subtree_ids, province_of
from survey.services.statistics.indices import IndexQuery, compute_indices
from tests.api.conftest import Api, user_token

SIBLING_NAMES = ("Sở Tài chính", "Department of Finance")


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _valid_responses(agency_ids: list[int] | None) -> int:
    instrument = db.session.scalar(select(Instrument.id).where(Instrument.code == "sipas-2017"))
    query = select(func.count()).select_from(Response).where(Response.status == "valid")
    query = query.where(Response.instrument_id == instrument)
    if agency_ids is not None:
        query = query.where(Response.agency_id.in_(agency_ids))
    return int(db.session.scalar(query) or 0)


def _all_pages(api: Api, token: str, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page: int | None = 1
    while page is not None:
        body = api.get(f"{path}?page={page}&per_page=500", token).get_json()
        items += body["items"]
        page = body["next_page"]
    return items


def test_a_department_viewer_reads_its_department_only(api: Api, new_user: Callable[..., Any]) -> None:
    token = user_token(new_user("agency_viewer", "so-tu-phap"))
    own = api.get("indices?agency=so-tu-phap&period=2026", token)
    assert own.status_code == 200
    assert [r["agency"]["code"] for r in own.get_json()["results"]] == ["so-tu-phap"]
    for url in [
        "indices?agency=so-tai-chinh&period=2026",
        "indices?agency=so-tu-phap,so-tai-chinh",
        "indices?agency=ninh-binh",
        "agencies/so-tai-chinh",
        "agencies/so-tai-chinh/counters",
    ]:
        reply = api.get(url, token)
        assert reply.status_code == 404, url
        body = reply.get_data(as_text=True)
        assert not any(name in body for name in SIBLING_NAMES), url
    # The default is the top of its scope: its department, nothing else.
    default = api.get("indices?period=2026", token).get_json()["results"]
    assert {r["agency"]["code"] for r in default} == {"so-tu-phap"}
    assert [a["code"] for a in _all_pages(api, token, "agencies")] == ["so-tu-phap"]
    # Response-level data, volumes and the PAR report need capabilities a viewer does not hold.
    for url in ["responses", "responses?agency=so-tu-phap", "volumes", "par-report"]:
        reply = api.get(url, token)
        assert reply.status_code == 403, url
        assert reply.get_json()["title"] == "Forbidden"


def test_weighting_notes_name_only_the_agencies_asked_about(api: Api, new_user: Callable[..., Any]) -> None:
    """A report covers the whole province; its notes about other agencies stay out of an agency's reply."""
    sibling = _agency("so-tai-chinh")
    db.session.execute(delete(TransactionVolume).where(TransactionVolume.agency_id == sibling.id))
    db.session.commit()
    index_cache.invalidate()
    instrument = db.session.scalar(select(Instrument.id).where(Instrument.code == "sipas-2017"))
    province = province_of(db.session, sibling)
    report = compute_indices(
        db.session,
        IndexQuery(instrument, dt.date(2026, 1, 1), dt.date(2026, 12, 31), agency_subtree_ids(db.session, province)),
    )
    assert any(note.agency_id == sibling.id for note in report.notes)  # the province's report speaks of it

    token = user_token(new_user("agency_viewer", "so-tu-phap"))
    body = api.get("indices?agency=so-tu-phap&period=2026", token).get_json()
    notes = body["results"][0]["method"]["notes"]
    # so-tu-phap's own weights are its own volumes: its notes never name the sibling whose weights were
    # imputed (the scope note says only how much of the province's weight that touches)
    assert body["results"][0]["method"]["weighting"] != "unweighted"
    assert not any("so-tai-chinh" in note for note in notes)
    assert not any(note.startswith("agency ") and "so-tu-phap" not in note for note in notes)
    # The province's own reader sees which agency lacks volumes, by code, never by database id.
    province_token = user_token(new_user("agency_viewer", province.code))
    notes = api.get(f"indices?agency={province.code}&period=2026", province_token).get_json()["results"][0]["method"]
    assert any(re.match(r"agency so-tai-chinh (\d{4}-\d\d(, )?)+", note) for note in notes["notes"])
    assert not any(re.search(rf"\b{sibling.id}\b", note) for note in notes["notes"])


def test_a_statistician_reads_responses_in_its_scope_only(api: Api, new_user: Callable[..., Any]) -> None:
    token = user_token(new_user("statistician", "so-tu-phap"))
    own = _agency("so-tu-phap")
    body = api.get("responses?instrument=sipas-2017&limit=1000", token).get_json()
    assert body["total"] == _valid_responses([own.id]) > 0
    assert {row["agency"] for row in body["items"]} == {"so-tu-phap"}
    assert body["method"]["filters"]["agencies"] == ["so-tu-phap"]
    for url in [
        "responses?agency=so-tai-chinh&instrument=sipas-2017",
        "responses?agency=ninh-binh&instrument=sipas-2017",
        "responses?agency=so-tu-phap,so-tai-chinh&instrument=sipas-2017",
    ]:
        assert api.get(url, token).status_code == 404, url


def test_a_province_statistician_reads_the_whole_province(api: Api, token_for: Callable[[str], str]) -> None:
    token = token_for("statistician")  # the demo statistician covers the province
    body = api.get("responses?instrument=sipas-2017&limit=1", token).get_json()
    province = agency_subtree_ids(db.session, _agency("ninh-binh"))
    assert body["total"] == _valid_responses(province)
    one = api.get("responses?agency=so-tai-chinh&instrument=sipas-2017&limit=1000", token).get_json()
    assert one["total"] == _valid_responses([_agency("so-tai-chinh").id])


def test_a_system_administrator_reads_everything(api: Api, token_for: Callable[[str], str]) -> None:
    token = token_for("system_admin")
    assert len(_all_pages(api, token, "agencies")) == db.session.scalar(select(func.count()).select_from(Agency))
    body = api.get("responses?instrument=sipas-2017&limit=1", token).get_json()
    assert body["total"] == _valid_responses(None)
    assert api.get("par-report?province=ninh-binh&period=2026", token).status_code == 200


def test_a_province_administrator_reads_its_province(api: Api, token_for: Callable[[str], str]) -> None:
    token = token_for("province_admin")
    codes = {a["code"] for a in _all_pages(api, token, "agencies")}
    province = db.session.scalars(
        select(Agency.code).where(Agency.id.in_(agency_subtree_ids(db.session, _agency("ninh-binh"))))
    )
    assert codes == set(province)
    assert api.get("par-report?period=2026", token).status_code == 200


def test_an_auditor_reads_questionnaires_only(api: Api, token_for: Callable[[str], str]) -> None:
    token = token_for("auditor")
    assert api.get("instruments", token).status_code == 200
    for url in ["agencies", "agencies/so-tu-phap", "indices", "responses", "volumes", "par-report"]:
        assert api.get(url, token).status_code == 403, url


def test_an_agency_manager_imports_volumes_for_its_agency_only(api: Api, token_for: Callable[[str], str]) -> None:
    import io

    token = token_for("agency_manager")  # so-tu-phap
    foreign = "agency_code,field_code,month,count\nso-tai-chinh,doanh-nghiep,2026-05,10\n"
    reply = api.open("volumes", "POST", token, data={"file": (io.BytesIO(foreign.encode()), "v.csv")})
    assert reply.status_code == 422
    assert [e["row"] for e in reply.get_json()["errors"]] == [2]
    assert api.get("volumes?agency=so-tai-chinh", token).status_code == 404
    listed = _all_pages(api, token, "volumes")
    assert listed and {v["agency"] for v in listed} == {"so-tu-phap"}
