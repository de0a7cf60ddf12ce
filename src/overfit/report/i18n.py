"""The report's words in each language: a message catalog for the page and the figures, the chapter's Korean text.

The catalog is YAML (``locales/messages.<language>.yaml``: a list of ``{en: …, ko: …}`` pairs), not Babel's .po:
the English text is the message id (gettext's convention, so the English report needs no catalog at all and comes
out exactly as written in the templates), and a YAML list of pairs needs no extraction or compile step in the
pipeline (no .mo file to keep in step with its .po), reads with each English sentence beside its Korean rendering,
is the format the chapter's own translation (``locales/chapter.<language>.yaml``) and the config already use, and
Korean has no plural forms that .po's machinery would be needed for. A message with no translation is an error that
names it and the file to add it to: a report never mixes languages silently.

Text the *code* generates into the results tables (claims.csv's statistic, method, claimed, detail and guard
reasons; the recipe's decisions and reasons) stays English in those tables, which are data; a page in another
language translates it as it renders it, by *patterns* (``locales/generated.<language>.yaml``): each an English
f-string's shape with typed placeholders (``KINDS``: a number, a name kept as written, a word or a phrase translated
in turn), paired with its rendering that holds the same placeholders. A text is translated whole where a pattern or
an entry matches it; a list joined by "; " (outside parentheses) part by part. A generated text that nothing matches
is an error naming it and the file to add a pattern to, unless that file's ``keep:`` allow-list shows it as written
(marked English on the page): a new f-string in the code cannot leave English in the page unnoticed. A claim row's
history is translated from the chapter's own entries (``chapter.<language>.yaml``, ``history_text``).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

LANGUAGES = ("en", "ko")
SOURCE = "en"  # the templates' and the code's own language: its messages are their ids
LOCALES = Path(__file__).with_name("locales")
# the words of a claim row (config/chapter.yaml) a reader sees; its history's entries are translated field by field
ROW_TEXT = ("sentence", "words", "not_testable")
HISTORY_TEXT = ("change", "why")


class MissingTranslation(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def _known(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"report language {language!r} is not one of {', '.join(LANGUAGES)}: set report.language "
                         "in the config to one of them")


def report_languages(config: dict) -> tuple[str, ...]:
    """The config's ``report.language``, a language or a list of them, as a tuple (English where it is unset)."""
    setting = (config.get("report") or {}).get("language", SOURCE)
    languages = tuple([setting] if isinstance(setting, str) else setting)
    for language in languages:
        _known(language)
    if not languages or len(set(languages)) != len(languages):
        raise ValueError(f"report.language {setting!r}: give one language or a list of different ones")
    return languages


def page_path(languages: tuple[str, ...], language: str) -> str:
    """The first language's page is results/report.html (what every target names), each other's report.<it>.html."""
    return "results/report.html" if language == languages[0] else f"results/report.{language}.html"


def figure_path(language: str, name: str) -> str:
    """English figures where they always were; another language's in a folder of its own."""
    return f"results/figures/{name}.png" if language == SOURCE else f"results/figures/{language}/{name}.png"


def catalog_path(language: str) -> Path:
    return LOCALES / f"messages.{language}.yaml"


@functools.cache
def messages(language: str) -> dict[str, str]:
    """English message → its ``language`` rendering (empty for English), refused where a pair lacks a side or an
    English message is given twice."""
    _known(language)
    if language == SOURCE:
        return {}
    path = catalog_path(language)
    pairs = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    table: dict[str, str] = {}
    for i, pair in enumerate(pairs):
        if not isinstance(pair, dict) or not pair.get(SOURCE) or not pair.get(language):
            raise ValueError(f"{path}: entry {i + 1} ({pair!r}) needs both '{SOURCE}' and '{language}' text")
        if pair[SOURCE] in table:
            raise ValueError(f"{path}: the message {pair[SOURCE]!r} is given twice (entry {i + 1}): keep one")
        table[pair[SOURCE]] = pair[language]
    return table


def gettext(language: str):
    """The translating function of ``language``: the identity for English, else a strict catalog look-up."""
    table = messages(language)
    if language == SOURCE:
        return lambda message: message

    def translate(message: str) -> str:
        try:
            return table[message]
        except KeyError:
            raise MissingTranslation(f"no {language} translation of the report message {message!r}: add "
                                     f"{{en: …, {language}: …}} to {catalog_path(language)}") from None
    return translate


def ngettext(language: str):
    """Plural forms: English chooses by ``n``; Korean has one form, its translation of the singular message."""
    translate = gettext(language)
    if language == SOURCE:
        return lambda singular, plural, n: singular if n == 1 else plural
    return lambda singular, plural, n: translate(singular)


def estimate_words(estimate: str, translate) -> str:
    """An audit row's estimate ("single", "iterated ×10"): its word translated, its count kept."""
    word, _, count = str(estimate).partition(" ")
    return " ".join(filter(None, (translate(word), count)))


def chapter_text(chapter: dict, language: str, path: Path | None = None) -> dict:
    """The chapter with its words in ``language`` from ``locales/chapter.<language>.yaml`` (shaped ``claims: {<row
    id>: {<field>: text, history: [{change: text, why: text}, …]}}`` plus ``book: {<dotted path in the book block>:
    text}``): each claim row's sentence, words and not_testable, its section where that is a name ("2nd ed. 5.1"),
    each entry of its history (its change and why, entry by entry in the chapter's order; date, commit and seen stay),
    and the book block's prose. Unchanged for English. A row, field or history entry the file lacks is an error naming
    it, as is a row or book path the chapter does not have, or a history of another length than the row's."""
    _known(language)
    if language == SOURCE:
        return chapter
    path = path or LOCALES / f"chapter.{language}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the chapter's {language} text is missing; the {language} report needs it")
    text = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows, book = text.get("claims") or {}, text.get("book") or {}
    translated = copy.deepcopy(chapter)
    ids = {str(row["id"]) for row in chapter["claims"]}
    stale = sorted(set(map(str, rows)) - ids)
    if stale:
        raise ValueError(f"{path}: claims {', '.join(stale)} are not rows of the chapter: remove or rename them")
    for row in translated["claims"]:
        mine = rows.get(str(row["id"]), rows.get(row["id"]))
        shown = [f for f in ROW_TEXT if row.get(f)] + (["section"] if _named(row.get("section")) else [])
        if not isinstance(mine, dict):
            raise MissingTranslation(f"{path}: claim row {row['id']} has no {language} text: add '{row['id']}:' "
                                     f"under claims: with its {', '.join(shown)}")
        for field in shown:
            if not mine.get(field):
                raise MissingTranslation(f"{path}: claim row {row['id']} has no {language} '{field}': add it")
            row[field] = mine[field]
        _history(row, mine.get("history"), path, language)
    for dotted, value in book.items():
        node = translated.setdefault("book", {})
        keys = str(dotted).split(".")
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or keys[-1] not in node:
            raise ValueError(f"{path}: book.{dotted} is not in the chapter's book block: remove or rename it")
        node[keys[-1]] = value
    return translated


def _named(section) -> bool:
    """A section heading that is words ("2nd ed. 5.1"), not a number: it is translated with the row."""
    return any(c.isalpha() for c in str(section or ""))


def _history(row: dict, mine, path: Path, language: str) -> None:
    """A row's history entries with their change and why in ``language`` (``mine``: the file's list for the row)."""
    entries = row.get("history") or []
    if not entries:
        return
    if not isinstance(mine, list) or len(mine) != len(entries):
        raise MissingTranslation(f"{path}: claim row {row['id']} has {len(entries)} history entries in the chapter but "
                                 f"{len(mine) if isinstance(mine, list) else 'no'} {language} ones: give its 'history:' "
                                 "one {change: …, why: …} per entry, in the chapter's order")
    for i, (entry, translated) in enumerate(zip(entries, mine)):
        for field in HISTORY_TEXT:
            if entry.get(field) and not (isinstance(translated, dict) and translated.get(field)):
                raise MissingTranslation(f"{path}: claim row {row['id']}, history entry {i + 1} ({entry.get('date')}) "
                                         f"has no {language} '{field}': add it")
            if entry.get(field):
                entry[field] = translated[field]


# --- text the code generates: translated by patterns ---------------------------------------------------------------

NUMBER = r"[-+−]?(?:\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?|inf|nan)"
NAME = r"[^\s,;:()\[\]]+"
# what a placeholder matches, by its kind (its name up to an optional "_tag": {num_low}, {name_b}), and whether the
# matched text is translated in turn (a word through the catalogs, a phrase through the patterns) or kept as written
KINDS = {
    "num": (NUMBER, False),  # a number as the code formats it: 0.2944, +0.0232, -1, 25,000, 1.64e+10, inf
    "nums": (rf"{NUMBER}(?:, {NUMBER})*", False),  # numbers joined by ", " (per seed, per redraw)
    "range": (r"\[[^\]]*\]", False),  # numbers in brackets: an interval, bounds, a list of epochs
    "name": (NAME, False),  # a name from the config or the data: an experiment, protocol, study, arm, candidate
    "names": (rf"{NAME}(?:, {NAME})*", False),  # names joined by ", "
    "chain": (rf"{NAME}(?: < {NAME})+", False),  # names in a sweep's order, joined by " < "
    "pairs": (rf"{NAME} {NUMBER}(?:, {NAME} {NUMBER})*", False),  # "original 2.75, smaller 7.4": means by name
    "quoted": (r"'[^']*'", False),  # a name the code wrote with repr()
    "layers": (r"\d+(?:-\d+)*", False),  # hidden widths: "16-16"
    "op": (r"[<>]=?|[≥≤]", False),  # a comparison the code wrote as a symbol
    "date": (r"\d{4}-\d{2}-\d{2}", False),
    "word": (r"[^\s,;:()]+", True),  # one word the catalogs translate: a split, a metric, a verdict, a mode
    "text": (r".+", True),  # a phrase the patterns translate in turn
}
PLACEHOLDER = re.compile(r"\{([a-z]+)(?:_(\w+))?\}")


class UntranslatedText(MissingTranslation):
    """Generated text that no pattern of ``generated.<language>.yaml`` matches."""


def generated_path(language: str) -> Path:
    return LOCALES / f"generated.{language}.yaml"


@dataclass(frozen=True)
class Pattern:
    """One entry of the generated-text catalog: the English shape split at its placeholders, and its rendering."""
    english: str
    translated: str
    parts: tuple  # literal, (placeholder, kind), literal, …, literal

    @classmethod
    def parse(cls, english: str, translated: str, where: str) -> "Pattern":
        parts: list = []
        at = 0
        for found in PLACEHOLDER.finditer(english):
            parts += [english[at:found.start()], (found.group(0)[1:-1], found.group(1))]
            at = found.end()
        parts.append(english[at:])
        names = [p[0] for p in parts[1::2]]
        unknown = sorted({kind for _, kind in parts[1::2]} - set(KINDS))
        if unknown:
            raise ValueError(f"{where}: placeholder kinds {unknown} are not among {', '.join(KINDS)} (i18n.KINDS)")
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: a placeholder is used twice; tag them apart ({{num_a}}, {{num_b}})")
        if any(not literal for literal in parts[2:-1:2]):
            raise ValueError(f"{where}: two placeholders touch; put the text between them into the pattern")
        if len(parts) == 3 and not parts[0] and not parts[2]:
            raise ValueError(f"{where}: a pattern that is one placeholder alone matches anything: give it words")
        theirs = sorted(m.group(0)[1:-1] for m in PLACEHOLDER.finditer(translated))
        if theirs != sorted(names):
            raise ValueError(f"{where}: its translation has the placeholders {theirs}, its English {sorted(names)}: "
                             "they must be the same")
        return cls(english, translated, tuple(parts))


class Generated:
    """The translation of generated text into one language (see the module's docstring); ``known``: further exact
    pairs (the chapter's own words, which a guard's reason quotes)."""

    def __init__(self, language: str, known: dict[str, str] | None = None, path: Path | None = None):
        _known(language)
        self.language, self.path = language, path or generated_path(language)
        self.words: dict[str, str] = {}
        self.patterns: list[Pattern] = []
        self.keep: frozenset[str] = frozenset()
        self.history: Pattern | None = None
        self.seen: dict[str, str] = {}
        if language != SOURCE:
            self._load()
            self.words = {**messages(language), **self.words, **(known or {})}
        self._cache: dict[str, str | None] = {}

    def _load(self) -> None:
        words, patterns, self.keep, self.history, seen = _read_generated(self.path, self.language)
        self.words, self.patterns, self.seen = dict(words), list(patterns), dict(seen)

    # -- matching ------------------------------------------------------------------------------------------------

    def _value(self, kind: str, piece: str) -> str | None:
        if not re.fullmatch(KINDS[kind][0], piece, flags=re.S):
            return None
        if not KINDS[kind][1]:
            return piece
        if kind == "word":
            return self.words.get(piece, self.words.get(piece.replace("_", " ")))
        return self.translated(piece)

    def fill(self, pattern: Pattern, text: str) -> str | None:
        """``text`` rendered through ``pattern``, or None where it does not have the pattern's shape (every way of
        cutting it at the pattern's words is tried, and a cut whose pieces do not translate is not taken)."""
        parts = pattern.parts
        if not text.startswith(parts[0]):
            return None

        def rest(k: int, at: int, values: dict) -> dict | None:
            if k == len(parts):
                return values if at == len(text) else None
            (name, kind), literal = parts[k], parts[k + 1]
            if k + 2 == len(parts):
                ends = [len(text) - len(literal)] if text.endswith(literal) and len(text) - len(literal) > at else []
            else:
                ends, start = [], at + 1
                while (found := text.find(literal, start)) != -1:
                    ends.append(found)
                    start = found + 1
            for end in ends:
                value = self._value(kind, text[at:end])
                if value is not None:
                    done = rest(k + 2, end + len(literal), {**values, name: value})
                    if done is not None:
                        return done
            return None

        values = rest(1, len(parts[0]), {})
        if values is None:
            return None
        return PLACEHOLDER.sub(lambda m: values[m.group(0)[1:-1]], pattern.translated)

    def translated(self, text: str) -> str | None:
        """``text`` in the language, or None where nothing matches it."""
        if text in self._cache:
            return self._cache[text]
        self._cache[text] = None  # a text is never its own part
        found = self.words.get(text)
        if found is None:
            parts = split_list(text)
            if len(parts) > 1:
                pieces = [self.translated(part) for part in parts]
                found = None if None in pieces else "; ".join(pieces)
            else:
                found = next((done for p in self.patterns if (done := self.fill(p, text)) is not None), None)
        self._cache[text] = found
        return found

    def unmatched(self, text: str) -> str:
        """The part of ``text`` that nothing matches (a list's first such item), for the error."""
        parts = split_list(text)
        return next((p for p in parts if self.translated(p) is None), text) if len(parts) > 1 else text

    def kept(self, text) -> bool:
        """Whether a text is shown as written in English: the allow-list's ``keep:`` (never on an English page)."""
        return self.language != SOURCE and _blank(text) is not None and str(text) in self.keep

    def __call__(self, text) -> str:
        """``text`` in the language; an error naming it where nothing matches and the allow-list does not keep it."""
        text = _blank(text)
        if text is None:
            return ""
        if self.language == SOURCE or text in self.keep:
            return text
        found = self.translated(text)
        if found is None:
            part = self.unmatched(text)
            where = "" if part == text else f" (its part {part!r} matches nothing)"
            raise UntranslatedText(f"no {self.language} pattern matches the generated text {text!r}{where}: add "
                                   f"{{en: …, {self.language}: …}} for it to {self.path} (placeholders: i18n.KINDS), "
                                   "or list it under keep: there to show it as written")
        return found


@functools.cache
def _read_generated(path: Path, language: str) -> tuple:
    """``generated.<language>.yaml`` parsed and checked once: (fixed phrases, patterns, keep, history pattern, seen)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: the {language} patterns of the generated text are missing")
    text = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    words: dict[str, str] = {}
    patterns: list[Pattern] = []
    for i, pair in enumerate(text.get("texts") or []):
        where = f"{path}: texts entry {i + 1} ({pair!r})"
        if not isinstance(pair, dict) or not pair.get(SOURCE) or not pair.get(language):
            raise ValueError(f"{where} needs both '{SOURCE}' and '{language}' text")
        english, translated = str(pair[SOURCE]), str(pair[language])
        if english in words or any(p.english == english for p in patterns):
            raise ValueError(f"{where}: given twice: keep one")
        if PLACEHOLDER.search(english) or PLACEHOLDER.search(translated):
            patterns.append(Pattern.parse(english, translated, where))
        else:
            words[english] = translated
    history = text.get("history") or {}
    entry = Pattern.parse(history[SOURCE], history[language], f"{path}: history") if history else None
    seen = {str(k): str(v) for k, v in (history.get("seen") or {}).items()}
    return words, tuple(patterns), frozenset(map(str, text.get("keep") or [])), entry, seen


def _blank(text) -> str | None:
    """A table cell's text, None where it is empty (NaN read back from a CSV, None, "")."""
    if text is None or (isinstance(text, float) and text != text):
        return None
    text = str(text)
    return text if text.strip() else None


def split_list(text: str, separator: str = "; ") -> list[str]:
    """``text`` cut at each ``separator`` outside parentheses and brackets (a list the code joined)."""
    parts, depth, at, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        depth += c in "(["
        depth -= c in ")]" and depth > 0
        if depth == 0 and text.startswith(separator, i):
            parts.append(text[at:i])
            at = i = i + len(separator)
            continue
        i += 1
    return parts + [text[at:]]


@functools.cache
def generated(language: str) -> Generated:
    """The page's translation of generated text (cached: its catalog is read once)."""
    return Generated(language)


def history_text(shown, english: list[dict], translated: list[dict], language: str, path: Path | None = None) -> str:
    """A claim row's history as claims.csv wrote it (its entries joined by "; "), rendered entry by entry from the
    chapter's entries (``english``) and their ``translated`` change and why; an error where the text is not the
    chapter's entries in the shape of the catalog's ``history:`` pattern (claims.csv older than the chapter, or the
    code's format changed: that file's pattern says which)."""
    shown = _blank(shown)
    if shown is None or language == SOURCE:
        return shown or ""
    strict = Generated(language, path=path)
    if strict.history is None:
        raise MissingTranslation(f"{strict.path}: no history: pattern; the {language} page needs it")
    entry = strict.history
    # the row's own entries and the seen words are the only vocabulary: a change or why is never cut or guessed
    words = dict(strict.seen)
    for e, t in zip(english, translated):
        words.update({str(e[f]): str(t[f]) for f in HISTORY_TEXT if e.get(f)})
    strict.words, strict.patterns = words, []

    def each(pattern: str) -> str:
        return "; ".join(PLACEHOLDER.sub(lambda m, i=i: "{" + m.group(0)[1:-1] + f"_{i}" + "}", pattern)
                         for i in range(len(english)))

    found = strict.fill(Pattern.parse(each(entry.english), each(entry.translated), f"{strict.path}: history"),
                        shown) if english else None
    if found is None:
        raise UntranslatedText(f"the history {shown!r} is not its row's {len(english)} entries of config/chapter.yaml "
                               f"in the shape of the history: pattern of {strict.path}: rerun the claims "
                               "(results/claims.csv is older than the chapter) or update that pattern to the code's")
    return found
