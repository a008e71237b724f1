"""Comment scrubber: precision and recall per kind on the labelled corpus, and its CPU per comment.

    python benchmarks/scrub_quality.py [--part tuning|heldout|both] [--misses] [--repeat 20]
                                       [--underthesea-python PATH]

1. Quality: for each part of ``tests/services/submissions/scrub_corpus/`` (tuning, held-out), names,
   phones, ID numbers and e-mail addresses found (recall) and removed correctly (precision), names by
   role (staff, citizen), and how many comments without personal data were changed at all (definitions
   in ``evaluation.py``). The scrubber before names were added (three regular expressions) is scored on
   the same comments for comparison. ``--misses`` lists what was missed or wrongly removed in the tuning
   part only: the held-out part's errors are never printed, so that no one tunes the rules to them.
2. Cost: CPU time of ``clean_comment`` (what a submission calls) per corpus comment, best of
   ``--repeat`` passes over the whole corpus, and for a comment at the 2,000-character limit.
3. ``--underthesea-python PATH``: the same scores and cost for underthesea's named-entity recogniser
   (``underthesea.ner``, PER tags; phones, IDs and e-mails by this app's rules), run by the Python at PATH
   (a separate virtual environment with underthesea installed; it is not one of the app's dependencies),
   with the network unreachable being no obstacle: its model ships inside the package.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey.services.submissions.scrub import clean_comment, find_personal_data  # noqa: E402
from tests.services.submissions.scrub_corpus import evaluation  # noqa: E402

# The scrubber as it was before names were removed (survey/services/submissions/scrub.py, December 2026).
_OLD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_OLD_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){9}(?!\d)")
_OLD_ID = re.compile(r"(?<!\d)(?:\d[\s.-]?){8,}\d(?!\d)")

_UNDERTHESEA = r"""
import json, sys, time
t0 = time.process_time()
from underthesea import ner
ner("Khởi động.")
load = time.process_time() - t0
texts = json.load(sys.stdin)
out = []
t0 = time.process_time()
for text in texts:
    spans, position = [], 0
    for word, _pos, _chunk, tag in ner(text):
        start = text.find(word, position)
        if start < 0:
            continue
        position = start + len(word)
        if tag.endswith("PER"):
            if tag.startswith("I-") and spans and text[spans[-1][1]:start].strip() == "":
                spans[-1][1] = position
            else:
                spans.append([start, position])
    out.append(spans)
per_comment = (time.process_time() - t0) / max(1, len(texts))
json.dump({"spans": out, "load": load, "per_comment": per_comment}, sys.stdout)
"""


def old_spans(text: str) -> list[tuple[int, int, str]]:
    """Spans the old scrubber removed, in its order (e-mail, then phone, then ID on what was left)."""
    found: list[tuple[int, int, str]] = []
    masked = text
    for pattern, kind in ((_OLD_EMAIL, "EMAIL"), (_OLD_PHONE, "PHONE"), (_OLD_ID, "ID")):
        for match in pattern.finditer(masked):
            found.append((match.start(), match.end(), kind))
        masked = pattern.sub(lambda m: "\x00" * len(m.group()), masked)
    return found


def cpu_per_comment(texts: list[str], repeat: int) -> float:
    """Best of ``repeat`` passes, in microseconds per comment."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for text in texts:
            clean_comment(text)
        best = min(best, time.process_time() - started)
    return 1e6 * best / len(texts)


def longest_comment(texts: list[str]) -> str:
    """Corpus comments end to end up to the form's limit: 2,000 characters of realistic text."""
    return "\n".join(texts)[:2000].rstrip()


def underthesea_spans(python: str, texts: list[str]) -> tuple[list[list[tuple[int, int, str]]], float, float]:
    done = subprocess.run(
        [python, "-c", _UNDERTHESEA],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    result = json.loads(done.stdout)
    spans: list[list[tuple[int, int, str]]] = []
    for text, names in zip(texts, result["spans"], strict=True):
        rules = [(f.start, f.end, f.kind) for f in find_personal_data(text) if f.kind != "PER"]
        taken = [(s, e, "PER") for s, e in names if all(e <= a or s >= b for a, b, _ in rules)]
        spans.append(sorted(rules + taken))
    return spans, result["load"], result["per_comment"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["tuning", "heldout", "both"], default="both")
    parser.add_argument("--misses", action="store_true", help="list the tuning part's misses and wrong removals")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--underthesea-python", metavar="PATH")
    args = parser.parse_args()
    parts = ["tuning", "heldout"] if args.part == "both" else [args.part]
    everything: list[str] = []
    for part in parts:
        examples = evaluation.load(part)
        everything += [e.text for e in examples]
        report = evaluation.evaluate(examples, evaluation.scrubber_spans)
        print(f"== {part}: {report.comments} comments, {report.clean} without personal data")
        print(evaluation.table(report))
        old = evaluation.evaluate(examples, old_spans)
        print("before names were removed (phone, ID and e-mail patterns only):")
        print(
            "  "
            + ", ".join(
                f"{kind} recall {t.recall:.1%} precision {f'{t.precision:.1%}' if t.removed else '-'}"
                for kind, t in old.tallies.items()
            )
        )
        if args.misses and part == "tuning":
            for example_id, kind, missed in report.misses:
                print(f"  missed {example_id} {kind}: {missed!r}")
            for example_id, kind, removed in report.wrong:
                print(f"  wrongly removed {example_id} {kind}: {removed!r}")
        if args.underthesea_python:
            by_text = {e.text: e for e in examples}
            texts = list(by_text)
            spans, load, per_comment = underthesea_spans(args.underthesea_python, texts)
            ner = evaluation.evaluate(by_text.values(), dict(zip(texts, spans, strict=True)).__getitem__)
            print(f"underthesea.ner for names (load {load:.2f} s CPU, {1e3 * per_comment:.2f} ms CPU per comment):")
            print(evaluation.table(ner))
        print()
    long = longest_comment(everything)
    print(
        f"CPU of clean_comment: {cpu_per_comment(everything, args.repeat):.0f} µs per corpus comment "
        f"(mean length {sum(map(len, everything)) / len(everything):.0f} characters, best of {args.repeat} passes); "
        f"{cpu_per_comment([long], args.repeat * 5) / 1e3:.2f} ms for a {len(long)}-character comment"
    )


if __name__ == "__main__":
    main()
