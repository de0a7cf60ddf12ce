"""The report in Korean as well as English (issue 30): every message in both languages, no English sentence left in
the Korean page (built from the real results/ where they are), the English page as it was, the chapter's Korean words
and history, the patterns that translate the text the code generates into the tables, and Hangul that renders in the
figures.

The English page's text was compared once, on the real results/, with the renderer before templates (the visible
text of both pages, whitespace folded: identical); ``test_english_page_keeps_its_structure_and_words`` keeps what
that comparison established, on small tables.
"""

from __future__ import annotations

import ast
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from overfit.recipe.heads import MEASURES, PROBLEMS
from overfit.report import catalog, claims, figures, html, i18n, leak, modes, pretraining, tables
from overfit.report.sweeps import sweep_table
from test_report import CHAPTER, SETTINGS, config, scores, synthetic_metrics

REPORT = Path(html.__file__).parent
HANGUL = re.compile(r"[\uac00-\ud7a3]")


# --- every message in both languages ------------------------------------------------------------------------------

def template_messages() -> set[str]:
    """Every message of the templates, as jinja2's i18n extension extracts it (trans blocks folded, as rendered)."""
    env = html.environment(i18n.SOURCE)
    found = set()
    for template in (REPORT / "templates").glob("*.j2"):
        for _line, _function, message in env.extract_translations(template.read_text(encoding="utf-8")):
            found.update(m for m in (message if isinstance(message, tuple) else (message,)) if m)
    return found


def code_messages() -> set[str]:
    """Every ``_("…")`` and ``translate("…")`` of the report's Python, and the words it passes through them from its
    tables of names."""
    found = set()
    for module in ("catalog.py", "figures.py", "html.py"):
        for node in ast.walk(ast.parse((REPORT / module).read_text(encoding="utf-8"))):
            called = getattr(node, "func", None)
            name = called.id if isinstance(called, ast.Name) else called.attr if isinstance(called, ast.Attribute) else ""
            if isinstance(node, ast.Call) and name in ("_", "translate") and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
    found |= {catalog.BOOK, catalog.FOLDED, catalog.LEAK, catalog.SWEEPS, catalog.PROTOCOLS, catalog.RECIPE,
              catalog.PREPARATION, *catalog.LOSS_WORDS.values(), *catalog.SWEEP_TITLES.values()}
    found |= {title for _role, _split, title in catalog.BOOK_4_4}
    found |= {text for _step, title, caption in catalog.RECIPE_FIGURES for text in (title, caption)}
    found |= {text for title, _panels, caption in catalog.IMAGE_FIGURES.values() for text in (title, caption)}
    found |= {title for panels in (catalog.LOSS_PANELS, catalog.DATA_PANELS, catalog.FIT_PANELS, catalog.END_PANELS)
              for _c, title in panels}
    found |= {words for _value, words in catalog.LOSS_LABELS}
    found |= {*html.VERDICT_CLASS, *html.SHORT_METHOD.values(), *(title for title, _ in html.RECIPE_STEPS.values())}
    found |= {*catalog.SWEEP_RUNS.values(), *catalog.SWEEP_CAPTIONS.values(), *html.HOW_LABELS, *figures.TUNING_TITLES}
    found |= {*MEASURES.values(), *figures.SCORE_NAMES.values(), modes.LEARNS, modes.STALLS}
    words = pretraining.TEXT  # section 4.1's figure (overfit.report.pretraining)
    found |= {words["title"], words["x"], words["y"], words["test"], words["band"], words["caption"],
              *words["starts"].values()}
    return found


def fields(text: str) -> list[str]:
    """What a translation must keep of its message: the values filled in and the literal percent signs."""
    return sorted(re.findall(r"%\(\w+\)s|\{\w+\}|%%", text))


def test_every_message_has_english_and_korean_with_the_same_fields():
    korean = i18n.messages("ko")
    missing = sorted((template_messages() | code_messages()) - set(korean))
    assert not missing, f"no Korean in {i18n.catalog_path('ko')} for: {missing}"
    for english, translated in korean.items():
        # Korean, or a name kept as it is written (AUC, FLOPs, l2): never an English word left in place
        assert HANGUL.search(translated) or not re.search(r"[a-z]{3,}", translated), (english, translated)
        assert fields(english) == fields(translated), f"{english!r} → {translated!r}: values filled in differ"


# words the report translates from its results tables' values and the config's names (the `word` filter, a sweep's
# axis, an image study's setting): the catalog's entries that no template or code line writes out
DATA_WORDS = {"train", "validation", "validation missing", "single", "iterated", "identical", "near (Jaccard ≥ 0.8)",
              "within train", "within test", "train × test", *PROBLEMS, "wrong", "acc", "auc", "precision", "recall",
              "learning rate", "parameters", "label noise", "train reviews", "l1", "l2", "dropout", "weight decay",
              "duplicated", "test", "net", "logistic regression", "plain", "class-weighted"}


def test_no_catalog_entry_is_left_over():
    unused = set(i18n.messages("ko")) - template_messages() - code_messages() - DATA_WORDS
    assert not unused, f"entries of {i18n.catalog_path('ko')} nothing shows (remove them): {sorted(unused)}"


def test_a_message_without_korean_is_an_error_naming_it_and_english_is_its_own_message():
    with pytest.raises(i18n.MissingTranslation, match="'A sentence nobody translated'.*messages.ko.yaml"):
        i18n.gettext("ko")("A sentence nobody translated")
    assert i18n.gettext("en")("A sentence nobody translated") == "A sentence nobody translated"
    with pytest.raises(ValueError, match="'fr' is not one of en, ko"):
        i18n.gettext("fr")


def test_the_config_names_the_report_languages_and_their_pages():
    assert i18n.report_languages({}) == ("en",) and i18n.report_languages({"report": {"language": "ko"}}) == ("ko",)
    both = i18n.report_languages({"report": {"language": ["en", "ko"]}})
    assert [i18n.page_path(both, lang) for lang in both] == ["results/report.html", "results/report.ko.html"]
    assert i18n.page_path(("ko",), "ko") == "results/report.html"  # language: ko alone: the report is Korean
    assert i18n.figure_path("en", "clock") == "results/figures/clock.png"
    assert i18n.figure_path("ko", "clock") == "results/figures/ko/clock.png"
    for bad in ("fr", ["en", "en"]):
        with pytest.raises(ValueError, match="report.language"):
            i18n.report_languages({"report": {"language": bad}})
    schema = yaml.safe_load((REPORT.parents[2] / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert schema["properties"]["report"]["properties"]["language"]["oneOf"][0] == {"enum": list(i18n.LANGUAGES)}


# --- the chapter's Korean words -----------------------------------------------------------------------------------

KOREAN_FIELD = {"sentence": "문장", "words": "해석", "not_testable": "검증 불가"}


def korean_chapter(path: Path, chapter: dict, drop: tuple[str, str] | None = None) -> Path:
    """A small Korean chapter text for ``chapter`` (every row's shown fields and history entries), less ``drop`` =
    (row id, field)."""
    rows = {}
    for row in chapter["claims"]:
        text = {field: f"{KOREAN_FIELD[field]} {row['id']}의 한국어" for field in i18n.ROW_TEXT if row.get(field)}
        text["history"] = [{"change": f"변경 {row['id']}.{i}", "why": f"이유 {row['id']}.{i}"}
                           for i, _ in enumerate(row.get("history") or [])]
        if i18n._named(row.get("section")):
            text["section"] = re.sub(r"(\d+)\w* ed\.", r"\1판", str(row["section"])) + "절"
        if drop and str(row["id"]) == drop[0]:
            text.pop(drop[1], None)
        rows[str(row["id"])] = text
    path.write_text(yaml.safe_dump({"claims": rows, "book": {"modes.book_4_4.why": "두 모드"}}, allow_unicode=True),
                    encoding="utf-8")
    return path


def test_chapter_text_substitutes_the_korean_fields_and_names_a_missing_one(tmp_path):
    assert i18n.chapter_text(CHAPTER, "en") is CHAPTER
    ko = i18n.chapter_text(CHAPTER, "ko", korean_chapter(tmp_path / "ko.yaml", CHAPTER))
    first, english = ko["claims"][0], CHAPTER["claims"][0]
    assert first["sentence"] == f"문장 {english['id']}의 한국어" and first["words"].endswith("의 한국어")
    assert first["statistic"] == english["statistic"]  # a name
    # each history entry's change and why translated, in order; its date, commit and seen kept
    assert [e["change"] for e in first["history"]] == [f"변경 {english['id']}.{i}" for i in range(len(english["history"]))]
    assert [(e["date"], e.get("commit"), e["seen"]) for e in first["history"]] == [
        (e["date"], e.get("commit"), e["seen"]) for e in english["history"]]
    assert not english["history"][0]["change"].startswith("변경")  # the chapter itself is not changed
    assert ko["book"]["modes"]["book_4_4"]["why"] == "두 모드" and CHAPTER["claims"][0]["sentence"] == english["sentence"]
    untestable = next(r for r in CHAPTER["claims"] if r.get("not_testable"))
    with pytest.raises(i18n.MissingTranslation, match=f"row {untestable['id']} has no ko 'not_testable'"):
        i18n.chapter_text(CHAPTER, "ko", korean_chapter(tmp_path / "ko.yaml", CHAPTER, (str(untestable["id"]), "not_testable")))
    first_id = str(CHAPTER["claims"][0]["id"])
    with pytest.raises(i18n.MissingTranslation, match=f"row {first_id} has \\d+ history entries in the chapter but no ko"):
        i18n.chapter_text(CHAPTER, "ko", korean_chapter(tmp_path / "ko.yaml", CHAPTER, (first_id, "history")))
    short = yaml.safe_load(korean_chapter(tmp_path / "ko.yaml", CHAPTER).read_text(encoding="utf-8"))
    short["claims"][first_id]["history"][-1].pop("why")
    (tmp_path / "short.yaml").write_text(yaml.safe_dump(short, allow_unicode=True), encoding="utf-8")
    with pytest.raises(i18n.MissingTranslation, match=f"row {first_id}, history entry \\d+ .* no ko 'why'"):
        i18n.chapter_text(CHAPTER, "ko", tmp_path / "short.yaml")
    stale = yaml.safe_load((tmp_path / "ko.yaml").read_text(encoding="utf-8"))
    stale["claims"]["99z"] = {"sentence": "없는 행"}
    (tmp_path / "stale.yaml").write_text(yaml.safe_dump(stale, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="claims 99z are not rows of the chapter"):
        i18n.chapter_text(CHAPTER, "ko", tmp_path / "stale.yaml")


# --- the pages ----------------------------------------------------------------------------------------------------

class Text(HTMLParser):
    """A page's visible text runs, and which of them are code, preformatted or marked as written in English."""

    VOID = {"img", "br", "col", "meta", "input", "hr", "link"}

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.stack, self.runs, self.headings = [], [], []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            kept = tag in ("code", "pre", "style") or (dict(attrs).get("lang") == "en" and tag != "html")
            self.stack.append((tag, kept, dict(attrs).get("id")))

    def handle_endtag(self, tag):
        while tag not in self.VOID and self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if data.strip():
            self.runs.append((data.strip(), any(kept for _, kept, _ in self.stack)))
            if self.stack and self.stack[-1][0] == "h2":
                self.headings.append((self.stack[-1][2], data.strip()))


# three words of English in a row; a name (with _ or a digit in it) or an allowed proper name breaks the run
ENGLISH = re.compile(r"[A-Za-z][a-z'’-]+(?:[ ,;:()]+[A-Za-z][a-z'’-]+){2,}")
NAMES = re.compile(r"\S*[_\d]\S*|Nadeau|Bengio|Maas|IMDB|IMDb|MinHash|Keras|Fashion-MNIST|MNIST|RMSprop|FLOPs|ROC AUC")


def english_sentences(page: str) -> list[str]:
    """Runs of three or more English words in the page's text outside code and text marked ``lang=en``."""
    found = []
    for text, kept in Text(page).runs:
        if not kept:
            found += ENGLISH.findall(NAMES.sub(" ", text))
    return found


# The only Latin words a Korean page may show outside code: names of people, data sets, software and methods, units,
# symbols of statistics and code names the tables print (activations, losses, a config key quoted); any other English
# word is a sentence left untranslated. Names from the config and the results tables are allowed besides (data_names).
PROPER = {
    "Nadeau", "Bengio", "Maas", "Welch", "Spearman", "Glorot", "Holm",  # people, in citations and method names
    "IMDB", "IMDb", "MNIST", "Fashion-MNIST", "MinHash", "Keras", "keras", "tf", "tf-keras", "RMSprop", "SGD", "SVD",
    "Dense", "README", "ROC", "AUC", "F1", "FLOPs", "CPU", "MB", "overfit",  # software, data sets, units, the project
    "t", "F", "K", "N", "P", "V", "L", "p", "z", "sd", "max", "inf", "vs", "x",  # symbols of statistics, "a vs b" protocols
    "sin", "cos", "y",  # the clock's angles as (sin, cos), its hands' tips as (x, y)
    "argmin", "jitter", "epsilon", "sigmoid", "softmax", "linear", "mse", "binary", "categorical", "crossentropy",
    "iterate", "requires", "words", "chosen",  # code names: config keys a history quotes, recipe.csv's column
    "loss",  # the key of Keras' history that section "what the results mean" explains, in bold
}
NAME_COLUMNS = ("experiment", "protocol", "study", "arm", "representation", "fit", "sweep", "task", "id", "candidate",
                "start")


def data_names(inputs: dict) -> set[str]:
    """The names a page shows as written: the config's experiments, protocols, studies and arms, and the name
    columns of the results tables (split at " vs " and spaces)."""
    config = inputs["config"]
    names = {*config.get("experiments", {}), *config.get("protocols", {}), *config.get("sweeps", {}),
             *inputs["provenance"].get("versions", {}), inputs["provenance"]["code_version"],
             inputs["provenance"]["reviews_sha256"]}
    for study, spec in (config.get("images") or {}).get("studies", {}).items():
        names |= {study, *spec.get("arms", {})}
    clock = config.get("clock") or {}  # the clock's representations, which its caption names
    names |= {*clock.get("models", {}), *(["convnet"] if "convnet" in clock else [])}
    frames = [v for v in inputs.values() if isinstance(v, pd.DataFrame)] + list(inputs.get("protocol_study") or ())
    for frame in frames:
        for column in NAME_COLUMNS:
            if column in frame.columns:
                names |= {w for v in frame[column].dropna().astype(str) for w in v.split()}
    return names | {name.capitalize() for name in names}  # a sweep's name as its figure's title


def chapter_names(chapter: dict) -> set[str]:
    """Names the chapter's rows give as written: section 4.1's starts and the recipe's tasks they compare."""
    return {*(s for row in chapter["claims"] for s in (row.get("pretraining") or {}).get("compare", [])),
            *((row.get("recipe") or {}).get("task") for row in chapter["claims"] if "recipe" in row)}


def english_words(page: str, names: set[str]) -> list[str]:
    """Latin words of the page's text outside code, other than names (``names``, PROPER, or a token with a digit, an
    underscore, a dot or a slash: a config name, a number, a file)."""
    found = []
    for text, kept in Text(page).runs:
        if kept:
            continue
        for token in re.findall(r"[A-Za-z0-9_./'’+-]*[A-Za-z][A-Za-z0-9_./'’+-]*", text):
            token = token.strip("'’.-/+")
            if re.search(r"[\d_./]", token) or token in names or token in PROPER:
                continue
            if any(part in PROPER or part in names for part in (token.split("-")[0],)) and token.endswith("-"):
                continue
            found.append(token)
    return found


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """Real-format tables of a small run (claims.csv and movie_leak.csv read back from their CSVs, as the report job
    reads them), and the specs of the figures the page links from its sections in each language (one small image
    stands for all of them: the pages' words are tested here, the figures' below)."""
    tmp = tmp_path_factory.mktemp("i18n")
    metrics = pd.concat([synthetic_metrics(), synthetic_metrics(runs=5, protocol="book", seed=1),
                         synthetic_metrics({"original": SETTINGS["original"], "smaller": SETTINGS["smaller"]},
                                           protocol="random", seed=3, shift=-0.02)])
    settings = config()
    final = pd.concat([scores(), scores().assign(fit="final", experiment="l2")])
    claims.compute_claims(metrics, scores(), settings, CHAPTER).to_csv(tmp / "claims.csv", index=False)
    leak.movie_leak(metrics, final, settings).to_csv(tmp / "leak.csv", index=False)
    swept = sweep_table(metrics, settings)
    import matplotlib.pyplot as plt

    figures.save(plt.figure(figsize=(0.5, 0.5)), tmp / "figure.png")
    drawn = {language: [(s, tmp / "figure.png") for s in catalog.figure_specs(settings, CHAPTER, language)
                        if s.name in ("book_4_4_smaller_validation", "movie_leak", "sweep_cap")]
             for language in i18n.LANGUAGES}
    inputs = dict(claims=pd.read_csv(tmp / "claims.csv"), scores=final, leak=pd.read_csv(tmp / "leak.csv"),
                  runs=tables.run_counts(metrics), seeds=tables.seed_runs(metrics, settings), sweeps=swept,
                  provenance={"code_version": "abc", "versions": {"jax": "1"}, "reviews_sha256": "f" * 64,
                              "config": yaml.safe_dump(settings)},
                  jobs=pd.DataFrame({"job": ["train/original/kfold"], "seconds": [12.0], "max_rss_mb": [600.0]}),
                  config=settings)
    return {"inputs": inputs, "figures": drawn, "chapter_ko": korean_chapter(tmp / "chapter.ko.yaml", CHAPTER)}


def test_the_korean_page_has_no_english_sentence_left(small_run):
    page = html.page(**small_run["inputs"], figures=small_run["figures"]["ko"], language="ko", chapter=CHAPTER,
                     chapter_translation=small_run["chapter_ko"])
    assert '<html lang="ko">' in page and "이 장의 주장" in page and "성립" in page
    names = data_names(small_run["inputs"]) | chapter_names(CHAPTER)
    assert not english_words(page, names), english_words(page, names)
    # the check finds English where there is some: the English page is full of it
    english = html.page(**small_run["inputs"], figures=small_run["figures"]["en"])
    assert len(english_sentences(english)) > 100 and len(english_words(english, names)) > 1000
    # the claim rows' words and history are the chapter's Korean; what the claims computed is translated too: nothing
    # is left marked as English
    assert "문장 1a의 한국어" in page and "변경 1a.0" in page and "lang=en" not in page
    assert "실행별 짝 비교" in page  # a statistic the claims computed, by its pattern
    assert not HANGUL.search(english)


def test_a_korean_page_with_a_generated_text_no_pattern_matches_is_not_built(small_run):
    """A new f-string in the claims (here: a statistic's new words) stops the Korean page, naming the text and the
    file to add its pattern to; the English page shows it as written."""
    inputs = dict(small_run["inputs"])
    inputs["claims"] = inputs["claims"].assign(statistic="a brand new statistic of the claims")
    with pytest.raises(i18n.UntranslatedText, match="'a brand new statistic of the claims'.*generated.ko.yaml"):
        html.page(**inputs, figures=small_run["figures"]["ko"], language="ko", chapter=CHAPTER,
                  chapter_translation=small_run["chapter_ko"])
    assert "a brand new statistic of the claims" in html.page(**inputs, figures=small_run["figures"]["en"])


RESULTS = REPORT.parents[2] / "results"


@pytest.fixture(scope="module")
def real_inputs():
    """The tables of the last complete run in results/, read as the report job reads them (its figures stood for by
    one small image: the words are tested here), with the config and chapter of this checkout."""
    if not (RESULTS / "claims.csv").exists():
        pytest.skip("results/claims.csv is missing: run `make reproduce` for the Korean page of the real results")
    from overfit import chapter as chapter_declaration

    config = yaml.safe_load((REPORT.parents[2] / "config" / "config.yaml").read_text(encoding="utf-8"))
    chapter = chapter_declaration.load(REPORT.parents[2] / "config" / "chapter.yaml")
    metrics = pd.read_parquet(RESULTS / "metrics.parquet", columns=["experiment", "protocol", "repeat", "fold", "seed",
                                                                     "epoch", "split", "metric", "value", "diverged",
                                                                     "train_size", "validation_size"])

    def table(name: str) -> pd.DataFrame | None:
        return pd.read_csv(RESULTS / name) if (RESULTS / name).exists() else None

    inputs = dict(claims=table("claims.csv"), scores=table("test_scores.csv"), leak=table("movie_leak.csv"),
                  sweeps=table("sweeps.csv"), recipe=table("recipe.csv"), last_layer=table("last_layer.csv"),
                  images=table("images.csv"), clock=table("clock.csv"),
                  protocol_study=tuple(table(n) for n in ("protocol_audit.csv", "tuning_leak.csv", "duplicates.csv")),
                  runs=tables.run_counts(metrics), seeds=tables.seed_runs(metrics, config),
                  provenance={"code_version": "0" * 7, "versions": {"jax": "0"}, "reviews_sha256": "0" * 64,
                              "config": ""},
                  jobs=pd.DataFrame({"job": ["report/claims"], "seconds": [1.0], "max_rss_mb": [1.0]}), config=config)
    return inputs, chapter


def test_the_korean_page_of_the_real_results_has_no_english_left(real_inputs, tmp_path):
    """Every table text of the real results in Korean: the claims' statistic, method, claimed, detail, reason and
    history, the recipe's decisions and reasons; nothing marked as English, no English word but names and code."""
    inputs, chapter = real_inputs
    import matplotlib.pyplot as plt

    figures.save(plt.figure(figsize=(0.3, 0.3)), tmp_path / "figure.png")
    specs = [(s, tmp_path / "figure.png") for s in catalog.figure_specs(inputs["config"], chapter, "ko")]
    page = html.page(**inputs, figures=specs, language="ko", chapter=chapter)
    assert "lang=en" not in page
    # names besides the tables': section 4.1's starts and the recipe's tasks, which the chapter's rows name
    left = english_words(page, data_names(inputs) | chapter_names(chapter))
    assert not left, f"English words left in the Korean page: {sorted(set(left))}"
    # the generated columns really were in the page, translated (not dropped): a pattern's words and a history's
    claims_table = inputs["claims"]
    assert "실행별 짝 비교" in page and "폴드 × 반복에 대한 보정된 재표본 t(Nadeau &amp; Bengio 2003)" in page
    assert "결과를 본 뒤" in page and "정확도와 ROC AUC" in page
    assert claims_table.statistic.str.contains("paired by run").any()  # the table itself stays English


# --- text the code generates: translated by patterns --------------------------------------------------------------

def test_every_pattern_has_its_korean_with_the_same_placeholders():
    raw = yaml.safe_load(i18n.generated_path("ko").read_text(encoding="utf-8"))
    entries = raw["texts"] + [raw["history"]]
    for entry in entries:
        english, korean = entry["en"], entry["ko"]
        assert sorted(i18n.PLACEHOLDER.findall(english)) == sorted(i18n.PLACEHOLDER.findall(korean)), entry
        assert {kind for kind, _ in i18n.PLACEHOLDER.findall(english)} <= set(i18n.KINDS), entry
        bare = i18n.PLACEHOLDER.sub(" ", korean)
        assert HANGUL.search(bare) or not re.search(r"[a-z]{3,}", bare), f"still English: {entry}"
    catalog_ = i18n.generated("ko")  # and it loads: every pattern parsed, none given twice
    assert len(catalog_.patterns) > 50 and set(raw["history"]["seen"]) == {"before", "after", "unknown"}


@pytest.mark.parametrize("entry, error", [
    ({"en": "means: {pairs}", "ko": "평균: {pairs} {num}"}, "the same"),
    ({"en": "means: {thing}", "ko": "평균: {thing}"}, "kinds \\['thing'\\]"),
    ({"en": "{num}{name}", "ko": "{num}{name}"}, "touch"),
    ({"en": "{text}", "ko": "{text}"}, "one placeholder alone"),
    ({"en": "a {num} and {num}", "ko": "{num} {num}"}, "used twice"),
    ({"en": "means: {pairs}"}, "needs both"),
])
def test_a_bad_pattern_is_refused_naming_it(tmp_path, entry, error):
    path = tmp_path / "generated.ko.yaml"
    path.write_text(yaml.safe_dump({"texts": [entry]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        i18n.Generated("ko", path=path)


def test_an_unmatched_generated_text_is_an_error_naming_it_and_the_file_unless_kept(tmp_path):
    ko = i18n.generated("ko")
    with pytest.raises(i18n.UntranslatedText, match="'the claims wrote a new sentence'.*generated.ko.yaml"):
        ko("the claims wrote a new sentence")
    # in a list, the part nothing matches is named
    with pytest.raises(i18n.UntranslatedText, match="its part 'a new part' matches nothing"):
        ko("per seed: +0.1, -0.2; a new part")
    # a word placeholder takes only a word the catalogs know: a pattern does not pass English through
    with pytest.raises(i18n.UntranslatedText):
        ko("lowest value of the validation perplexity: smaller − original, paired by run")
    assert ko("per seed: +0.1, -0.2") == "시드별: +0.1, -0.2" and ko(float("nan")) == "" and ko("") == ""
    assert i18n.generated("en")("anything at all") == "anything at all"
    # the allow-list shows a text as written, marked English by the templates
    path = tmp_path / "generated.ko.yaml"
    path.write_text(yaml.safe_dump({"texts": [], "keep": ["kept as written"]}), encoding="utf-8")
    kept = i18n.Generated("ko", path=path)
    assert kept("kept as written") == "kept as written" and kept.kept("kept as written") and not ko.kept("x y")
    with pytest.raises(i18n.UntranslatedText):
        kept("not kept")


def test_nested_patterns_translate_their_parts_and_any_value():
    """Patterns match every value an f-string can be given, not only today's: placeholders nest (a statistic's
    description inside "… of the {split} {metric}" inside "…: {b} − {a}, paired by run")."""
    ko = i18n.generated("ko")
    assert (ko("rise per epoch after the minimum of the train acc: zz_new − yy-9, paired by run")
            == "훈련 정확도의 최저점 이후 에포크당 상승폭: zz_new − yy-9, 실행별 짝 비교")
    assert ko("means: a 1, b -2.5e-07; z: 3 of 4 runs never below 0.01: counted as one epoch past their last") == (
        "평균: a 1, b -2.5e-07; z: 실행 4개 중 3개는 0.01 아래로 내려가지 않음: 마지막 에포크의 다음 에포크로 셈")
    # section 4.1's pretraining rows (claims._pretraining_claim), whose results are not in every results/ yet
    what = "value at the epoch of the highest mean over runs of the validation acc"
    assert ko(f"{what}: self_supervised − scratch, paired by run (fold × seed), at the smallest labeled size") == (
        "검증 정확도의 실행 평균이 가장 높은 에포크의 값: self_supervised − scratch, 실행(폴드 × 시드)별 짝 비교, 가장 작은 "
        "레이블 크기에서")
    assert HANGUL.search(ko(f"{what}: (b − a) at the smallest labeled size − at the largest, paired by run (fold × seed)"))
    assert ko("means: 100 labeled: scratch 0.6, b 0.7; 18750 labeled: scratch 0.88, b 0.881") == (
        "평균: 레이블 100개: scratch 0.6, b 0.7; 레이블 18750개: scratch 0.88, b 0.881")


def test_a_guards_reason_quotes_the_guard_rows_korean_words(small_run):
    """claims._apply_requirements writes the guard row's English words into the reason: the Korean page shows the
    chapter's Korean words for them."""
    from types import SimpleNamespace

    guarded = next(r for r in CHAPTER["claims"] if r.get("requires"))
    guard = next(r for r in CHAPTER["claims"] if r["id"] == guarded["requires"])
    reason = (f"its guard {guard['id']} ({guard['words']}) does not hold, so this row's outcome (holds) says nothing of "
              "the sentence")
    words = html.ChapterWords(CHAPTER, "ko", small_run["chapter_ko"])
    shown = words(SimpleNamespace(id=guarded["id"]), "reason", reason)
    assert shown == (f"전제 조건 {guard['id']}(해석 {guard['id']}의 한국어)의 판정이 '성립하지 않음'이므로, 이 행의 결과(성립)는 "
                     "문장에 대해 아무것도 말해 주지 않음")


def test_the_codes_generated_text_translates_for_other_values():
    """The f-strings of stats, claims, modes and the recipe run with values other than the real run's: each text
    they write has a pattern."""
    from overfit import stats
    from overfit.recipe import candidates, decide, tasks

    ko = i18n.generated("ko")
    rng = np.random.default_rng(0)
    texts = [stats.t_interval(rng.normal(0.5, 0.1, 6), bounds=(0.0, 1.0), transform=True).method,
             stats.t_interval(rng.normal(1.0, 0.5, 6), bounds=(0.0, np.inf), transform=True).method,
             stats.t_interval([1.0, 1.0, 2.0, 1.0], bounds=(1.0, 21.0), validation_train_ratio=0.25).method,
             stats.t_interval([2.0, 2.0, 2.0], validation_train_ratio=0.5).method,
             stats.t_interval([-1.0] * 5, bounds=(-1.0, 1.0), transform=True, ranking_points=5).method,
             stats.difference_interval([1, 2, 3], [2, 3, 5]).method, stats.spread_ratio([1, 2, 4], [1, 2, 3]).method,
             stats.describe_claimed({"above": -0.25}), stats.describe_claimed({"below": 1e-05}),
             stats.describe_claimed({"within": [-3, 12.5]}), modes.frequency_words(pd.Series(["stalls", "learns"]))]
    row, result = {"claimed": {"above": 0.02}, "noise_floor": True}, claims.Result("x", "4.4", "c")
    claims._claimed(row, result, [pd.DataFrame(rng.normal(0.3, 0.01, (4, 12)), columns=range(1, 13))])
    texts.append(result.claimed)
    for labels in (np.array([0, 1] * 40), np.array([1] * 5 + [0] * 95)):
        texts += list(tasks.problem("t", labels, 0.35).reason)
    movies = np.repeat(np.arange(20), 3)
    for kind in ((movies, 1000), (np.arange(60), 1000), (movies, 50)):
        texts += list(tasks.protocol("t", np.arange(60), kind[0], holdout_from=kind[1], folds=4, seed=0)[0].reason)
    baselines = decide.best_baseline(pd.DataFrame({"candidate": ["chance", "majority class"] * 4,
                                                   "fold": [0, 0, 1, 1, 2, 2, 3, 3], "f1": rng.random(8)}), "f1")
    texts += list(baselines.reason)
    settings = candidates.describe({"hidden": [8, 4], "dropout": 0.25, "regularizer": {"l1": 1e-05, "l2": 0.003}})
    texts += [f"tune-07: {settings}", f"tune-08: {candidates.describe({'hidden': [32]})}", f"the book's: {settings}"]
    for text in texts:  # translated, and no English word left but names (with a digit, _ or -) and proper names
        assert not re.search(r"[a-z]{3,}", re.sub(r"\S*[\d_-]\S*|Nadeau|Bengio|Welch|inf\b", " ", ko(text))), (text, ko(text))
    assert (ko(f"tuned (tune-12): {settings}, 7 epochs")
            == "튜닝된 모델(tune-12): 8-4, 드롭아웃 0.25, l1 1e-05, l2 0.003, 7 에포크")
    assert ko("tune-03: 32") == "tune-03: 32"


def test_a_history_is_rendered_from_the_chapters_entries_and_refused_when_it_is_not_theirs():
    english = [{"date": "2026-11-29", "change": "added: x; holds in [3, 4]", "why": "issue 4 (a; b)", "seen": "before"},
               {"date": "2026-11-30", "change": "threshold 0 → 1", "why": "issue 8", "seen": "after"}]
    korean = [{"change": "추가: x; [3, 4]이면 성립", "why": "이슈 4(a; b)"}, {"change": "임곗값 0 → 1", "why": "이슈 8"}]
    shown = "; ".join(f"{e['date']} {e['change']} ({e['seen']} the results: {e['why']})" for e in english)
    assert i18n.history_text(shown, english, korean, "ko") == (
        "2026-11-29 추가: x; [3, 4]이면 성립(결과를 보기 전: 이슈 4(a; b)); 2026-11-30 임곗값 0 → 1(결과를 본 뒤: 이슈 8)")
    assert i18n.history_text(shown, english, korean, "en") == shown
    with pytest.raises(i18n.UntranslatedText, match="not its row's 1 entries"):
        i18n.history_text(shown, english[:1], korean[:1], "ko")  # claims.csv older than the chapter


# The English page's sections, in order, as the renderer before templates wrote them for these tables.
SECTIONS = [("summary", "Summary"), ("claims", "Claims of the chapter"), ("movie-leak", "The movie leak"),
            ("seeds", "The book's protocols, seed by seed"), ("test-set", "Test set"),
            ("1--the-book-s-figures", "1. The book's figures"), ("3--the-movie-leak", None),
            ("4--sweeps--curves--not-points", "4. Sweeps: curves, not points"),
            ("runs", "Runs per experiment and protocol"), ("meaning", "What the results mean"),
            ("provenance", "Provenance")]


def test_english_page_keeps_its_structure_and_words(small_run):
    page = html.page(**small_run["inputs"], figures=small_run["figures"]["en"])
    headings = Text(page).headings
    assert headings == [(anchor, title) for anchor, title in SECTIONS if title], headings
    assert page.startswith('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>overfit: Deep Learning '
                           "with Python, chapter 4, re-run</title>")
    # a chapter given to an English page changes nothing (its words are the chapter's own)
    assert html.page(**small_run["inputs"], figures=small_run["figures"]["en"], chapter=CHAPTER) == page
    assert re.search(r"<b>What ran:</b> \d+ experiments, \d+ training runs under \d+ protocols", page)
    assert "(Nadeau &amp; Bengio 2003: the folds'" in page and "<th class=verdict>verdict</th>" in page


# --- Hangul in the figures ----------------------------------------------------------------------------------------

def korean_font() -> bool:
    try:
        return bool(figures._fonts("ko"))
    except RuntimeError:
        return False


def test_a_language_without_its_font_is_refused_with_what_to_install(monkeypatch):
    monkeypatch.setitem(figures.FONTS, "xx", ["No Such Font Family", "DejaVu Sans"])
    with pytest.raises(RuntimeError, match="no font for xx figures.*fonts-noto-cjk"):
        figures._fonts("xx")


def missing_glyphs(fig) -> list[str]:
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


@pytest.mark.skipif(not korean_font(), reason="no Korean font (Noto Sans CJK): apt-get install fonts-noto-cjk")
def test_a_korean_figure_draws_every_hangul_glyph():
    import matplotlib.pyplot as plt

    settings = config()
    spec = next(s for s in catalog.figure_specs(settings, CHAPTER, "ko") if s.name == "book_4_4_smaller_validation")
    metrics = synthetic_metrics({n: SETTINGS[n] for n in ("original", "smaller")}, runs=3, protocol="book")
    fig = figures.draw(spec, metrics, tables.book_histories())
    texts = [t.get_text() for ax in fig.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label)]
    assert any(HANGUL.search(t) for t in texts), texts  # its words are Korean
    assert not missing_glyphs(fig)
    # the check sees empty boxes where they are: the same words in the English figures' font
    plt.rcdefaults()
    fig, ax = plt.subplots()
    ax.set_title(spec.title, family="DejaVu Sans")
    assert missing_glyphs(fig)
