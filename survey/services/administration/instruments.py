"""Load questionnaires from their data files and keep the database in step with them.

A data file is validated as a whole before anything is written; an error names the file, the
element or item, and the reason. A version that already has responses is locked: a changed file
for it is refused, so a published index can always be traced to the exact wording asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from survey.models import Instrument, InstrumentElement, InstrumentItem, Response
from survey.services.administration.rotation import RotationDesign, RotationError, parse_rotation

INSTRUMENTS_DIR = Path(__file__).resolve().parents[2] / "instruments"
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,59}$")
ITEM_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
ITEM_STATISTICS = ("top2box",)
ELEMENT_RULES = ("weighted_mean_of_items",)
OVERALL_RULES = ("weighted_mean_of_elements",)
DEFINITIONS = ("A", "B", "C")

_TOP_KEYS = {
    "code",
    "version",
    "name_vi",
    "name_en",
    "method",
    "aspect",
    "valid_from",
    "valid_to",
    "scale",
    "aggregation",
    "elements",
    "rotation",
}
_ELEMENT_KEYS = {"code", "name_vi", "name_en", "weight", "items"}
_ITEM_KEYS = {"code", "vi", "en", "optional", "allows_na", "weight", "national"}
#: A criterion of the national reference list (the 22 criteria of QĐ 2640, numbered as in its annex):
#: ``national = "c10"`` says an item asks what national criterion 10 asks, so versions compare through it.
NATIONAL_PATTERN = re.compile(r"^c(0[1-9]|1[0-9]|2[0-2])$")


class InstrumentFileError(ValueError):
    """A data file is malformed; the message names the file, the place and the reason."""


class InstrumentLockedError(RuntimeError):
    """A changed file for an instrument version that already has responses."""


@dataclass(frozen=True)
class ItemSpec:
    code: str
    text_vi: str
    text_en: str
    optional: bool = False
    allows_na: bool = False
    weight: float = 1.0
    #: The national criterion this item asks one-to-one (``c01`` … ``c22``); None for a merged or local statement.
    national: str | None = None


@dataclass(frozen=True)
class ElementSpec:
    code: str
    name_vi: str
    name_en: str
    weight: float
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class InstrumentSpec:
    code: str
    version: int
    name_vi: str
    name_en: str
    method: str
    aspect: str | None
    valid_from: dt.date
    valid_to: dt.date | None
    scale: dict[str, Any]
    aggregation: dict[str, Any]
    elements: tuple[ElementSpec, ...]
    source: str = field(default="", compare=False)
    #: A split questionnaire's declaration (``rotation.py``); None when every criterion is asked.
    rotation: dict[str, Any] | None = None

    @property
    def items(self) -> list[ItemSpec]:
        return [item for element in self.elements for item in element.items]

    def digest(self) -> str:
        content = asdict(self)
        content.pop("source")
        if content["rotation"] is None:
            content.pop("rotation")  # the digests of versions without rotation stay what they were
        # The mapping to national criteria says how a version is compared, not what citizens were asked:
        # it stays out of the digest, so it can be corrected on a version that already has responses.
        for element in content["elements"]:
            for item in element["items"]:
                item.pop("national")
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Reader:
    """Typed access to one TOML table, with errors that say where."""

    def __init__(self, source: str, where: str, table: Any, allowed: set[str]) -> None:
        self.source, self.where = source, where
        if not isinstance(table, dict):
            self.fail("expected a table")
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(f"unknown key {unknown[0]!r}")
        self.table = table

    def fail(self, reason: str) -> NoReturn:
        prefix = f"{self.source}: {self.where}: " if self.where else f"{self.source}: "
        raise InstrumentFileError(prefix + reason)

    def text(self, key: str) -> str:
        value = self.table.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{key!r} must be non-empty text")
        return value.strip()

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if key in self.table else None

    def flag(self, key: str) -> bool:
        value = self.table.get(key, False)
        if not isinstance(value, bool):
            self.fail(f"{key!r} must be true or false")
        return value

    def weight(self) -> float:
        value = self.table.get("weight", 1.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            self.fail("'weight' must be a positive number")
        return float(value)

    def date(self, key: str, required: bool) -> dt.date | None:
        value = self.table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            self.fail(f"{key!r} must be a date such as 2022-01-01")
        return value

    def code(self, key: str, pattern: re.Pattern[str]) -> str:
        value = self.text(key)
        if not pattern.match(value):
            self.fail(f"{key!r} {value!r} must be lower-case letters, digits, '_' or '-'")
        return value


def _parse_scale(source: str, raw: Any) -> dict[str, Any]:
    reader = _Reader(source, "scale", raw, {"levels", "satisfied_from", "not_applicable"})
    levels = raw.get("levels")
    if not isinstance(levels, list) or len(levels) < 2:
        reader.fail("'levels' must list at least two answer levels")
    parsed = []
    for position, level in enumerate(levels, start=1):
        lr = _Reader(source, f"scale level {position}", level, {"value", "vi", "en"})
        if level.get("value") != position:
            lr.fail(f"'value' must be {position} (levels are numbered 1, 2, … in order)")
        parsed.append({"value": position, "vi": lr.text("vi"), "en": lr.text("en")})
    satisfied_from = raw.get("satisfied_from")
    if not isinstance(satisfied_from, int) or not 1 < satisfied_from <= len(parsed):
        reader.fail(f"'satisfied_from' must be a level between 2 and {len(parsed)}")
    na = _Reader(source, "scale not_applicable", raw.get("not_applicable"), {"vi", "en"})
    return {
        "levels": parsed,
        "satisfied_from": satisfied_from,
        "not_applicable": {"vi": na.text("vi"), "en": na.text("en")},
    }


def _parse_aggregation(source: str, raw: Any) -> dict[str, Any]:
    reader = _Reader(source, "aggregation", raw, {"item", "element", "overall", "definition"})
    rules = {"item": ITEM_STATISTICS, "element": ELEMENT_RULES, "overall": OVERALL_RULES, "definition": DEFINITIONS}
    parsed = {}
    for key, allowed in rules.items():
        value = raw.get(key)
        if value not in allowed:
            reader.fail(f"{key!r} must be one of {', '.join(allowed)}, got {value!r}")
        parsed[key] = value
    return parsed


def parse_instrument(text: str, source: str) -> InstrumentSpec:
    """Validate one instrument document; raise InstrumentFileError naming the place and reason."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentFileError(f"{source}: not valid TOML: {exc}") from None
    top = _Reader(source, "", raw, _TOP_KEYS)
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        top.fail("'version' must be a whole number from 1")
    valid_from = top.date("valid_from", required=True)
    valid_to = top.date("valid_to", required=False)
    if valid_to is not None and valid_from is not None and valid_to <= valid_from:
        top.fail("'valid_to' must be after 'valid_from'")
    raw_elements = raw.get("elements")
    if not isinstance(raw_elements, list) or not raw_elements:
        top.fail("at least one [[elements]] table is required")
    seen_elements: set[str] = set()
    seen_items: set[str] = set()
    seen_national: dict[str, str] = {}
    elements = []
    for e_pos, raw_element in enumerate(raw_elements, start=1):
        er = _Reader(source, f"element {e_pos}", raw_element, _ELEMENT_KEYS)
        e_code = er.code("code", CODE_PATTERN)
        er.where = f"element {e_code}"
        if e_code in seen_elements:
            er.fail("duplicate element code")
        seen_elements.add(e_code)
        raw_items = raw_element.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            er.fail("at least one [[elements.items]] table is required")
        items = []
        for i_pos, raw_item in enumerate(raw_items, start=1):
            ir = _Reader(source, f"element {e_code} item {i_pos}", raw_item, _ITEM_KEYS)
            i_code = ir.code("code", ITEM_CODE_PATTERN)
            ir.where = f"item {i_code}"
            if i_code in seen_items:
                ir.fail("duplicate item code")
            seen_items.add(i_code)
            national = ir.optional_text("national")
            if national is not None:
                if not NATIONAL_PATTERN.match(national):
                    ir.fail(f"'national' {national!r} must name a national criterion, c01 … c22")
                if national in seen_national:
                    ir.fail(f"'national' {national!r} is already the mapping of item {seen_national[national]}")
                seen_national[national] = i_code
            items.append(
                ItemSpec(
                    i_code,
                    ir.text("vi"),
                    ir.text("en"),
                    ir.flag("optional"),
                    ir.flag("allows_na"),
                    ir.weight(),
                    national,
                )
            )
        elements.append(ElementSpec(e_code, er.text("name_vi"), er.text("name_en"), er.weight(), tuple(items)))
    assert valid_from is not None
    aggregation = _parse_aggregation(source, raw.get("aggregation"))
    rotation = None
    if "rotation" in raw:
        try:
            rotation = parse_rotation(raw["rotation"], [len(e.items) for e in elements], aggregation["definition"])
        except RotationError as exc:
            raise InstrumentFileError(f"{source}: {exc}") from None
    return InstrumentSpec(
        code=top.code("code", CODE_PATTERN),
        version=version,
        name_vi=top.text("name_vi"),
        name_en=top.text("name_en"),
        method=top.text("method"),
        aspect=top.optional_text("aspect"),
        valid_from=valid_from,
        valid_to=valid_to,
        scale=_parse_scale(source, raw.get("scale")),
        aggregation=aggregation,
        elements=tuple(elements),
        source=source,
        rotation=rotation,
    )


def read_instrument_files(directory: Path = INSTRUMENTS_DIR) -> list[InstrumentSpec]:
    """Parse every ``*.toml`` in ``directory``; all must be valid and (code, version) unique."""
    specs: list[InstrumentSpec] = []
    seen: dict[tuple[str, int], str] = {}
    for path in sorted(directory.glob("*.toml")):
        spec = parse_instrument(path.read_text(encoding="utf-8"), path.name)
        key = (spec.code, spec.version)
        if key in seen:
            raise InstrumentFileError(f"{path.name}: {spec.code} v{spec.version} is also defined in {seen[key]}")
        seen[key] = path.name
        specs.append(spec)
    return specs


def _build(spec: InstrumentSpec, instrument: Instrument) -> None:
    instrument.name_vi, instrument.name_en, instrument.method = spec.name_vi, spec.name_en, spec.method
    instrument.aspect, instrument.valid_from, instrument.valid_to = spec.aspect, spec.valid_from, spec.valid_to
    instrument.scale, instrument.aggregation, instrument.content_digest = spec.scale, spec.aggregation, spec.digest()
    instrument.rotation = spec.rotation
    instrument.elements.clear()
    instrument.items.clear()
    position = 0
    for e_pos, e in enumerate(spec.elements, start=1):
        element = InstrumentElement(code=e.code, position=e_pos, name_vi=e.name_vi, name_en=e.name_en, weight=e.weight)
        instrument.elements.append(element)
        for item in e.items:
            position += 1
            instrument.items.append(
                InstrumentItem(
                    element=element,
                    code=item.code,
                    position=position,
                    text_vi=item.text_vi,
                    text_en=item.text_en,
                    optional=item.optional,
                    allows_na=item.allows_na,
                    weight=item.weight,
                    national_code=item.national,
                )
            )


def build_instrument(spec: InstrumentSpec, instrument: Instrument) -> None:
    """Fill ``instrument`` (new, or emptied of its elements and items) from ``spec``."""
    _build(spec, instrument)


def replace_instrument(session: Session, instrument: Instrument, spec: InstrumentSpec) -> None:
    """Replace a stored version's whole element and item tree with ``spec``'s (a version without responses).

    The items go first (an element's items would otherwise be orphaned with a NULL element), then the
    elements, each flushed, so the new rows can reuse positions and codes.
    """
    instrument.items.clear()
    session.flush()
    instrument.elements.clear()
    session.flush()
    _build(spec, instrument)


def sync_instruments(session: Session, specs: list[InstrumentSpec]) -> dict[str, list[str]]:
    """Insert new versions and update unused changed ones; refuse to change a version with responses.

    The caller owns the transaction. Returns the labels of the instruments added, updated, remapped (the
    same wording with another mapping to national criteria, allowed on a locked version) and unchanged.
    """
    report: dict[str, list[str]] = {"added": [], "updated": [], "remapped": [], "unchanged": []}
    for spec in specs:
        label = f"{spec.code} v{spec.version}"
        instrument = session.scalar(
            select(Instrument).where(Instrument.code == spec.code, Instrument.version == spec.version)
        )
        if instrument is None:
            instrument = Instrument(code=spec.code, version=spec.version)
            _build(spec, instrument)
            session.add(instrument)
            report["added"].append(label)
        elif instrument.content_digest == spec.digest():
            mapping = {item.code: item.national for item in spec.items}
            if any(item.national_code != mapping.get(item.code) for item in instrument.items):
                for item in instrument.items:
                    item.national_code = mapping.get(item.code)
                report["remapped"].append(label)
            else:
                report["unchanged"].append(label)
        else:
            if session.scalar(select(exists().where(Response.instrument_id == instrument.id))):
                raise InstrumentLockedError(
                    f"{spec.source}: {label} already has responses and is locked; publish it as version "
                    f"{spec.version + 1} instead of editing it"
                )
            replace_instrument(session, instrument, spec)
            report["updated"].append(label)
    session.flush()
    return report


def instrument_by_id(session: Session, instrument_id: int) -> Instrument | None:
    return session.get(Instrument, instrument_id)


def latest_instrument(session: Session, code: str) -> Instrument | None:
    return session.scalar(select(Instrument).where(Instrument.code == code).order_by(Instrument.version.desc()))


@dataclass(frozen=True)
class ItemRule:
    """What a submission must respect for one item."""

    id: int
    optional: bool
    allows_na: bool


@dataclass(frozen=True)
class InstrumentRules:
    """The parts of an instrument a submission is checked and tallied against, as plain data."""

    id: int
    label: str
    items: dict[str, ItemRule]
    n_levels: int
    satisfied_from: int
    #: The split-questionnaire design of a rotated version; None when every criterion is asked.
    rotation: RotationDesign | None = None


_RULES: dict[tuple[int, str], InstrumentRules] = {}


def cached_rules(instrument_id: int, content_digest: str) -> InstrumentRules | None:
    """The rules already built for this instrument and digest, if any (no database access)."""
    return _RULES.get((instrument_id, content_digest))


def instrument_rules(instrument: Instrument) -> InstrumentRules:
    """Submission rules of ``instrument``, built once per process and content digest.

    An instrument's content never changes under the same digest, so the cache needs no expiry; it
    saves the item and element loads every submission would otherwise make.
    """
    key = (instrument.id, instrument.content_digest)
    rules = _RULES.get(key)
    if rules is None:
        rules = InstrumentRules(
            id=instrument.id,
            label=instrument.label,
            items={item.code: ItemRule(item.id, item.optional, item.allows_na) for item in instrument.items},
            n_levels=len(instrument.scale["levels"]),
            satisfied_from=int(instrument.scale["satisfied_from"]),
            rotation=rotation_design(instrument),
        )
        _RULES[key] = rules  # a plain dict store is atomic; two threads at worst build it twice
    return rules


def rotation_design(instrument: Instrument) -> RotationDesign | None:
    """The design of a rotated version (its elements' criteria and positions); None when not rotated."""
    if instrument.rotation is None:
        return None
    elements = [[item.code for item in element.items] for element in instrument.elements]
    return RotationDesign.of(instrument.rotation, elements, {item.code: item.position for item in instrument.items})
