"""Remove personal data from free text before it is stored: names, phone and ID numbers, e-mail addresses.

Rules, not a model: a submission's comment is scrubbed inside the request, where the whole submission costs
about 2 ms of CPU. The Vietnamese NER that ships inside a package (underthesea 9.5's CRF ``ner``) was
measured on the labelled corpus in ``tests/services/submissions/scrub_corpus/`` and not taken: 4–6 ms of
CPU per comment, 0.6 s to load, about 70 MB installed with what it pulls in, and on the held-out part it
found 53 % of the names with 78 % precision (it tags "Nguyễn Văn An" as a place, "Hoa Lư" as a person).
These rules take about 0.09 ms for a typical comment and 1.6 ms at the 2,000-character limit; on the
held-out part they remove every phone number, ID number and e-mail address, and 94 % of the names with
97.5 % precision (README, "Comment scrubbing"; ``benchmarks/scrub_quality.py`` prints the figures). A name
written in lower case or without diacritics that is also an everyday word ("anh thắng", "chi tri") can
be missed, so the survey form asks citizens not to write names rather than promising to remove them all.

- E-mail addresses: anything with an "@" between a local part and a domain.
- Numbers: runs of digits joined by single blanks, dots, dashes or brackets are split into their groups,
  and the longest consecutive groups that make a phone number are removed: 0 and 9 or 10 digits (mobile
  and landline, "0912 345 678", "(024) 3825 1234"), or 84/+84 and 9 or 10 digits. What remains is removed
  when it has 9 digits or more (CCCD 12 digits, CMND 9, also account numbers and the digits of dossier
  codes), except amounts ("150.000.000 đồng": grouped by three and ending in 000, or followed by a
  currency) and service numbers (1800/1900 …), which are no one's.
- Names: ``scrub_names`` (honorific + name, surname + name, "tôi tên là …", with and without diacritics).

Each removed span becomes ``REDACTED``; nothing is logged, and the spans are never kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from survey.services.submissions.scrub_names import find_names

REDACTED = "[***]"

# Control characters other than tab and line feed (PostgreSQL text cannot even hold NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# The look-behind starts a match only where a run of address characters starts (linear time on long runs).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]*\w@[\w-]+(?:\.[\w-]+)*")
# Digits joined by one blank, dot or dash, or by brackets: "0912.345.678", "(+84) 912 345 678", "(024) 3825 1234".
_NUMBER = re.compile(r"(?<!\d)(?:\(\+?|\+)?\d(?:(?:[ .\-]|\) ?| ?\(|\) ?\(?)?\d)*\)?(?!\d)")
_GROUP = re.compile(r"\d+")
_MAX_GROUPS = 12  # a phone number has at most 12 digits ("+84 24 3825 1234"), so at most 12 groups
_CURRENCY = re.compile(r"\s?(?:đ|đồng|dong|vnđ|vnd|k|nghìn|ngàn|triệu|tr)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Finding:
    """A span of personal data: ``kind`` is ``PER``, ``PHONE``, ``ID`` or ``EMAIL``."""

    start: int
    end: int
    kind: str


def _is_phone(digits: str, plus: bool) -> bool:
    if digits.startswith("0"):
        return len(digits) in (10, 11) and digits[1] != "0"
    if digits.startswith("84"):
        rest = digits[2:]
        rest = rest[1:] if rest.startswith("0") else rest
        return len(rest) in (9, 10) and (plus or len(digits) >= 11)
    return False


def _is_amount(text: str, groups: list[re.Match[str]], end: int) -> bool:
    """An amount of money, not a number of a person: "150.000.000 đồng", "2.500.000"."""
    if _CURRENCY.match(text, end):
        return True
    tail = groups[1:]
    return bool(tail) and all(len(g.group()) == 3 for g in tail) and tail[-1].group() == "000"


def _numbers(text: str, start: int, end: int) -> list[Finding]:
    """Phone and ID numbers in ``text[start:end]``."""
    found: list[Finding] = []
    for run in _NUMBER.finditer(text, start, end):
        groups = list(_GROUP.finditer(text, run.start(), run.end()))
        plus = "+" in run.group()
        taken = [False] * len(groups)
        # Phones first, from the left, the longest at each start: "quầy 3 0912345678" removes the phone only.
        first = 0
        while first < len(groups):
            best = None
            digits = ""
            for last in range(first, min(len(groups), first + _MAX_GROUPS)):
                digits += groups[last].group()
                if len(digits) > _MAX_GROUPS:
                    break
                if _is_phone(digits, plus and first == 0):
                    best = last
            if best is None:
                first += 1
                continue
            s = run.start() if first == 0 and run.group().startswith(("+", "(")) else groups[first].start()
            e = groups[best].end()
            if e < run.end() and text[e] == ")" and "(" in text[s:e]:
                e += 1
            found.append(Finding(s, e, "PHONE"))
            for k in range(first, best + 1):
                taken[k] = True
            first = best + 1
        k = 0
        while k < len(groups):
            if taken[k]:
                k += 1
                continue
            last = k
            while last + 1 < len(groups) and not taken[last + 1]:
                last += 1
            rest = groups[k : last + 1]
            digits = "".join(g.group() for g in rest)
            service = digits.startswith(("1800", "1900")) and len(digits) <= 10
            if len(digits) >= 9 and not service and not _is_amount(text, rest, rest[-1].end()):
                found.append(Finding(rest[0].start(), rest[-1].end(), "ID"))
            k = last + 1
    return found


def find_personal_data(text: str) -> list[Finding]:
    """Spans of personal data in ``text``, by start; they do not overlap (a name never covers a number)."""
    found = [Finding(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
    position = 0
    for email in [*found, Finding(len(text), len(text), "")]:
        found.extend(_numbers(text, position, email.start))
        position = email.end
    taken = list(found)
    for start, end in find_names(text):
        if all(end <= f.start or start >= f.end for f in found):
            taken.append(Finding(start, end, "PER"))
    taken.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for finding in taken:
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Finding(last.start, max(last.end, finding.end), last.kind)
        else:
            merged.append(finding)
    return merged


def scrub_personal_data(text: str) -> str:
    """Replace names, e-mail addresses, phone numbers and ID-like digit runs with ``REDACTED``."""
    text = unicodedata.normalize("NFC", text)
    out = []
    position = 0
    for finding in find_personal_data(text):
        out.append(text[position : finding.start])
        out.append(REDACTED)
        position = finding.end
    out.append(text[position:])
    return "".join(out)


def normalise_text(text: str) -> str:
    """Line breaks as LF (a browser sends CRLF, but counts one character) and no control characters."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_comment(text: str | None) -> str | None:
    """Normalise line breaks and blanks, scrub personal data; None for an empty comment."""
    if text is None:
        return None
    text = normalise_text(text).strip()
    if not text:
        return None
    return scrub_personal_data(text)
