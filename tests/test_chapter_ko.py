"""The chapter's Korean text (src/overfit/report/locales/chapter.ko.yaml) against config/chapter.yaml.

The Korean report shows a reader each claim row's sentence, words and not_testable (and, where the section is a
name like "2nd ed. 5.1" rather than a number, its section heading), each entry of its history (change and why),
plus the prose of the chapter's ``book:`` block. A row added to or removed from the chapter without its Korean,
a field left empty, a number or threshold lost or changed in translation, or an English string pasted in place
of Korean would each put wrong or missing words in the Korean report: these checks find them before it is built.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "config" / "chapter.yaml"
SCHEMA = ROOT / "workflow" / "schemas" / "chapter.schema.yaml"
KOREAN = ROOT / "src" / "overfit" / "report" / "locales" / "chapter.ko.yaml"

# the row's text fields a reader sees (overfit.report.claims: sentence and words go into each result, not_testable
# into its reason; overfit.report.html: a section heading is printed as written when it is not a number)
SHOWN = ("sentence", "words", "not_testable")
# a history entry's fields a reader sees (the report renders date and seen itself; the commit is not shown)
HISTORY = ("change", "why")
# string fields of a row that are names the code reads, never prose
CODE = {"id", "statistic", "fit", "requires"}
# symbols and marks whose meaning a translation must not drop
SYMBOLS = ("≥", "≤", "×", "±", "−", "→", "λ", "≈", "|", "<", ">", "…", "~", "√")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# names of models, layers, optimizers and data sets, L1/L2, and literals like 1e-2: kept as written
CODE_NAME = re.compile(r"[A-Za-z]+\(\d+\)|\b[A-Z][A-Za-z]*[A-Z][A-Za-z0-9]*\b|\bL[12]\b|\b\d+e-\d+\b")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _section_is_text(section) -> bool:
    return bool(re.search(r"[A-Za-z]", str(section)))


def _book_prose(book: dict, prefix: str = "") -> dict[str, str]:
    """The ``book:`` block's prose by dotted path: string leaves with a space in them (names and section numbers
    such as ``reference_3_5`` or ``4.4`` have none)."""
    found: dict[str, str] = {}
    for key, value in book.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            found.update(_book_prose(value, f"{path}."))
        elif isinstance(value, str) and " " in value.strip():
            found[path] = value
    return found


def _book_leaf(book: dict, path: str):
    node = book
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _same_marks(where: str, english: str, korean: str) -> list[str]:
    """What of the English text's numbers, symbols and code names the Korean text lacks, and a missing Hangul."""
    problems = []
    if not HANGUL.search(korean):
        problems.append(f"{where}: has no Hangul (is it still English?)")
    numbers = set(NUMBER.findall(korean))
    lost = sorted(set(NUMBER.findall(english)) - numbers)
    if lost:
        problems.append(f"{where}: numbers {lost} of the English text are not in the Korean one")
    symbols = [s for s in SYMBOLS if s in english and s not in korean]
    if symbols:
        problems.append(f"{where}: symbols {symbols} of the English text are not in the Korean one")
    names = sorted({n for n in CODE_NAME.findall(english) if n not in korean})
    if names:
        problems.append(f"{where}: names {names} of the English text are not kept in the Korean one")
    return problems


def problems(chapter: dict, korean: dict) -> list[str]:
    """Every way the Korean text falls short of the chapter, each naming the row and field and what to do."""
    found: list[str] = []
    if not isinstance(korean, dict) or set(korean) - {"book", "claims"}:
        return [f"top level must be 'book:' and 'claims:' only, found {sorted(korean or {})}"]
    claims = korean.get("claims") or {}
    rows = {str(row["id"]): row for row in chapter["claims"]}
    for stale in sorted(set(map(str, claims)) - set(rows)):
        found.append(f"claims.{stale}: no such row in config/chapter.yaml: remove or rename it")
    for row_id, row in rows.items():
        mine = claims.get(row_id)
        if not isinstance(mine, dict):
            found.append(f"claims.{row_id}: missing: add it with its {', '.join(f for f in SHOWN if row.get(f))}")
            continue
        wanted = [f for f in SHOWN if row.get(f)] + (["section"] if _section_is_text(row.get("section")) else [])
        for field in wanted:
            value = mine.get(field)
            if not isinstance(value, str) or not value.strip():
                found.append(f"claims.{row_id}.{field}: missing or empty: translate the row's {field}")
            else:
                found.extend(_same_marks(f"claims.{row_id}.{field}", str(row[field]), value))
        found.extend(_history_problems(row_id, row.get("history") or [], mine.get("history")))
        for extra in sorted(set(mine) - set(wanted) - {"history"}):
            found.append(f"claims.{row_id}.{extra}: the row shows no such text: remove it")
    book = chapter.get("book", {}) or {}
    theirs = korean.get("book") or {}
    for path in sorted(set(theirs) - set(_book_prose(book))):
        leaf = _book_leaf(book, path)
        found.append(f"book.{path}: " + ("not in the chapter's book block" if leaf is None else "not prose")
                     + ": remove it")
    for path, english in _book_prose(book).items():
        value = theirs.get(path)
        if not isinstance(value, str) or not value.strip():
            found.append(f"book.{path}: missing or empty: translate it")
        else:
            found.extend(_same_marks(f"book.{path}", english, value))
    return found


def _history_problems(row_id: str, entries: list, mine) -> list[str]:
    """A row's history in Korean: one {change, why} per entry, in the chapter's order, each kept faithful."""
    if not entries and not mine:
        return []
    if not isinstance(mine, list) or len(mine) != len(entries):
        return [f"claims.{row_id}.history: {len(mine) if isinstance(mine, list) else 'no'} entries for the chapter's "
                f"{len(entries)}: give one {{change, why}} per entry, in the chapter's order"]
    found = []
    for i, (entry, translated) in enumerate(zip(entries, mine)):
        for field in HISTORY:
            value = translated.get(field) if isinstance(translated, dict) else None
            where = f"claims.{row_id}.history[{i}].{field}"
            if not isinstance(value, str) or not value.strip():
                found.append(f"{where}: missing or empty: translate the entry's {field}")
            else:
                found.extend(_same_marks(where, str(entry[field]), value))
        extra = sorted(set(translated) - set(HISTORY)) if isinstance(translated, dict) else []
        if extra:
            found.append(f"claims.{row_id}.history[{i}]: {extra} are not translated (date, commit, seen stay): remove")
    return found


@pytest.fixture(scope="module")
def chapter() -> dict:
    return _load(CHAPTER)


@pytest.fixture(scope="module")
def korean() -> dict:
    return _load(KOREAN)


def test_korean_text_covers_the_chapter(chapter, korean):
    assert problems(chapter, korean) == []


def test_every_shown_row_field_is_known():
    """A string field added to the chapter's rows must be sorted here: shown prose (translate it) or a code name."""
    schema = _load(SCHEMA)
    fields = schema["properties"]["claims"]["items"]["properties"]
    strings = {name for name, spec in fields.items() if spec.get("type") == "string" or "role" in spec.get("$ref", "")}
    unsorted = strings - CODE - set(SHOWN) - {"section", "trend"}
    assert not unsorted, f"new string fields {sorted(unsorted)}: add to SHOWN (and translate) or to CODE"


def _one_row() -> tuple[dict, dict]:
    chapter = {"book": {"runs": {"book_4_4": {"section": "4.4", "reference": "original"}},
                        "modes": {"book_4_4": {"role": "smaller", "stalls_from": 0.35, "why": "one in 4 stalls"}}},
               "claims": [{"id": "3a", "section": "2nd ed. 5.1", "sentence": "The 16-16-1 model stalls at 1e-2",
                           "words": "soon: best epoch below 2.5 (rank correlation < 0)",
                           "not_testable": "the proxy cannot separate time from labels",
                           "history": [{"date": "2026-11-30", "change": "threshold above 0 → above 1",
                                        "why": "issue 8: no stated threshold", "seen": "after"}]}]}
    korean = {"book": {"modes.book_4_4.why": "4번에 한 번 정체됨"},
              "claims": {"3a": {"section": "2판 5.1", "sentence": "16-16-1 모델은 1e-2에서 정체됩니다",
                                "words": "곧: 최적 에포크가 2.5 미만(순위 상관계수 < 0)",
                                "not_testable": "대리 변수로는 시간과 레이블을 구분할 수 없음",
                                "history": [{"change": "임곗값 0 초과 → 1 초과", "why": "이슈 8: 명시한 임곗값이 없었음"}]}}}
    return chapter, korean


def test_a_complete_translation_passes():
    assert problems(*_one_row()) == []


@pytest.mark.parametrize("spoil, expected", [
    (lambda c, k: k["claims"].pop("3a"), "claims.3a: missing"),
    (lambda c, k: k["claims"].update({"99z": {"sentence": "없는 행"}}), "claims.99z: no such row"),
    (lambda c, k: k["claims"]["3a"].update(words=" "), "claims.3a.words: missing or empty"),
    (lambda c, k: k["claims"]["3a"].pop("not_testable"), "claims.3a.not_testable: missing"),
    (lambda c, k: k["claims"]["3a"].pop("section"), "claims.3a.section: missing"),
    (lambda c, k: k["claims"]["3a"].update(words="곧: 최적 에포크가 3.5 미만(순위 상관계수 < 0)"),
     "numbers ['2.5']"),
    (lambda c, k: k["claims"]["3a"].update(words="곧: 최적 에포크가 2.5 미만(순위 상관계수가 음수)"),
     "symbols ['<']"),
    (lambda c, k: k["claims"]["3a"].update(sentence="16-16-1 모델은 0.01 (1e 2)에서 정체됩니다"), "names ['1e-2']"),
    (lambda c, k: k["claims"]["3a"].update(sentence="The 16-16-1 model stalls at 1e-2"), "has no Hangul"),
    (lambda c, k: k["claims"]["3a"].update(history=[]), "claims.3a.history: 0 entries for the chapter's 1"),
    (lambda c, k: k["claims"]["3a"]["history"][0].pop("why"), "claims.3a.history[0].why: missing"),
    (lambda c, k: k["claims"]["3a"]["history"][0].update(change="임곗값 0 초과 → 2 초과"), "numbers ['1']"),
    (lambda c, k: k["claims"]["3a"]["history"][0].update(why="issue 8: no stated threshold"), "has no Hangul"),
    (lambda c, k: k["claims"]["3a"]["history"][0].update(date="2026-11-30"), "are not translated"),
    (lambda c, k: k["claims"]["3a"].update(seen="뒤"), "claims.3a.seen: the row shows no such text"),
    (lambda c, k: k["book"].pop("modes.book_4_4.why"), "book.modes.book_4_4.why: missing"),
    (lambda c, k: k["book"].update({"modes.book_4_4.role": "작은"}), "book.modes.book_4_4.role: not prose"),
    (lambda c, k: k["book"].update({"modes.book_3_5.why": "없음"}), "not in the chapter's book block"),
    (lambda c, k: c["claims"].append({"id": "3b", "section": "4.4", "sentence": "new", "words": "new"}),
     "claims.3b: missing"),
])
def test_each_shortfall_is_named(spoil, expected):
    chapter, korean = _one_row()
    spoil(chapter, korean)
    found = problems(chapter, korean)
    assert any(expected in problem for problem in found), found


def test_a_numeric_section_needs_no_translation():
    chapter, korean = _one_row()
    chapter["claims"][0]["section"] = "4.4"
    korean["claims"]["3a"].pop("section")
    assert problems(chapter, korean) == []
