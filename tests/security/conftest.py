"""Helpers for the security tests: every rule of the URL map with placeholder values for its arguments."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from flask import Flask, url_for
from werkzeug.routing import Rule
from werkzeug.routing.converters import IntegerConverter, UUIDConverter


def placeholder_url(app: Flask, rule: Rule, known: dict[str, object] | None = None) -> str:
    """A URL for ``rule``: ``known`` values first, else something its converters accept."""
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)  # noqa: SLF001  (werkzeug keeps them per rule)
        if known and name in known:
            values[name] = known[name]
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, UUIDConverter):
            values[name] = uuid.UUID(int=1)
        else:
            values[name] = "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def rules(app: Flask, method: str) -> Iterator[Rule]:
    """Every rule answering ``method``, in a stable order (static files left out)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint != "static" and method in (rule.methods or set()):
            yield rule
