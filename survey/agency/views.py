"""Agency views: thin — resolve the agency in the user's scope, call one service, render."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey.agency import bp
from survey.agency.charts import interval_chart
from survey.agency.forms import ConfirmForm, CounterForm, ExcludeForm, PeriodForm
from survey.auth import agency_in_scope, requires, scope
from survey.db import db
from survey.models import Agency
from survey.services import counters as counter_service
from survey.services import dashboard, exclusions
from survey.services.posters import STYLESHEET, PosterError, agency_poster_zip, render_posters
from survey.templating import current_locale


def _period_message(code: str) -> str:
    # Listed here so the catalogue extracts them; translated when shown.
    return {
        "unknown_kind": _("Choose month, quarter, year or custom dates"),
        "bad_month": _("Enter the month as year and month, like 2026-09"),
        "bad_quarter": _("Enter the quarter as year and quarter, like 2026-Q3"),
        "bad_year": _("Enter the year as four digits, like 2026"),
        "bad_dates": _("Enter both dates as year-month-day, like 2026-09-30"),
        "end_before_start": _("The end date must be on or after the start date"),
        "too_long": _("Choose a period of at most five years"),
        "out_of_range": _("Choose a year between 2000 and 2100"),
    }.get(code, _("Choose a valid period"))


def _period_field(form: PeriodForm, code: str) -> Any:
    return {
        "bad_month": form.month,
        "bad_quarter": form.quarter,
        "bad_year": form.year,
        "bad_dates": form.date_from,
        "end_before_start": form.date_to,
        "too_long": form.date_from,
    }.get(code, form.period)


def _read_period(form: PeriodForm, agency_ids: list[int]) -> dashboard.Period | None:
    """The period asked for (errors go on the form), or the quarter of the latest response by default."""
    default_day = dashboard.latest_day(db.session, agency_ids) or dt.date.today()
    try:
        period = dashboard.parse_period(request.args, default_day)
    except dashboard.PeriodError as exc:
        field = _period_field(form, exc.code)
        field.errors = [*field.errors, _period_message(exc.code)]
        return None
    # Show the resolved period in the form, so the page says exactly what was computed.
    form.period.data = period.kind
    for name, value in period.args().items():
        if name != "period":
            getattr(form, name).data = value
    return period


def _instrument_id() -> int | None:
    raw = request.args.get("instrument", "")
    return int(raw) if raw.isdigit() else None


@bp.get("/")
@requires("view_dashboard")
def home():  # type: ignore[no-untyped-def]
    """The agencies the user may open, and the province tables they may see."""
    visible = scope("view_dashboard")
    query = select(Agency).order_by(Agency.parent_id.is_not(None), Agency.name_vi)
    if not visible.everything:
        query = query.where(Agency.id.in_(visible.filter_ids() or []))
    agencies = list(db.session.scalars(query))
    provinces = [a for a in agencies if a.parent_id is None and a.id in scope("view_province")]
    return render_template("agency/home.html", agencies=agencies, provinces=provinces)


@bp.get("/<code>/")
@requires("view_dashboard")
def overview(code: str):  # type: ignore[no-untyped-def]
    agency = agency_in_scope(code, "view_dashboard")
    form = PeriodForm(request.args)
    province = dashboard.province_of(db.session, agency)
    own = dashboard.agency_subtree_ids(db.session, province) if province.id == agency.id else [agency.id]
    period = _read_period(form, own)
    if period is None:
        return render_template("agency/overview.html", agency=agency, form=form, board=None, has_errors=True), 400
    board = dashboard.agency_dashboard(db.session, agency, period, _instrument_id(), current_locale())
    form.instrument.choices = [SelectChoice(str(c.id), f"{c.name} ({c.label})") for c in board.instruments]
    form.instrument.data = str(board.instrument.id) if board.instrument else None
    return render_template("agency/overview.html", agency=agency, form=form, board=board, has_errors=False)


@bp.get("/<code>/province")
@requires("view_province")
def province(code: str):  # type: ignore[no-untyped-def]
    agency = agency_in_scope(code, "view_province")
    if agency.parent_id is not None:
        abort(404)
    form = PeriodForm(request.args)
    ids = dashboard.agency_subtree_ids(db.session, agency)
    period = _read_period(form, ids)
    if period is None:
        return render_template("agency/province.html", agency=agency, form=form, table=None, has_errors=True), 400
    sort = request.args.get("sort", "index")
    sort = sort if sort in dashboard.SORT_KEYS else "index"
    descending = request.args.get("order", "desc" if sort != "name" else "asc") == "desc"
    table = dashboard.province_table(db.session, agency, period, _instrument_id(), sort, descending, current_locale())
    form.instrument.choices = [SelectChoice(str(c.id), f"{c.name} ({c.label})") for c in table.instruments]
    form.instrument.data = str(table.instrument.id) if table.instrument else None
    chart = interval_chart(table, current_locale()) if table.report is not None else None
    return render_template(
        "agency/province.html",
        agency=agency,
        form=form,
        table=table,
        chart=chart,
        sort=sort,
        descending=descending,
        has_errors=False,
    )


# -- counters ------------------------------------------------------------------------------------------------


@bp.get("/<code>/counters")
@requires("manage_counters")
def counters(code: str):  # type: ignore[no-untyped-def]
    agency = agency_in_scope(code, "manage_counters")
    return render_template(
        "agency/counters.html",
        agency=agency,
        counters=counter_service.counters_of(db.session, agency.id),
        confirm=ConfirmForm(),
    )


def _counter_or_404(agency: Agency, counter_id: int) -> Any:
    counter = counter_service.counter_of(db.session, agency.id, counter_id)
    if counter is None:
        abort(404)
    return counter


@bp.route("/<code>/counters/<int:counter_id>", methods=["GET", "POST"])
@requires("manage_counters")
def counter(code: str, counter_id: int):  # type: ignore[no-untyped-def]
    agency = agency_in_scope(code, "manage_counters")
    item = _counter_or_404(agency, counter_id)
    form = CounterForm(obj=None if request.method == "POST" else item)
    form.instrument.choices = [
        SelectChoice(i.id, f"{i.name(current_locale())} ({i.label})")  # type: ignore[arg-type]
        for i in counter_service.instrument_choices(db.session)
    ]
    if request.method == "GET":
        form.instrument.data = item.instrument_id
    status = 200
    if form.validate_on_submit():
        try:
            counter_service.update_counter(
                agency.id, item.id, form.name_vi.data or "", form.name_en.data, form.instrument.data, current_user.id
            )
        except counter_service.CounterError as exc:
            if exc.code == "not_found":
                abort(404)
            form.name_vi.errors = [_("Enter the counter's name in Vietnamese (at most 255 characters)")]
            status = 422
        else:
            flash(_("The counter has been saved."), "info")
            return redirect(url_for("agency.counters", code=agency.code), code=303)
    elif form.errors:
        status = 422
    return render_template(
        "agency/counter.html", agency=agency, counter=item, form=form, has_errors=bool(form.errors)
    ), status


@bp.post("/<code>/counters/<int:counter_id>/active")
@requires("manage_counters")
def counter_active(code: str, counter_id: int) -> WerkzeugResponse:
    agency = agency_in_scope(code, "manage_counters")
    form = ConfirmForm()
    if not form.validate_on_submit() or form.active.data not in ("yes", "no"):
        abort(400)
    try:
        item = counter_service.set_active(agency.id, counter_id, form.active.data == "yes", current_user.id)
    except counter_service.CounterError:
        abort(404)
    flash(
        _("The counter is open again.")
        if item.active
        else _("The counter is closed: its QR code now says it is no longer in use."),
        "info",
    )
    return redirect(url_for("agency.counters", code=agency.code), code=303)


@bp.post("/<code>/counters/<int:counter_id>/rotate-key")
@requires("manage_counters")
def counter_rotate_key(code: str, counter_id: int) -> WerkzeugResponse:
    agency = agency_in_scope(code, "manage_counters")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        counter_service.rotate_key(agency.id, counter_id, current_user.id)
    except counter_service.CounterError:
        abort(404)
    flash(_("A new QR code has been made. Old posters of this counter no longer work: print the new one."), "info")
    return redirect(url_for("agency.counters", code=agency.code), code=303)


@bp.get("/<code>/counters/<int:counter_id>/poster")
@requires("manage_counters")
def counter_poster(code: str, counter_id: int) -> str:
    agency = agency_in_scope(code, "manage_counters")
    item = _counter_or_404(agency, counter_id)
    if not item.active:
        abort(404)
    return render_posters(current_app.config, [item], url_for("static", filename=STYLESHEET))


@bp.get("/<code>/posters.zip")
@requires("manage_counters")
def posters_zip(code: str):  # type: ignore[no-untyped-def]
    agency = agency_in_scope(code, "manage_counters")
    assert current_app.static_folder is not None
    stylesheet = (Path(current_app.static_folder) / STYLESHEET).read_text(encoding="utf-8")
    try:
        data = agency_poster_zip(current_app.config, agency.code, stylesheet)
    except PosterError:
        abort(404)
    return current_app.response_class(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="posters-{agency.code}.zip"'},
    )


# -- responses -----------------------------------------------------------------------------------------------


@bp.get("/<code>/responses")
@requires("manage_counters")
def responses(code: str):  # type: ignore[no-untyped-def]
    agency = agency_in_scope(code, "manage_counters")
    page = request.args.get("page", "1")
    status = request.args.get("status") or None
    listing = exclusions.agency_responses(
        db.session, agency.id, int(page) if page.isdigit() else 1, status if status in ("valid", "excluded") else None
    )
    names = {c.id: c.name(current_locale()) for c in counter_service.counters_of(db.session, agency.id)}
    return render_template("agency/responses.html", agency=agency, listing=listing, counter_names=names, status=status)


@bp.route("/<code>/responses/<int:response_id>/exclude", methods=["GET", "POST"])
@requires("manage_counters")
def exclude(code: str, response_id: int):  # type: ignore[no-untyped-def]
    agency = agency_in_scope(code, "manage_counters")
    response = exclusions.response_of(db.session, agency.id, response_id)
    if response is None:
        abort(404)
    form = ExcludeForm()
    status = 200
    if response.status != "valid":
        return render_template("agency/exclude.html", agency=agency, response=response, form=None, has_errors=False)
    if form.validate_on_submit():
        try:
            exclusions.exclude_response(agency.id, response.id, form.reason.data or "", form.note.data, current_user.id)
        except exclusions.ExclusionError as exc:
            if exc.code == "not_found":
                abort(404)
            if exc.code == "note_required":
                form.note.errors = [_("Describe the reason in the note")]
            else:
                form.reason.errors = [_("This response can no longer be excluded")]
            status = 422
        else:
            flash(_("The response has been excluded: it no longer counts in the indices."), "info")
            return redirect(url_for("agency.responses", code=agency.code), code=303)
    elif form.errors:
        status = 422
    return render_template(
        "agency/exclude.html", agency=agency, response=response, form=form, has_errors=bool(form.errors)
    ), status
