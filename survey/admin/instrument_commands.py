"""``flask --app wsgi import-instrument FILE`` and ``export-instrument CODE:VERSION``: questionnaires in and out.

An XLSForm (KoboToolbox, ODK) or a data file in the repository's TOML format goes through the same validator
as ``flask load-instruments``; importing an exported file gives the same version (the same digest).
"""

from __future__ import annotations

from pathlib import Path

import click

from survey.admin.commands import EVERY_AGENCY
from survey.db import db
from survey.services.administration.instrument_authoring import AuthoringError, save_draft
from survey.services.administration.instrument_documents import (
    MAX_FILE_BYTES,
    UnknownInstrumentError,
    XLSFormError,
    export_document,
    import_document,
    read_document,
)
from survey.services.administration.instruments import InstrumentFileError, InstrumentLockedError


@click.command("import-instrument")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--draft", is_flag=True, help="Store it as a draft (previewed and published on /admin/questionnaires).")
def import_instrument_command(file: Path, draft: bool) -> None:
    """Store a questionnaire version from an XLSForm (.xlsx) or a data file (.toml), published unless --draft.

    Every problem is printed on its own line with its sheet and row, nothing is stored, and the exit status
    is 2. A version that already has responses cannot be changed: publish the change as a new version.
    """
    with file.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    try:
        spec = read_document(file.name, data)
        if draft:
            instrument, replaced = save_draft(EVERY_AGENCY, None, file.name, data)
            outcome, label = ("draft replaced" if replaced else "draft saved"), instrument.label
        else:
            outcome, label = import_document(spec)
    except XLSFormError as exc:
        for problem in exc.problems:
            click.echo(f"{file.name}: {problem}", err=True)
        raise SystemExit(2) from None
    except (InstrumentFileError, InstrumentLockedError) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2) from None
    except AuthoringError as exc:
        why = (
            f"published: save the change as version {exc.count}" if exc.code == "frozen" else exc.code.replace("_", " ")
        )
        click.echo(f"{file.name}: {spec.code} v{spec.version} is not saved: {why}", err=True)
        raise SystemExit(2) from None
    click.echo(
        f"{outcome}: {label} ({len(spec.items)} criteria in {len(spec.elements)} elements, digest {spec.digest()[:12]})"
    )


@click.command("export-instrument")
@click.argument("version")
@click.option(
    "--format",
    "kind",
    type=click.Choice(["xlsform", "toml"]),
    default="xlsform",
    show_default=True,
    help="xlsform: an .xlsx for KoboToolbox/ODK; toml: a data file for survey/instruments/.",
)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
def export_instrument_command(version: str, kind: str, output: Path) -> None:
    """Write the questionnaire VERSION (CODE:VERSION, or CODE for its latest version) as an XLSForm or TOML file."""
    try:
        instrument, data = export_document(db.session, version, kind)
    except UnknownInstrumentError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2) from None
    output.write_bytes(data)
    click.echo(f"Wrote {instrument.label} to {output} ({len(data):,} bytes, {kind}).")
