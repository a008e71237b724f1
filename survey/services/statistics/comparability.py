"""Which figures of two questionnaire versions may be compared: only through criteria both ask one-to-one.

Two versions compare on an item pair when each maps one item to the same national criterion
(``InstrumentItem.national_code``, ``c01`` … ``c22`` of the QĐ 2640 annex). A merged statement (the ward
form's "#12–14") maps to none and is a criterion of its own. An element compares when both versions have it
and at least one pair falls in it, and then only through those pairs; the overall index compares only
when every element of both versions does (an element missing from one side changes what "overall" means).
"""

from __future__ import annotations

from dataclasses import dataclass

from survey.models import Instrument


@dataclass(frozen=True)
class Comparison:
    """What two versions share: (national criterion, item code in the first, item code in the second)."""

    pairs: tuple[tuple[str, str, str], ...]
    #: Element codes compared, in the first version's order, each through the pairs that fall in it.
    elements: tuple[str, ...]
    #: Whether the overall index compares (every element of both versions is compared).
    overall: bool

    @property
    def n_criteria(self) -> int:
        return len(self.pairs)

    def pairs_in(self, element: str, first: Instrument) -> tuple[tuple[str, str, str], ...]:
        codes = {item.code for item in first.items if item.element.code == element}
        return tuple(pair for pair in self.pairs if pair[1] in codes)


def compare_versions(first: Instrument, second: Instrument) -> Comparison:
    """The comparison of two versions (the same version compares with itself on every mapped criterion)."""

    def mapped(instrument: Instrument) -> dict[str, tuple[str, str]]:
        return {
            item.national_code: (item.code, item.element.code)
            for item in instrument.items
            if item.national_code is not None
        }

    a, b = mapped(first), mapped(second)
    pairs = []
    shared_elements: dict[str, None] = {}
    for national in sorted(set(a) & set(b)):
        (code_a, element_a), (code_b, element_b) = a[national], b[national]
        if element_a != element_b:
            continue  # the same criterion filed under another element: not one-to-one
        pairs.append((national, code_a, code_b))
        shared_elements[element_a] = None
    order = [element.code for element in first.elements]
    elements = tuple(code for code in order if code in shared_elements)
    everything = {e.code for e in first.elements} | {e.code for e in second.elements}
    return Comparison(tuple(pairs), elements, overall=bool(pairs) and set(elements) == everything)
