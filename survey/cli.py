"""``flask --app wsgi …`` commands. Each command's first docstring line is its help; SQL lives in services."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Engine

from survey import migrate
from survey.admin.commands import import_volumes_command
from survey.admin.instrument_commands import export_instrument_command, import_instrument_command
from survey.db import db
from survey.services.administration import directory
from survey.services.administration.instruments import (
    InstrumentFileError,
    InstrumentLockedError,
    read_instrument_files,
    sync_instruments,
)
from survey.services.administration.posters import STYLESHEET, PosterError, agency_poster_zip
from survey.services.exports import responses as response_exports
from survey.services.exports.files import export_responses
from survey.services.exports.responses import FORMATS, ExportError, ExportPlan, ExportRequest
from survey.services.identity.users import UserError, create_user
from survey.services.notifications import digests as notification_digests
from survey.services.notifications.smtp import MailError
from survey.services.operations.demo import DemoError, last_complete_month, seed_demo
from survey.services.statistics import alerts as alert_service
from survey.services.statistics import index_cache, par_report, tallies
from survey.services.submissions.links import counter_survey_url

DEMO_LOGINS_FILE = "demo-logins.txt"

db_cli = AppGroup("db", help="Database schema: Alembic migrations.")


def _engine() -> Engine:
    assert db.engine is not None
    return db.engine


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database schema to REVISION (default: the latest)."""
    migrate.upgrade(_engine(), revision)
    click.echo(f"Database at revision {migrate.current_revision(_engine())}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database schema back to REVISION ('base' removes every table)."""
    migrate.downgrade(_engine(), revision)
    click.echo(f"Database at revision {migrate.current_revision(_engine())}.")


@db_cli.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the latest one available."""
    click.echo(f"current: {migrate.current_revision(_engine())}  head: {migrate.head_revision()}")


@click.command("load-instruments")
def load_instruments() -> None:
    """Load or update questionnaires from survey/instruments/*.toml (versions with responses are locked)."""
    try:
        specs = read_instrument_files()
        with db.write() as session:
            report = sync_instruments(session, specs)
    except (InstrumentFileError, InstrumentLockedError) as exc:
        raise click.ClickException(str(exc)) from None
    for outcome, labels in report.items():
        for label in labels:
            click.echo(f"{outcome}: {label}")


def _month(value: str | None) -> dt.date:
    if value is None:
        return last_complete_month(dt.date.today())
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM, got {value!r}", param_hint="--end-month") from None


@click.command("seed-demo")
@click.option(
    "--responses",
    "n_responses",
    type=click.IntRange(min=0),
    default=20_000,
    show_default=True,
    help="Number of synthetic responses to insert.",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed; same seed, same data.")
@click.option("--append", is_flag=True, help="Add responses to an already seeded demo province.")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the database already has agencies.")
@click.option("--end-month", default=None, help="Last month of the 12 simulated (YYYY-MM; default: last complete).")
def seed_demo_command(n_responses: int, seed: int, append: bool, if_empty: bool, end_month: str | None) -> None:
    """Build a demo province (agencies, counters, instruments, 12 months of volumes, users) and responses."""
    if if_empty and directory.agency_count():
        click.echo("Database already has data; demo seeding skipped.")
        return
    end = _month(end_month)
    with click.progressbar(length=n_responses, label="Inserting responses", file=sys.stderr) as bar:
        try:
            report = seed_demo(
                db.session, n_responses, seed, append, end, current_app.config["TIMEZONE"], progress=bar.update
            )
        except DemoError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"Seeded {report.agencies} agencies, {report.counters} counters, {report.responses:,} responses "
        f"({report.answers:,} answers) in {report.seconds:.1f} s."
    )
    if report.logins:
        path = Path(current_app.instance_path) / DEMO_LOGINS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for login in report.logins:
                fh.write(f"{login.email}\t{login.password}\t{login.role}\t{login.agency or '-'}\n")
        click.echo(f"Demo logins written to instance/{DEMO_LOGINS_FILE} (readable by you only).")


@click.command("rebuild-stats")
def rebuild_stats() -> None:
    """Recompute the sufficient-statistics tallies from the raw responses (after imports or repairs).

    In short transactions (one agency's days, up to 2,000 responses each): the survey keeps taking
    submissions while it runs.
    """
    days = tallies.agency_days(db.session)
    with click.progressbar(length=len(days), label="Rebuilding agency-days", file=sys.stderr) as bar:
        responses, answers = tallies.rebuild_in_steps(
            db.session, lambda: db.write(wait=None), progress=bar.update, days=days
        )
    index_cache.invalidate()
    click.echo(f"Rebuilt {responses:,} response tallies and {answers:,} answer tallies ({len(days):,} agency-days).")


@click.command("list-counters")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--agency", "agency_code", default=None, help="Only this agency's counters (agency code).")
@click.option(
    "--base-url",
    default=None,
    help="Public address of the server (default: SIPAS_BASE_URL, else http://127.0.0.1:$PORT).",
)
def list_counters(as_json: bool, agency_code: str | None, base_url: str | None) -> None:
    """List active counters with their survey URLs (the address in each QR code)."""
    config = dict(current_app.config)
    if base_url:
        if not base_url.startswith(("http://", "https://")) or "?" in base_url or "#" in base_url:
            raise click.ClickException(f"--base-url: expected http(s)://host[:port][/path], got {base_url!r}")
        config["BASE_URL"] = base_url.rstrip("/")
    elif config.get("BASE_URL_GUESSED"):
        click.echo(
            f"note: SIPAS_BASE_URL is not set; these URLs assume the server answers at {config['BASE_URL']} "
            "(set SIPAS_BASE_URL, PORT or --base-url to the address it serves on)",
            err=True,
        )
    rows = [
        {
            "agency": counter.agency.code,
            "agency_name": counter.agency.name_vi,
            "counter": counter.code,
            "counter_name": counter.name_vi,
            "instrument": counter.instrument.label,
            "url": counter_survey_url(config, counter),
        }
        for counter in directory.all_counters(agency_code)
    ]
    if agency_code and not rows:
        raise click.ClickException(f"no active counters for agency {agency_code!r}")
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['agency']:<28} {row['counter']:<10} {row['url']}")


@click.command("make-posters")
@click.option("--agency", "agency_code", required=True, help="Agency code whose active counters get posters.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="ZIP file to write (posters.html with one A4 page per counter, plus HTML, SVG and PNG per counter).",
)
def make_posters(agency_code: str, output: Path) -> None:
    """Write print-ready A4 QR posters for every active counter of an agency into a ZIP file."""
    assert current_app.static_folder is not None
    stylesheet = (Path(current_app.static_folder) / STYLESHEET).read_text(encoding="utf-8")
    try:
        data = agency_poster_zip(current_app.config, agency_code, stylesheet)
    except PosterError as exc:
        raise click.ClickException(str(exc)) from None
    output.write_bytes(data)
    click.echo(f"Wrote {output} ({len(data):,} bytes).")


@click.command("create-user")
@click.option("--email", required=True, help="Sign-in e-mail address.")
@click.option("--name", "display_name", required=True, help="Name shown in the interface.")
@click.option(
    "--role",
    required=True,
    help="system_admin, province_admin, agency_manager, agency_viewer, statistician or auditor.",
)
@click.option(
    "--agency",
    "agency_code",
    default=None,
    help="Agency code the role applies to (none for system_admin; an auditor without one reads the whole audit log).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of generating one.")
def create_user_command(
    email: str, display_name: str, role: str, agency_code: str | None, password_stdin: bool
) -> None:
    """Create a staff user with one role; prints a generated password once unless --password-stdin."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(15)
    try:
        user = create_user(email, display_name, password, role, agency_code)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created user {user.email} ({role}{' of ' + agency_code if agency_code else ''}).")
    if not password_stdin:
        click.echo(f"Password (shown once): {password}")


def _day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint=option) from None


@click.command("export-responses")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="File format.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write; the codebooks go beside it as FILE.codebook.md, STEM.codebook.json and STEM.ddi.xml "
    "(DDI-Codebook 2.5); with --bundle: one ZIP of the data file, codebook.md, STEM.codebook.json, codebook.json, "
    "codebook.ddi.xml, README.txt and the reproducibility pack (indices.csv, analysis.R/.sps/.do).",
)
@click.option("--agency", "agencies", multiple=True, help="Agency code: it and every agency below it (repeatable).")
@click.option("--from", "date_from", default=None, help="First local date received (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Last local date received, inclusive (YYYY-MM-DD).")
@click.option("--instrument", default=None, help="Instrument code or CODE:VERSION (default: the only one in scope).")
@click.option("--status", type=click.Choice(("valid", "excluded", "all")), default="valid", show_default=True)
@click.option("--comments", is_flag=True, help="Include the (scrubbed) free-text comments.")
@click.option("--sample", type=click.IntRange(min=1), default=None, help="Export a random sample of N responses.")
@click.option("--seed", type=int, default=None, help="Random seed of the sample (required with --sample).")
@click.option("--stratified", is_flag=True, help="Allocate the sample over agencies in proportion to their size.")
@click.option("--bundle", is_flag=True, help="Write one ZIP with the data file, both codebooks and README.")
def export_responses_command(
    fmt: str,
    output: Path,
    agencies: tuple[str, ...],
    date_from: str | None,
    date_to: str | None,
    instrument: str | None,
    status: str,
    comments: bool,
    sample: int | None,
    seed: int | None,
    stratified: bool,
    bundle: bool,
) -> None:
    """Export responses with labels, weights and design variables (CSV, Excel, SPSS or Stata) plus a codebook."""
    if sample is not None and seed is None:
        raise click.UsageError("--sample needs --seed (a stated seed makes the sample reproducible)")
    if sample is None and (seed is not None or stratified):
        raise click.UsageError("--seed and --stratified only apply with --sample")
    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    bar = None

    def opened(plan: ExportPlan) -> None:
        nonlocal bar
        bar = click.progressbar(length=plan.rows, label=f"Exporting {plan.rows:,} responses", file=sys.stderr)
        bar.__enter__()

    try:
        scope = (
            response_exports.agency_subtree(db.session, agencies)
            if agencies
            else response_exports.all_agencies(db.session)
        )
        request = ExportRequest(
            agency_ids=scope,
            format=fmt,
            date_from=start,
            date_to=end,
            instrument=instrument,
            status=status,
            comments=comments,
            sample=sample,
            seed=seed,
            stratified=stratified,
        )
        result = export_responses(
            db.session,
            request,
            output,
            bundle=bundle,
            actor="cli",
            progress=lambda n: bar.update(n) if bar else None,
            on_plan=opened,
        )
    except ExportError as exc:
        db.session.rollback()
        if exc.usage:
            raise click.UsageError(str(exc)) from None
        raise click.ClickException(str(exc)) from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(f"Wrote {result.rows:,} responses to {', '.join(result.files)} ({result.bytes:,} bytes).")


@click.command("par-report")
@click.option("--scheme", "scheme_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="PAR scheme file (see survey/par_schemes/; the shipped one is an example).")  # fmt: skip
@click.option("--instrument", required=True, help="Instrument code or CODE:VERSION.")
@click.option("--from", "date_from", required=True, help="First local date (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Last local date, inclusive (YYYY-MM-DD).")
@click.option("--agency", "agencies", multiple=True, help="Agency code: it and every agency below it (default: all).")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .xlsx file to write."
)
def par_report_command(
    scheme_path: Path, instrument: str, date_from: str, date_to: str, agencies: tuple[str, ...], output: Path
) -> None:
    """Write the PAR sociological-survey report (points, rank, comparisons with the province) as Excel."""
    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    assert start is not None and end is not None
    try:
        scope = (
            response_exports.agency_subtree(db.session, agencies)
            if agencies
            else response_exports.all_agencies(db.session)
        )
        report = par_report.par_report_xlsx(db.session, scheme_path, instrument, start, end, sorted(scope), output)
    except response_exports.ExportUsageError as exc:
        raise click.UsageError(str(exc)) from None
    except par_report.ParReportError as exc:
        raise click.ClickException(str(exc)) from None
    note = " (EXAMPLE scheme: not an official allocation)" if report.scheme.example else ""
    click.echo(f"Wrote {output}: {len(report.rows)} agencies ranked{note}.")


@click.command("purge-comments")
@click.option("--dry-run", is_flag=True, help="Count what would be blanked; change nothing.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Retention in days (default: SIPAS_COMMENT_RETENTION_DAYS).",
)
def purge_comments_command(dry_run: bool, days: int | None) -> None:
    """Blank comments older than the retention period; responses and answers stay (audit-logged)."""
    from survey.services.review.retention import purge_comments

    report = purge_comments(days or current_app.config["COMMENT_RETENTION_DAYS"], dry_run=dry_run)
    verb = "Would blank" if report.dry_run else "Blanked"
    click.echo(
        f"{verb} {report.comments:,} comments and {report.notes:,} staff notes received before "
        f"{report.cutoff:%Y-%m-%d %H:%M} UTC."
    )


@click.command("purge-exports")
def purge_exports_command() -> None:
    """Delete web export files older than 7 days and mark interrupted export jobs failed (audit-logged)."""
    from survey.services.exports import jobs

    result = jobs.purge(Path(current_app.config["EXPORT_DIR"]))
    click.echo(f"Deleted {result.files:,} expired export files; marked {result.interrupted:,} interrupted jobs failed.")


@click.command("export-worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (otherwise run until stopped).")
def export_worker_command(burst: bool) -> None:
    """Run web exports from the Redis queue (SIPAS_REDIS_URL); run one or more beside the web nodes."""
    import redis

    from survey.services.exports import queue

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException(
            "SIPAS_REDIS_URL is not set: without Redis, web exports run inside the web process and need no worker"
        )
    click.echo(f"Export worker on queue {current_app.config['EXPORT_QUEUE']!r}; stop it with Ctrl+C or SIGTERM.")
    try:
        queue.work(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]  # the real app
    except redis.RedisError as exc:
        raise click.ClickException(f"the export queue (Redis) is unreachable: {exc}") from None


# -- closing the loop: alerts and managers' mail -------------------------------------------------------------


def _mail_settings() -> notification_digests.MailSettings | None:
    config = current_app.config
    if not config.get("SMTP_URL"):
        return None
    return notification_digests.MailSettings(
        config["SMTP_URL"], config["MAIL_FROM"], config["BASE_URL"], config["SECRET_KEY"]
    )


@click.command("compute-alerts")
@click.option("--month", "month_text", default=None, help="Month to check (YYYY-MM; default: the last complete month).")
@click.option("--province", "province_code", default=None, help="Only this province (agency code).")
@click.option("--no-mail", is_flag=True, help="Store the alerts but send no message now.")
def compute_alerts_command(month_text: str | None, province_code: str | None, no_mail: bool) -> None:
    """Test every series of each province for a drop from the previous month (BH, q = 0.05); store the alerts."""
    if month_text is None:
        month = last_complete_month(dt.date.today())
    else:
        try:
            month = dt.datetime.strptime(month_text, "%Y-%m").date()
        except ValueError:
            raise click.BadParameter(f"expected YYYY-MM, got {month_text!r}", param_hint="--month") from None
    chosen = alert_service.provinces(db.session)
    if province_code is not None:
        chosen = [p for p in chosen if p.code == province_code]
        if not chosen:
            raise click.ClickException(f"no province with code {province_code!r}")
    for province in chosen:
        summary = alert_service.compute_alerts(db.session, province, month)
        click.echo(
            f"{province.code} {month:%Y-%m}: {summary.tested} series tested, {summary.alerts} alerts "
            f"({summary.new_alerts} new)."
        )
    settings = _mail_settings()
    if no_mail:
        return
    if settings is None:
        click.echo("note: SIPAS_SMTP_URL is not set; no alert was mailed", err=True)
        return
    try:
        report = notification_digests.send_alert_mails(db.session, settings)
    except MailError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Alert messages sent: {report.sent}.")


@click.command("send-digests")
@click.option("--today", "today_text", default=None, help="Run as if on this day (YYYY-MM-DD; default: today).")
def send_digests_command(today_text: str | None) -> None:
    """Send the due daily and weekly digests (each once) and any alert message not yet sent."""
    settings = _mail_settings()
    if settings is None:
        raise click.ClickException("SIPAS_SMTP_URL is not set (e.g. smtp://mail.example.vn:25)")
    try:
        today = dt.date.fromisoformat(today_text) if today_text else dt.date.today()
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {today_text!r}", param_hint="--today") from None
    try:
        alerts_sent = notification_digests.send_alert_mails(db.session, settings)
        report = notification_digests.send_digests(db.session, settings, today)
    except MailError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Digests sent: {report.sent} (already sent before: {report.skipped}); alert messages sent: {alerts_sent.sent}."
    )


def register(app: Flask) -> None:
    for command in (
        db_cli,
        load_instruments,
        import_instrument_command,
        export_instrument_command,
        seed_demo_command,
        rebuild_stats,
        list_counters,
        make_posters,
        create_user_command,
        import_volumes_command,
        export_responses_command,
        par_report_command,
        purge_exports_command,
        export_worker_command,
        purge_comments_command,
        compute_alerts_command,
        send_digests_command,
    ):
        app.cli.add_command(command)
