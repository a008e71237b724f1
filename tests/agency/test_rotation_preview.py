"""The counters page shows what a split questionnaire would buy the agency (its volume, its design effect)."""

from __future__ import annotations

import re

from survey.db import db
from survey.services.statistics.rotation_preview import agency_precision
from tests.admin.helpers import agency


def test_the_counters_page_shows_the_precision_of_each_k(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    page = client.get("/agency/so-tu-phap/counters")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Phiếu ngắn hơn: mỗi số câu hỏi cho độ chính xác thế nào" in html
    preview = agency_precision(db.session, agency("so-tu-phap").id)
    assert preview is not None and preview.monthly_responses > 0 and preview.counter_days > 0
    n_items = len(preview.instrument.items)
    assert preview.rows[-1].k == n_items and preview.rows[0].k == len(preview.instrument.elements)
    for row in preview.rows:
        assert row.monthly + row.quarterly + row.yearly + row.unpublished == n_items
        assert re.search(rf'<th scope="row">{row.k}</th><td>[0-9]+–[0-9]+</td><td>{row.monthly}</td>', html)
    # Fewer criteria per citizen never publishes more criteria monthly than asking them all.
    assert all(row.monthly <= preview.rows[-1].monthly for row in preview.rows)
    assert preview.design_effect >= 1


def test_the_achieved_balance_of_a_split_questionnaire_is_reported(signed_in, staff_app) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt
    import uuid

    from sqlalchemy import select

    from survey.models import Counter
    from survey.services.administration.directory import counter_ref
    from survey.services.statistics.rotation_preview import achieved_balance
    from survey.services.submissions.store import Submission, store_submission

    instrument = next(c.instrument for c in db.session.scalars(select(Counter)) if c.instrument.rotation is not None)
    short = Counter(agency=agency("so-tu-phap"), code="quay-ngan-thu", name_vi="Quầy phiếu ngắn", instrument=instrument)
    db.session.add(short)
    db.session.flush()
    ref = counter_ref(short.id)
    assert ref is not None and ref.rules.rotation is not None
    for _ in range(40):
        sid = uuid.uuid4()
        asked = ref.rules.rotation.assign(staff_app.config["SECRET_KEY"], sid).codes
        store_submission(ref, Submission(sid, dict.fromkeys(asked, 4)), staff_app.config["TIMEZONE"])
    [balance] = achieved_balance(db.session, short.agency_id, dt.date.today() - dt.timedelta(days=90))
    assert balance.responses == 40
    assert sum(c.asked for c in balance.criteria) == 40 * ref.rules.rotation.k
    assert sum(c.expected for c in balance.criteria) == __import__("pytest").approx(40 * ref.rules.rotation.k)
    assert balance.worst_z < 4
    client = signed_in("agency_manager")
    html = client.get("/agency/so-tu-phap/counters").get_data(as_text=True)
    assert "Mức cân bằng đạt được của sipas-2022-short v1 trong 90 ngày qua: 40 phiếu" in html
