"""PAR schemes per province (or ministry) and year: list, start from the shipped example, edit as a whole.

Needs ``manage_par``; a province outside the user's scope answers 404. The service validates the whole
scheme (the same validator as the scheme files) before anything is stored, and audit-logs every change.
"""

from __future__ import annotations

import math

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from survey.admin import bp
from survey.auth import agency_in_scope, requires, scope
from survey.bounded_int import parse_int
from survey.db import db
from survey.models import Agency
from survey.services.administration import scope_queries
from survey.services.identity import users
from survey.services.statistics import par_report
from survey.templating import current_locale

#: Empty criterion rows offered under the filled ones.
BLANK_ROWS = 2
MAX_CRITERIA = 30


class StartForm(FlaskForm):
    province = SelectField(_l("Province or ministry"), choices=[], validators=[DataRequired(_l("Choose a province"))])
    year = StringField(
        _l("Year (YYYY)"), validators=[DataRequired(_l("Enter the year as four digits, like 2026")), Length(max=4)]
    )


class CriterionForm(Form):
    """One row of the criteria table (a sub-form: the page's CSRF token covers it)."""

    code = StringField(_l("Code"), validators=[Optional(), Length(max=40)])
    name_vi = StringField(_l("Name in Vietnamese"), validators=[Optional(), Length(max=300)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=300)])
    max_points = StringField(_l("Maximum points"), validators=[Optional(), Length(max=12)])
    index = SelectField(_l("Fed by the index"), choices=[], validate_choice=False)
    conversion = SelectField(
        _l("Conversion"),
        choices=[SelectChoice("linear", _l("Linear: points = maximum × index"))],
        default="linear",
        validate_choice=False,
    )
    remove = BooleanField(_l("Remove this criterion"))


class SchemeForm(FlaskForm):
    title_vi = StringField(_l("Title in Vietnamese"), validators=[Optional(), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=300)])
    source = StringField(
        _l("Source: decision number and date (e.g. 123/QĐ-UBND of 15/01/2026)"),
        validators=[Optional(), Length(max=300)],
    )
    example = BooleanField(_l("This is an example, not the official allocation"))
    criteria = FieldList(FormField(CriterionForm), min_entries=0, max_entries=MAX_CRITERIA)


def _provinces() -> list[Agency]:
    return scope_queries.provinces_in_scope(db.session, scope("manage_par"))


def _year(raw: str | None) -> int | None:
    return parse_int((raw or "").strip(), 2000, 2100)


def _province(code: str) -> Agency:
    agency = agency_in_scope(code, "manage_par")
    if agency.parent_id is not None:
        abort(404)
    return agency


def _list_page(start: StartForm, status: int = 200) -> ResponseReturnValue:
    provinces = _provinces()
    by_id = {p.id: p for p in provinces}
    records = par_report.stored_schemes(db.session, list(by_id))
    editors = users.display_names(db.session, {r.updated_by_id for r in records if r.updated_by_id})
    rows = []
    for record in records:
        try:
            parsed = par_report.parse_scheme(record.definition, f"{by_id[record.agency_id].code} {record.year}")
        except par_report.ParReportError:
            parsed = None
        rows.append({"record": record, "agency": by_id[record.agency_id], "scheme": parsed})
    return render_template("admin/par_list.html", rows=rows, start=start, editors=editors), status


def _start_form() -> StartForm:
    form = StartForm()
    locale = current_locale()
    form.province.choices = [SelectChoice(p.code, p.name(locale)) for p in _provinces()]
    return form


@bp.get("/par")
@requires("manage_par")
def par_schemes() -> ResponseReturnValue:
    """Stored schemes by province and year, and the form that starts a new one from the example."""
    return _list_page(_start_form())


@bp.post("/par/new")
@requires("manage_par")
def par_scheme_new() -> ResponseReturnValue:
    """Store a copy of the shipped example for a province and year (marked example), then edit it."""
    form = _start_form()
    if not form.validate_on_submit():
        return _list_page(form, 422)
    year = _year(form.year.data)
    if year is None:
        form.year.errors = [_("Enter the year as four digits, like 2026")]
        return _list_page(form, 422)
    agency = _province(form.province.data or "")
    try:
        par_report.create_from_example(agency, year, current_user.id)
    except par_report.SchemeExistsError:
        form.year.errors = [_("A scheme for this province and year already exists: edit it in the list below")]
        return _list_page(form, 409)
    flash(_("The example scheme was copied. Enter the official criteria and points, then save."), "info")
    return redirect(url_for("admin.par_scheme_edit", code=agency.code, year=year), code=303)


def _index_choices() -> list[SelectChoice]:
    locale = current_locale()
    targets = par_report.index_targets(db.session)
    return [
        SelectChoice(code, f"{names[0] if locale == 'vi' else names[1]} ({code})") for code, names in targets.items()
    ]


def _fill(form: SchemeForm, scheme: par_report.SchemeFile) -> None:
    draft = par_report.scheme_draft(scheme)
    form.title_vi.data, form.title_en.data, form.source.data = draft.title_vi, draft.title_en, draft.source
    form.example.data = draft.example
    for c in draft.criteria:
        form.criteria.append_entry(
            {
                "code": c.code,
                "name_vi": c.name_vi,
                "name_en": c.name_en,
                "max_points": f"{c.max_points:g}",
                "index": c.index,
                "conversion": c.conversion,
            }
        )


def _points(raw: str) -> float | None:
    text = raw.strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # Vietnamese decimal comma: 1,5
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _read_draft(form: SchemeForm, agency: Agency, year: int) -> par_report.SchemeDraft | None:
    """The scheme entered, or None with each problem on its field."""
    criteria: list[par_report.CriterionDraft] = []
    known = {c.value for c in _index_choices()}
    seen: set[str] = set()
    for entry in form.criteria:
        row = entry.form
        values = [row.code.data, row.name_vi.data, row.name_en.data, row.max_points.data]
        if row.remove.data or not any((v or "").strip() for v in values):
            continue
        code = (row.code.data or "").strip()
        if not par_report.CODE_PATTERN.fullmatch(code):
            row.code.errors = [_("Enter a code of lower-case letters, digits or _ (at most 40)")]
        elif code in seen:
            row.code.errors = [_("Each criterion needs its own code")]
        seen.add(code)
        if not (row.name_vi.data or "").strip():
            row.name_vi.errors = [_("Enter the criterion's name in Vietnamese")]
        points = _points(row.max_points.data or "")
        if points is None or not 0 < points <= par_report.MAX_CRITERION_POINTS:
            row.max_points.errors = [_("Enter the maximum points as a number above 0 and at most 100, like 1,5")]
        if row.index.data not in known:
            row.index.errors = [_("Choose the index that feeds this criterion")]
        if row.conversion.data not in par_report.CONVERSIONS:
            row.conversion.errors = [_("Choose a conversion")]
        if not any(f.errors for f in row):
            criteria.append(
                par_report.CriterionDraft(
                    code=code,
                    name_vi=(row.name_vi.data or "").strip(),
                    name_en=(row.name_en.data or "").strip() or (row.name_vi.data or "").strip(),
                    max_points=float(points or 0),
                    index=row.index.data or "",
                    conversion=row.conversion.data or "linear",
                )
            )
    if any(f.errors for f in form if f.name != "criteria") or any(
        field.errors for entry in form.criteria for field in entry.form
    ):
        return None
    return par_report.SchemeDraft(
        jurisdiction=agency.code,
        year=year,
        example=bool(form.example.data),
        title_vi=(form.title_vi.data or "").strip(),
        title_en=(form.title_en.data or "").strip(),
        source=(form.source.data or "").strip(),
        criteria=tuple(criteria),
    )


@bp.route("/par/<code>/<int:year>", methods=["GET", "POST"])
@requires("manage_par")
def par_scheme_edit(code: str, year: int) -> ResponseReturnValue:
    """Edit a stored scheme as a whole: criteria rows, example flag, source. Saved only if all of it is valid."""
    agency = _province(code)
    record = par_report.stored_scheme(db.session, agency.id, year)
    if record is None:
        abort(404)
    problem = None
    status = 200
    if request.method == "POST":
        form = SchemeForm()
        if form.validate_on_submit():
            draft = _read_draft(form, agency, year)
            if draft is not None and not draft.criteria:
                problem = _("Enter at least one criterion")
            elif draft is not None:
                try:
                    par_report.save_scheme(agency, year, draft, current_user.id)
                except par_report.ParReportError as exc:
                    problem = _("The scheme is not valid: %(reason)s", reason=str(exc))
                else:
                    flash(_("The PAR scheme was saved."), "info")
                    return redirect(url_for("admin.par_scheme_edit", code=agency.code, year=year), code=303)
        status = 422
    else:
        form = SchemeForm(formdata=None)
        try:
            _fill(form, par_report.parse_scheme(record.definition, f"{agency.code} {year}"))
        except par_report.ParReportError as exc:
            problem = _("The stored scheme cannot be read: %(reason)s", reason=str(exc))
        for _blank in range(BLANK_ROWS):
            form.criteria.append_entry()
    choices = _index_choices()
    for entry in form.criteria:
        entry.form.index.choices = choices
    editor = users.user_by_id(db.session, record.updated_by_id) if record.updated_by_id else None
    return render_template(
        "admin/par_edit.html",
        form=form,
        agency=agency,
        year=year,
        record=record,
        editor=editor,
        problem=problem,
    ), status
