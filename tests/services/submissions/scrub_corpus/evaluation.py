"""Score a scrubber on the labelled corpus: precision and recall per kind, and harm to clean comments.

A labelled span is *found* when every letter and digit of it lies inside something the scrubber removed
(of any kind: a phone removed as an ID number is still gone). A removed span is *correct* when every
letter and digit of it lies inside labelled spans: one that also takes an ordinary word ("Phường", a
counter number) counts against precision, by the kind the scrubber gave it. Clean comments (no personal
data) count separately: how many were changed at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("PER", "PHONE", "ID", "EMAIL")
Spans = Sequence[tuple[int, int, str]]


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    spans: list[tuple[int, int, str, str | None]]
    origin: str
    variant: str


def load(part: str) -> list[Example]:
    """``part`` is ``tuning`` or ``heldout``."""
    path = HERE / f"{part}.jsonl"
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        spans = [(int(s), int(e), str(label), role) for s, e, label, role in row["spans"]]
        examples.append(Example(row["id"], row["text"], spans, row["origin"], row["variant"]))
    return examples


@dataclass
class Tally:
    labelled: int = 0
    found: int = 0
    removed: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.removed if self.removed else 1.0


@dataclass
class Report:
    tallies: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})
    by_role: dict[str, Tally] = field(default_factory=lambda: {"staff": Tally(), "citizen": Tally()})
    comments: int = 0
    clean: int = 0
    clean_changed: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (id, kind, missed text)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (id, kind, removed text)

    @property
    def all(self) -> Tally:
        total = Tally()
        for tally in self.tallies.values():
            total.labelled += tally.labelled
            total.found += tally.found
            total.removed += tally.removed
            total.correct += tally.correct
        return total


def _significant(text: str, start: int, end: int) -> list[int]:
    return [k for k in range(start, end) if text[k].isalnum()]


def evaluate(examples: Iterable[Example], find: Callable[[str], Spans]) -> Report:
    """``find(text)`` returns the removed spans as ``(start, end, kind)``."""
    report = Report()
    for example in examples:
        report.comments += 1
        predicted = list(find(example.text))
        removed = {k for s, e, _ in predicted for k in range(s, e)}
        labelled = {k for s, e, _, _ in example.spans for k in range(s, e)}
        if not example.spans:
            report.clean += 1
            report.clean_changed += bool(predicted)
        for s, e, kind, role in example.spans:
            tally = report.tallies[kind]
            tally.labelled += 1
            found = all(k in removed for k in _significant(example.text, s, e))
            tally.found += found
            if role in report.by_role:
                report.by_role[role].labelled += 1
                report.by_role[role].found += found
            if not found:
                report.misses.append((example.id, kind, example.text[s:e]))
        for s, e, kind in predicted:
            tally = report.tallies[kind]
            tally.removed += 1
            correct = all(k in labelled for k in _significant(example.text, s, e))
            tally.correct += correct
            if not correct:
                report.wrong.append((example.id, kind, example.text[s:e]))
    return report


def scrubber_spans(text: str) -> list[tuple[int, int, str]]:
    """The app's scrubber, as ``evaluate`` wants it."""
    from survey.services.submissions.scrub import find_personal_data

    return [(f.start, f.end, f.kind) for f in find_personal_data(text)]


def table(report: Report) -> str:
    """Precision and recall per kind, as printed by the benchmark."""
    lines = [f"{'kind':<8}{'labelled':>9}{'found':>7}{'recall':>9}{'removed':>9}{'correct':>9}{'precision':>11}"]
    for name, tally in [*report.tallies.items(), ("all", report.all)]:
        lines.append(
            f"{name:<8}{tally.labelled:>9}{tally.found:>7}{tally.recall:>9.1%}"
            f"{tally.removed:>9}{tally.correct:>9}{tally.precision:>11.1%}"
        )
    roles = ", ".join(f"{role} {t.found}/{t.labelled} ({t.recall:.1%})" for role, t in report.by_role.items())
    lines.append(f"names found by role: {roles}")
    lines.append(
        f"comments without personal data changed: {report.clean_changed} of {report.clean}"
        f" ({report.clean_changed / max(1, report.clean):.1%})"
    )
    return "\n".join(lines)
