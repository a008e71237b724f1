"""Every user-facing string in code and templates has a Vietnamese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _source_messages() -> set[str]:
    method_map = [("survey/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_vietnamese_translation() -> None:
    with (ROOT / "translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]  # a plural message is keyed by its singular
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"untranslated (run `make translations`): {missing}"
