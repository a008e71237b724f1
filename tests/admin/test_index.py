"""The administration home page lists what the signed-in role may manage; the navigation links to it."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest


@pytest.mark.parametrize(
    ("role", "status", "present", "absent"),
    [
        (
            "system_admin",
            200,
            ["/admin/volumes", "/admin/users", "/admin/agencies", "/admin/periods", "/admin/audit"],
            [],
        ),
        (
            "province_admin",
            200,
            ["/admin/volumes", "/admin/users", "/admin/agencies", "/admin/periods"],
            ["/admin/audit"],
        ),
        ("agency_manager", 200, ["/admin/volumes", "/admin/users"], ["/admin/agencies", "/admin/periods"]),
        ("auditor", 200, ["/admin/audit"], ["/admin/users", "/admin/volumes"]),
        ("statistician", 403, [], []),
        ("agency_viewer", 403, [], []),
    ],
)
def test_index_per_role(signed_in, role, status, present, absent) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(role)
    reply = client.get("/admin/")
    assert reply.status_code == status
    body = reply.get_data(as_text=True)
    for href in present:
        assert f'href="{href}"' in body, href
    for href in absent:
        assert f'href="{href}"' not in body, href
    home = client.get("/auth/password").get_data(as_text=True)
    assert ('href="/admin/"' in home) == (status == 200)


def test_index_in_both_languages(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    assert "<h1>Quản trị</h1>" in client.get("/admin/?lang=vi").get_data(as_text=True)
    english = client.get("/admin/?lang=en").get_data(as_text=True)
    assert "<h1>Administration</h1>" in english and "Users and roles" in english


def test_anonymous_users_are_sent_to_sign_in(staff_app) -> None:  # type: ignore[no-untyped-def]
    reply = staff_app.test_client().get("/admin/")
    assert reply.status_code == 302 and "/auth/sign-in" in reply.headers["Location"]


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.forms_without_action = 0
        self.h1 = ""
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "form" and not values.get("action"):
            self.forms_without_action += 1
        self._in_h1 = tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1 += data


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_admin_pages_are_well_formed(signed_in, logins, lang: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from survey.db import db
    from survey.models import User

    client = signed_in("system_admin")
    viewer = db.session.scalar(select(User).where(User.email == logins["agency_viewer"].email))
    assert viewer is not None
    for url in [
        "/admin/",
        "/admin/volumes",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{viewer.id}",
        "/admin/agencies",
        "/admin/agencies/new",
        "/admin/agencies/hoa-lu",
        "/admin/periods",
        "/agency/hoa-lu/counters/new",
    ]:
        reply = client.get(f"{url}?lang={lang}")
        html = reply.get_data(as_text=True)
        assert reply.status_code == 200, url
        page = _Structure()
        page.feed(html)
        assert page.tags.count("h1") == 1, url
        assert f"<title>{page.h1.strip()} – SIPAS</title>" in html, url
        assert page.tags.count("table") == page.tags.count("caption"), url
        assert page.tags.count("fieldset") == page.tags.count("legend"), url
        assert page.forms_without_action == 0, url
        assert len(page.ids) == len(set(page.ids)), (url, sorted(i for i in page.ids if page.ids.count(i) > 1))
