"""Agency views: thin — resolve the agency in the user's scope, call one service, render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey.agency import bp
from survey.agency.charts import ANSWER_COLOURS, distribution_chart, interval_chart, trend_chart
from survey.agency.formatting import day
from survey.agency.forms import (
    CommentFilterForm,
    CommentReviewForm,
    ConfirmForm,
    CounterForm,
    ExcludeForm,
    FeedbackChannelForm,
    KioskForm,
    PeriodForm,
)
from survey.auth import agency_in_scope, can, landing_url, requires, scope
from survey.bounded_int import parse_id, parse_page
from survey.db import db
from survey.models import Agency, Instrument, SurveyPeriod
from survey.models.agency import FEEDBACK_MAX_LENGTH, KIOSK_RESET_MAX, KIOSK_RESET_MIN
from survey.services.administration import agencies as agency_service
from survey.services.administration import counters as counter_service
from survey.services.administration import scope_queries
from survey.services.administration.directory import procedure_fields
from survey.services.administration.instruments import instrument_by_id
from survey.services.administration.posters import STYLESHEET, PosterError, agency_poster_zip, render_posters
from survey.services.review import comments as comment_service
from survey.services.review import exclusions
from survey.services.statistics import breakdowns as breakdowns_service
from survey.services.statistics import dashboard, glance
from survey.services.statistics import trends as trends_service
from survey.services.statistics.rotation_preview import BALANCE_DAYS, achieved_balance, agency_precision
from survey.services.submissions.links import kiosk_url
from survey.templating import current_locale, url_with_query


def _period_message(code: str) -> str:
    # Listed here so the catalogue extracts them; translated when shown.
    return {
        "unknown_kind": _("Choose month, quarter, year, custom dates or a survey period"),
        "bad_month": _("Enter the month as year and month, like 2026-09"),
        "bad_quarter": _("Choose a quarter from the list"),
        "bad_year": _("Choose a year from the list"),
        "bad_dates": _("Enter both dates as year-month-day, like 2026-09-30"),
        "end_before_start": _("The end date must be on or after the start date"),
        "too_long": _("Choose a period of at most five years"),
        "out_of_range": _("Choose a year between 2000 and 2100"),
        "unknown_survey_period": _("Choose one of the survey periods in the list"),
    }.get(code, _("Choose a valid period"))


def _period_field(form: PeriodForm, code: str) -> Any:
    return {
        "bad_month": form.month,
        "bad_quarter": form.quarter,
        "bad_year": form.year,
        "bad_dates": form.date_from,
        "end_before_start": form.date_to,
        "too_long": form.date_from,
        "unknown_survey_period": form.survey_period,
    }.get(code, form.period)


def _period_choices(form: PeriodForm, default_day: dt.date, named: dict[int, SurveyPeriod]) -> None:
    """Quarters and years to pick from (the five years up to the latest data), and the named survey periods."""
    last = max(default_day.year, dt.date.today().year)
    years = list(range(last, last - 6, -1))
    form.year.choices = [SelectChoice(str(y), str(y)) for y in years]
    form.quarter.choices = [
        SelectChoice(f"{y}-Q{q}", _("Quarter %(quarter)d/%(year)d", quarter=q, year=y))
        for y in years
        for q in (4, 3, 2, 1)
    ]
    form.survey_period.choices = [
        SelectChoice(str(p.id), f"{p.name} ({day(p.starts_on)} – {day(p.ends_on)})") for p in named.values()
    ]
    if named:
        form.period.choices = [*form.period.choices, SelectChoice("survey", _("Survey period"))]


def _read_period(form: PeriodForm, agency: Agency, agency_ids: list[int]) -> dashboard.Period | None:
    """The period asked for (errors go on the form), or by default the latest complete period with
    publishable figures and transaction volumes (:func:`dashboard.default_period`). What the page then
    says about it (default, provisional) is in ``g.period_status`` for the period form."""
    named = dashboard.survey_periods_for(db.session, agency)
    asked = any((request.args.get(name) or "").strip() for name in PERIOD_ARGS)
    if asked:
        default_day = dashboard.latest_day(db.session, agency_ids) or dt.date.today()
        _period_choices(form, default_day, named)
        try:
            period = dashboard.parse_period(request.args, default_day, named)
        except dashboard.PeriodError as exc:
            field = _period_field(form, exc.code)
            field.errors = [*field.errors, _period_message(exc.code)]
            return None
        g.period_status = dashboard.period_status(db.session, agency_ids, period)
    else:
        g.period_status = dashboard.default_period(db.session, agency, agency_ids)
        period = g.period_status.period
        _period_choices(form, period.end, named)
    # Show the resolved period in the form, so the page says exactly what was computed.
    form.period.data = period.kind
    for name, value in period.args().items():
        if name != "period":
            getattr(form, name).data = value
    for choices_field in (form.year, form.quarter):
        values = {str(c[0]) for c in choices_field.iter_choices()}
        if choices_field.data and choices_field.data not in values:
            # A period older than the list (e.g. from a bookmark): offer it too, so the form shows it.
            choices_field.choices = [*choices_field.choices, SelectChoice(choices_field.data, choices_field.data)]
    return period


#: Months the home's sparklines cover: each month is one province-wide report (shared by every agency of
#: the province through the report cache), so a cold home costs this many computations, not a year's.
SPARK_MONTHS = 6

#: Query arguments that choose a period: without any of them, a page opens on the default period.
PERIOD_ARGS = ("period", "month", "quarter", "year", "date_from", "date_to", "survey_period")


def _int_arg(name: str) -> int | None:
    """An id filter of the query string (counter, field, questionnaire: INTEGER columns); None if not one."""
    return parse_id(request.args.get(name))


def _instrument_id() -> int | None:
    return _int_arg("instrument")


def _own_ids(agency: Agency) -> tuple[Agency, list[int]]:
    """The agency's province and the agencies its figures cover (the whole province for the province itself)."""
    province = dashboard.province_of(db.session, agency)
    ids = dashboard.agency_subtree_ids(db.session, province) if province.id == agency.id else [agency.id]
    return province, ids


@dataclass(frozen=True)
class _PeriodPage:
    agency: Agency
    form: PeriodForm
    province: Agency
    own: list[int]
    period: dashboard.Period


def _period_page(code: str, template: str, **empty: Any) -> _PeriodPage | tuple[str, int]:
    """The agency (in scope), its period form read from the query and the period; or the page with errors (400)."""
    agency = agency_in_scope(code, "view_dashboard")
    form = PeriodForm(request.args)
    province, own = _own_ids(agency)
    period = _read_period(form, agency, own)
    if period is None:
        return render_template(template, agency=agency, form=form, **empty), 400
    return _PeriodPage(agency, form, province, own, period)


def _set_instruments(form: PeriodForm, choices: list[dashboard.InstrumentChoice], chosen: Any) -> None:
    form.instrument.choices = [SelectChoice(str(c.id), f"{c.name} ({c.label})") for c in choices]
    form.instrument.data = str(chosen.id) if chosen else None


@bp.get("/")
def home() -> ResponseReturnValue:
    """The agencies the user may open, and the province tables they may see.

    A role without dashboards (an auditor) is sent to the first page it can use instead of a 403.
    """
    if not can("view_dashboard"):
        return redirect(landing_url(), code=303)
    agencies = scope_queries.agencies_in_scope(db.session, scope("view_dashboard"))
    provinces = [a for a in agencies if a.parent_id is None and a.id in scope("view_province")]
    return render_template("agency/home.html", agencies=agencies, provinces=provinces)


@bp.get("/<code>/")
@requires("view_dashboard")
def overview(code: str) -> ResponseReturnValue:
    page = _period_page(code, "agency/overview.html", board=None, rates=None, glance=None, trend=None)
    if isinstance(page, tuple):
        return page
    agency, form, own, period = page.agency, page.form, page.own, page.period
    board = dashboard.agency_dashboard(db.session, agency, period, _instrument_id(), current_locale())
    _set_instruments(form, board.instruments, board.instrument)
    rates = breakdowns_service.response_rates(db.session, own, period, current_locale())
    trend = trends_service.agency_trend(
        db.session,
        agency,
        _trend_end(own, period),
        board.instrument.id if board.instrument else None,
        None,
        current_locale(),
        months=SPARK_MONTHS,
    )
    at_a_glance = glance.glance(db.session, board, own, trend, current_locale())
    return render_template(
        "agency/overview.html", agency=agency, form=form, board=board, rates=rates, trend=trend, glance=at_a_glance
    )


def _trend_end(own: list[int], period: dashboard.Period) -> dt.date:
    """Where a trend up to ``period`` ends: its end, but not in months without any response yet."""
    latest = dashboard.last_response_day(db.session, own)
    return min(period.end, latest) if latest is not None and latest >= period.start else period.end


@bp.get("/<code>/province")
@requires("view_province")
def province(code: str) -> ResponseReturnValue:
    agency = agency_in_scope(code, "view_province")
    if agency.parent_id is not None:
        abort(404)
    form = PeriodForm(request.args)
    ids = dashboard.agency_subtree_ids(db.session, agency)
    period = _read_period(form, agency, ids)
    if period is None:
        return render_template("agency/province.html", agency=agency, form=form, table=None), 400
    sort = request.args.get("sort", "index")
    sort = sort if sort in dashboard.SORT_KEYS else "index"
    descending = request.args.get("order", "desc" if sort != "name" else "asc") == "desc"
    table = dashboard.province_table(db.session, agency, period, _instrument_id(), sort, descending, current_locale())
    _set_instruments(form, table.instruments, table.instrument)
    chart = interval_chart(table, current_locale()) if table.report is not None else None
    narrow = interval_chart(table, current_locale(), narrow=True) if chart is not None else None
    return render_template(
        "agency/province.html",
        agency=agency,
        form=form,
        table=table,
        chart=chart,
        narrow_chart=narrow,
        sort=sort,
        descending=descending,
    )


# -- trends, breakdowns, answers, response rates -----------------------------------------------------------------


@bp.get("/<code>/trends")
@requires("view_dashboard")
def trends(code: str) -> ResponseReturnValue:
    """The index (or one element) per month over the twelve months up to the chosen period."""
    page = _period_page(code, "agency/trends.html", trend=None)
    if isinstance(page, tuple):
        return page
    agency, form, own, period = page.agency, page.form, page.own, page.period
    # Twelve months up to the period's end, but not into months without any response yet.
    trend = trends_service.agency_trend(
        db.session,
        agency,
        _trend_end(own, period),
        _instrument_id(),
        request.args.get("element"),
        current_locale(),
        quarters_if_sparse=True,
    )
    _set_instruments(form, trend.instruments, trend.instrument)
    return render_template(
        "agency/trends.html",
        agency=agency,
        form=form,
        period=period,
        trend=trend,
        chart=trend_chart(trend),
    )


def _chosen_instrument(own: list[int], period: dashboard.Period, form: PeriodForm) -> Instrument | None:
    choices = dashboard.instruments_in_use(db.session, own, period, current_locale())
    chosen = [c for c in choices if c.id == _instrument_id()] or choices[:1]
    _set_instruments(form, choices, chosen[0] if chosen else None)
    return instrument_by_id(db.session, chosen[0].id) if chosen else None


@bp.get("/<code>/breakdowns")
@requires("view_dashboard")
def breakdowns(code: str) -> ResponseReturnValue:
    """The index per counter and per field, each compared with the agency as a whole."""
    page = _period_page(code, "agency/breakdowns.html", result=None)
    if isinstance(page, tuple):
        return page
    agency, form, own, period, province = page.agency, page.form, page.own, page.period, page.province
    instrument = _chosen_instrument(own, period, form)
    is_province = province.id == agency.id
    result, agencies = None, []
    if is_province:
        # Field domains need the tallies at full grain: for a whole province that is millions of rows, too
        # many for a page, so the province page leads to each agency's breakdown instead.
        agencies = sorted(
            scope_queries.agencies_by_ids(db.session, [i for i in own if i != agency.id]),
            key=lambda a: a.name(current_locale()).casefold(),
        )
    elif instrument is not None:
        # Weights over the whole province, as the overview's report: the agency's total equals its overview figure.
        result = breakdowns_service.breakdown(
            db.session,
            own,
            instrument.id,
            period,
            current_locale(),
            weight_ids=dashboard.agency_subtree_ids(db.session, province),
        )
    return render_template(
        "agency/breakdowns.html",
        agency=agency,
        form=form,
        period=period,
        instrument=instrument,
        result=result,
        agencies=agencies,
        is_province=is_province,
    )


@bp.get("/<code>/answers")
@requires("view_dashboard")
def answers(code: str) -> ResponseReturnValue:
    """How citizens answered each criterion: shares of 1 … 5 and "not applicable"."""
    page = _period_page(code, "agency/answers.html", rows=None)
    if isinstance(page, tuple):
        return page
    agency, form, own, period = page.agency, page.form, page.own, page.period
    instrument = _chosen_instrument(own, period, form)
    rows = (
        breakdowns_service.distributions(db.session, own, instrument, period, current_locale())
        if instrument is not None
        else []
    )
    return render_template(
        "agency/answers.html",
        agency=agency,
        form=form,
        period=period,
        instrument=instrument,
        rows=rows,
        chart=distribution_chart(rows),
        colours=ANSWER_COLOURS,
    )


@bp.get("/<code>/response-rate")
@requires("view_dashboard")
def response_rate(code: str) -> ResponseReturnValue:
    """Valid responses against completed transactions, per month and per field."""
    page = _period_page(code, "agency/response_rate.html", rates=None)
    if isinstance(page, tuple):
        return page
    agency, form, own, period = page.agency, page.form, page.own, page.period
    _chosen_instrument(own, period, form)
    rates = breakdowns_service.response_rates(db.session, own, period, current_locale())
    return render_template("agency/response_rate.html", agency=agency, form=form, period=period, rates=rates)


# -- comments ------------------------------------------------------------------------------------------------


@bp.get("/<code>/comments")
@requires("view_dashboard")
def comments(code: str) -> ResponseReturnValue:
    """Citizens' comments of the period, newest first; staff who may handle them mark them handled."""
    agency = agency_in_scope(code, "view_dashboard")
    form = PeriodForm(request.args)
    filters_form = CommentFilterForm(request.args)
    _province, own = _own_ids(agency)
    period = _read_period(form, agency, own)
    counters_list = counter_service.counters_of_agencies(db.session, own)
    locale = current_locale()
    if len(own) > 1:
        # The province: counters grouped by agency (option groups), so names that repeat stay apart.
        grouped: dict[str | None, list[SelectChoice]] = {None: [SelectChoice("", _("Every counter"))]}
        for c in sorted(counters_list, key=lambda c: (c.agency.name(locale).casefold(), c.code)):
            grouped.setdefault(c.agency.name(locale), []).append(SelectChoice(str(c.id), c.name(locale)))
        filters_form.counter.choices = grouped
    else:
        filters_form.counter.choices = [SelectChoice("", _("Every counter"))] + [
            SelectChoice(str(c.id), c.name(locale)) for c in counters_list
        ]
    fields = procedure_fields()
    filters_form.field.choices = [SelectChoice("", _("Every field"))] + [
        SelectChoice(str(f.id), f.name(current_locale())) for f in fields
    ]
    if period is None:
        return render_template(
            "agency/comments.html", agency=agency, form=form, filters=filters_form, listing=None
        ), 400
    _chosen_instrument(own, period, form)
    status = request.args.get("status", "all")
    search = (request.args.get("q") or "").strip()
    if len(search) > comment_service.MAX_SEARCH_LENGTH:
        filters_form.q.errors = [_("Enter at most %(n)d characters to search for", n=comment_service.MAX_SEARCH_LENGTH)]
        return render_template(
            "agency/comments.html", agency=agency, form=form, filters=filters_form, listing=None
        ), 400
    chosen = comment_service.CommentFilter(
        status=status if status in comment_service.STATUSES else "all",
        counter_id=_int_arg("counter"),
        field_id=_int_arg("field"),
        search=search,
    )
    before = comment_service.parse_cursor(request.args.get("before"))
    listing = comment_service.comments(db.session, own, period.start, period.end, chosen, before)
    # Links carry the page's own parameters only: never the whole query string (``?endpoint=x`` must not
    # reach url_for's arguments, nor ``?_method=POST`` its method).
    query = {name: value for name in COMMENT_ARGS if (value := request.args.get(name))}
    older = listing.older
    return render_template(
        "agency/comments.html",
        agency=agency,
        form=form,
        filters=filters_form,
        period=period,
        listing=listing,
        back=_comments_url(agency, query, request.args.get("before")),
        newest_url=_comments_url(agency, query),
        older_url=_comments_url(agency, query, f"{older[0].isoformat()}.{older[1]}") if older else None,
        counter_names={c.id: c.name(current_locale()) for c in counters_list},
        field_names={f.id: f.name(current_locale()) for f in fields},
        review_form=CommentReviewForm(),
        page_size=comment_service.PAGE_SIZE,
        may_handle=agency.id in scope("handle_comments"),
    )


@bp.post("/<code>/comments/<bigint:response_id>/review")
@requires("handle_comments")
def comment_review(code: str, response_id: int) -> WerkzeugResponse:
    """Mark one comment handled (with an optional note) or unhandled; back to the same comments page."""
    agency = agency_in_scope(code, "handle_comments")
    form = CommentReviewForm()
    if not form.validate_on_submit() or form.action.data not in ("handled", "unhandled"):
        if form.note.errors:
            _flash_note_too_long()
            return redirect(_comments_back(agency, form.back.data), code=303)
        abort(400)
    try:
        # The user's scope decides, not the page's agency: the province's page lists its departments' comments.
        changed = comment_service.set_handled(
            scope("handle_comments"), response_id, form.action.data == "handled", form.note.data, current_user.id
        )
    except comment_service.CommentError as exc:
        if exc.code == "not_found":
            abort(404)
        _flash_note_too_long()
        return redirect(_comments_back(agency, form.back.data), code=303)
    if form.action.data == "handled":
        flash(_("Comment %(id)d is marked handled.", id=response_id), "info")
    elif changed:
        flash(_("Comment %(id)d is marked not handled again.", id=response_id), "info")
    return redirect(_comments_back(agency, form.back.data) + f"#comment-{response_id}", code=303)


#: The comments page's query parameters (period, questionnaire and filters), in the order links write them.
COMMENT_ARGS = ("period", "month", "quarter", "year", "date_from", "date_to", "survey_period", "instrument",
                "status", "counter", "field", "q")  # fmt: skip


def _comments_url(agency: Agency, query: dict[str, str], before: str | None = None) -> str:
    """The comments page with ``query`` (already limited to :data:`COMMENT_ARGS`) and a cursor, URL-encoded."""
    return url_with_query(
        "agency.comments", [*query.items(), *([("before", before)] if before else [])], code=agency.code
    )


def _flash_note_too_long() -> None:
    flash(_("The note is too long: write at most %(n)d characters.", n=comment_service.MAX_NOTE_LENGTH), "error")


def _comments_back(agency: Agency, back: str | None) -> str:
    """The comments page the form came from, if ``back`` is one of this agency's; else its first page."""
    base = url_for("agency.comments", code=agency.code)
    if back and back.startswith(base) and (len(back) == len(base) or back[len(base)] == "?") and "#" not in back:
        return back
    return base


# -- counters ------------------------------------------------------------------------------------------------


def _counters_page(agency: Agency, feedback: FeedbackChannelForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "agency/counters.html",
        agency=agency,
        counters=counter_service.counters_of(db.session, agency.id),
        confirm=ConfirmForm(),
        feedback=feedback,
        precision=agency_precision(db.session, agency.id),
        balance=achieved_balance(db.session, agency.id, dt.date.today() - dt.timedelta(days=BALANCE_DAYS)),
    ), status


@bp.get("/<code>/counters")
@requires("manage_counters")
def counters(code: str) -> ResponseReturnValue:
    agency = agency_in_scope(code, "manage_counters")
    feedback = FeedbackChannelForm(
        data={
            "channel_vi": agency.feedback_channel_vi,
            "channel_en": agency.feedback_channel_en,
            "url": agency.feedback_url,
        }
    )
    return _counters_page(agency, feedback)


@bp.post("/<code>/counters/feedback")
@requires("manage_counters")
def feedback_channel(code: str) -> ResponseReturnValue:
    """Where the agency's citizens can take a complaint or a suggestion (its thank-you page shows it)."""
    agency = agency_in_scope(code, "manage_counters")
    form = FeedbackChannelForm()
    if not form.validate_on_submit():
        return _counters_page(agency, form, 422)
    try:
        agency_service.set_feedback_channel(
            agency.id, form.channel_vi.data, form.channel_en.data, form.url.data, current_user.id
        )
    except agency_service.AgencyAdminError as exc:
        if exc.code == "not_found":
            abort(404)
        if exc.code == "bad_url":
            form.url.errors = [_("Enter an address beginning with https://, or leave it empty")]
        else:
            form.channel_vi.errors = [_("At most %(max)d characters", max=FEEDBACK_MAX_LENGTH)]
        return _counters_page(agency, form, 422)
    flash(_("The feedback channel has been saved: citizens see it after sending their answers."), "info")
    return redirect(url_for("agency.counters", code=agency.code), code=303)


def _counter_or_404(agency: Agency, counter_id: int) -> Any:
    counter = counter_service.counter_of(db.session, agency.id, counter_id)
    if counter is None:
        abort(404)
    return counter


def _kiosk_form(item: Any, formdata: Any = None) -> KioskForm:
    if formdata is not None:
        return KioskForm(formdata=formdata)
    return KioskForm(
        formdata=None, data={"enabled": item.kiosk_enabled, "reset_seconds": str(item.kiosk_reset_seconds)}
    )


def _counter_page(
    agency: Agency, item: Any, form: CounterForm, kiosk: KioskForm, status: int = 200
) -> ResponseReturnValue:
    locale = current_locale()
    form.field.choices = [
        SelectChoice("", _("None")),
        *(SelectChoice(f.code, f.name(locale)) for f in procedure_fields()),
    ]
    return render_template(
        "agency/counter.html",
        agency=agency,
        counter=item,
        form=form,
        kiosk_form=kiosk,
        kiosk_link=kiosk_url(current_app.config, item) if item.kiosk_enabled and item.active else None,
        confirm=ConfirmForm(),
    ), status


@bp.route("/<code>/counters/<int:counter_id>", methods=["GET", "POST"])
@requires("manage_counters")
def counter(code: str, counter_id: int) -> ResponseReturnValue:
    agency = agency_in_scope(code, "manage_counters")
    item = _counter_or_404(agency, counter_id)
    form = CounterForm(obj=None if request.method == "POST" else item)
    form.instrument.choices = [
        SelectChoice(i.id, f"{i.name(current_locale())} ({i.label})")
        for i in counter_service.instrument_choices(db.session, agency.id)
    ]
    if request.method == "GET":
        form.instrument.data = item.instrument_id
        form.field.data = item.field_code or ""
    status = 200
    if form.validate_on_submit():
        try:
            counter_service.update_counter(
                agency.id,
                item.id,
                form.name_vi.data or "",
                form.name_en.data,
                form.instrument.data,
                current_user.id,
                field_code=form.field.data,
            )
        except counter_service.CounterError as exc:
            if exc.code == "not_found":
                abort(404)
            if exc.code == "no_field":
                form.field.errors = [_("Choose a field from the list")]
            else:
                form.name_vi.errors = [_("Enter the counter's name in Vietnamese (at most 255 characters)")]
            status = 422
        else:
            flash(_("The counter has been saved."), "info")
            return redirect(url_for("agency.counters", code=agency.code), code=303)
    elif form.errors:
        status = 422
    return _counter_page(agency, item, form, _kiosk_form(item), status)


@bp.post("/<code>/counters/<int:counter_id>/kiosk")
@requires("manage_counters")
def counter_kiosk(code: str, counter_id: int) -> ResponseReturnValue:
    """Switch kiosk mode (a tablet on the counter's desk) on or off and set its reset delay."""
    agency = agency_in_scope(code, "manage_counters")
    item = _counter_or_404(agency, counter_id)
    kiosk = _kiosk_form(item, request.form)
    if kiosk.validate_on_submit():
        try:
            item = counter_service.set_kiosk(
                agency.id, item.id, bool(kiosk.enabled.data), int(kiosk.reset_seconds.data or 0), current_user.id
            )
        except counter_service.CounterError as exc:
            if exc.code == "not_found":
                abort(404)
            kiosk.reset_seconds.errors = [_kiosk_seconds_message()]
        else:
            flash(
                _("Kiosk mode is on: set up the tablet with the code below.")
                if item.kiosk_enabled
                else _("Kiosk mode is off: the tablet's link no longer works."),
                "info",
            )
            return redirect(url_for("agency.counter", code=agency.code, counter_id=item.id) + "#kiosk", code=303)
    elif kiosk.reset_seconds.errors:
        kiosk.reset_seconds.errors = [_kiosk_seconds_message()]
    form = CounterForm(obj=item)
    form.instrument.choices = [
        SelectChoice(i.id, f"{i.name(current_locale())} ({i.label})")
        for i in counter_service.instrument_choices(db.session, agency.id)
    ]
    form.instrument.data, form.field.data = item.instrument_id, item.field_code or ""
    return _counter_page(agency, item, form, kiosk, 422)


def _kiosk_seconds_message() -> str:
    return _("Enter a whole number of seconds from %(min)d to %(max)d", min=KIOSK_RESET_MIN, max=KIOSK_RESET_MAX)


@bp.post("/<code>/counters/<int:counter_id>/kiosk/new-link")
@requires("manage_counters")
def counter_kiosk_link(code: str, counter_id: int) -> WerkzeugResponse:
    """Retire the tablet's link and make a new one (a lost tablet, or one moved to another counter)."""
    agency = agency_in_scope(code, "manage_counters")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        counter_service.new_kiosk_link(agency.id, counter_id, current_user.id)
    except counter_service.CounterError:
        abort(404)
    flash(_("A new kiosk link has been made: the old one no longer works. Set up the tablet again."), "info")
    return redirect(url_for("agency.counter", code=agency.code, counter_id=counter_id) + "#kiosk", code=303)


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
def posters_zip(code: str) -> ResponseReturnValue:
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
def responses(code: str) -> ResponseReturnValue:
    agency = agency_in_scope(code, "manage_counters")
    status = request.args.get("status") or None
    listing = exclusions.agency_responses(
        db.session, agency.id, parse_page(request.args.get("page")), status if status in ("valid", "excluded") else None
    )
    names = {c.id: c.name(current_locale()) for c in counter_service.counters_of(db.session, agency.id)}
    return render_template("agency/responses.html", agency=agency, listing=listing, counter_names=names, status=status)


@bp.route("/<code>/responses/<bigint:response_id>/exclude", methods=["GET", "POST"])
@requires("manage_counters")
def exclude(code: str, response_id: int) -> ResponseReturnValue:
    agency = agency_in_scope(code, "manage_counters")
    response = exclusions.response_of(db.session, agency.id, response_id)
    if response is None:
        abort(404)
    form = ExcludeForm()
    status = 200
    if response.status != "valid":
        return render_template("agency/exclude.html", agency=agency, response=response, form=None)
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
    return render_template("agency/exclude.html", agency=agency, response=response, form=form), status
