"""Writing a response export: the data file and its two codebooks (or a ZIP bundle of them), then the audit event.

Beside a data file ``export.csv`` go ``export.csv.codebook.md`` (for people), ``export.codebook.json``
(for programs, ``analytics.codebook_file``) and ``export.ddi.xml`` (DDI-Codebook 2.5, :mod:`~.ddi`); a bundle
holds ``<stem>/<data file>``, ``<stem>/codebook.md``, ``<stem>/<stem>.codebook.json`` (again as
``<stem>/codebook.json``), ``<stem>/codebook.ddi.xml`` and ``<stem>/README.txt``, and (unless it is a subsample)
the reproducibility pack: ``<stem>/indices.csv`` (:mod:`~survey.services.exports.indices_file`),
``<stem>/analysis.R`` and ``analysis.sps``/``analysis.do`` as the format calls for
(:mod:`~survey.services.exports.scripts`). The codebooks' frequencies are counted from the file's own cells
as they are written (:class:`~survey.services.exports.study.Tally`).
Everything is written to temporary files beside the output and renamed into place at the end, so a failed
export leaves nothing behind. The plan comes from :mod:`survey.services.exports.responses`, the bytes from
:mod:`~survey.services.exports.formats`, the codebooks from :mod:`~survey.services.exports.codebook`; this
module is the only one that needs all three.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from analytics.codebook_file import codebook_name
from survey.db import db
from survey.services.exports import codebook, ddi, formats, indices_file, scripts
from survey.services.exports.responses import (
    EXTENSIONS,
    ExportPlan,
    ExportRequest,
    ExportUsageError,
    Progress,
    plan_export,
)
from survey.services.exports.study import Tally, describe_study
from survey.services.identity import audit


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    bytes: int
    files: tuple[str, ...]
    plan: ExportPlan


def _output_names(plan: ExportPlan) -> tuple[str, str]:
    ins = plan.instrument
    stem = f"sipas-responses-{ins.code}-v{ins.version}-{plan.date_from:%Y%m%d}-{plan.date_to:%Y%m%d}"
    return stem, stem + EXTENSIONS[plan.request.format]


def _temp_beside(path: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    return Path(name)


def export_responses(
    session: Session,
    request: ExportRequest,
    output: Path,
    *,
    bundle: bool = False,
    actor: str = "cli",
    actor_user_id: int | None = None,
    software_version: str = "",
    progress: Progress | None = None,
    on_plan: Callable[[ExportPlan], None] | None = None,
) -> ExportResult:
    """Write the export to ``output`` (a data file plus ``<output>.codebook.md``, ``<output stem>.codebook.json``
    and ``<output stem>.ddi.xml``, or one ZIP with ``bundle``).

    Everything is written to temporary files beside ``output`` and renamed into place at the end, so a
    failed export leaves nothing behind; the export is then recorded in the audit log.
    """
    output = Path(output)
    if not output.parent.is_dir():
        raise ExportUsageError(f"the directory {output.parent} does not exist")
    plan = plan_export(session, request)
    if on_plan:
        on_plan(plan)
    stem, data_name = _output_names(plan)
    data_tmp = _temp_beside(output, EXTENSIONS[request.format])
    temps: list[Path] = [data_tmp]
    try:
        tally = Tally(plan.columns)
        written = formats.write(request.format, data_tmp, session, plan, progress=progress, observe=tally)
        study = describe_study(session, plan, tally)
        software = codebook.software_versions(software_version)
        if bundle:
            text = codebook.codebook_markdown(
                plan, written, data_name, software_version, study=study, ddi_name=ddi.BUNDLE_NAME
            )
            book_json = codebook.codebook_json_text(plan, written, data_name, software_version, study=study)
            temps.append(zip_tmp := _temp_beside(output, ".zip"))
            with zipfile.ZipFile(zip_tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.write(data_tmp, f"{stem}/{data_name}")
                zf.writestr(f"{stem}/codebook.md", text)
                zf.writestr(f"{stem}/{codebook_name(data_name)}", book_json)
                pack = {
                    "codebook.json": book_json,
                    ddi.BUNDLE_NAME: ddi.ddi_xml_text(plan, study, data_name, software),
                    **_reproducibility_pack(session, plan, data_name),
                }
                zf.writestr(f"{stem}/README.txt", codebook.readme(plan, data_name, pack=list(pack)))
                for name, content in pack.items():
                    zf.writestr(f"{stem}/{name}", content)
            data_tmp.unlink()
            os.replace(zip_tmp, output)
            files: tuple[str, ...] = (str(output),)
        else:
            json_path = output.with_name(codebook_name(output.name))
            ddi_path = output.with_name(ddi.ddi_name(output.name))
            text = codebook.codebook_markdown(
                plan,
                written,
                output.name,
                software_version,
                json_name=json_path.name,
                study=study,
                ddi_name=ddi_path.name,
            )
            book_json = codebook.codebook_json_text(plan, written, output.name, software_version, study=study)
            book = output.with_name(output.name + ".codebook.md")
            temps.append(md_tmp := _temp_beside(output, ".md"))
            md_tmp.write_text(text, encoding="utf-8")
            temps.append(json_tmp := _temp_beside(output, ".json"))
            json_tmp.write_text(book_json, encoding="utf-8")
            temps.append(ddi_tmp := _temp_beside(output, ".xml"))
            ddi_tmp.write_text(ddi.ddi_xml_text(plan, study, output.name, software), encoding="utf-8")
            os.replace(data_tmp, output)
            os.replace(md_tmp, book)
            os.replace(json_tmp, json_path)
            os.replace(ddi_tmp, ddi_path)
            files = (str(output), str(book), str(json_path), str(ddi_path))
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    size = output.stat().st_size
    _audit(plan, actor, actor_user_id, bundle, written)
    return ExportResult(output, written, size, files, plan)


def _reproducibility_pack(session: Session, plan: ExportPlan, data_name: str) -> dict[str, str]:
    """``indices.csv`` (the published figures of the scope) and ``analysis.R``, which recomputes them from the
    data file; nothing for a subsample or an export without valid responses (the file cannot reproduce them)."""
    if not indices_file.applies(plan):
        return {}
    try:
        report = indices_file.published_report(session, plan)
    except LookupError:  # e.g. status "all" with excluded responses only
        return {}
    return {
        indices_file.FILE_NAME: indices_file.indices_csv(plan, report),
        **scripts.scripts_for(plan, data_name),
    }


def _audit(plan: ExportPlan, actor: str, actor_user_id: int | None, bundle: bool, rows: int) -> None:
    """One audit event per export: who, scope, filters, row count (the read transaction ends first)."""
    with db.write() as write_session:
        audit.record(
            write_session,
            "responses.exported",
            actor_user_id=actor_user_id,
            target_type="instrument",
            target_id=plan.instrument.label,
            agency_id=audit.common_agency(write_session, plan.request.agency_ids),
            details={
                "actor": actor,
                "format": plan.request.format,
                "bundle": bundle,
                "rows": rows,
                "filters": plan.filters(),
                "weighting": plan.weights.weighting,
            },
        )
