"""Citizens' comments: listed per period and filter, marked handled or not with CSRF, scoped and audited."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import Agency, AuditEvent, CommentReview, Response
from survey.services.review import comments as comment_service
from tests.conftest import hidden_fields

YEAR = {"period": "year", "year": "2026"}


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _commented(code: str) -> Response:
    response = db.session.scalar(
        select(Response)
        .where(
            Response.agency_id == _agency(code).id,
            Response.comment.is_not(None),
            Response.status == "valid",
            Response.received_on >= dt.date(2026, 1, 1),
        )
        .order_by(Response.received_on.desc(), Response.id.desc())
    )
    assert response is not None, "the seeded province has comments"
    return response


def _page(client, code: str = "so-tu-phap", **args: str) -> str:  # type: ignore[no-untyped-def]
    reply = client.get(f"/agency/{code}/comments", query_string={**YEAR, **args})
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def test_comments_are_listed_newest_first(signed_in) -> None:  # type: ignore[no-untyped-def]
    newest = _commented("so-tu-phap")
    html = _page(signed_in("agency_manager"))
    assert "Ý kiến người dân, Năm 2026" in html
    first = html.index('id="comment-')
    assert html.startswith(f'id="comment-{newest.id}"', first)


def test_mark_handled_and_unhandled_is_audited_and_filterable(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    target = _commented("so-tu-phap")
    html = _page(client)
    token = hidden_fields(html)["csrf_token"]
    url = f"/agency/so-tu-phap/comments/{target.id}/review"
    back = "/agency/so-tu-phap/comments?period=year&year=2026&status=unhandled"
    reply = client.post(
        url, data={"csrf_token": token, "action": "handled", "note": "Đã gọi lại 0912 345 678", "back": back}
    )
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith(back + f"#comment-{target.id}")
    review = db.session.get(CommentReview, target.id)
    assert review is not None and review.note is not None
    assert "0912" not in review.note  # staff notes are scrubbed like citizens' comments
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event is not None and event.action == "comment.handled" and event.target_id == str(target.id)
    assert "0912" not in str(event.details)
    handled = _page(client, status="handled")
    assert f'id="comment-{target.id}"' in handled and "Đã xử lý" in handled
    assert f'id="comment-{target.id}"' not in _page(client, status="unhandled")

    reply = client.post(url, data={"csrf_token": token, "action": "unhandled", "back": back})
    assert reply.status_code == 303
    db.session.expire_all()
    assert db.session.get(CommentReview, target.id) is None
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "comment.unhandled"


def test_review_needs_a_csrf_token(signed_in) -> None:  # type: ignore[no-untyped-def]
    target = _commented("so-tu-phap")
    reply = signed_in("agency_manager").post(
        f"/agency/so-tu-phap/comments/{target.id}/review", data={"action": "handled"}
    )
    assert reply.status_code == 400
    assert db.session.get(CommentReview, target.id) is None


def test_a_too_long_note_stores_nothing(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    target = _commented("so-tu-phap")
    token = hidden_fields(_page(client))["csrf_token"]
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    reply = client.post(
        f"/agency/so-tu-phap/comments/{target.id}/review",
        data={"csrf_token": token, "action": "handled", "note": "x" * 501},
        follow_redirects=True,
    )
    assert reply.status_code == 200
    assert "Ghi chú quá dài" in reply.get_data(as_text=True)
    assert db.session.get(CommentReview, target.id) is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_viewers_see_the_status_but_cannot_mark(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_viewer")  # scoped to the commune hoa-lu
    target = _commented("hoa-lu")
    html = _page(client, "hoa-lu")
    assert "Chưa xử lý" in html
    assert "/review" not in html and "Đánh dấu đã xử lý" not in html
    token = hidden_fields(html)["csrf_token"]
    reply = client.post(f"/agency/hoa-lu/comments/{target.id}/review", data={"csrf_token": token, "action": "handled"})
    assert reply.status_code == 403
    assert db.session.get(CommentReview, target.id) is None


def test_another_agencys_comment_cannot_be_marked(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")  # so-tu-phap
    foreign = _commented("hoa-lu")
    token = hidden_fields(_page(client))["csrf_token"]
    # Through its own agency's URL: the response is not one of this agency's, so 404.
    reply = client.post(
        f"/agency/so-tu-phap/comments/{foreign.id}/review", data={"csrf_token": token, "action": "handled"}
    )
    assert reply.status_code == 404
    # Through the foreign agency's URL: the agency is out of scope, so 404 as well.
    reply = client.post(f"/agency/hoa-lu/comments/{foreign.id}/review", data={"csrf_token": token, "action": "handled"})
    assert reply.status_code == 404
    assert db.session.get(CommentReview, foreign.id) is None


def test_an_outside_return_address_is_ignored(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    target = _commented("so-tu-phap")
    token = hidden_fields(_page(client))["csrf_token"]
    for back in ("https://evil.example/", "/agency/so-tu-phap/commentsx", "//evil.example/agency/so-tu-phap/comments"):
        reply = client.post(
            f"/agency/so-tu-phap/comments/{target.id}/review",
            data={"csrf_token": token, "action": "handled", "back": back},
        )
        assert reply.headers["Location"].split("#")[0].endswith("/agency/so-tu-phap/comments")


def test_search_counter_and_field_filters(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    target = _commented("so-tu-phap")
    assert target.comment is not None
    word = max(target.comment.split(), key=len)
    html = _page(client, q=word)
    assert f'id="comment-{target.id}"' in html
    assert "Không có ý kiến nào khớp với bộ lọc." in _page(client, q="không-có-từ-này-%_")
    if target.counter_id is not None:
        assert f'id="comment-{target.id}"' in _page(client, counter=str(target.counter_id))
    reply = client.get("/agency/so-tu-phap/comments", query_string={**YEAR, "q": "x" * 101})
    assert reply.status_code == 400 and 'class="error-summary"' in reply.get_data(as_text=True)


def test_pages_follow_each_other_without_gaps_or_repeats(staff_app) -> None:  # type: ignore[no-untyped-def]
    from survey.services.statistics.dashboard import agency_subtree_ids

    ids = agency_subtree_ids(db.session, _agency("ninh-binh"))
    start, end = dt.date(2025, 1, 1), dt.date(2026, 12, 31)
    expected = db.session.execute(
        select(Response.received_on, Response.id)
        .where(
            Response.agency_id.in_(ids),
            Response.status == "valid",
            Response.comment.is_not(None),
            Response.comment != "",
            Response.received_on.between(start, end),
        )
        .order_by(Response.received_on.desc(), Response.id.desc())
    ).all()
    assert len(expected) > comment_service.PAGE_SIZE, "the seeded province has more than one page of comments"
    seen: list[tuple[dt.date, int]] = []
    before = None
    for _ in range(100):
        page = comment_service.comments(db.session, ids, start, end, comment_service.CommentFilter(), before)
        assert len(page.rows) <= comment_service.PAGE_SIZE
        seen += [(r.received_on, r.response_id) for r in page.rows]
        if page.older is None:
            break
        before = page.older
    assert seen == [tuple(row) for row in expected]


def test_page_links_carry_the_cursor(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    html = _page(client, "ninh-binh")
    assert "before=" in html and "Ý kiến cũ hơn" in html
    assert '<optgroup label="Sở Tư pháp' in html  # the province's counters, grouped by agency
    cursor = html.split("before=", 1)[1].split("&", 1)[0].split('"', 1)[0]
    older = client.get("/agency/ninh-binh/comments", query_string={**YEAR, "before": cursor})
    assert older.status_code == 200 and "Ý kiến mới nhất" in older.get_data(as_text=True)
    # A malformed cursor is the newest page, not an error.
    assert client.get("/agency/ninh-binh/comments", query_string={**YEAR, "before": "x.y"}).status_code == 200


def test_the_province_page_marks_a_sub_agencys_comment(signed_in) -> None:  # type: ignore[no-untyped-def]
    """The province's page lists its departments' comments and posts to its own URL: the scope decides."""
    client = signed_in("province_admin")
    target = _commented("so-tu-phap")
    html = _page(client, "ninh-binh")
    assert f"/agency/ninh-binh/comments/{target.id}/review" in html
    token = hidden_fields(html)["csrf_token"]
    back = "/agency/ninh-binh/comments?period=year&year=2026"
    reply = client.post(
        f"/agency/ninh-binh/comments/{target.id}/review", data={"csrf_token": token, "action": "handled", "back": back}
    )
    assert reply.status_code == 303 and reply.headers["Location"].endswith(back + f"#comment-{target.id}")
    assert db.session.get(CommentReview, target.id) is not None
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event is not None and event.action == "comment.handled"
    assert event.details["agency_id"] == _agency("so-tu-phap").id  # the comment's own agency
    reply = client.post(
        f"/agency/ninh-binh/comments/{target.id}/review", data={"csrf_token": token, "action": "unhandled"}
    )
    assert reply.status_code == 303
    db.session.expire_all()
    assert db.session.get(CommentReview, target.id) is None


def test_a_comment_outside_the_handling_scope_is_404_from_any_page(signed_in) -> None:  # type: ignore[no-untyped-def]
    """A commune's manager may open the commune's page, but not mark a department's comment through it."""
    client = signed_in("agency_manager")  # so-tu-phap
    sibling = _commented("hoa-lu")
    own = _commented("so-tu-phap")
    token = hidden_fields(_page(client))["csrf_token"]
    for response_id in (sibling.id, 2**63 - 1):
        reply = client.post(
            f"/agency/so-tu-phap/comments/{response_id}/review", data={"csrf_token": token, "action": "handled"}
        )
        assert reply.status_code == 404
    assert db.session.get(CommentReview, sibling.id) is None
    # The province's manager reaches both; a department's manager only its own, whichever page it posts to.
    province = signed_in("province_admin")
    token = hidden_fields(_page(province, "ninh-binh"))["csrf_token"]
    for code in ("ninh-binh", "so-tu-phap"):
        reply = province.post(
            f"/agency/{code}/comments/{own.id}/review", data={"csrf_token": token, "action": "handled"}
        )
        assert reply.status_code == 303, code


@pytest.mark.parametrize(
    "hostile",
    [
        {"code": "x"},
        {"endpoint": "x"},
        {"_method": "POST"},
        {"_external": "1", "_anchor": "x", "_scheme": "x"},
    ],
    ids=["code", "endpoint", "_method", "_external"],
)
def test_url_for_names_in_the_query_are_not_links(signed_in, hostile: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    reply = client.get("/agency/ninh-binh/comments", query_string={**YEAR, "status": "unhandled", **hostile})
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    back = hidden_fields(html)["back"]
    assert back.startswith("/agency/ninh-binh/comments?") and "status=unhandled" in back
    kept = parse_qs(urlsplit(back.replace("&amp;", "&")).query)
    assert kept["status"] == ["unhandled"] and not set(hostile) & set(kept)
    cursor = html.split("before=", 1)[1].split("&", 1)[0].split('"', 1)[0]
    older = client.get(
        "/agency/ninh-binh/comments", query_string={**YEAR, "before": cursor, "status": "unhandled", **hostile}
    )
    assert older.status_code == 200
    page = older.get_data(as_text=True)
    assert 'href="/agency/ninh-binh/comments?' in page and "Ý kiến mới nhất" in page


@pytest.mark.parametrize("value", ["9" * 23, str(2**63), str(2**31), "²", "-1"])
def test_out_of_range_counter_and_field_filters_are_not_given(signed_in, value: str) -> None:  # type: ignore[no-untyped-def]
    newest = _commented("so-tu-phap")
    client = signed_in("agency_manager")
    for name in ("counter", "field", "instrument"):
        assert f'id="comment-{newest.id}"' in _page(client, **{name: value}), name
