"""One self-contained HTML page: figures embedded as data URIs, no script, no network.

The page's structure and every word on it live in templates/ (page.html.j2 reads top to bottom as the page;
macros.html.j2 holds its tables), translated through overfit.report.i18n's catalog; this module only turns the
results tables into the values the templates show (numbers formatted, rows grouped), in one language per page.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import numpy as np
import pandas as pd

from overfit import stats
from overfit.recipe.heads import MEASURES, PROBLEMS
from overfit.report import i18n
from overfit.report.catalog import PREPARATION, PROTOCOLS, RECIPE, SWEEPS, FigureSpec
from overfit.report.leak import summary as leak_summary

# how the templates know the sections that carry tables of their own (the section titles are translated)
SECTION_KEYS = {SWEEPS: "sweeps", PROTOCOLS: "protocols", RECIPE: "recipe", PREPARATION: "preparation"}
SHORT_METHOD = {stats.CORRECTED: "corrected, folds × repeats", stats.PLAIN: "plain, seeds"}
VERDICT_CLASS = {"holds": "holds", "does not hold": "fails", "unclear": "unclear", "vacuous": "vacuous",
                 "not testable here": "untestable", "not run": "notrun"}
HOLM_CHANGES = ("holds", "does not hold", "unclear")  # the kinds Holm's adjustment moves rows between
# what a claim row's "how it was judged" shows: the statistic, our reading of the book's words, detail, method
HOW_LABELS = ("statistic", "how we read the book's words", "detail", "method")
# the recipe's steps in the book's words (4.5), and the figure each decision is drawn in
RECIPE_STEPS = {
    "problem": ("1. Define the problem; choose a measure of success", None),
    "protocol": ("2. Decide on an evaluation protocol", None),
    "baselines": ("3. Prepare the data (multi-hot, as the book); set the baselines", "recipe_power"),
    "power": ("4. Develop a model that does better than a baseline", "recipe_power"),
    "scale_up": ("5. Scale up: develop a model that overfits", "recipe_scale_up"),
    "tune": ("6. Regularize the model and tune its hyperparameters", "recipe_tune"),
    "final": ("7. Train on all training data; evaluate once on the test set", "recipe_final"),
}


@functools.cache
def environment(language: str = i18n.SOURCE) -> jinja2.Environment:
    """The templates, escaping every value, with ``language``'s gettext (a missing message is an error)."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("overfit.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"])
    env.policies["ext.i18n.trimmed"] = True  # a trans block's line breaks are layout, not part of the message
    env.install_gettext_callables(i18n.gettext(language), i18n.ngettext(language), newstyle=True)
    translate = i18n.gettext(language)
    env.filters["word"] = lambda value: translate(str(value)) if value not in ("", None) else ""
    env.filters["num"] = _number
    generated = i18n.generated(language)  # text the code wrote into the tables, translated by its patterns
    env.filters["generated"], env.filters["kept_english"] = generated, generated.kept
    env.globals.update(VERDICT_CLASS=VERDICT_CLASS, language=language)
    return env


def _macro(name: str, language: str, *args) -> str:
    module = environment(language).get_template("macros.html.j2").make_module({})
    return str(getattr(module, name)(*args))


def _number(value, digits=4) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _text(value) -> str:
    return "" if pd.isna(value) else str(value)  # empty cells come back from the CSV as NaN


def _interval(low, high, digits=3) -> str:
    return "" if pd.isna(low) else f"[{_number(low, digits)}, {_number(high, digits)}]"


def _value(value):
    return None if pd.isna(value) else value


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _figure(spec: FigureSpec, path: Path) -> SimpleNamespace:
    return SimpleNamespace(name=spec.name, title=spec.title, caption=spec.caption,
                           wide=spec.kind in ("movie_leak", "sweep"),
                           data=base64.b64encode(Path(path).read_bytes()).decode())


def _flag(value) -> bool:
    """A boolean column read back from a CSV: True/False, or text, or NaN where the column was empty."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true") or (
        isinstance(value, (int, float, np.bool_)) and not pd.isna(value) and bool(value))


def _p_value(p) -> str:
    if pd.isna(p):
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _seed_1(c) -> str:
    """The row's verdict in the seed-1 run, where one was given."""
    other = _text(getattr(c, "seed_1_verdict", ""))
    return other if other in VERDICT_CLASS else ""


class ChapterWords:
    """The words of a claim row the report shows from config/chapter.yaml (its sentence, our reading of the book's
    words, why it is not testable, a section that is a name, its history) in the page's language; English rows pass
    through. A guard's reason, which the claims computed and which quotes the guard row's words, is translated by the
    generated text's patterns knowing those words (the templates translate the other computed text)."""

    def __init__(self, chapter: dict | None, language: str, translation: Path | None = None):
        self.language = language
        self.english, self.rows, self.sections = {}, {}, {}
        if language != i18n.SOURCE:
            if chapter is None:
                raise ValueError(f"a {language} report needs the chapter (config/chapter.yaml) to translate its claims")
            self.english = {str(r["id"]): r for r in chapter["claims"]}
            self.rows = {str(r["id"]): r for r in i18n.chapter_text(chapter, language, translation)["claims"]}
            self.sections = {str(self.english[i].get("section")): str(r.get("section")) for i, r in self.rows.items()}
        self.translate = i18n.gettext(language)
        self.generated = i18n.Generated(language, known={self.english[i]["words"]: r["words"] for i, r in self.rows.items()
                                                         if r.get("words")})

    def __call__(self, c, field: str, shown: str) -> str:
        row = self.rows.get(str(c.id))
        if row is None:
            return shown
        source = {"claim": "sentence", "words": "words", "reason": "not_testable"}[field]
        # the chapter's own text is replaced; a reason the claims computed (a guard's) is translated
        if shown and shown == self.english[str(c.id)].get(source):
            return row[source]
        return self.generated(shown) if field == "reason" else shown

    def history(self, c, shown: str) -> str:
        """The row's history as claims.csv wrote it, in the page's language from the chapter's translated entries."""
        row = self.rows.get(str(c.id))
        if row is None:
            return shown
        return i18n.history_text(shown, self.english[str(c.id)].get("history") or [], row.get("history") or [],
                                 self.language)

    def section(self, section: str) -> str:
        return self.sections.get(section, section)

    def still_english(self, translated: str, original: str) -> bool:
        """Whether a text of a page in another language is still its English ``original``."""
        return self.language != i18n.SOURCE and bool(original) and translated == original


def _claimed(text: str, translate) -> tuple[str, bool]:
    """A row's threshold as the claims wrote it, in the page's words where it is one of the two plain forms (a range,
    a bound); a threshold raised to the noise floor keeps the claims' English sentence: (text, still English)."""
    within = re.fullmatch(r"within (\[[^\]]+\])", text)
    if within:
        return translate("within {range}").format(range=within.group(1)), False
    return text, not re.fullmatch(r"[<>] -?[\d.]+", text)


def _claim(c, words: ChapterWords) -> SimpleNamespace:
    """One claims.csv row as the claims table shows it: the sentence, what was measured, the verdicts and flags."""
    method = _text(c.method)
    short = SHORT_METHOD.get(method, method)
    interval = _interval(c.low, c.high)
    detail = _text(c.detail).strip("; ")
    read = words(c, "words", _text(c.words))
    # (label, text, whether the text is still English): the claims compute their statistic, detail and method in it
    how = [(label, text, english) for label, (text, english) in zip(HOW_LABELS, (
        (_text(c.statistic), True), (read, read == _text(c.words)), (detail, True), (method, True))) if text]
    reason = _text(getattr(c, "reason", ""))
    dropped = int(c.dropped) if not pd.isna(c.dropped) and c.dropped else 0
    shown_reason = words(c, "reason", reason)
    claim = words(c, "claim", _text(c.claim))
    claimed, claimed_english = _claimed(_text(c.claimed), words.translate)
    return SimpleNamespace(
        id=c.id, protocol=_text(c.protocol), claim=claim, verdict=_text(c.verdict),
        claim_english=words.still_english(claim, _text(c.claim)),
        verdict_adjusted=_text(getattr(c, "verdict_adjusted", "")), p=_p_value(getattr(c, "p_value", np.nan)),
        reason=shown_reason, reason_english=words.still_english(shown_reason, reason),
        how=[(label, text, english and words.language != i18n.SOURCE) for label, text, english in how],
        steps=None if pd.isna(c.steps_per_epoch) else int(c.steps_per_epoch), value=_value(c.value),
        interval=interval, short_method=words.translate(short) if short in SHORT_METHOD.values() else short,
        method_english=words.language != i18n.SOURCE and short not in SHORT_METHOD.values(),
        corrected=short.startswith("corrected"), naive=_interval(c.naive_low, c.naive_high),
        claimed=claimed, claimed_english=claimed_english and words.language != i18n.SOURCE, book_value=_value(c.book_value), n=int(c.n) if not pd.isna(c.n) else 0,
        dropped=dropped, post_hoc=_flag(getattr(c, "post_hoc", False)),
        history=words.history(c, _text(getattr(c, "history", ""))), seed_1=_seed_1(c))


def _claim_sections(claims: pd.DataFrame, words: ChapterWords) -> list:
    sections = claims.groupby(claims.section.astype(str), sort=False) if "section" in claims.columns else [("", claims)]
    return [(words.section(section), [_claim(c, words) for c in rows.itertuples()]) for section, rows in sections]


def claims_table(claims: pd.DataFrame, language: str = i18n.SOURCE, chapter: dict | None = None) -> str:
    """The claims, one table per section of the book: the verdict right beside the sentence, so that no table is
    wider than the page."""
    return _macro("claims_table", language, _claim_sections(claims, ChapterWords(chapter, language)),
                  "verdict_adjusted" in claims.columns)


def _unstable(claims: pd.DataFrame) -> pd.Series:
    """Rows whose seed-1 run gave another verdict."""
    if "seed_1_verdict" not in claims.columns:
        return pd.Series(False, index=claims.index)
    other = claims.seed_1_verdict.map(_text)
    return other.isin(list(VERDICT_CLASS)) & (other != claims.verdict)


def _counts(claims: pd.DataFrame) -> SimpleNamespace:
    """Each kind of verdict counted, raw and after Holm; a row whose seed-1 run disagrees counts as unclear (it is
    listed with both verdicts), and the post-hoc rows are counted."""
    unstable = _unstable(claims)
    raw = claims.verdict.where(~unstable, "unclear").value_counts()
    adjusted = (claims.verdict_adjusted.where(~unstable, "unclear").value_counts()
                if "verdict_adjusted" in claims.columns else None)
    kinds = []
    for kind in VERDICT_CLASS:
        n, m = raw.get(kind, 0), None if adjusted is None else adjusted.get(kind, 0)
        if not n and not m:
            continue
        kinds.append((kind, n, m if m is not None and kind in HOLM_CHANGES else None))
    counts = SimpleNamespace(kinds=kinds, post_hoc=None, post_hoc_rows=[], unstable=None, compared=0, unstable_rows=[])
    if "post_hoc" in claims.columns:
        post_hoc = claims.post_hoc.map(_flag)
        counts.post_hoc = int(post_hoc.sum())
        # a claim's rows share it; a row with no protocol (not testable here) is anchored as its table row is
        counts.post_hoc_rows = [SimpleNamespace(id=c.id, protocol=_text(c.protocol))
                                for c in claims[post_hoc].drop_duplicates("id").itertuples()]
    if "seed_1_verdict" in claims.columns:
        counts.unstable = int(unstable.sum())
        counts.compared = int(claims.seed_1_verdict.map(_text).isin(list(VERDICT_CLASS)).sum())
        counts.unstable_rows = [SimpleNamespace(id=c.id, protocol=_text(c.protocol), verdict=c.verdict,
                                                  seed_1=c.seed_1_verdict)
                                for c in claims[unstable].itertuples()]
    return counts


def verdict_counts(claims: pd.DataFrame, language: str = i18n.SOURCE) -> str:
    return _macro("verdict_counts", language, _counts(claims))


def _test_rows(scores: pd.DataFrame) -> list:
    summary = scores.groupby(["fit", "experiment"]).agg(
        epochs=("epochs", "max"), seeds=("seed", "count"), diverged=("diverged", "sum"), acc_mean=("test_acc", "mean"),
        acc_sd=("test_acc", "std"), acc_min=("test_acc", "min"), acc_max=("test_acc", "max"), loss_mean=("test_loss", "mean"),
        loss_sd=("test_loss", "std"),
    ).reset_index().sort_values(["fit", "acc_mean"], ascending=[True, False])

    def spread(mean, sd, digits=4):
        return "" if pd.isna(mean) else f"{mean:.{digits}f}" + ("" if pd.isna(sd) else f" ± {sd:.{digits}f}")

    return [SimpleNamespace(fit=r.fit, experiment=r.experiment, epochs=r.epochs, seeds=r.seeds, diverged=int(r.diverged),
                            acc=spread(r.acc_mean, r.acc_sd), loss=spread(r.loss_mean, r.loss_sd),
                            range="" if pd.isna(r.acc_min) else f"{r.acc_min:.4f}–{r.acc_max:.4f}")
            for r in summary.itertuples()]


def _seed_groups(seeds: pd.DataFrame) -> list:
    if seeds.empty:
        return []
    return [SimpleNamespace(protocol=p, experiment=e, n=len(g), best_epoch=", ".join(str(v) for v in g.best_epoch),
                            best_loss=", ".join(f"{v:.3f}" for v in g.best_loss),
                            last_loss=", ".join(f"{v:.3f}" for v in g.last_loss))
            for (p, e), g in seeds.groupby(["protocol", "experiment"], sort=False)]


def _leak(leak: pd.DataFrame, config: dict) -> SimpleNamespace:
    roles = config.get("roles", {})
    random_folds, folded, test = roles.get("random_folds", ""), roles.get("folded", ""), roles.get("book_4_4", "")
    if leak.empty:
        return SimpleNamespace(state="empty")
    s = leak_summary(leak, random_folds, folded)
    if not s:
        return SimpleNamespace(state="diverged")
    shown = dict(s, mean_leak=f"{-s['mean_leak']:.4f}")
    for key in ("mean_abs_bias_grouped", "mean_abs_bias_random", "test_loss_grouped_epochs", "test_loss_random_epochs"):
        if key in s:
            shown[key] = f"{s[key]:.4f}"

    def whole(value) -> str:
        return "" if pd.isna(value) else str(int(value))

    rows = [SimpleNamespace(experiment=r.experiment, diverged=True) if pd.isna(r.leak) else SimpleNamespace(
        experiment=r.experiment, diverged=False, closer=_text(r.closer), final_epochs=whole(r.final_epochs),
        final_test_loss=_number(r.final_test_loss),
        cells=[int(r.random_epoch), _number(r.random_loss), int(r.grouped_epoch), _number(r.grouped_loss),
               f"{_number(r.leak)} {_interval(r.leak_low, r.leak_high)}", whole(r.test_best_epoch),
               _number(r.test_at_random_epoch), _number(r.test_at_grouped_epoch), _number(r.bias_random),
               _number(r.bias_grouped)]) for r in leak.itertuples()]
    return SimpleNamespace(state="measured", summary=shown, rows=rows, test=test,
                           final=config["final"]["choose_epochs_on"])


def _sweep_rows(sweeps: pd.DataFrame) -> list:
    """results/sweeps.csv as the report shows it: one row per point of each sweep."""
    return [SimpleNamespace(sweep=r.sweep, experiment=r.experiment, included=bool(r.included), cells=[
        f"{int(r.parameters):,}", _number(r.train_reviews, 0) if pd.notna(r.train_reviews) else "", int(r.runs),
        f"{_number(r.best_loss)} {_interval(r.best_low, r.best_high)}", _number(r.best_epoch, 1),
        f"{_number(r.last_loss)} {_interval(r.last_low, r.last_high)}",
        _number(r.rise_after_best), _number(r.gap_at_last_epoch), _number(r.penalty_at_last_epoch),
        _number(r.last_train_acc, 3), _number(r.last_val_acc, 3), _number(r.epochs_to_fit, 1), int(r.diverged)])
        for r in sweeps.itertuples()]


def _lift_rows(table: pd.DataFrame | None) -> list:
    """results/duplicate_leak.csv as the report shows it: at a few epochs, on the duplicated test reviews and on the
    whole test set, each arm's mean accuracy over seeds and the lift (with − without the duplicates) with its
    t-interval over the seeds."""
    from overfit.studies.duplicates import lift

    if table is None or table.empty:
        return []
    last = int(table.epoch.max())
    rows = []
    for epoch in sorted({e for e in (1, 4, 10, last) if e <= last}):
        for scored in ("duplicated", "test"):
            values = lift(table, scored, epoch)
            found = stats.t_interval(values, bounds=(-1.0, 1.0))
            means = table[(table.scored == scored) & (table.epoch == epoch)].groupby("arm").acc.mean()
            rows.append(SimpleNamespace(scored=scored, cells=[
                epoch, f"{int(table[table.scored == scored].rows.iloc[0]):,}", _number(means["all"], 4),
                _number(means["deduplicated"], 4), f"{_number(found.value, 4)} {_interval(found.low, found.high, 4)}",
                len(values)]))
    return rows


def _protocol_rows(audit: pd.DataFrame, tuning: pd.DataFrame, duplicates: pd.DataFrame, translate,
                   duplicate_leak: pd.DataFrame | None = None) -> SimpleNamespace:
    """Section 4.2's tables: the protocol audit, the tuning leak at a few N, the duplicate counts and what the
    duplicates lift."""
    audit_rows = [SimpleNamespace(protocol=r.protocol, estimate=i18n.estimate_words(r.estimate, translate), kind=r.kind, cells=[
        _number(r.validation_size, 0), int(r.estimates), int(r.model_epochs), _number(r.seconds, 1),
        _number(r.chosen_epoch, 1), _number(r.loss), f"{_number(r.bias_loss, 3)} {_interval(r.bias_loss_low, r.bias_loss_high)}",
        f"{_number(r.spread_loss, 3)}{'*' if r.spread_derived else ''}", _number(r.acc),
        f"{_number(r.bias_acc, 3)} {_interval(r.bias_acc_low, r.bias_acc_high)}",
        f"{_number(r.spread_acc, 3)}{'*' if r.spread_derived else ''}"]) for r in audit.itertuples()]
    shown = tuning[tuning.configs.isin({1, 2, 4, 8, 16, int(tuning.configs.max()) if len(tuning) else 1})]
    tuning_rows = [SimpleNamespace(protocol=r.protocol, cells=[
        int(r.configs), f"{_number(r.optimism_loss, 3)} [{_number(r.optimism_loss_p10, 3)}, {_number(r.optimism_loss_p90, 3)}]",
        f"{_number(r.optimism_acc, 3)} [{_number(r.optimism_acc_p10, 3)}, {_number(r.optimism_acc_p90, 3)}]",
        _number(r.selected_loss), _number(r.selected_test_loss)]) for r in shown.itertuples()]
    duplicate_rows = [SimpleNamespace(kind=r.kind, where=r.where, cells=[
        int(r.pairs), int(r.reviews), f"{100 * r.share_of_train:.2f}%", f"{100 * r.share_of_test:.2f}%"])
        for r in duplicates.itertuples()]
    return SimpleNamespace(audit=audit_rows, tuning=tuning_rows, duplicates=duplicate_rows,
                           lift=_lift_rows(duplicate_leak))


def _misleading_accuracy(rows: pd.DataFrame) -> SimpleNamespace | None:
    """On a task step 1 judged imbalanced: the baselines' accuracy beside what they find, from step 3's rows."""
    problem = rows[(rows.step == "problem") & rows.chosen.astype(bool)]
    baselines = rows[rows.step == "baselines"].groupby("candidate")[["acc", "precision", "recall"]].mean()
    if not len(problem) or problem.primary.iloc[0] == "acc" or "majority class" not in baselines.index:
        return None
    majority = baselines.loc["majority class"]
    others = baselines.drop(index=["majority class", "chance"], errors="ignore")
    best = others.acc.idxmax() if len(others) else None
    shown = SimpleNamespace(acc=f"{majority.acc:.1%}", recall=f"{majority.recall:.0%}",
                            precision=f"{majority.precision:.2f}", best=best)
    if best is not None:
        shown.points = f"{100 * (others.acc[best] - majority.acc):+.1f}"
        shown.best_recall, shown.best_precision = f"{others.recall[best]:.0%}", f"{others.precision[best]:.2f}"
    return shown


def _recipe(recipe: pd.DataFrame) -> list:
    """The universal workflow as it ran: per task, each step, its decision and the number behind it."""
    tasks = []
    for task, rows in recipe.groupby("task", sort=False):
        steps = []
        for step, (title, figure) in RECIPE_STEPS.items():
            chosen = rows[(rows.step == step) & rows.chosen.astype(bool)]
            if not len(chosen):
                continue
            row = chosen.iloc[0]
            hidden = step in ("power", "scale_up")
            decision = (row.candidate if hidden else f"{row.candidate}: {row.settings}"
                        if isinstance(row.get("settings"), str) else row.candidate)
            steps.append(SimpleNamespace(title=title, figure=figure, hidden=hidden, decision=decision,
                                         reason=_text(row.reason)))
        tasks.append(SimpleNamespace(task=task, steps=steps, misleading=_misleading_accuracy(rows)))
    return tasks


def _threshold(table: pd.DataFrame, claims: pd.DataFrame, words: ChapterWords) -> SimpleNamespace:
    """Each imbalanced task's models: F1 at 0.5 and at the cross-fitted threshold, the thresholds and the average
    precision (mean ± sd over runs), and the verdicts of the claims that read them (14c-14f)."""
    tasks = []
    for task, rows in table.groupby("task", sort=False):
        models = []
        for (model, loss), runs in rows.groupby(["model", "loss"], sort=False):
            def spread(column, digits=3):
                return f"{runs[column].mean():.{digits}f} ± {runs[column].std(ddof=1):.{digits}f}" if len(runs) > 1 \
                    else f"{runs[column].mean():.{digits}f}"
            models.append(SimpleNamespace(model=model, loss=loss, runs=len(runs), f1_default=spread("f1_default"),
                                          f1_tuned=spread("f1_tuned"), threshold=spread("threshold", 2),
                                          recall_default=f"{runs.recall_default.mean():.2f}",
                                          recall_tuned=f"{runs.recall_tuned.mean():.2f}",
                                          average_precision=spread("average_precision")))
        tasks.append(SimpleNamespace(task=task, models=models,
                                     positives=f"{rows.positives.sum() / rows.rows.sum():.1%}",
                                     against=_net_against_linear(rows)))
    # the claims that read these runs: on a task's protocol, and not step 5's (those read the ladder)
    mine = claims[claims.protocol.astype(str).isin({f"recipe_{t.task}" for t in tasks})
                  & claims.statistic.astype(str).str.contains("on each run's validation rows", regex=False)]
    # the rows share a sentence: each is shown by what it measured
    return SimpleNamespace(tasks=tasks, claims=[_verdict_line(c, words, "words") for c in mine.itertuples()])


def _net_against_linear(rows: pd.DataFrame) -> SimpleNamespace | None:
    """The net against logistic regression on one task: average precision with the plain loss, and the better F1
    of the two losses at the tuned thresholds; how many positive reviews a fold trains on."""
    means = rows.groupby(["model", "loss"])[["average_precision", "f1_tuned", "f1_default"]].mean()
    if not {"net", "logistic regression"} <= set(means.index.get_level_values("model")):
        return None
    net, linear = means.loc["net"], means.loc["logistic regression"]
    one = rows[(rows.model == "net") & (rows.loss == rows.loss.iloc[0]) & (rows.seed == rows.seed.min())]
    trained = (one.positives.sum() - one.positives).mean()  # a fold trains on the other folds' rows
    ahead = [bool(net.average_precision.get("plain", np.nan) > linear.average_precision.get("plain", np.nan)),
             bool(net.f1_tuned.max() > linear.f1_tuned.max())]
    return SimpleNamespace(ahead="both" if all(ahead) else "neither" if not any(ahead) else "split", net_ap=f"{net.average_precision.get('plain', np.nan):.3f}",
                           linear_ap=f"{linear.average_precision.get('plain', np.nan):.3f}",
                           net_f1=f"{net.f1_tuned.max():.3f}", linear_f1=f"{linear.f1_tuned.max():.3f}",
                           positives=f"{trained:,.0f}",
                           # at Keras' 0.5 with the plain loss: where logistic regression leads only there
                           default_behind=bool(net.f1_default.get("plain", np.nan)
                                               < linear.f1_default.get("plain", np.nan)),
                           net_default=f"{net.f1_default.get('plain', np.nan):.3f}",
                           linear_default=f"{linear.f1_default.get('plain', np.nan):.3f}")


def _last_layer(table: pd.DataFrame) -> list:
    """The book's last-layer table with what each pairing measured (mean ± sd over seeds)."""
    stats_ = table.groupby(["problem", "pairing", "activation", "loss", "measure"], sort=False).value.agg(["mean", "std"])
    rows = []
    for problem, (data, outputs, recommended, wrong, judged) in PROBLEMS.items():
        if problem not in set(table.problem):
            continue
        pairings = []
        for kind, pairing in (("recommended", recommended), ("wrong", wrong)):
            mine = stats_.loc[(problem, kind, pairing.activation, pairing.loss)]
            pairings.append(SimpleNamespace(name=pairing.name, measures=[
                SimpleNamespace(name=MEASURES[m], judged=m == judged, mean=f"{r['mean']:.3f}", sd=f"{r['std']:.3f}")
                for m, r in mine.iterrows()]))
        rows.append(SimpleNamespace(problem=problem, data=data, outputs=outputs, pairings=pairings))
    return rows


def _preparation(images: pd.DataFrame | None, clock: pd.DataFrame | None, claims: pd.DataFrame,
                 words: ChapterWords) -> SimpleNamespace:
    """The image studies' last epochs, the clock's errors, and the verdicts of their claims (11x, 12x)."""
    shown = SimpleNamespace(images=[], clock=[], claims=[])
    if images is not None and len(images):
        last = images[images.epoch == images.groupby(["study", "arm"]).epoch.transform("max")]
        summary = last.groupby(["study", "arm", "split", "metric"], sort=False).value.agg(["mean", "std"])
        shown.images = [SimpleNamespace(study=study, arm=arm, split=split.replace("_", " "), cells=[
            f"{summary.loc[(study, arm, split, m), 'mean']:.3f} ± {summary.loc[(study, arm, split, m), 'std']:.3f}"
            for m in ("loss", "acc")]) for study, arm, split in dict.fromkeys((a, b, c) for a, b, c, _ in summary.index)]
    if clock is not None and len(clock):
        if "extraction_us" not in clock:  # a table from before the extraction was timed
            clock = clock.assign(extraction_us=float("nan"))
        table = clock.groupby(["representation", "train_size"], sort=False)[
            ["mean_error", "within_5", "flops", "extraction_us"]].mean()
        shown.clock = [SimpleNamespace(representation=r, cells=[
            f"{n:,}", f"{v.mean_error:.2f}", f"{v.within_5:.2%}", f"{v.flops:.3g}",
            "" if pd.isna(v.extraction_us) else f"{v.extraction_us:.3g}"]) for (r, n), v in table.iterrows()]
    # the claims judged on a study's runs or on the clock (their `protocol` column)
    mine = claims[claims.protocol.isin({*(set(images.study) if images is not None else set()), "clock"})]
    shown.claims = [_verdict_line(c, words) for c in mine.itertuples()]
    return shown


def _verdict_line(c, words: ChapterWords, field: str = "claim") -> SimpleNamespace:
    """A claim's sentence (``field`` "claim") or what it measured ("words"), its verdict (after Holm's adjustment
    where that differs), value and interval, for a list beside a study's own table."""
    adjusted = _text(getattr(c, "verdict_adjusted", ""))
    english = _text(getattr(c, field))
    claim = words(c, field, english)
    return SimpleNamespace(id=c.id, protocol=c.protocol, claim=claim,
                           claim_english=words.still_english(claim, english), verdict=c.verdict,
                           adjusted=adjusted if adjusted and adjusted != c.verdict else "", value=_number(c.value, 3),
                           interval=_interval(c.low, c.high))


def page(*, claims: pd.DataFrame, scores: pd.DataFrame, leak: pd.DataFrame, runs: pd.DataFrame, seeds: pd.DataFrame,
         figures: list[tuple[FigureSpec, Path]], provenance: dict, jobs: pd.DataFrame, config: dict,
         sweeps: pd.DataFrame | None = None, protocol_study: tuple[pd.DataFrame, ...] | None = None,
         recipe: pd.DataFrame | None = None, last_layer: pd.DataFrame | None = None,
         threshold: pd.DataFrame | None = None, images: pd.DataFrame | None = None, clock: pd.DataFrame | None = None,
         language: str = i18n.SOURCE, chapter: dict | None = None, chapter_translation: Path | None = None,
         pretraining: dict | None = None) -> str:
    """``protocol_study``: results/protocol_audit.csv, tuning_leak.csv, duplicates.csv and, where it ran,
    duplicate_leak.csv (section 4.2);
    ``recipe``: results/recipe.csv (section 4.5); ``threshold``: results/recipe_threshold.csv (its imbalanced tasks'
    run scores); ``language``: the page's (its figures must be drawn in it);
    ``chapter``: config/chapter.yaml, whose claim words a page in another language than English shows translated
    (from locales/chapter.<language>.yaml, or ``chapter_translation``); ``pretraining``: section 4.1's study as
    overfit.report.pretraining.section gives it, in ``language``, its figure drawn in it."""
    translate = i18n.gettext(language)
    words = ChapterWords(chapter, language, chapter_translation)
    roles = config.get("roles", {})
    by_category: dict[str, list] = {}  # the movie-leak figure has its own section
    for spec, path in figures:
        if spec.kind != "movie_leak":
            by_category.setdefault(spec.category, []).append(_figure(spec, path))
    figure_sections = [SimpleNamespace(key=SECTION_KEYS.get(category, ""), anchor=_anchor(category),
                                       title=translate(category), figures=items)
                       for category, items in by_category.items()]
    return environment(language).get_template("page.html.j2").render(
        summary=SimpleNamespace(
            experiments=len(set(runs.experiment)) if len(runs) else 0, runs=int(runs.runs.sum()) if len(runs) else 0,
            protocols=len(set(runs.protocol)) if len(runs) else 0,
            diverged=int(runs.diverged.sum()) if len(runs) else 0, evaluations=len(scores),
            minutes=f"{jobs.seconds.sum() / 60:.1f}", digest=provenance["reviews_sha256"][:16],
            code=provenance["code_version"], rows=len(claims)),
        counts=_counts(claims), figure_sections=figure_sections,
        folded=roles.get("folded", config["final"]["choose_epochs_on"]),
        claim_sections=_claim_sections(claims, words), adjusted="verdict_adjusted" in claims.columns,
        leak=_leak(leak, config), leak_figures=[_figure(s, p) for s, p in figures if s.kind == "movie_leak"],
        seeds=_seed_groups(seeds), final_protocol=config["final"]["choose_epochs_on"], test_rows=_test_rows(scores),
        sweeps=None if sweeps is None else _sweep_rows(sweeps),
        protocols=None if protocol_study is None else _protocol_rows(*protocol_study[:3], translate,
                                                                     *protocol_study[3:]),
        recipe=None if recipe is None else _recipe(recipe),
        last_layer=None if last_layer is None else _last_layer(last_layer),
        threshold=None if threshold is None else _threshold(threshold, claims, words),
        preparation=_preparation(images, clock, claims, words),
        runs=list(runs.itertuples()),
        jobs=SimpleNamespace(n=len(jobs), minutes=f"{jobs.seconds.sum() / 60:.1f}", rows=list(jobs.itertuples())),
        provenance=provenance,
        pretraining=None if pretraining is None else SimpleNamespace(
            **pretraining, figure=SimpleNamespace(name=pretraining["name"], title=pretraining["title"],
                                                  caption=pretraining["caption"], wide=False, data=base64.b64encode(
                                                      Path(i18n.figure_path(language, pretraining["name"]))
                                                      .read_bytes()).decode())))
