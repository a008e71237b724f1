"""Find Vietnamese personal names in a comment with rules: no model, under 0.1 ms for a typical comment.

A comment is split into words (letters, an inner apostrophe for names such as "H'Nhi"). A name is:

- A. after an honorific ("anh", "chị", "cô", "nhân viên", "cán bộ", "đồng chí" …): the capitalised
  syllables that follow ("chị Lan", "Nhân viên Nguyễn Văn An"); lower-case, a full name from the lists
  ("anh nguyễn đức thịnh") or a given name that is not also an everyday word after a pronoun ("chị
  thảo", but not "chị thái độ", "anh sang quầy");
- B. a capitalised surname and one to three capitalised syllables ("Lê Bá Tài ở quầy 2"), or lower-case a
  surname, a middle name and a given name ("nguyễn văn hải"; the last may be a word the lists do not know
  when the clause ends after it: "vũ thị xoan nha!");
- C. after words that introduce a name ("tôi là", "tên", "Họ tên:", "Người gửi:");
- D. after "cảm ơn", "gặp", "nhờ" …, a capitalised given name ("Cảm ơn Trang"), and a second name joined to
  a name found by "và", "với" or a comma; in brackets, a capitalised name ("(Lan)"); a capitalised name
  alone at the end after a dash or a full stop (a signature: "… - Lan");
- and every other place the same name is written in the comment.

Not a name: titles and offices after an honorific ("ông Chủ tịch", "Anh Công an khu vực"), capitalised
words after a place word ("đường Lê Lợi", "phường Quang Trung", "trường THCS Chu Văn An"), places that look
like names ("Hà Nội", "Cao Bằng", "Bà Rịa"), and words that are not Vietnamese syllables ("Zalo").
A comment typed without any diacritic is read with unaccented lists, where fewer words are unambiguous;
a comment in capitals is read as if it were lower case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from survey.services.submissions import name_lexicon as lexicon

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?")
_ACCENTED = re.compile(r"[^\x00-\x7f]")
_JOINERS = frozenset({"và", "với", "va", "voi"})
_INNER_MIDDLES = frozenset({"thị", "văn", "thi", "van"})
_MAX_NAME = 4


class _Word(NamedTuple):
    start: int
    end: int
    key: str  # lower case, one tone placement; unaccented when the whole comment is
    cap: bool  # "Lan", "H'Nhi", "Y": a capital and then lower case (never in a comment written in capitals)
    letters: int


_Index = dict[str, tuple[tuple[str, ...], ...]]


def _by_first_word(phrases: frozenset[tuple[str, ...]]) -> _Index:
    """Phrases by their first word, longest first."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        index.setdefault(phrase[0], []).append(phrase)
    return {word: tuple(sorted(found, key=len, reverse=True)) for word, found in index.items()}


@dataclass(frozen=True)
class _Lists:
    surnames: frozenset[str]
    surnames_unambiguous: frozenset[str]
    middles: frozenset[str]
    given: frozenset[str]
    ranks: frozenset[str]
    ambiguous: frozenset[str]
    after_name: frozenset[str]
    after_name_phrases: _Index
    common: frozenset[str]
    particles: frozenset[str]
    stop: frozenset[str]
    pairs: frozenset[tuple[str, ...]]  # offices and places: never the start of a name, however written
    compounds: frozenset[tuple[str, ...]]  # everyday words: not a name unless written "Đô Thị" (a name's case)
    place_names: _Index
    place_words: frozenset[str]
    place_phrases: _Index
    introducers: _Index
    verbs: _Index
    honorifics: frozenset[str]  # followed by a lower-case name too
    weak_honorifics: frozenset[str]  # followed by a capitalised name only
    honorific_phrases: _Index
    all_honorifics: frozenset[str]
    accented: bool


_ACCENTED_LISTS = _Lists(
    surnames=lexicon.SURNAMES,
    surnames_unambiguous=lexicon.SURNAMES_UNAMBIGUOUS,
    middles=lexicon.MIDDLES,
    given=lexicon.GIVEN,
    ranks=lexicon.SIBLING_RANKS,
    ambiguous=lexicon.AMBIGUOUS_LOWER,
    after_name=lexicon.AFTER_NAME,
    after_name_phrases=_by_first_word(lexicon.AFTER_NAME_PHRASES),
    common=lexicon.COMMON,
    particles=lexicon.END_PARTICLES,
    stop=lexicon.STOP,
    pairs=lexicon.STOP_PAIRS,
    compounds=lexicon.COMPOUNDS,
    place_names=_by_first_word(lexicon.PLACE_NAMES),
    place_words=lexicon.PLACE_WORDS,
    place_phrases=_by_first_word(lexicon.PLACE_PHRASES),
    introducers=_by_first_word(lexicon.INTRODUCERS),
    verbs=_by_first_word(lexicon.NAME_VERBS),
    honorifics=lexicon.HONORIFICS - {"a", "c"},
    weak_honorifics=frozenset({"a", "c"}),
    honorific_phrases=_by_first_word(lexicon.HONORIFIC_PHRASES),
    all_honorifics=lexicon.HONORIFICS,
    accented=True,
)
_FOLDED_LISTS = _Lists(
    surnames=lexicon.SURNAMES_FOLDED,
    surnames_unambiguous=lexicon.SURNAMES_UNAMBIGUOUS_FOLDED,
    middles=lexicon.MIDDLES_FOLDED,
    given=lexicon.GIVEN_FOLDED,
    ranks=lexicon.SIBLING_RANKS_FOLDED,
    ambiguous=lexicon.AMBIGUOUS_FOLDED,
    after_name=lexicon.AFTER_NAME_FOLDED,
    after_name_phrases=_by_first_word(lexicon.AFTER_NAME_PHRASES_FOLDED),
    common=lexicon.COMMON_FOLDED,
    particles=lexicon.END_PARTICLES_FOLDED,
    stop=lexicon.STOP_FOLDED,
    pairs=lexicon.STOP_PAIRS_FOLDED,
    compounds=lexicon.COMPOUNDS_FOLDED,
    place_names=_by_first_word(lexicon.PLACE_NAMES_FOLDED),
    place_words=lexicon.PLACE_WORDS_FOLDED,
    place_phrases=_by_first_word(lexicon.PLACE_PHRASES_FOLDED),
    introducers=_by_first_word(lexicon.INTRODUCERS_FOLDED),
    verbs=_by_first_word(lexicon.NAME_VERBS_FOLDED),
    honorifics=lexicon.HONORIFICS_FOLDED_STRONG,
    weak_honorifics=lexicon.HONORIFICS_FOLDED_WEAK,
    honorific_phrases=_by_first_word(lexicon.HONORIFIC_PHRASES_FOLDED),
    all_honorifics=lexicon.HONORIFICS_FOLDED,
    accented=False,
)
_BOUNDARY = frozenset(".,;:!?)(-–/|")


class _Comment:
    """One comment's words, the lists that fit it, and the names found so far (as word ranges)."""

    def __init__(self, text: str) -> None:
        self.text = text
        folded = _ACCENTED.search(text) is None
        self.lists = _FOLDED_LISTS if folded else _ACCENTED_LISTS
        matches = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
        long_words = [w for _, _, w in matches if len(w) > 1]
        # Written in capitals: capitals say nothing, so read it as lower case.
        shouting = len(long_words) >= 3 and sum(w.isupper() for w in long_words) > 0.6 * len(long_words)
        self.words: list[_Word] = []
        convert = lexicon.fold if folded else lexicon.key
        for start, end, word in matches:
            tail = word.replace("’", "'").rsplit("'", 1)[-1] if "'" in word or "’" in word else word
            cap = not shouting and word[0].isupper() and (len(tail) == 1 or tail[1:].islower())
            self.words.append(_Word(start, end, convert(word), cap, len(tail)))
        self.keys = [w.key for w in self.words]
        # Words i and i + 1 are separated by one or two blanks only (no punctuation, no line break).
        self.adj = [
            0 < b.start - a.end <= 2 and text[a.end : b.start].strip(" \t") == ""
            for a, b in zip(self.words, self.words[1:], strict=False)
        ]
        # Words of introducers and verbs ("tôi là", "cảm ơn"), and of honorifics used as such: never a name.
        self.cues: set[int] = set()
        for phrases in (self.lists.introducers, self.lists.verbs):
            for i, key in enumerate(self.keys):
                if key in phrases:
                    self.cues.update(range(i, i + self.phrase_at(i, phrases)))
        self.places = self._place_zone()
        self.famous = self._famous()
        self.names: list[tuple[int, int]] = []

    # --- Word tests ------------------------------------------------------------------------------------

    def adjacent(self, i: int, j: int) -> bool:
        """Words i and j = i + 1 are separated by blanks only (no punctuation, no line break)."""
        return self.adj[i]

    def phrase_at(self, i: int, phrases: _Index) -> int:
        """The length of the longest phrase of ``phrases`` that starts at word i (its words adjacent), or 0."""
        for phrase in phrases.get(self.keys[i], ()):
            length = len(phrase)
            if i + length <= len(self.words) and tuple(self.keys[i : i + length]) == phrase:
                if all(self.adjacent(k, k + 1) for k in range(i, i + length - 1)):
                    return length
        return 0

    def pair_stop(self, i: int) -> bool:
        """Words i and i + 1 are an office, a place or an everyday word ("Công an", "thái độ")."""
        nxt = i + 1
        if nxt >= len(self.words) or not self.adjacent(i, nxt):
            return False
        pair = (self.keys[i], self.keys[nxt])
        if pair in self.lists.pairs:
            return True
        return pair in self.lists.compounds and not (self.words[i].cap and self.words[nxt].cap)

    def name_like(self, i: int, *, first: bool = True) -> bool:
        """A capitalised Vietnamese syllable that is not a title or an office (nor, first, an honorific)."""
        word = self.words[i]
        if not word.cap or word.letters > 7 or self.keys[i] in self.lists.stop:
            return False
        if not _SYLLABLE.fullmatch(lexicon.fold(self.keys[i].replace("’", "'").split("'")[-1])):
            return False
        return not first or self.keys[i] == "anh" or self.keys[i] not in self.lists.all_honorifics

    def _sentence_start(self, i: int) -> bool:
        before = self.text[: self.words[i].start].rstrip()
        return not before or before[-1] in ".!?:;\n"

    def in_lists(self, i: int) -> bool:
        lists = self.lists
        k = self.keys[i]
        return k in lists.surnames or k in lists.middles or k in lists.given or k in lists.ranks

    def given_word(self, i: int) -> bool:
        lists = self.lists
        return self.keys[i] in lists.given or self.keys[i] in lists.ranks

    def boundary_after(self, i: int, *, words: bool = True, particles: bool = False) -> bool:
        """Word i ends the text or a clause; with ``words``, or a word that usually follows a name comes
        next ("chị mai rất …", "… làm việc"); with ``particles``, or "nha", "nhé", "ạ"."""
        end = self.words[i].end
        rest = self.text[end : end + 16].lstrip(" \t")
        if not rest or rest[0] in _BOUNDARY or rest[0] == "\n":
            return True
        nxt = i + 1
        if nxt >= len(self.words) or not self.adjacent(i, nxt):
            return False
        if particles and self.keys[nxt] in self.lists.particles:
            return True
        if not words:
            return False
        return self.keys[nxt] in self.lists.after_name or self.phrase_at(nxt, self.lists.after_name_phrases) > 0

    def unknown_name_word(self, k: int) -> bool:
        """A lower-case Vietnamese syllable that the lists do not know and that is no everyday word: the end
        of a full name ("vũ thị [xoan]") when a clause ends after it."""
        key = self.keys[k]
        lists = self.lists
        if self.words[k].cap or self.words[k].letters > 7 or self.in_lists(k) or self.pair_stop(k - 1):
            return False
        if key in lists.stop or key in lists.common or key in lists.after_name or key in lists.all_honorifics:
            return False
        return key not in lists.particles and _SYLLABLE.fullmatch(lexicon.fold(key)) is not None

    # --- Places ----------------------------------------------------------------------------------------

    def _place_zone(self) -> set[int]:
        """Words that follow a place word and name the place: "đường [Lê Lợi]", "trường THCS [Chu Văn An]"."""
        zone: set[int] = set()
        n = len(self.words)
        lists = self.lists
        for i, key in enumerate(self.keys):
            if key not in lists.place_words and key not in lists.place_phrases:
                continue
            length = self.phrase_at(i, lists.place_phrases) or (1 if key in lists.place_words else 0)
            if not length or i in self.cues:  # "biểu dương" (praise) is not "đường"
                continue
            k = i + length
            while k < n and k - (i + length) < 6 and self._follows(k - 1, k):
                word = self.words[k]
                acronym = self.text[word.start : word.end].isupper() and word.letters > 1
                if not (word.cap or acronym or self.in_lists(k)):
                    break
                zone.add(k)
                k += 1
        return zone

    def _follows(self, i: int, j: int) -> bool:
        """Adjacent, or after an abbreviation's dot ("TP. Hồ Chí Minh")."""
        gap = self.text[self.words[i].end : self.words[j].start]
        return self.adjacent(i, j) or gap in (". ", ".")

    def _famous(self) -> set[int]:
        """Words of places and street names that look like a person's name ("Hà Nội", "Trần Hưng Đạo")."""
        words: set[int] = set()
        for i, key in enumerate(self.keys):
            if key in self.lists.place_names:
                words.update(range(i, i + self.phrase_at(i, self.lists.place_names)))
        return words

    # --- Runs of name words ----------------------------------------------------------------------------

    def capitalised_run(self, j: int, *, after_honorific: bool = False) -> int:
        """The end (exclusive) of the capitalised name that starts at word j, or j when none does."""
        rank = after_honorific and self.keys[j] in self.lists.ranks  # "chu Ba": "ba" is also "bà"
        if not self.name_like(j, first=not rank) or self.pair_stop(j):
            return j
        limit = _MAX_NAME if self.keys[j] in self.lists.surnames else 3
        k = j + 1
        n = len(self.words)
        while k < n and k - j < limit and self.adjacent(k - 1, k):
            # Inside a name, a pair stops it only when written as the office is ("Công văn", not "Công Văn").
            office = self.pair_stop(k) and not self.words[k + 1].cap
            if self.name_like(k, first=False) and not office and self.keys[k] not in _JOINERS:
                k += 1
            elif (
                self.keys[k] in _INNER_MIDDLES
                and k + 1 < n
                and k + 1 - j < limit
                and self.adjacent(k, k + 1)
                and self.name_like(k + 1, first=False)
            ):
                k += 2  # "Nguyễn thị Lan"
            else:
                break
        return k

    def lower_full_run(self, j: int, *, strict: bool) -> int:
        """The end of a lower-case full name from the lists at word j ("nguyễn văn an"), or j.

        A surname and one to three name words; with two or more, the second is a middle name; a fourth is
        not an everyday word; after a surname and a middle name, a last word the lists do not know when the
        clause ends after it ("vũ thị xoan nha!"). ``strict`` (nothing before it says a name follows): the
        surname is not an everyday word either, or (with diacritics) "văn"/"thị" or the clause's end follows.
        """
        lists = self.lists
        keys = self.keys
        if self.words[j].cap or keys[j] not in lists.surnames or j in self.cues:
            return j
        n = len(self.words)
        k = j + 1
        while (
            k < n
            and k - j < _MAX_NAME
            and self.adjacent(k - 1, k)
            and not self.words[k].cap
            and (keys[k] in lists.middles or self.given_word(k))
            and keys[k] not in lists.particles
            and not self.pair_stop(k - 1)
            and not self.phrase_at(k, lists.honorific_phrases)
        ):
            k += 1
        if k - j == _MAX_NAME and keys[k - 1] in lists.ambiguous and not self.boundary_after(k - 1):
            k -= 1  # "em nguyen my chi [dung] dien thoai"
        if (
            2 <= k - j < _MAX_NAME
            and keys[j + 1] in lists.middles
            and k < n
            and self.adjacent(k - 1, k)
            and self.unknown_name_word(k)
            and self.boundary_after(k, particles=True)
        ):
            k += 1
        length = k - j
        if length < 2:
            return j
        unambiguous = keys[j] in lists.surnames_unambiguous
        if length >= 3 and keys[j + 1] in lists.middles:
            if not strict or unambiguous or (lists.accented and keys[j + 1] in _INNER_MIDDLES):
                return k
            if keys[k - 1] not in lists.ambiguous and self.boundary_after(k - 1, words=lists.accented):
                return k  # "dương diệu thoa, cmnd …"
        if length >= 3:
            k = j + 2
        if self.given_word(j + 1):
            plain = keys[j + 1] not in lists.ambiguous
            if unambiguous and (plain or not strict or self.boundary_after(j + 1, words=False)):
                return k  # "pham tien", "chú trần hạ", "… rat nhieu. tran kha"
            if plain and not strict and keys[j] not in lists.ambiguous:
                return k
        return j

    def lower_given_run(self, j: int, *, lenient: bool = False) -> int:
        """The end of a lower-case given name at word j ("lan", "thu hà", "bá khiêm"), or j.

        Not an everyday word, unless a second given name, the end of the clause or a word that usually
        follows a name comes next ("chị mai rất dễ thương", "chị như.").
        """
        lists = self.lists
        keys = self.keys
        n = len(self.words)

        def usable(k: int) -> bool:
            return (
                not self.words[k].cap
                and self.given_word(k)
                and keys[k] not in lists.all_honorifics
                and keys[k] not in lists.particles
                and not self.pair_stop(k)
                and not self.phrase_at(k, lists.honorific_phrases)  # "… anh [cán bộ] …"
            )

        two = j + 1 < n and self.adjacent(j, j + 1) and not self.pair_stop(j)
        first_middle = keys[j] in lists.middles and keys[j] not in lists.all_honorifics and not self.words[j].cap
        if two and first_middle and self.unknown_name_word(j + 1) and self.boundary_after(j + 1, particles=True):
            return j + 2  # "cán bộ ngọc ngát đã …", "cán bộ như lựu hướng dẫn"
        if two and first_middle and not usable(j) and usable(j + 1):
            if keys[j] not in lists.ambiguous or keys[j + 1] not in lists.ambiguous or self.boundary_after(j + 1):
                return j + 2  # "bá khiêm"
        if not usable(j):
            return j
        if two and usable(j + 1):
            second_ok = keys[j + 1] not in lists.ambiguous or self.boundary_after(j + 1)
            if second_ok and (keys[j] not in lists.ambiguous or keys[j + 1] not in lists.ambiguous):
                return j + 2  # "lan oanh", "thu hà"
            if self.boundary_after(j + 1):
                return j + 2  # "dinh ly o quay 9"
        if two and keys[j + 1] == "anh" and not (j + 2 < n and self.adjacent(j + 1, j + 2) and self.given_word(j + 2)):
            return j + 2  # "mạnh anh", "lan anh"
        if keys[j] in lists.ambiguous and not lenient and not self.boundary_after(j):
            return j
        return j + 1

    # --- Rules -----------------------------------------------------------------------------------------

    def add(self, start: int, end: int, *, honorific: int | None = None) -> None:
        if end <= start or start in self.cues:
            return
        if honorific is None:
            if start in self.places or any(k in self.famous for k in range(start, end)):
                return
        elif honorific in self.places or honorific in self.famous:
            return
        self.names.append((start, end))

    def honorific_names(self) -> None:
        lists = self.lists
        n = len(self.words)
        i = 0
        while i < n:
            key = self.keys[i]
            if key not in lists.honorific_phrases and key not in lists.honorifics and key not in lists.weak_honorifics:
                i += 1
                continue
            length = self.phrase_at(i, lists.honorific_phrases)
            strong = bool(length) or self.keys[i] in lists.honorifics
            weak = not strong and self.keys[i] in lists.weak_honorifics
            if not length and (strong or weak):
                length = 1
            j = i + length
            if not length or j >= n or not self.adjacent(j - 1, j):
                i += 1
                continue
            if self.keys[i] == "anh" and i > 0 and self.keys[i - 1] in ("tiếng", "tieng"):
                i += 1  # "tiếng Anh"
                continue
            if (weak and self.words[i].letters == 1 and self.words[i].cap and not self._sentence_start(i)) or (
                self.pair_stop(j - 1)
            ):
                i += 1  # "Vitamin C", "Chú ý", "bà con", "anh chị"
                continue
            end = self.capitalised_run(j, after_honorific=True)
            if end == j and not self.words[j].cap:
                end = self.lower_full_run(j, strict=False)
                if end == j and strong:
                    end = self.lower_given_run(j)
            if end > j:
                self.cues.update(range(i, j))
                self.add(j, end, honorific=i)
                i = end
            else:
                i += 1

    def introduced_names(self) -> None:
        lists = self.lists
        n = len(self.words)
        for i in range(n):
            if self.keys[i] not in lists.introducers:
                continue
            length = self.phrase_at(i, lists.introducers)
            j = i + length
            if not length or j >= n:
                continue
            self.cues.update(range(i, j))
            if self.keys[j] in ("là", "la") and self.adjacent(j - 1, j) and j + 1 < n:
                j += 1  # "Người tiếp nhận hồ sơ là …"
            if self.keys[j] in lists.all_honorifics and j + 1 < n and self.adjacent(j, j + 1):
                if self.words[j + 1].cap or self.in_lists(j + 1):
                    continue  # "… là bà Lưu Kim Oanh": the honorific rule
            gap = self.text[self.words[j - 1].end : self.words[j].start]
            if gap.strip(" \t:-–") != "" or len(gap) > 4:
                continue
            end = self.capitalised_run(j)
            if end == j and not self.words[j].cap:
                end = self.lower_full_run(j, strict=False)
                if end == j:
                    after_ten = "ten" in (lexicon.fold(self.keys[i]), lexicon.fold(self.keys[j - 1]))
                    end = self.lower_given_run(j, lenient=after_ten)  # "tôi tên hoa": any given name
            self.add(j, end)

    def verb_names(self) -> None:
        lists = self.lists
        n = len(self.words)
        for i in range(n):
            if self.keys[i] not in lists.verbs:
                continue
            length = self.phrase_at(i, lists.verbs)
            j = i + length
            if not length or j >= n or not self.adjacent(j - 1, j):
                continue
            self.cues.update(range(i, j))
            if self._known_capitalised(j):
                self.add(j, self.capitalised_run(j))
            elif not self.words[j].cap:
                self.add(j, self.lower_full_run(j, strict=False))

    def surname_names(self) -> None:
        lists = self.lists
        i = 0
        n = len(self.words)
        while i < n:
            if self.keys[i] in lists.surnames and i not in self.cues:
                end = self.capitalised_run(i) if self.words[i].cap else self.lower_full_run(i, strict=True)
                for k in range(i + 1, end):  # a place's name inside: "Từ Hà Nội" → "Từ", not a name
                    if k in self.famous:
                        end = k
                        break
                if end - i >= 2:
                    self.add(i, end)
                    i = end
                    continue
            i += 1

    def _known_capitalised(self, j: int) -> bool:
        lists = self.lists
        k = self.keys[j]
        return self.name_like(j) and (k in lists.given or k in lists.surnames or k in lists.ranks)

    def bracketed_names(self) -> None:
        """A capitalised name in brackets: "(Lan)" ("(chị Mai)" is the honorific rule's)."""
        for j, word in enumerate(self.words):
            if word.start == 0 or self.text[word.start - 1] != "(":
                continue
            if self._known_capitalised(j):
                end = self.capitalised_run(j)
            elif not word.cap:
                end = self.lower_full_run(j, strict=False)
                if end == j and self.given_word(j) and self.keys[j] not in self.lists.ambiguous:
                    end = j + 1
            else:
                continue
            if end > j and self.text[self.words[end - 1].end : self.words[end - 1].end + 1] == ")":
                self.add(j, end)

    def signed_name(self) -> None:
        """A capitalised name alone at the end, after a dash, a comma or a full stop: "… - Lan", "Cảm ơn. Đặng Bảo"."""
        n = len(self.words)
        if not n or self.text[self.words[-1].end :].strip(" \t\n.!"):
            return
        start = n - 1
        while start > 0 and n - start < _MAX_NAME and self.adjacent(start - 1, start) and self.words[start - 1].cap:
            start -= 1
        before = self.text[: self.words[start].start].rstrip(" \t")
        if before and before[-1] in "-–,.\n:;!" and self._known_capitalised(start):
            if self.capitalised_run(start) >= n:
                self.add(start, n)

    def joined_names(self) -> None:
        """A capitalised given name joined to a name already found: "chị Lan và Hương", "Trang, Phúc"."""
        n = len(self.words)
        for _, end in list(self.names):
            k = end
            while k + 1 < n:
                gap = self.text[self.words[k - 1].end : self.words[k].start]
                if self.keys[k] in _JOINERS and gap.strip() == "" and self.adjacent(k, k + 1):
                    j = k + 1
                elif gap.strip() == "," and self._known_capitalised(k):
                    j = k
                else:
                    break
                end = self.capitalised_run(j) if self._known_capitalised(j) else j
                if end == j:
                    break  # "chị Lan, Trung tâm …": no name, and no progress
                self.add(j, end)
                k = end

    def repeated_names(self) -> None:
        """Every other place where a name found is written again, word for word."""
        found: dict[str, set[tuple[str, ...]]] = {}
        for s, e in self.names:
            if self.words[s].cap or e - s >= 2:
                found.setdefault(self.keys[s], set()).add(tuple(self.keys[s:e]))
        if not found:
            return
        covered = {k for s, e in self.names for k in range(s, e)}
        for s, key in enumerate(self.keys):
            if key not in found or s in covered:
                continue
            for name in found[key]:
                e = s + len(name)
                if tuple(self.keys[s:e]) != name or not (self.words[s].cap or len(name) >= 2):
                    continue
                if all(self.adjacent(k, k + 1) for k in range(s, e - 1)):
                    self.add(s, e)
                    break

    def spans(self) -> list[tuple[int, int]]:
        self.honorific_names()
        self.introduced_names()
        self.verb_names()
        self.surname_names()
        self.bracketed_names()
        self.signed_name()
        self.joined_names()
        self.repeated_names()
        return [(self.words[s].start, self.words[e - 1].end) for s, e in self.names]


def find_names(text: str) -> list[tuple[int, int]]:
    """Character spans of the personal names in ``text`` (possibly overlapping; the caller merges them)."""
    return _Comment(text).spans()
