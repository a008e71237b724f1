"""Split questionnaires: a rotated version asks each respondent k of its criteria, chosen by the server.

A questionnaire version may declare, in its data file::

    [rotation]
    k = 6            # criteria per respondent
    overall = true   # also ask the overall question (reported on its own, never in the SIPAS index)

**The design.** The k places are shared out between the elements first: every element gets one (k must be
at least the number of elements, so every respondent rates every element), the rest go one at a time to
the element with the largest ``n_e / (k_e + 1)`` (D'Hondt), never more than an element has. Within element
``e`` the criteria follow a cyclic design (a Latin-square cycle): block ``r`` of the element asks the
``k_e`` criteria at positions ``r, r + 1, …, r + k_e − 1`` (mod ``n_e``), for ``r = 0 … n_e − 1``, so each
criterion is in exactly ``k_e`` of the ``n_e`` blocks and in each window position once. A respondent's
block is one block of each element: the design is their product, ``B = Π n_e`` blocks, and criterion ``i``
of element ``e`` is asked with probability exactly ``π_i = k_e / n_e``.

**The draw.** The block number is ``HMAC-SHA256(secret key, "sipas-rotation" ‖ submission id) mod B``. The
submission id is the form's own (made when the page is served), so the page, the posted form, a form sent
back for corrections and a replay from the offline queue all get the same criteria, and the client cannot
choose them without the key. Under the HMAC the block is uniform over the design, independent of the
respondent, so each criterion's share is estimated without bias over the respondents who were asked it;
"not asked" is missing by design (export code 7).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NoReturn

#: The design's name, stored with the declaration so that a future design is told apart.
DESIGN = "cyclic-per-element"
#: The asked criteria are stored as a bit mask over the items' positions (a 64-bit integer).
MAX_ITEMS = 62
_KEYS = {"k", "overall"}
_CONTEXT = b"sipas-rotation\x00"


class RotationError(ValueError):
    """A rotation declaration that cannot be used; the message says why."""


def parse_rotation(raw: Any, element_sizes: Sequence[int], definition: str) -> dict[str, Any]:
    """Validate a ``[rotation]`` table against the instrument; the declaration as stored on the instrument.

    Raises :class:`RotationError` with the reason (the loader adds the file name).
    """

    def fail(reason: str) -> NoReturn:
        raise RotationError(f"rotation: {reason}")

    if not isinstance(raw, dict):
        fail("expected a table")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        fail(f"unknown key {unknown[0]!r}")
    n_items, n_elements = sum(element_sizes), len(element_sizes)
    k = raw.get("k")
    if isinstance(k, bool) or not isinstance(k, int):
        fail("'k' must be a whole number (the criteria each respondent is asked)")
    if not n_elements <= k <= n_items:
        fail(f"'k' must be between {n_elements} (one criterion of each element) and {n_items} (all criteria), got {k}")
    if n_items > MAX_ITEMS:
        fail(f"a rotated questionnaire can have at most {MAX_ITEMS} criteria")
    overall = raw.get("overall", False)
    if not isinstance(overall, bool):
        fail("'overall' must be true or false")
    if definition != "A":
        fail("a rotated questionnaire needs composite definition 'A' (the mean of the criteria's estimates)")
    return {"design": DESIGN, "k": k, "overall": overall}


def allocate(element_sizes: Sequence[int], k: int) -> tuple[int, ...]:
    """Criteria asked per element: one each, the rest by D'Hondt on the element sizes (ties: earlier first)."""
    if not len(element_sizes) <= k <= sum(element_sizes):
        raise RotationError(f"k = {k} does not fit elements of sizes {list(element_sizes)}")
    counts = [1] * len(element_sizes)
    for _ in range(k - len(element_sizes)):
        open_ = [e for e, size in enumerate(element_sizes) if counts[e] < size]
        best = max(open_, key=lambda e: (element_sizes[e] / (counts[e] + 1), -e))
        counts[best] += 1
    return tuple(counts)


@dataclass(frozen=True)
class Assignment:
    """The criteria one respondent is asked: the block of the design, their codes and their position mask."""

    block: int
    codes: frozenset[str]
    mask: int


@dataclass(frozen=True)
class RotationDesign:
    """A rotated version's design: the criteria of each element (codes, in order) and their positions."""

    k: int
    overall: bool
    elements: tuple[tuple[str, ...], ...]
    #: Item code → its 1-based position in the questionnaire (bit ``position − 1`` of the stored mask).
    positions: Mapping[str, int]

    @classmethod
    def of(
        cls, declaration: Mapping[str, Any], elements: Sequence[Sequence[str]], positions: Mapping[str, int]
    ) -> RotationDesign:
        """The design of a stored declaration (``Instrument.rotation``) over the instrument's elements."""
        if declaration.get("design", DESIGN) != DESIGN:
            raise RotationError(f"unknown rotation design {declaration.get('design')!r}")
        return cls(
            k=int(declaration["k"]),
            overall=bool(declaration.get("overall", False)),
            elements=tuple(tuple(codes) for codes in elements),
            positions=dict(positions),
        )

    @cached_property
    def allocation(self) -> tuple[int, ...]:
        return allocate([len(codes) for codes in self.elements], self.k)

    @cached_property
    def n_blocks(self) -> int:
        total = 1
        for codes in self.elements:
            total *= len(codes)
        return total

    @property
    def n_items(self) -> int:
        return sum(len(codes) for codes in self.elements)

    def inclusion(self) -> dict[str, float]:
        """Each criterion's probability of being asked, ``k_e / n_e``."""
        return {
            code: k_e / len(codes) for codes, k_e in zip(self.elements, self.allocation, strict=True) for code in codes
        }

    def block(self, number: int) -> tuple[str, ...]:
        """The criteria of block ``number`` (0 … B − 1), in questionnaire order."""
        asked: list[str] = []
        rest = number % self.n_blocks
        for codes, k_e in zip(self.elements, self.allocation, strict=True):
            n_e = len(codes)
            rest, start = divmod(rest, n_e)
            chosen = {(start + j) % n_e for j in range(k_e)}
            asked.extend(code for position, code in enumerate(codes) if position in chosen)
        return tuple(asked)

    def block_number(self, secret_key: str | bytes, submission_id: uuid.UUID) -> int:
        key = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
        digest = hmac.new(key, _CONTEXT + submission_id.bytes, hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") % self.n_blocks

    def assign(self, secret_key: str | bytes, submission_id: uuid.UUID) -> Assignment:
        """The criteria the server asks the respondent of ``submission_id`` (the same every time)."""
        number = self.block_number(secret_key, submission_id)
        codes = self.block(number)
        return Assignment(number, frozenset(codes), self.mask(codes))

    def mask(self, codes: Sequence[str] | frozenset[str]) -> int:
        """The stored form of a set of criteria: bit ``position − 1`` set for each."""
        mask = 0
        for code in codes:
            mask |= 1 << (self.positions[code] - 1)
        return mask

    def codes_of(self, mask: int) -> frozenset[str]:
        return frozenset(code for code, position in self.positions.items() if mask >> (position - 1) & 1)


@dataclass(frozen=True)
class PrecisionRow:
    """What one choice of k buys: per criterion, the shortest period whose estimate the NCHS rule publishes."""

    #: Ratings a citizen answers (the overall question and the respondent type come on top).
    k: int
    #: Expected answers per criterion and month, smallest and largest (k_e / n_e of the monthly responses).
    answers_per_month: tuple[float, float]
    #: How many criteria are published monthly, quarterly, yearly, and not within a year.
    monthly: int
    quarterly: int
    yearly: int
    unpublished: int


#: The publication periods tried, in months.
PERIODS = (1, 3, 12)


def precision_preview(
    element_sizes: Sequence[int],
    monthly_responses: float,
    counter_days: float,
    design_effect: float,
    ks: Sequence[int],
    share: float = 0.9,
) -> list[PrecisionRow]:
    """The precision each k buys at an agency, from its monthly responses, counter-days and design effect.

    A criterion asked with probability ``π`` gets ``π × monthly_responses`` answers a month, ``m π`` per
    counter-day (``m`` the responses per counter-day), so its design effect falls from the agency's
    ``1 + (m − 1) ρ`` to ``1 + (m π − 1) ρ``. For each period (1, 3, 12 months) the expected Korn–Graubard
    interval of a share near ``share`` is checked against the NCHS presentation rule (the platform's own
    :func:`analytics.flags.share_flags`); a criterion is counted under the first period it is published in.
    """
    from analytics.flags import is_suppressed, share_flags
    from analytics.intervals import share_interval

    per_day = monthly_responses / counter_days if counter_days > 0 else 0.0
    rho = (design_effect - 1) / (per_day - 1) if per_day > 1 else 0.0
    rows = []
    for k in ks:
        allocation = allocate(element_sizes, k)
        counts = dict.fromkeys(PERIODS, 0)
        unpublished = 0
        answers = []
        for size, k_e in zip(element_sizes, allocation, strict=True):
            pi = k_e / size
            n_month = monthly_responses * pi
            deff = max(1.0, 1 + (per_day * pi - 1) * rho)
            answers.append(n_month)
            for months in PERIODS:
                n = n_month * months
                df = counter_days * months - 1
                if n < 1 or df < 1:
                    continue
                se = math.sqrt(share * (1 - share) * deff / n)
                lo, hi = share_interval(share, se, df, n, method="beta")
                if not is_suppressed(share_flags(share, se, n, df, float(lo), float(hi))):
                    counts[months] += size
                    break
            else:
                unpublished += size
        rows.append(PrecisionRow(k, (min(answers), max(answers)), counts[1], counts[3], counts[12], unpublished))
    return rows
