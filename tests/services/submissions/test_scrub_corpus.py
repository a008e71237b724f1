"""The labelled comment corpus: reproducible, well formed, and the scrubber's figures on its held-out part.

Targets for each kind: recall ≥ 95 %, precision ≥ 90 %. Phone numbers, ID numbers and e-mail addresses meet
them on the held-out part. Names do not: 94.0 % recall and 97.5 % precision on round 3, the held-out part
(see ``scrub_corpus/generate.py`` for the rounds), so the survey form no longer promises that every name is
removed. For names this test holds the scrubber to what it reached, so that a change cannot make it worse
unnoticed. The held-out part was not used while the rules were tuned; this test only asserts figures and
never prints its comments.
"""

from __future__ import annotations

import pytest

from tests.services.submissions.scrub_corpus import evaluation, generate

RECALL = 0.95
PRECISION = 0.90
# Names on the held-out part: below the 95 % target (measured 94.0 % recall, 97.5 % precision).
NAME_RECALL_HELD_OUT = 0.93
NAME_PRECISION_HELD_OUT = 0.95
CLEAN_CHANGED = 0.05


@pytest.fixture(scope="module")
def parts() -> dict[str, list[evaluation.Example]]:
    return {part: evaluation.load(part) for part in ("tuning", "heldout")}


def test_the_committed_files_are_what_the_generator_writes() -> None:
    for name, text in generate.outputs().items():
        assert (evaluation.HERE / name).read_text(encoding="utf-8") == text, f"run generate.py: {name} is stale"


def test_the_corpus_is_large_varied_and_exactly_labelled(parts: dict[str, list[evaluation.Example]]) -> None:
    tuning, held_out = parts["tuning"], parts["heldout"]
    assert len(tuning) + len(held_out) >= 200 and len(held_out) >= 200
    assert not {e.text for e in tuning} & {e.text for e in held_out}
    for examples in (tuning, held_out):
        kinds = {span[2] for e in examples for span in e.spans}
        assert kinds == set(evaluation.KINDS)
        assert {span[3] for e in examples for span in e.spans if span[2] == "PER"} == {"staff", "citizen"}
        assert {e.variant.split(",")[0] for e in examples} == {"diacritics", "no diacritics"}
        assert sum(not e.spans for e in examples) >= 50  # comments without personal data
        for example in examples:
            ends = 0
            for start, end, _, _ in sorted(example.spans):
                assert ends <= start < end <= len(example.text)
                assert example.text[start:end] == example.text[start:end].strip()
                ends = end


@pytest.mark.parametrize("part", ["heldout", "tuning"])
def test_the_scrubber_meets_its_targets(parts: dict[str, list[evaluation.Example]], part: str) -> None:
    report = evaluation.evaluate(parts[part], evaluation.scrubber_spans)
    for kind, tally in report.tallies.items():
        assert tally.labelled >= 20, kind
        recall, precision = RECALL, PRECISION
        if kind == "PER" and part == "heldout":
            recall, precision = NAME_RECALL_HELD_OUT, NAME_PRECISION_HELD_OUT
        assert tally.recall >= recall, (kind, tally)
        assert tally.precision >= precision, (kind, tally)
    staff, citizens = report.by_role["staff"], report.by_role["citizen"]
    assert min(staff.recall, citizens.recall) >= (NAME_RECALL_HELD_OUT - 0.02 if part == "heldout" else RECALL)
    assert report.clean_changed <= CLEAN_CHANGED * report.clean


def test_the_evaluation_counts_a_partly_removed_name_as_missed_and_an_ordinary_word_as_wrong() -> None:
    example = evaluation.Example("x", "chị Thu Hà ở Phường 3", [(4, 10, "PER", "staff")], "test", "diacritics")
    assert evaluation.evaluate([example], lambda text: [(4, 10, "PER")]).tallies["PER"].recall == 1.0
    half = evaluation.evaluate([example], lambda text: [(4, 7, "PER")])
    assert half.tallies["PER"].recall == 0.0 and half.tallies["PER"].precision == 1.0
    greedy = evaluation.evaluate([example], lambda text: [(4, 20, "PER")])
    assert greedy.tallies["PER"].recall == 1.0 and greedy.tallies["PER"].precision == 0.0
    as_phone = evaluation.evaluate([example], lambda text: [(4, 10, "PHONE")])
    assert as_phone.tallies["PER"].recall == 1.0  # removed all the same
