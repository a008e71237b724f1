"""Template conventions: one error-summary macro, heading once per page, StrictUndefined, one POST helper in JS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from jinja2 import UndefinedError
from wtforms import StringField

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
PAGES = [p for p in TEMPLATES.rglob("*.html") if p.read_text(encoding="utf-8").startswith('{% extends "base.html" %}')]


class _Form(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")


def test_an_undefined_name_is_an_error_not_a_blank(app: Flask) -> None:
    with app.test_request_context("/"), pytest.raises(UndefinedError):
        render_template_string("{{ no_such_name }}")


def test_only_the_macro_writes_an_error_summary() -> None:
    pages = TEMPLATES.rglob("*.html")
    writers = [p.relative_to(TEMPLATES).as_posix() for p in pages if "error-summary" in p.read_text(encoding="utf-8")]
    assert writers == ["components/forms.html"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_a_page_names_itself_once(page: Path) -> None:
    """The heading block feeds both <title> and <h1> (base.html); a page writes an h1 only where it empties "h1"."""
    text = page.read_text(encoding="utf-8")
    assert text.count("{% block heading %}") == 1 and "{% block title %}" not in text
    if "<h1" in text or "page_head(" in text:
        assert "{% block h1 %}{% endblock %}" in text and "self.heading()" in text


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({}, False),
        ({"problem": "Wrong password"}, True),
        ({"notice": "Your session has expired"}, True),
        ({"problem": "", "problems": []}, False),  # empty problems are no errors
    ],
)
def test_the_error_prefix_follows_the_context(app: Flask, context: dict, expected: bool) -> None:
    with app.test_request_context("/"):
        assert render_template_string("{{ page_has_errors() }}", **context) == str(expected)


def test_an_error_added_after_validation_counts(app: Flask) -> None:
    """Form.errors is worked out once: an error a view appends afterwards must still make an error page."""
    with app.test_request_context("/", method="POST", data={"name": "x"}):
        form = _Form()
        assert form.validate() and not form.errors
        form.name.errors.append("Taken")
        assert render_template_string("{{ page_has_errors() }}", form=form) == "True"
        html = render_template_string(
            '{% from "components/forms.html" import error_summary %}{{ error_summary(form) }}', form=form
        )
        assert 'role="alert"' in html and '<a href="#name">Taken</a>' in html


def test_scripts_post_through_one_helper_and_read_the_token_from_the_meta_tag() -> None:
    scripts = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "static/js").glob("*.js")}
    posts = [name for name, text in scripts.items() for _ in re.finditer(r"method: \"POST\"", text)]
    assert posts == ["sw.js"]
    assert all('name="csrf_token"' not in text for text in scripts.values())
    assert '<meta name="csrf-token"' in scripts["sw.js"]
