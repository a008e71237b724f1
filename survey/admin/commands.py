"""``flask --app wsgi import-volumes FILE``: the command-line twin of the volumes page."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale

from survey.auth import Scope
from survey.db import db
from survey.services.administration.volumes import MAX_FILE_BYTES, VolumeImportError, import_volumes

#: The command line is trusted like the other administrative commands: every agency.
EVERY_AGENCY = Scope(True, frozenset())


@click.command("import-volumes")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_volumes_command(file: Path) -> None:
    """Import monthly transaction volumes from a CSV or .xlsx file (all or nothing; a month again replaces it).

    Columns: agency_code, counter_code (optional), field_code, month (YYYY-MM), count. On any problem nothing
    is imported, one line per problem is printed ("row N: reason") and the exit status is 2.
    """
    with file.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        try:
            result = import_volumes(db.session, EVERY_AGENCY, file.name, data, None)
        except VolumeImportError as exc:
            db.session.rollback()
            for row, reason in exc.problems:
                click.echo(f"{file.name}: row {row}: {reason}" if row else f"{file.name}: {reason}", err=True)
            raise SystemExit(2) from None
    months = ", ".join(f"{m:%Y-%m}" for m in result.months)
    click.echo(
        f"Imported {result.rows_imported} figures for {result.agencies_touched} agencies ({months}); "
        f"{result.months_replaced} agency-months replaced."
    )
