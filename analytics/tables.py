"""Pure builders for data exports: column specs, export rows, cell sanitising and reproducible samples.

Nothing here touches a database or a file format library. The app streams raw response records (plain
tuples, see :data:`RECORD_FIELDS`) and the lookups they refer to; :class:`RowBuilder` turns them into
export rows (one per response) and :class:`ColumnBuffer` into compact columns for SPSS and Stata.

Answer codes, the same in every format: 1–5 the score; :data:`NOT_APPLICABLE` (8) for "Không áp dụng"
(the item was answered as not applicable); :data:`NOT_ANSWERED` (9) when the item was left blank;
:data:`NOT_ASKED` (7) when a split questionnaire did not ask it (missing by design). SPSS files declare
7, 8 and 9 as user-missing; Stata files carry them as the extended missing values ``.c``, ``.a`` and
``.b`` (:data:`STATA_MISSING`), so none enters a mean by accident.

CSV and Excel cells are guarded as OWASP "CSV Injection" advises (and as Indico does): a **text** cell
starting with ``= + - @``, a tab or a carriage return gets a leading apostrophe, line breaks become
spaces, and control characters are dropped. Numbers are never touched, so ``-3.5`` stays a number.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DataError

#: Answer code for a criterion a split questionnaire did not ask this respondent: missing by design.
NOT_ASKED = 7
#: Answer code for "not applicable" (Không áp dụng): an answer, but no score.
NOT_APPLICABLE = 8
#: Answer code for an item left blank (Không trả lời).
NOT_ANSWERED = 9
#: Stata extended missing values for the codes above.
STATA_MISSING = {NOT_APPLICABLE: "a", NOT_ANSWERED: "b", NOT_ASKED: "c"}
MISSING_LABELS = {
    NOT_APPLICABLE: ("Không áp dụng", "Not applicable"),
    NOT_ANSWERED: ("Không trả lời", "Not answered"),
}
#: The label of :data:`NOT_ASKED`, among the value labels of a split questionnaire's items only.
NOT_ASKED_LABEL = ("Không được hỏi (phiếu luân phiên)", "Not asked (split questionnaire)")

#: Column kinds: text; integer; number (float, empty when missing); score (1–5, 8, 9);
#: category (a stored text code; numeric codes with value labels in SPSS and Stata).
KINDS = ("text", "integer", "number", "score", "category")

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")
#: Characters XML 1.0 (hence .xlsx) cannot hold; never meaningful in survey text.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffe\uffff]")

#: Raw response record, as the app streams it (one tuple per response), followed by the packed answers
#: (:class:`PackedLayout`). ``received_on`` may be a date or its ISO text, ``submission_id`` any text.
RECORD_FIELDS = (
    "id",
    "submission_id",
    "agency_id",
    "counter_id",
    "received_on",
    "channel",
    "collection_mode",
    "respondent_type",
    "field_id",
    "gender",
    "age_band",
    "education",
    "occupation",
    "status",
    "exclusion_reason",
    "comment",
)
N_RECORD_FIELDS = len(RECORD_FIELDS)


def sanitise_text(value: str) -> str:
    """A text cell safe for CSV and spreadsheets: formula trigger neutralised, one line, no control characters."""
    if value.startswith(FORMULA_TRIGGERS):
        value = "'" + value
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", value))


def sanitise_cell(value: Any) -> Any:
    """:func:`sanitise_text` for text; numbers, dates and None pass through unchanged."""
    return sanitise_text(value) if isinstance(value, str) else value


def clean_text(value: str) -> str:
    """Text for Excel, SPSS and Stata: kept as stored, line breaks as LF, without control characters."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass(frozen=True)
class Category:
    """One value of a coded variable: its numeric code, stored text code and labels."""

    code: int
    value: str
    label_vi: str
    label_en: str


@dataclass(frozen=True)
class Column:
    """One export variable, with what the codebook and the SPSS/Stata metadata need."""

    name: str
    label_vi: str
    label_en: str
    kind: str
    categories: tuple[Category, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"column {self.name!r}: unknown kind {self.kind!r}")

    @property
    def numeric_codes(self) -> dict[str, int]:
        """Stored text code → numeric code (category columns)."""
        return {c.value: c.code for c in self.categories}

    def value_labels(self, language: str = "vi") -> dict[int, str]:
        return {c.code: c.label_vi if language == "vi" else c.label_en for c in self.categories}


def score_categories(levels: Sequence[tuple[int, str, str]], not_asked: bool = False) -> tuple[Category, ...]:
    """Value labels of an item: the scale levels ``(value, vi, en)`` and the missing codes (with
    :data:`NOT_ASKED` for a split questionnaire's item)."""
    cats = [Category(int(v), str(v), vi, en) for v, vi, en in levels]
    reserved = (*MISSING_LABELS, NOT_ASKED) if not_asked else tuple(MISSING_LABELS)
    if any(c.code in reserved for c in cats):
        codes = ", ".join(str(code) for code in sorted(reserved))
        raise DataError(f"scale levels collide with the missing-value codes {codes}")
    if not_asked:
        cats.append(Category(NOT_ASKED, str(NOT_ASKED), *NOT_ASKED_LABEL))
    cats += [Category(code, str(code), vi, en) for code, (vi, en) in MISSING_LABELS.items()]
    return tuple(cats)


@dataclass(frozen=True)
class PackedLayout:
    """Answers packed four bits per item into a few 60-bit integers, so SQL returns 1–2 numbers per response.

    Packing is done in SQL as ``SUM(code << 4 × (item_id − base))`` over a response's answers (each item
    answered at most once, so the sum is a bitwise OR): ``code`` is the score 1–5 or
    :data:`NOT_APPLICABLE`; an empty nibble means no answer row, i.e. :data:`NOT_ANSWERED`. Items are
    grouped by id into words of at most :data:`NIBBLES` consecutive ids; ``item_ids`` is in column order.
    """

    item_ids: tuple[int, ...]

    NIBBLES = 15

    @property
    def words(self) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """(base id, ids packed in this word) per word, ids ascending."""
        out: list[tuple[int, list[int]]] = []
        for item in sorted(self.item_ids):
            if out and item - out[-1][0] < self.NIBBLES:
                out[-1][1].append(item)
            else:
                out.append((item, [item]))
        return tuple((base, tuple(ids)) for base, ids in out)

    def pack(self, answers: Mapping[int, int | None]) -> tuple[int, ...]:
        """The packed words of one response (item id → score, None = not applicable; absent = not answered)."""
        words = []
        for base, ids in self.words:
            word = 0
            for item in ids:
                if item in answers:
                    code = answers[item]
                    word |= (NOT_APPLICABLE if code is None else int(code)) << (4 * (item - base))
            words.append(word)
        return tuple(words)

    def unpack(self, words: np.ndarray) -> np.ndarray:
        """``(n, n_words)`` packed integers → ``(n, n_items)`` int8 answer codes, columns in ``item_ids`` order."""
        words = np.asarray(words, dtype=np.int64).reshape(-1, len(self.words))
        where = {item: (w, 4 * (item - base)) for w, (base, ids) in enumerate(self.words) for item in ids}
        out = np.empty((len(words), len(self.item_ids)), dtype=np.int8)
        for j, item in enumerate(self.item_ids):
            w, shift = where[item]
            out[:, j] = (words[:, w] >> shift) & 0xF
        out[out == 0] = NOT_ANSWERED
        return out


@dataclass
class RowContext:
    """Lookups a record refers to, all plain values (ids → codes) plus the weighting cells."""

    agency_codes: Mapping[int, str]
    #: Administrative unit code of each agency.
    admin_unit_codes: Mapping[int, str]
    counter_codes: Mapping[int, str]
    field_codes: Mapping[int, str]
    instrument_code: str
    instrument_version: int
    #: Final weight per (agency id, field key (0 = no field), first day of month); empty = unweighted (1.0).
    weights: Mapping[tuple[int, int, dt.date], float]
    #: How the item answers are packed into the record's trailing integers.
    layout: PackedLayout
    include_comments: bool = False
    #: Response id → sample expansion factor (N_h / n_h), when the export is a sample.
    sample_factors: Mapping[int, float] | None = None


#: Columns after the items, in order (before the optional sample factor and comment).
TRAILING = (
    "channel",
    "collection_mode",
    "respondent_type",
    "gender",
    "age_band",
    "education",
    "occupation",
    "status",
    "exclusion_reason",
    "weight",
    "stratum",
    "psu",
)
LEADING = (
    "response_id",
    "submission_id",
    "agency",
    "counter",
    "admin_unit",
    "field",
    "date",
    "period",
    "instrument",
    "instrument_version",
)


class MissingWeightError(DataError):
    """A valid response whose weighting cell is unknown (the data changed while exporting)."""


class RowBuilder:
    """Turns raw records into export rows; with ``sanitise`` every text cell is CSV/spreadsheet safe."""

    def __init__(self, ctx: RowContext, *, sanitise: bool) -> None:
        self.ctx = ctx
        self.sanitise = sanitise
        text = sanitise_text if sanitise else clean_text

        def coded(mapping: Mapping[int, str]) -> dict[int | None, str | None]:
            out: dict[int | None, str | None] = {k: text(v) for k, v in mapping.items()}
            out[None] = None
            return out

        self._agency = coded(ctx.agency_codes)
        self._admin = coded(ctx.admin_unit_codes)
        self._counter = coded(ctx.counter_codes)
        self._field = coded(ctx.field_codes)
        self._instrument = text(ctx.instrument_code)
        self._text = text
        self._days: dict[dt.date | str, tuple[str, str, dt.date]] = {}
        self._psu: dict[tuple[int, int | None, str], str] = {}
        self._weighted = bool(ctx.weights)

    def _day(self, day: dt.date) -> tuple[str, str, dt.date]:
        hit = self._days.get(day)
        if hit is None:
            hit = self._days[day] = (day.isoformat(), f"{day:%Y-%m}", day.replace(day=1))
        return hit

    def psu(self, agency_id: int, counter_id: int | None, iso_day: str) -> str:
        """Counter-day PSU code ``agency/counter/YYYY-MM-DD`` (counter ``-`` when none), unique across strata."""
        key = (agency_id, counter_id, iso_day)
        hit = self._psu.get(key)
        if hit is None:
            counter = self.ctx.counter_codes.get(counter_id, "-") if counter_id is not None else "-"
            hit = self._psu[key] = self._text(f"{self.ctx.agency_codes[agency_id]}/{counter}/{iso_day}")
        return hit

    def weight(self, agency_id: int, field_id: int | None, month: dt.date, status: str) -> float | None:
        if status != "valid":
            return None  # excluded responses are outside the estimates, so they carry no weight
        if not self._weighted:
            return 1.0
        try:
            return self.ctx.weights[(agency_id, field_id or 0, month)]
        except KeyError:
            raise MissingWeightError(
                f"no weighting cell for agency {agency_id}, field {field_id or 0}, {month:%Y-%m}"
            ) from None

    def _day_of(self, value: dt.date | str) -> tuple[str, str, dt.date]:
        hit = self._days.get(value)
        if hit is None:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
            hit = self._days[value] = self._day(day)
        return hit

    def rows(self, records: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Export rows, in :func:`column_names` order, from records whose answers are packed (:class:`PackedLayout`)."""
        if not records:
            return []
        words = np.array([rec[N_RECORD_FIELDS:] for rec in records], dtype=np.int64)
        scores = self.ctx.layout.unpack(words).tolist()
        out = []
        sample, comments = self.ctx.sample_factors, self.ctx.include_comments
        text, counter_of, admin_of, field_of = self._text, self._counter, self._admin, self._field
        version, instrument = self.ctx.instrument_version, self._instrument
        for rec, answers in zip(records, scores, strict=True):
            (
                rid,
                sub,
                agency,
                counter,
                day,
                channel,
                mode,
                rtype,
                fld,
                gender,
                age,
                edu,
                occ,
                status,
                reason,
                comment,
            ) = rec[:N_RECORD_FIELDS]
            iso, period, month = self._day_of(day)
            stratum = self._agency[agency]
            row: tuple[Any, ...] = (
                rid,
                _uuid_text(sub),
                stratum,
                counter_of.get(counter),
                admin_of.get(agency),
                field_of.get(fld),
                iso,
                period,
                instrument,
                version,
                *answers,
                channel,
                mode,
                rtype,
                gender,
                age,
                edu,
                occ,
                status,
                text(reason) if reason else None,
                self.weight(agency, fld, month, status),
                stratum,
                self.psu(agency, counter, iso),
            )
            if sample is not None:
                row += (sample[rid],)
            if comments:
                row += (text(comment) if comment else None,)
            out.append(row)
        return out


def _uuid_text(value: Any) -> str:
    """Canonical UUID text from a ``uuid.UUID``, canonical text or 32 hex digits (SQLite's storage)."""
    text = str(value)
    if len(text) == 32:
        text = text.lower()
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def column_names(item_codes: Sequence[str], *, sample: bool, comments: bool) -> list[str]:
    """Export header, in row order."""
    names = [*LEADING, *item_codes, *TRAILING]
    if sample:
        names.append("sample_factor")
    if comments:
        names.append("comment")
    return names


@dataclass
class ColumnBuffer:
    """Accumulates rows as compact per-column arrays (SPSS and Stata writers need the whole table).

    Scores become int8, category codes float64 numeric codes (NaN when missing), integers int64,
    numbers float64 (NaN when missing) and text an object array; repeated strings share one object.
    """

    columns: Sequence[Column]
    _parts: list[list[np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._parts = [[] for _ in self.columns]
        self._codes = [c.numeric_codes if c.kind == "category" else None for c in self.columns]

    def extend(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        for i, (col, values) in enumerate(zip(self.columns, zip(*rows, strict=True), strict=True)):
            self._parts[i].append(self._convert(col, values, self._codes[i]))

    @staticmethod
    def _convert(col: Column, values: Sequence[Any], codes: Mapping[str, int] | None) -> np.ndarray:
        if col.kind == "score":
            return np.array(values, dtype=np.int8)
        if col.kind == "integer":
            return np.array(values, dtype=np.int64)
        if col.kind == "number":
            return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
        if col.kind == "category":
            assert codes is not None
            try:
                return np.array([math.nan if v is None else codes[v] for v in values], dtype=np.float64)
            except KeyError as exc:
                raise DataError(f"column {col.name!r}: value {exc.args[0]!r} has no code") from None
        out = np.empty(len(values), dtype=object)
        out[:] = ["" if v is None else v for v in values]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Name → whole column; empty arrays of the right dtype when no row was added."""
        empty = {"score": np.int8, "integer": np.int64, "number": np.float64, "category": np.float64, "text": object}
        return {
            col.name: np.concatenate(parts) if parts else np.empty(0, dtype=empty[col.kind])
            for col, parts in zip(self.columns, self._parts, strict=True)
        }


def proportional_allocation(sizes: Mapping[Any, int], n: int) -> dict[Any, int]:
    """Split ``n`` over strata in proportion to ``sizes`` (largest remainder; ties by stratum order)."""
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    quotas = {k: n * s / total for k, s in sizes.items()}
    alloc = {k: int(math.floor(q)) for k, q in quotas.items()}
    left = n - sum(alloc.values())
    order = sorted(quotas, key=lambda k: (-(quotas[k] - alloc[k]), list(sizes).index(k)))
    for k in order[:left]:
        alloc[k] += 1
    return alloc


@dataclass(frozen=True)
class Sample:
    """Positions (sorted) of the sampled elements and each one's expansion factor N_h / n_h."""

    positions: np.ndarray
    factors: np.ndarray
    allocation: dict[Any, int]


def draw_sample(strata: Sequence[Any] | np.ndarray, n: int, seed: int, *, stratified: bool) -> Sample:
    """A reproducible simple random sample without replacement of ``n`` of the ``len(strata)`` elements.

    Elements must be given in a stable order (the app sorts responses by id). Unstratified: one draw of
    ``n`` positions with ``numpy.random.default_rng(seed).choice(N, n, replace=False)``. Stratified:
    strata in sorted order, ``n`` allocated in proportion to their sizes (largest remainder), then one
    such draw per stratum from the same generator. ``n >= N`` takes everything.
    """
    if n < 1:
        raise DataError("the sample size must be at least 1")
    labels = np.asarray(strata)
    total = len(labels)
    rng = np.random.default_rng(seed)
    if not stratified:
        k = min(n, total)
        pos = np.sort(rng.choice(total, size=k, replace=False)) if k < total else np.arange(total)
        factor = total / k if k else 1.0
        return Sample(pos, np.full(len(pos), factor), {None: int(k)})
    keys, inverse = np.unique(labels, return_inverse=True)
    sizes = {k.item() if hasattr(k, "item") else k: int(c) for k, c in zip(keys, np.bincount(inverse), strict=True)}
    alloc = proportional_allocation(sizes, n)
    positions, factors = [], []
    for idx, key in enumerate(sizes):
        members = np.flatnonzero(inverse == idx)
        k = alloc[key]
        if k == 0:
            continue
        chosen = members[rng.choice(len(members), size=k, replace=False)] if k < len(members) else members
        positions.append(chosen)
        factors.append(np.full(k, len(members) / k))
    if not positions:
        return Sample(np.empty(0, dtype=np.int64), np.empty(0), alloc)
    pos = np.concatenate(positions)
    fac = np.concatenate(factors)
    order = np.argsort(pos, kind="stable")
    return Sample(pos[order], fac[order], alloc)


PAR_LEADING = (
    "rank",
    "agency",
    "agency_name",
    "index_pct",
    "index_ci_low_pct",
    "index_ci_high_pct",
    "n",
    "flags",
)
PAR_TRAILING = (
    "total_points",
    "total_ci_low",
    "total_ci_high",
    "max_points",
    "vs_province",
    "p_vs_province",
    "significantly_above",
    "significantly_below",
)


def par_table(
    result: Any,
    estimates: Any,
    *,
    total_domain: Any,
    labels: Mapping[Any, tuple[str, str]],
    index_target: str = "overall",
    level: float = 0.95,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The PAR sociological-survey table: one row per agency, in rank order, as ``(headers, rows)``.

    ``result`` is :func:`analytics.par_points`'s :class:`~analytics.par.ParResult` and ``estimates`` the
    :class:`~analytics.estimators.EstimateSet` it was computed from, which must also hold ``total_domain``
    (the whole province or ministry). ``labels`` maps each agency domain to (code, name). Each agency's
    ``index_target`` share is compared with the province's (difference with covariance, t(df)), the
    p-values adjusted across agencies as the ranking was (``result.adjustment``); ``vs_province`` says
    ``above``, ``below`` or ``not significant``. Indices are percentages; points are on the scheme's scale.
    """
    from .comparisons import adjust, difference

    diffs = [
        difference(estimates, (a.agency, index_target, "share"), (total_domain, index_target, "share"), level=level)
        for a in result.agencies
    ]
    p_adj: Sequence[float] | np.ndarray = adjust([d.p_value for d in diffs], result.adjustment) if diffs else []
    headers = [*PAR_LEADING, *(f"points_{c.code}" for c in result.scheme.criteria), *PAR_TRAILING]
    rows = []
    for a, d, p in zip(result.agencies, diffs, p_adj, strict=True):
        e = estimates.get(a.agency, index_target, "share")
        verdict = "not significant" if p > 1 - level else ("above" if d.estimate > 0 else "below")
        rows.append(
            (
                a.rank,
                labels[a.agency][0],
                labels[a.agency][1],
                100 * e.estimate,
                100 * e.ci[0],
                100 * e.ci[1],
                e.n,
                ", ".join(f.code for f in e.flags),
                *(c.points for c in a.criteria),
                a.total,
                a.ci[0],
                a.ci[1],
                result.scheme.max_points,
                verdict,
                float(p),
                ", ".join(labels[x][0] for x in a.significantly_above),
                ", ".join(labels[x][0] for x in a.significantly_below),
            )
        )
    return headers, rows
