"""Versions compare only through criteria both ask one-to-one; the ward form shares 7 with the 22-criterion one."""

from __future__ import annotations

from sqlalchemy import select

from survey.db import db
from survey.models import Instrument
from survey.services.statistics.comparability import compare_versions


def _version(code: str) -> Instrument:
    return db.session.scalars(select(Instrument).where(Instrument.code == code)).one()


def test_the_ward_form_compares_with_the_22_criteria_on_7_and_never_on_the_overall_index(demo) -> None:  # type: ignore[no-untyped-def]
    ward, full = _version("sipas-ward-2026"), _version("sipas-2017")
    comparison = compare_versions(ward, full)
    assert comparison.n_criteria == 7
    assert [national for national, _, _ in comparison.pairs] == ["c10", "c15", "c16", "c19", "c20", "c21", "c22"]
    assert ("c10", "w01", "q10") in comparison.pairs
    # The merged statements (#12–14, #17–18) are criteria of their own.
    assert "w02" not in {a for _, a, _ in comparison.pairs} and "w05" not in {a for _, a, _ in comparison.pairs}
    assert comparison.elements == ("civil_servants", "results", "feedback")
    assert comparison.pairs_in("results", ward) == (("c16", "w04", "q16"),)
    assert comparison.overall is False  # access and procedures are not asked by the ward form
    assert compare_versions(full, ward).n_criteria == 7


def test_a_version_compares_with_itself_everywhere_and_unmapped_versions_nowhere(demo) -> None:  # type: ignore[no-untyped-def]
    full = _version("sipas-2017")
    itself = compare_versions(full, full)
    assert itself.n_criteria == 22 and itself.overall is True and len(itself.elements) == 5
    services = _version("sipas-2022-services")
    nothing = compare_versions(services, full)
    assert nothing.pairs == () and nothing.elements == () and nothing.overall is False
