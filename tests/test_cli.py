"""``flask --app wsgi …`` commands, through Click's runner (and one real subprocess)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import AuditEvent, Response, User


def test_list_counters_json_has_agency_counter_and_url(runner, demo) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["list-counters", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == demo.counters
    assert {"agency", "counter", "url"} <= set(rows[0])
    assert all(row["url"].startswith("https://khaosat.example.vn/s/") for row in rows)
    assert len({row["url"] for row in rows}) == len(rows)


def test_list_counters_for_one_agency_and_unknown_agency(runner, demo) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(runner.invoke(args=["list-counters", "--json", "--agency", "hoa-lu"]).output)
    assert rows and {row["agency"] for row in rows} == {"hoa-lu"}
    result = runner.invoke(args=["list-counters", "--agency", "nowhere"])
    assert result.exit_code == 1
    assert "no active counters for agency 'nowhere'" in result.output


def test_seed_demo_refuses_a_non_empty_database_unless_appending(runner, demo) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["seed-demo", "--responses", "5"])
    assert result.exit_code == 1
    assert "already holds agencies; use --append" in result.output
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert skipped.exit_code == 0 and "skipped" in skipped.output
    before = db.session.scalar(select(func.count()).select_from(Response))
    appended = runner.invoke(args=["seed-demo", "--append", "--responses", "40", "--end-month", "2026-10"])
    assert appended.exit_code == 0, appended.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == before + 40


def test_seed_demo_rejects_a_malformed_month(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["seed-demo", "--end-month", "October"])
    assert result.exit_code == 2
    assert "expected YYYY-MM" in result.output


def test_create_user_hashes_the_password_and_audits(runner, demo) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Lan@Example.VN",
            "--name",
            "Lan",
            "--role",
            "agency_viewer",
            "--agency",
            "hoa-lu",
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "lan@example.vn"))
    assert user is not None and user.password_hash.startswith("scrypt:")
    assert "a long enough passphrase" not in user.password_hash
    assert [(r.role, r.agency_id is not None) for r in user.roles] == [("agency_viewer", True)]
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.created").order_by(AuditEvent.id.desc())
    )
    assert event is not None and event.target_id == str(user.id)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "x@example.vn", "--role", "wizard", "--agency", "hoa-lu"], "unknown role 'wizard'"),
        (["--email", "x@example.vn", "--role", "agency_viewer"], "agency_viewer needs --agency"),
        (["--email", "x@example.vn", "--role", "system_admin", "--agency", "hoa-lu"], "has no agency"),
        (["--email", "not-an-email", "--role", "system_admin"], "is not valid"),
        (["--email", "x@example.vn", "--role", "auditor", "--agency", "nowhere"], "no agency with code 'nowhere'"),
        (["--email", "admin@demo.sipas.vn", "--role", "system_admin"], "already exists"),
    ],
    ids=["unknown-role", "missing-agency", "admin-with-agency", "bad-email", "unknown-agency", "duplicate"],
)
def test_create_user_rejects_bad_input_clearly(runner, demo, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["create-user", "--name", "X", *args])
    assert result.exit_code == 1
    assert message in result.output


def test_create_user_generates_a_password_when_none_given(runner, demo) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["create-user", "--email", "g@example.vn", "--name", "G", "--role", "system_admin"])
    assert result.exit_code == 0
    assert "Password (shown once): " in result.output


def test_rebuild_stats_recomputes_the_tallies(runner, demo) -> None:  # type: ignore[no-untyped-def]
    from survey.models import AnswerTally

    db.session.query(AnswerTally).delete()
    result = runner.invoke(args=["rebuild-stats"])
    assert result.exit_code == 0, result.output
    assert "response tallies" in result.output
    assert db.session.scalar(select(func.count()).select_from(AnswerTally)) > 0


def _served_without_base_url(app, tmp_path, **env: str) -> None:  # type: ignore[no-untyped-def]
    """The app's base URL as ``flask list-counters`` run by itself would compute it (no SIPAS_BASE_URL)."""
    from survey.config import settings_from_env

    settings = settings_from_env({"SIPAS_ENV": "test", **env}, tmp_path)
    app.config.update(BASE_URL=settings["BASE_URL"], BASE_URL_GUESSED=settings["BASE_URL_GUESSED"])


def test_list_counters_says_when_its_urls_are_a_guess_and_takes_the_served_address(runner, demo, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _served_without_base_url(app, tmp_path)
    guessed = runner.invoke(args=["list-counters", "--json"])
    assert guessed.exit_code == 0, guessed.output
    assert all(row["url"].startswith("http://127.0.0.1:8000/s/") for row in json.loads(guessed.stdout))
    assert "SIPAS_BASE_URL is not set" in guessed.stderr and "http://127.0.0.1:8000" in guessed.stderr

    told = runner.invoke(args=["list-counters", "--json", "--base-url", "http://127.0.0.1:8080/"])
    assert told.exit_code == 0, told.output
    assert all(row["url"].startswith("http://127.0.0.1:8080/s/") for row in json.loads(told.stdout))
    assert told.stderr == ""
    bad = runner.invoke(args=["list-counters", "--base-url", "127.0.0.1:8080"])
    assert bad.exit_code == 1 and "--base-url: expected http(s)://" in bad.output


def test_list_counters_uses_the_configured_base_url_or_port_without_a_note(runner, demo, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _served_without_base_url(app, tmp_path, SIPAS_BASE_URL="http://10.1.2.3:9000")
    configured = runner.invoke(args=["list-counters"])
    assert configured.exit_code == 0 and configured.stderr == ""
    assert "http://10.1.2.3:9000/s/" in configured.stdout and ":8000" not in configured.stdout

    _served_without_base_url(app, tmp_path, PORT="8123")  # as make run exports it
    from_port = runner.invoke(args=["list-counters"])
    assert from_port.exit_code == 0 and from_port.stderr == ""
    assert "http://127.0.0.1:8123/s/" in from_port.stdout
