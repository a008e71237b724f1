"""The sign-in throttle rule (``ThrottleRule``), with the clock passed in: no test sleeps."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from survey.db import db
from survey.models import AuditEvent, SignInThrottle
from survey.services.identity.users import ThrottleRule, authenticate, throttle_key

SECRET = "t" * 40
T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
RULE = ThrottleRule(threshold=3, cap=dt.timedelta(minutes=8), soft_cap=6, pace=dt.timedelta(seconds=30))


def _try(email: str, password: str, client: str, at: dt.datetime, rule: ThrottleRule = RULE) -> str:
    return authenticate(email, password, client=client, secret=SECRET, rule=rule, now=at).status


def _last_reason() -> str:
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed").order_by(AuditEvent.id.desc())
    )
    assert event is not None
    return str(event.details["reason"]) + ("/" + str(event.details["by"]) if "by" in event.details else "")


def test_backoff_doubles_per_failure_up_to_the_cap(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    assert [RULE.backoff(n) for n in range(1, 3)] == [None, None]
    assert [RULE.backoff(n) for n in range(3, 9)] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 8, 8)]
    login = logins["agency_viewer"]
    at = T0
    for _ in range(RULE.threshold):
        assert _try(login.email, "wrong password", "192.0.2.1", at) == "refused"
    # Blocked for 1 minute: even the right password is refused, without being checked.
    assert _try(login.email, login.password, "192.0.2.1", at + dt.timedelta(seconds=59)) == "refused"
    assert _last_reason() == "throttled/address"
    waits = []
    for _ in range(4):
        row = db.session.scalar(
            select(SignInThrottle).where(SignInThrottle.key == throttle_key(SECRET, "pair", login.email, "192.0.2.1"))
        )
        assert row is not None and row.blocked_until is not None
        waits.append(row.blocked_until - at)
        at = row.blocked_until
        assert _try(login.email, "wrong again", "192.0.2.1", at) == "refused"
        assert _last_reason() == "bad_password"  # checked: the back-off had ended
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    # After the back-off, the right password works and the count starts again.
    row = db.session.scalar(select(SignInThrottle).where(SignInThrottle.kind == "pair", SignInThrottle.failures > 0))
    assert row is not None and row.blocked_until is not None
    assert _try(login.email, login.password, "192.0.2.1", row.blocked_until) == "ok"
    assert row.failures == 0 and row.blocked_until is None


def test_failures_from_one_address_do_not_slow_another(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["agency_viewer"]
    for _ in range(5 * RULE.threshold):
        _try(login.email, "guess", "192.0.2.66", T0)
    assert _try(login.email, login.password, "198.51.100.3", T0) == "ok"


def test_soft_cap_slows_unknown_addresses_but_not_the_users_own(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["agency_viewer"]
    usual = "203.0.113.9"
    assert _try(login.email, login.password, usual, T0) == "ok"  # the user's usual address is known
    attack = T0 + dt.timedelta(minutes=5)
    # Many addresses, each below the per-address threshold: only the account-wide count sees the attack.
    for n in range(RULE.soft_cap):
        assert _try(login.email, "guess", f"198.51.100.{n + 10}", attack) == "refused"
        assert _last_reason() == "bad_password"
    assert "auth.throttled" in set(db.session.scalars(select(AuditEvent.action)))
    # Now one check per pace for addresses the account does not know: the first takes the slot …
    assert _try(login.email, "guess", "198.51.100.200", attack) == "refused"
    assert _last_reason() == "bad_password"
    # … the next, even with the right password, waits (the same answer as every refusal) …
    assert _try(login.email, login.password, "192.0.2.200", attack + dt.timedelta(seconds=10)) == "refused"
    assert _last_reason() == "throttled/account"
    # … while the real user at their usual address signs in at once.
    assert _try(login.email, login.password, usual, attack + dt.timedelta(seconds=11)) == "ok"
    # A new address gets its turn once the pace has passed: slowed, never locked.
    assert _try(login.email, login.password, "192.0.2.200", attack + dt.timedelta(seconds=41)) == "ok"
    # The window ends: without new failures, the account is back to normal.
    later = attack + RULE.window + dt.timedelta(seconds=1)
    assert _try(login.email, "guess", "192.0.2.201", later) == "refused"
    assert _try(login.email, login.password, "192.0.2.202", later) == "ok"


def test_unknown_accounts_are_throttled_exactly_like_real_ones(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    outcomes = {}
    for email in (logins["agency_viewer"].email, "no.such.person@demo.sipas.vn"):
        steps = [_try(email, "guess", "192.0.2.9", T0) for _ in range(RULE.threshold)]
        steps.append(_try(email, "guess", "192.0.2.9", T0 + dt.timedelta(seconds=30)))
        outcomes[email] = (steps, _last_reason().split("/")[-1])
    (known_steps, known_last), (unknown_steps, unknown_last) = outcomes.values()
    assert known_steps == unknown_steps == ["refused"] * (RULE.threshold + 1)
    assert known_last == unknown_last == "address"


def test_no_address_or_e_mail_is_stored(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    _try("Someone.Else@Example.VN", "guess", "192.0.2.77", T0)
    rows = list(db.session.scalars(select(SignInThrottle)))
    assert rows and all(len(r.key) == 64 for r in rows)
    stored = " ".join(f"{r.key} {r.kind}" for r in rows)
    assert "192.0.2.77" not in stored and "someone" not in stored.lower()
    events = " ".join(str(e.details) for e in db.session.scalars(select(AuditEvent)))
    assert "192.0.2.77" not in events and "someone" not in events.lower()
