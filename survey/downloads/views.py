"""Downloads views: thin — read the form, check the scope, call one service, render or send the file.

Exports need ``export_data`` and run as background jobs only their owner can see or download. The PAR
report needs ``view_province``: it shows what the province comparison shows (every agency's index, interval
and comparison with the province) plus the points; the schemes themselves are edited with ``manage_par``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from survey.auth import agency_in_scope, requires, scope
from survey.bounded_int import parse_int
from survey.db import db
from survey.downloads import bp
from survey.downloads.forms import MAX_SAMPLE, ExportForm, ParReportForm
from survey.form_dates import date_from_field
from survey.services.administration import scope_queries
from survey.services.administration.instruments import instrument_by_id
from survey.services.exports import codebook, responses
from survey.services.exports import jobs as export_jobs
from survey.services.exports import queue as export_queue
from survey.services.exports.responses import ExportRequest
from survey.services.statistics import dashboard, par_report
from survey.templating import current_locale

#: Seconds between automatic refreshes of a running job's page.
REFRESH_SECONDS = 3


def _export_dir() -> Path:
    return Path(current_app.config["EXPORT_DIR"])


# -- exports --------------------------------------------------------------------------------------------------


def _job_message(error: export_jobs.JobError) -> str:
    # Listed here so the catalogue extracts them; translated when shown.
    return {
        "empty_scope": _("You may not export any agency. Ask an administrator to give you access."),
        "no_data": _(
            "There are no responses matching these filters. Choose other dates, another questionnaire "
            "or other responses."
        ),
        "too_many_rows": _(
            "Too many responses for one Excel sheet (at most 1,048,575 rows). Choose CSV, SPSS or Stata, "
            "or a shorter period."
        ),
        "instrument": _("Choose one of the questionnaires in the list"),
        "format": _("Choose a file format"),
        "end_before_start": _("The end date must be on or after the start date"),
        "sample": _("Give a sample size of at least 1 and a seed"),
        "busy": _("You already have two exports running. Wait until one has finished, then start this one."),
    }.get(error.code) or _("The export cannot be made: %(reason)s", reason=error.detail)


def _fill_choices(form: ExportForm) -> None:
    allowed = scope("export_data")
    locale = current_locale()
    form.agency.choices = [
        SelectChoice(a.code, a.name(locale)) for a in scope_queries.agencies_in_scope(db.session, allowed)
    ]
    form.survey_period.choices = [SelectChoice("", _("None: use the dates below (empty = every response)"))] + [
        SelectChoice(str(p.id), f"{p.name} ({p.starts_on:%d/%m/%Y} – {p.ends_on:%d/%m/%Y})")
        for p in export_jobs.survey_periods(db.session, allowed)
    ]
    form.instrument.choices = [
        SelectChoice(f"{i.code}:{i.version}", f"{i.name(locale)} ({i.label})")
        for i in export_jobs.instrument_choices(db.session)
    ]


def _whole(field: Any, low: int, high: int, message: str) -> int | None:
    raw = (field.data or "").strip().replace(".", "").replace(",", "")
    if not raw:
        return None
    value = parse_int(raw, low, high)
    if value is None:
        field.errors = [*field.errors, message]
    return value


def _read_request(form: ExportForm) -> tuple[ExportRequest, dict[str, Any]] | None:
    """The export asked for, or None with the errors on the form's fields."""
    for field, message in (
        (form.format, _("Choose a file format")),
        (form.agency, _("Choose an agency from the list")),
        (form.instrument, _("Choose one of the questionnaires in the list")),
        (form.status, _("Choose which responses to export")),
    ):
        if field.data not in {c.value for c in field.choices}:
            field.errors = [message]
    start, end = date_from_field(form.date_from), date_from_field(form.date_to)
    period_name = None
    if form.survey_period.data:
        periods = {str(p.id): p for p in export_jobs.survey_periods(db.session, scope("export_data"))}
        period = periods.get(form.survey_period.data)
        if period is None:
            form.survey_period.errors = [_("Choose one of the survey periods in the list")]
        elif start or end or form.date_from.errors or form.date_to.errors:
            form.survey_period.errors = [_("Choose a named survey period or dates, not both")]
        else:
            start, end, period_name = period.starts_on, period.ends_on, period.name
    if start and end and end < start:
        form.date_to.errors = [*form.date_to.errors, _("The end date must be on or after the start date")]
    sample = _whole(form.sample, 1, MAX_SAMPLE, _("Enter the sample size as a whole number of at least 1"))
    seed = _whole(form.seed, 0, 2**32 - 1, _("Enter the seed as a whole number from 0 to 4294967295"))
    if sample is not None and seed is None and not form.seed.errors:
        form.seed.errors = [_("Enter a seed: it makes the sample reproducible")]
    if sample is None and not form.sample.errors and (seed is not None or form.stratified.data):
        form.sample.errors = [_("Enter a sample size, or leave the seed and stratification empty")]
    if any(field.errors for field in form):
        return None
    allowed = scope("export_data")
    subtree = responses.agency_subtree(db.session, [form.agency.data or ""])
    agency_ids = frozenset(a for a in subtree if a in allowed)
    request_ = ExportRequest(
        agency_ids=agency_ids,
        format=form.format.data or "",
        date_from=start,
        date_to=end,
        instrument=form.instrument.data,
        status=form.status.data or "",
        comments=bool(form.comments.data),
        sample=sample,
        seed=seed,
        stratified=bool(form.stratified.data) and sample is not None,
    )
    return request_, {"agency": form.agency.data, "survey_period": period_name}


#: Form fields a "repeat this export" link may fill in (the POST checks everything again).
REPEAT_FIELDS = ("format", "agency", "instrument", "status", "date_from", "date_to", "sample", "seed")


def _repeat_values() -> dict[str, Any]:
    values: dict[str, Any] = {k: request.args[k] for k in REPEAT_FIELDS if request.args.get(k)}
    values.update({k: True for k in ("comments", "stratified") if request.args.get(k) == "y"})
    return values


def repeat_args(filters: dict[str, Any], fmt: str) -> dict[str, str]:
    """Query arguments that fill the export form with a job's filters again."""
    args = {"format": fmt, **{k: str(filters[k]) for k in REPEAT_FIELDS[1:] if filters.get(k) not in (None, "")}}
    args.update({k: "y" for k in ("comments", "stratified") if filters.get(k)})
    return args


@bp.app_template_global("export_repeat_args")
def _export_repeat_args(filters: dict[str, Any], fmt: str) -> dict[str, str]:
    return repeat_args(filters, fmt)


@bp.route("/exports", methods=["GET", "POST"])
@requires("export_data")
def exports_page() -> ResponseReturnValue:
    """The export form and the user's recent responses."""
    form = ExportForm() if request.method == "POST" else ExportForm(formdata=None, data=_repeat_values())
    _fill_choices(form)
    status = 200
    if form.validate_on_submit():
        asked = _read_request(form)
        if asked is not None:
            try:
                job = export_jobs.create_job(db.session, current_user.id, *asked)
            except export_jobs.JobError as exc:
                target = getattr(form, exc.field, None) if exc.field else None
                (target or form.format).errors = [_job_message(exc)]
            else:
                export_queue.start(current_app._get_current_object(), job.public_id)  # type: ignore[attr-defined]  # the real app behind the proxy, for the job (thread or queue)
                return redirect(url_for("downloads.export_job", public_id=job.public_id), code=303)
        status = 422
    elif form.errors:
        status = 422
    return render_template(
        "downloads/exports.html",
        form=form,
        jobs=export_jobs.recent_jobs(db.session, current_user.id),
        instruments=export_jobs.instrument_choices(db.session),
    ), status


def _own_job(public_id: str) -> Any:
    job = export_jobs.job_of(db.session, public_id, current_user.id)
    if job is None:
        abort(404)
    return job


@bp.get("/exports/<public_id>")
@requires("export_data")
def export_job(public_id: str) -> ResponseReturnValue:
    """A job's progress; refreshes itself while the job runs (without JavaScript)."""
    job = export_jobs.view(_own_job(public_id))
    refresh = job.state in ("queued", "running") and request.args.get("refresh") != "off"
    return render_template("downloads/job.html", job=job, refresh=REFRESH_SECONDS if refresh else None)


@bp.get("/exports/<public_id>/file")
@requires("export_data")
def export_file(public_id: str) -> ResponseReturnValue:
    """The finished bundle, for its owner only, by the job's public id."""
    job = _own_job(public_id)
    path = export_jobs.job_file(job, _export_dir())
    if path is None:
        shown = export_jobs.view(job)
        status = 410 if shown.state == "expired" else 404
        return render_template("downloads/job.html", job=shown, refresh=None), status
    export_jobs.record_download(job, current_user.id)
    name = export_jobs.view(job).download_name
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)


@bp.get("/codebook/<int:instrument_id>")
@requires("export_data")
def codebook_page(instrument_id: int) -> ResponseReturnValue:
    """What every export of a questionnaire holds: variables, labels, answer codes, weighting and design."""
    instrument = instrument_by_id(db.session, instrument_id)
    if instrument is None:
        abort(404)
    book = codebook.instrument_codebook(instrument)
    others = export_jobs.instrument_choices(db.session)
    return render_template("downloads/codebook.html", book=book, instruments=others)


# -- the PAR report -------------------------------------------------------------------------------------------


@bp.get("/par")
@requires("view_province")
def par_index() -> ResponseReturnValue:
    """The provinces (and ministries) whose PAR report the user may open."""
    return render_template(
        "downloads/par_index.html", provinces=scope_queries.provinces_in_scope(db.session, scope("view_province"))
    )


def _par_inputs(code: str, form: ParReportForm) -> dict[str, Any]:
    """Resolve province, year, instrument and scheme; ``error`` says what is missing, ``status`` the code."""
    agency = agency_in_scope(code, "view_province")
    if agency.parent_id is not None:
        abort(404)
    ids = dashboard.agency_subtree_ids(db.session, agency)
    out: dict[str, Any] = {"agency": agency, "ids": ids, "report": None, "error": None, "status": 200}
    raw = (form.year.data or "").strip()
    if raw:
        parsed = parse_int(raw, 2000, 2100)
        if parsed is None:
            form.year.errors = [_("Enter the year as four digits, like 2026")]
            out["status"] = 422
            return out
        year = parsed
    else:
        year = (dashboard.latest_day(db.session, ids) or dt.date.today()).year
    form.year.data = str(year)
    period = dashboard.Period("year", dt.date(year, 1, 1), dt.date(year, 12, 31))
    out["period"] = period
    choices = dashboard.instruments_in_use(db.session, ids, period, current_locale())
    form.instrument.choices = [SelectChoice(str(c.id), f"{c.name} ({c.label})") for c in choices]
    wanted = (form.instrument.data or "").strip()
    chosen = next((c for c in choices if str(c.id) == wanted), choices[0] if choices else None)
    if wanted and (chosen is None or str(chosen.id) != wanted):
        form.instrument.errors = [_("Choose one of the questionnaires in the list")]
        out["status"] = 422
        return out
    try:
        out["chosen"] = par_report.scheme_for(db.session, agency, year)
    except par_report.ParReportError as exc:
        out["error"] = _("The PAR scheme for this year cannot be read: %(reason)s", reason=str(exc))
        return out
    if chosen is None:
        out["error"] = _("There are no responses in %(year)s for this province.", year=year)
        return out
    form.instrument.data = str(chosen.id)
    out["instrument_id"] = chosen.id
    try:
        out["report"] = par_report.build_par_report(
            db.session, out["chosen"].scheme, chosen.id, period.start, period.end, ids
        )
    except par_report.ParReportError as exc:
        out["error"] = _("No PAR report can be made for this year and questionnaire: %(reason)s", reason=str(exc))
    return out


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _par_rows(report: par_report.ParReport) -> list[dict[str, Any]]:
    """The report's rows for the page: numbers as numbers (formatted by the template), agency names localised."""
    by_code = {a.code: a for a in scope_queries.agencies_by_ids(db.session, report.scored)}
    locale = current_locale()
    rows = []
    for raw in report.rows:
        row = dict(zip(report.headers, raw, strict=True))
        agency = by_code.get(row["agency"])
        rows.append(
            {
                "rank": row["rank"],
                "code": row["agency"],
                "name": agency.name(locale) if agency else row["agency_name"],
                "index": _finite(row["index_pct"]),
                "ci": (_finite(row["index_ci_low_pct"]), _finite(row["index_ci_high_pct"])),
                "n": row["n"],
                "flags": [f for f in str(row["flags"]).split(", ") if f],
                "points": [_finite(row[f"points_{c.code}"]) for c in report.scheme.scheme.criteria],
                "total": _finite(row["total_points"]),
                "total_ci": (_finite(row["total_ci_low"]), _finite(row["total_ci_high"])),
                "vs_province": row["vs_province"],
                "p": _finite(row["p_vs_province"]),
            }
        )
    return rows


@bp.get("/par/<code>")
@requires("view_province")
def par_report_page(code: str) -> ResponseReturnValue:
    """The PAR sociological-survey report of a province: printable, downloadable as Excel."""
    form = ParReportForm(request.args)
    got = _par_inputs(code, form)
    report = got["report"]
    return render_template(
        "downloads/par_report.html",
        form=form,
        rows=_par_rows(report) if report else [],
        **got,
    ), got["status"]


@bp.get("/par/<code>/report.xlsx")
@requires("view_province")
def par_report_xlsx(code: str) -> ResponseReturnValue:
    """The same report as an Excel workbook (report and method sheets); audit-logged."""
    form = ParReportForm(request.args)
    got = _par_inputs(code, form)
    report = got["report"]
    if report is None:
        return render_template("downloads/par_report.html", form=form, rows=[], **got), (
            got["status"] if got["status"] != 200 else 404
        )
    data = par_report.par_report_bytes(report)
    period = got["period"]
    par_report.record_generated(report, period.start, period.end, actor="web", actor_user_id=current_user.id)
    name = f"par-{got['agency'].code}-{period.start.year}.xlsx"
    return current_app.response_class(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
