"""Split questionnaires: the declaration in the data file, the block design and the server's draw."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest

from survey.services.administration.instruments import INSTRUMENTS_DIR, InstrumentFileError, parse_instrument
from survey.services.administration.rotation import RotationDesign, allocate

SIZES_2017 = [4, 5, 6, 3, 4]


def _design(sizes: list[int], k: int, overall: bool = False) -> RotationDesign:
    elements = [[f"e{e}_{i}" for i in range(n)] for e, n in enumerate(sizes)]
    positions = {code: p for p, code in enumerate((c for codes in elements for c in codes), start=1)}
    return RotationDesign.of({"design": "cyclic-per-element", "k": k, "overall": overall}, elements, positions)


def _with_rotation(table: str) -> str:
    text = (INSTRUMENTS_DIR / "sipas-2017.toml").read_text(encoding="utf-8")
    return text.replace("[scale]", table + "\n\n[scale]", 1)


def test_allocation_gives_every_element_one_then_follows_the_sizes() -> None:
    assert allocate(SIZES_2017, 5) == (1, 1, 1, 1, 1)
    assert allocate(SIZES_2017, 6) == (1, 1, 2, 1, 1)
    assert allocate(SIZES_2017, 8) == (2, 2, 2, 1, 1)  # D'Hondt, ties to the earlier element
    assert allocate(SIZES_2017, 22) == tuple(SIZES_2017)
    assert sum(allocate(SIZES_2017, 13)) == 13


@pytest.mark.parametrize("k", [5, 6, 9, 22])
def test_every_block_asks_k_criteria_with_every_element_and_each_criterion_equally_within_its_element(k: int) -> None:
    design = _design(SIZES_2017, k)
    seen: Counter[str] = Counter()
    for number in range(design.n_blocks):
        block = design.block(number)
        assert len(block) == len(set(block)) == k
        assert {code.split("_")[0] for code in block} == {f"e{e}" for e in range(5)}  # stratified
        seen.update(block)
    inclusion = design.inclusion()
    for code, count in seen.items():
        assert count == pytest.approx(inclusion[code] * design.n_blocks)  # exact balance over the design
    assert set(seen) == set(inclusion)  # every criterion is asked by some block


def test_the_draw_is_keyed_repeatable_and_close_to_uniform() -> None:
    design = _design(SIZES_2017, 6)
    sid = uuid.UUID("0b9f7c2e-5a51-4a38-9d1e-3f7f1c2d9a10")
    first = design.assign("secret", sid)
    assert design.assign("secret", sid) == first  # a replay gets the same criteria
    assert design.codes_of(first.mask) == first.codes and len(first.codes) == 6
    others = {design.assign(f"other-{i}", sid).block for i in range(20)}
    assert len(others) > 10  # another key, another draw: the client cannot work it out
    counts: Counter[str] = Counter()
    n = 12_000
    for i in range(n):
        counts.update(design.assign("secret", uuid.UUID(int=i)).codes)
    for code, p in design.inclusion().items():
        se = (p * (1 - p) / n) ** 0.5
        assert abs(counts[code] / n - p) < 4.5 * se, code


def test_a_data_file_declares_rotation_and_keeps_the_digest_of_versions_without_it() -> None:
    plain = parse_instrument((INSTRUMENTS_DIR / "sipas-2017.toml").read_text(encoding="utf-8"), "a.toml")
    assert plain.rotation is None
    rotated = parse_instrument(_with_rotation("[rotation]\nk = 6\noverall = true"), "b.toml")
    assert rotated.rotation == {"design": "cyclic-per-element", "k": 6, "overall": True}
    assert rotated.digest() != plain.digest()
    short = parse_instrument((INSTRUMENTS_DIR / "sipas-2022-short.toml").read_text(encoding="utf-8"), "c.toml")
    assert short.rotation is not None and short.rotation["k"] + 1 + 1 <= 8  # ratings, overall, respondent type


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[rotation]\nk = 4", "'k' must be between 5"),
        ("[rotation]\nk = 23", "'k' must be between 5 (one criterion of each element) and 22"),
        ("[rotation]\nk = 6.0", "'k' must be a whole number"),
        ("[rotation]\nk = 6\noverall = 1", "'overall' must be true or false"),
        ("[rotation]\nk = 6\nblocks = 3", "unknown key 'blocks'"),
        ("rotation = 6", "rotation: expected a table"),
    ],
)
def test_a_bad_rotation_is_refused_naming_the_file_and_reason(table: str, message: str) -> None:
    with pytest.raises(InstrumentFileError, match="^x.toml: rotation: ") as info:
        parse_instrument(_with_rotation(table), "x.toml")
    assert message in str(info.value)


def test_a_rotated_version_must_use_definition_a() -> None:
    text = _with_rotation("[rotation]\nk = 6").replace('definition = "A"', 'definition = "C"')
    with pytest.raises(InstrumentFileError, match="composite definition 'A'"):
        parse_instrument(text, "x.toml")


def test_the_shipped_short_form_is_stratified_over_the_2022_elements() -> None:
    spec = parse_instrument(Path(INSTRUMENTS_DIR / "sipas-2022-short.toml").read_text(encoding="utf-8"), "s.toml")
    sizes = [len(e.items) for e in spec.elements]
    assert sizes == [4, 4, 5, 3, 3]
    assert allocate(sizes, 6) == (1, 1, 2, 1, 1)


def test_the_precision_preview_counts_criteria_by_the_first_period_the_nchs_rule_publishes() -> None:
    from survey.services.administration.rotation import precision_preview

    big = precision_preview(SIZES_2017, 300, 30, 1.5, [6, 22])
    assert [(r.monthly, r.quarterly, r.yearly, r.unpublished) for r in big] == [(22, 0, 0, 0), (22, 0, 0, 0)]
    assert big[0].answers_per_month == (60.0, 100.0)  # 300 × 1/5 … 300 × 1/3
    small = {r.k: r for r in precision_preview(SIZES_2017, 100, 30, 1.5, [6, 11, 22])}
    assert small[22].monthly == 22 and small[11].monthly == 22
    assert small[6].monthly < 22 and small[6].monthly + small[6].quarterly == 22  # fewer answers: some quarterly
    tiny = precision_preview(SIZES_2017, 10, 10, 1.5, [6])[0]
    assert tiny.unpublished + tiny.yearly == 22  # 2-3 answers a month: a year at best
