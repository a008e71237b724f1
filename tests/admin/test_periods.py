"""Survey periods: create, edit, delete within scope; validated; audited; offered to agencies below."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from survey.db import db
from survey.models import Agency, SurveyPeriod
from survey.services.statistics.periods import periods_for_agency
from tests.admin.helpers import agency, csrf, last_event


def _create(client, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf(client), "agency": "ninh-binh", "name": "Đợt khảo sát 2026"}
    data.update({"starts_on": "2026-01-01", "ends_on": "2026-12-31"})
    data.update(fields)
    return client.post("/admin/periods", data=data)


def test_create_edit_delete(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    assert _create(client).status_code == 303
    period = db.session.scalar(select(SurveyPeriod).where(SurveyPeriod.name == "Đợt khảo sát 2026"))
    assert period is not None and last_event().action == "period.created"  # type: ignore[union-attr]
    # The period applies to every agency below the province.
    assert [p.id for p in periods_for_agency(db.session, agency("hoa-lu").id)] == [period.id]
    listing = client.get("/admin/periods").get_data(as_text=True)
    assert "Đợt khảo sát 2026" in listing and "01/01/2026" in listing
    reply = client.post(
        f"/admin/periods/{period.id}",
        data={"csrf_token": csrf(client), "name": "Đợt 1/2026", "starts_on": "2026-01-01", "ends_on": "2026-06-30"},
    )
    assert reply.status_code == 303
    event = last_event()
    assert event is not None and event.action == "period.updated" and event.details["to"]["ends_on"] == "2026-06-30"
    assert client.post(f"/admin/periods/{period.id}/delete", data={"csrf_token": csrf(client)}).status_code == 303
    assert last_event().action == "period.deleted"  # type: ignore[union-attr]
    db.session.expire_all()
    assert db.session.get(SurveyPeriod, period.id) is None


def test_invalid_periods_are_refused(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    cases = [
        ({"starts_on": "2026-13-01"}, "Enter the date as year-month-day"),
        ({"ends_on": "2025-12-31"}, "The last day must be on or after the first day"),
        ({"ends_on": "2040-01-01"}, "Choose a period of at most five years"),
        ({"name": " "}, "Enter the name of the period"),
        ({"agency": "tinh-khac"}, "Choose an agency"),
    ]
    for fields, message in cases:
        reply = client.post(
            "/admin/periods?lang=en",
            data={
                "csrf_token": csrf(client),
                "agency": "ninh-binh",
                "name": "Đợt",
                "starts_on": "2026-01-01",
                "ends_on": "2026-12-31",
                **fields,
            },
        )
        assert reply.status_code == 422, fields
        assert message in reply.get_data(as_text=True), fields
    assert _create(client).status_code == 303
    assert _create(client).status_code == 422  # the same name twice on one agency
    assert db.session.scalar(select(SurveyPeriod).where(SurveyPeriod.name == "Đợt")) is None


def test_periods_of_other_provinces_are_not_found(signed_in) -> None:  # type: ignore[no-untyped-def]
    other = Agency(
        code="tinh-khac", kind="province", name_vi="Tỉnh Khác", admin_unit_id=agency("ninh-binh").admin_unit_id
    )
    db.session.add(other)
    db.session.flush()
    period = SurveyPeriod(agency_id=other.id, name="Bí mật", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 2, 1))
    db.session.add(period)
    db.session.commit()
    client = signed_in("province_admin")
    assert "Bí mật" not in client.get("/admin/periods").get_data(as_text=True)
    assert client.get(f"/admin/periods/{period.id}").status_code == 404
    assert client.post(f"/admin/periods/{period.id}/delete", data={"csrf_token": csrf(client)}).status_code == 404
    assert client.post(f"/admin/periods/{period.id}/delete", data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get(SurveyPeriod, period.id) is not None
    assert signed_in("agency_manager").get("/admin/periods").status_code == 403
