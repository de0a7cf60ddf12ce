"""One self-contained HTML page: figures embedded as data URIs, no script, no network."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from overfit import stats
from overfit.recipe.heads import MEASURES, PROBLEMS
from overfit.report.catalog import PREPARATION, PROTOCOLS, RECIPE, SWEEPS, FigureSpec
from overfit.report.leak import summary as leak_summary

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1150px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.holds { background: #dff3df; } .fails { background: #f8dcdc; } .unclear { background: #fbf1d0; } .notrun { background: #eee; }
.vacuous { background: #ebe2f4; } .untestable { background: #dde8f2; }
table.claims { width: 100%; table-layout: fixed; } table.claims td { overflow-wrap: anywhere; }
col.id { width: 3.4em; } table.claims td.id { overflow-wrap: normal; white-space: nowrap; }
col.verdict, col.adjusted { width: 7.4em; } col.flags { width: 8.6em; }
td.claim .sentence { font-size: 1.1em; } td.verdict, td.adjusted { font-weight: 600; }
.measured, .reason, td.claim details, td.flags { font-size: 0.92em; color: #444; } .reason { color: #222; }
details p { margin: 0.2em 0; } summary { cursor: pointer; color: #555; }
.p { display: block; font-weight: normal; font-size: 0.85em; color: #555; }
.badge { background: #8a4b00; color: #fff; border-radius: 3px; padding: 0 0.35em; font-size: 0.9em; }
.seed span, .count { padding: 0 0.25em; border-radius: 3px; } .unstable { color: #a32020; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; width: 530px; } figure.wide { width: 100%; } figure img { width: 100%; } figcaption { font-size: 0.85em; color: #444; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
.note { color: #555; font-size: 0.9em; white-space: normal; } nav ol { columns: 2; }
.scroll { overflow-x: auto; }
/* a wide table of numbers scrolls within its own box: the page itself never scrolls sideways */
table:not(.claims) { display: block; max-width: 100%; overflow-x: auto; }
td.num .note { display: block; max-width: 11em; margin-left: auto; }
"""

SHORT_METHOD = {stats.CORRECTED: "corrected, folds × repeats", stats.PLAIN: "plain, seeds"}
VERDICT_CLASS = {"holds": "holds", "does not hold": "fails", "unclear": "unclear", "vacuous": "vacuous",
                 "not testable here": "untestable", "not run": "notrun"}
HOLM_CHANGES = ("holds", "does not hold", "unclear")  # the kinds Holm's adjustment moves rows between


def _e(value) -> str:
    return html.escape(str(value))


def _number(value, digits=4) -> str:
    return "" if pd.isna(value) else f"{value:.{digits}f}"


def _text(value) -> str:
    return "" if pd.isna(value) else str(value)  # empty cells come back from the CSV as NaN


def _interval(low, high, digits=3) -> str:
    return "" if pd.isna(low) else f"[{_number(low, digits)}, {_number(high, digits)}]"


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _figure(spec: FigureSpec, path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    wide = " class=wide" if spec.kind in ("movie_leak", "sweep") else ""
    return (f'<figure id="fig-{_e(spec.name)}"{wide}><img alt="{_e(spec.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(spec.caption)}</figcaption></figure>")


def _flag(value) -> bool:
    """A boolean column read back from a CSV: True/False, or text, or NaN where the column was empty."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true") or (
        isinstance(value, (int, float, np.bool_)) and not pd.isna(value) and bool(value))


def _verdict(verdict, tag: str = "span", cls: str = "", extra: str = "") -> str:
    """A verdict in its colour, as a ``tag`` element of class ``cls`` (and the verdict's), ``extra`` after it."""
    kind = _text(verdict)
    classes = " ".join(c for c in (cls, VERDICT_CLASS.get(kind, "")) if c)
    return f"<{tag} class='{classes}'>{_e(kind)}{extra}</{tag}>"


def _p_value(p) -> str:
    if pd.isna(p):
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _seed_1(c) -> str:
    """The row's verdict in the seed-1 run, where one was given."""
    other = _text(getattr(c, "seed_1_verdict", ""))
    return other if other in VERDICT_CLASS else ""


def _measured(c) -> str:
    """What the row measured, in one line under the book's sentence: protocol, value and interval, the threshold,
    the book's own run and the runs."""
    method = SHORT_METHOD.get(_text(c.method), _text(c.method))
    steps = "" if pd.isna(c.steps_per_epoch) else f" ({int(c.steps_per_epoch)} steps/epoch)"
    parts = [f"<b>{_e(_text(c.protocol))}</b>{steps}" if _text(c.protocol) else ""]
    if not pd.isna(c.value):
        interval = _interval(c.low, c.high)
        naive = f"; naive {_interval(c.naive_low, c.naive_high)}" if method.startswith("corrected") else ""
        parts.append(f"value <b>{_number(c.value, 3)}</b>" + (f", 95% {interval} <i>{_e(method)}{naive}</i>"
                                                             if interval else ""))
    parts.append(f"holds if {_e(_text(c.claimed))}" if _text(c.claimed) else "")
    parts.append(f"book's run {_number(c.book_value, 3)}" if not pd.isna(c.book_value) else "")
    dropped = int(c.dropped) if not pd.isna(c.dropped) and c.dropped else 0
    parts.append(f"{int(c.n) if not pd.isna(c.n) else 0} runs" + (f" ({dropped} left out)" if dropped else ""))
    return " · ".join(p for p in parts if p)


def claim_row(c, adjusted: bool) -> str:
    """One claims.csv row: the sentence with what was measured folded under it, then the verdict raw and after
    Holm, then its post-hoc mark and its seed-1 verdict."""
    detail = _text(c.detail).strip("; ")
    reason = _text(getattr(c, "reason", ""))
    how = "".join(f"<p><b>{label}</b>: {_e(text)}</p>" for label, text in (
        ("statistic", _text(c.statistic)), ("how we read the book's words", _text(c.words)),
        ("detail", detail), ("method", _text(c.method))) if text)
    sentence = (f"<td class=claim><span class=sentence>{_e(c.claim)}</span>"
                f"<div class=measured>{_measured(c)}</div>"
                + (f"<div class=reason><b>{_e(c.verdict)}</b>: {_e(reason)}</div>" if reason else "")
                + (f"<details><summary>how it was judged</summary>{how}</details>" if how else "") + "</td>")
    p = _p_value(getattr(c, "p_value", np.nan))
    cells = _verdict(c.verdict, "td", "verdict", f"<span class=p>{p}</span>" if p else "")
    if adjusted:
        cells += _verdict(getattr(c, "verdict_adjusted", ""), "td", "adjusted")
    flags = ""
    history = _text(getattr(c, "history", ""))
    if _flag(getattr(c, "post_hoc", False)):
        flags += (f"<details class=history><summary><span class=badge title='{_e(history)}'>post hoc</span></summary>"
                  f"<p>{_e(history) or 'set or changed after its results were seen'}</p></details>")
    elif history:
        flags += f"<details class=history><summary>history</summary><p>{_e(history)}</p></details>"
    other = _seed_1(c)
    if other:
        unstable = " <b class=unstable>differs</b>" if other != c.verdict else ""
        flags += f"<div class=seed>seed 1: {_verdict(other)}{unstable}</div>"
    return (f"<tr id='claim-{_e(c.id)}-{_e(c.protocol)}'><td class=id>{_e(c.id)}</td>{sentence}{cells}"
            f"<td class=flags>{flags}</td></tr>")


def claims_table(claims: pd.DataFrame) -> str:
    """The claims, one table per section of the book: the verdict right beside the sentence, so that no table is
    wider than the page."""
    adjusted = "verdict_adjusted" in claims.columns
    head = ("<tr><th class=id>#</th><th class=claim>the book says, and what we measured</th><th class=verdict>verdict</th>"
            + ("<th class=adjusted>after Holm</th>" if adjusted else "") + "<th class=flags></th></tr>")
    cols = ("<colgroup><col class=id><col class=claim><col class=verdict>" + ("<col class=adjusted>" if adjusted else "")
            + "<col class=flags></colgroup>")
    sections = claims.groupby(claims.section.astype(str), sort=False) if "section" in claims.columns else [("", claims)]
    parts = []
    for section, rows in sections:
        title = f"Section {section}" if section[:1].isdigit() else section
        parts.append((f"<h3>{_e(title)}</h3>" if section else "")
                     + f"<table class=claims>{cols}{head}"
                     + "".join(claim_row(c, adjusted) for c in rows.itertuples()) + "</table>")
    return "".join(parts)


def _unstable(claims: pd.DataFrame) -> pd.Series:
    """Rows whose seed-1 run gave another verdict."""
    if "seed_1_verdict" not in claims.columns:
        return pd.Series(False, index=claims.index)
    other = claims.seed_1_verdict.map(_text)
    return other.isin(list(VERDICT_CLASS)) & (other != claims.verdict)


def verdict_counts(claims: pd.DataFrame) -> str:
    """Each kind of verdict counted, raw and after Holm; a row whose seed-1 run disagrees counts as unclear (it is
    listed with both verdicts), and the post-hoc rows are counted."""
    unstable = _unstable(claims)
    raw = claims.verdict.where(~unstable, "unclear").value_counts()
    adjusted = (claims.verdict_adjusted.where(~unstable, "unclear").value_counts()
                if "verdict_adjusted" in claims.columns else None)
    parts = []
    for kind in VERDICT_CLASS:
        n, m = raw.get(kind, 0), None if adjusted is None else adjusted.get(kind, 0)
        if not n and not m:
            continue
        after = f" ({m} after Holm)" if m is not None and kind in HOLM_CHANGES else ""
        parts.append(f"<span class='count {VERDICT_CLASS[kind]}'><b>{n}</b> {_e(kind)}{after}</span>")
    text, more = ", ".join(parts) + ".", []
    if "post_hoc" in claims.columns:
        post_hoc = claims.post_hoc.map(_flag)
        first = claims[post_hoc].drop_duplicates("id")  # a claim's rows share its history: link its first
        more.append(f"<b>{int(post_hoc.sum())}</b> rows post hoc (threshold or design set or changed after the results "
                    "were seen)" + (": " + ", ".join(f"<a href='#claim-{_e(c.id)}-{_e(c.protocol)}'>{_e(c.id)}</a>"
                                                     for c in first.itertuples()) if len(first) else ""))
    if "seed_1_verdict" in claims.columns:
        listed = "; ".join(f"<a href='#claim-{_e(c.id)}-{_e(c.protocol)}'>{_e(c.id)}</a> under {_e(c.protocol)}: "
                           f"{_e(c.verdict)} here, {_e(c.seed_1_verdict)} at seed 1" for c in claims[unstable].itertuples())
        compared = int(claims.seed_1_verdict.map(_text).isin(list(VERDICT_CLASS)).sum())
        more.append(f"<b>{int(unstable.sum())}</b> of {compared} rows compared with a seed-1 run differ (counted as "
                    f"unclear above){': ' + listed if listed else ''}")
    if more:
        text += "<ul>" + "".join(f"<li>{m}</li>" for m in more) + "</ul>"
    return text


def test_table(scores: pd.DataFrame) -> str:
    summary = scores.groupby(["fit", "experiment"]).agg(
        epochs=("epochs", "max"), seeds=("seed", "count"), diverged=("diverged", "sum"), acc_mean=("test_acc", "mean"),
        acc_sd=("test_acc", "std"), acc_min=("test_acc", "min"), acc_max=("test_acc", "max"), loss_mean=("test_loss", "mean"),
        loss_sd=("test_loss", "std"),
    ).reset_index().sort_values(["fit", "acc_mean"], ascending=[True, False])

    def spread(mean, sd, digits=4):
        return "" if pd.isna(mean) else f"{mean:.{digits}f}" + ("" if pd.isna(sd) else f" ± {sd:.{digits}f}")

    rows = "".join(
        f"<tr><td>{_e(r.fit)}</td><td>{_e(r.experiment)}</td><td class=num>{r.epochs}</td><td class=num>{r.seeds}</td>"
        f"<td class='num{' fails' if r.diverged else ''}'>{int(r.diverged)}</td>"
        f"<td class=num>{spread(r.acc_mean, r.acc_sd)}</td>"
        f"<td class=num>{'' if pd.isna(r.acc_min) else f'{r.acc_min:.4f}–{r.acc_max:.4f}'}</td>"
        f"<td class=num>{spread(r.loss_mean, r.loss_sd)}</td></tr>" for r in summary.itertuples())
    return ("<table><tr><th>fit</th><th>experiment</th><th>epochs</th><th>seeds</th><th>diverged (no test score)</th>"
            "<th>test accuracy (mean ± sd)</th><th>range</th><th>test loss (mean ± sd)</th></tr>" + rows + "</table>")


def seeds_table(seeds: pd.DataFrame) -> str:
    if seeds.empty:
        return "<p>No protocol with seeds in this run.</p>"
    grouped = seeds.groupby(["protocol", "experiment"], sort=False)
    rows = "".join(
        f"<tr><td>{_e(p)}</td><td>{_e(e)}</td><td class=num>{len(g)}</td>"
        f"<td class=num>{', '.join(str(v) for v in g.best_epoch)}</td>"
        f"<td class=num>{', '.join(f'{v:.3f}' for v in g.best_loss)}</td>"
        f"<td class=num>{', '.join(f'{v:.3f}' for v in g.last_loss)}</td></tr>" for (p, e), g in grouped)
    return ("<table><tr><th>protocol</th><th>experiment</th><th>seeds</th><th>best epoch, by seed</th>"
            "<th>lowest validation loss, by seed</th><th>validation loss at the last epoch, by seed</th></tr>" + rows + "</table>")


def leak_section(leak: pd.DataFrame, config: dict) -> str:
    roles = config.get("roles", {})
    random_folds, folded, test = roles.get("random_folds", ""), roles.get("folded", ""), roles.get("book_4_4", "")
    if leak.empty:
        return "<p>Not run: the config has no random_folds and folded protocols with experiments in common.</p>"
    s = leak_summary(leak, random_folds, folded)
    if not s:
        return "<p>Not measured: every run of one protocol diverged for every experiment.</p>"

    def row(r) -> str:
        if pd.isna(r.leak):
            return f"<tr><td>{_e(r.experiment)}</td><td colspan=13 class=fails>every run of one protocol diverged</td></tr>"
        return (
            f"<tr><td>{_e(r.experiment)}</td><td class=num>{int(r.random_epoch)}</td><td class=num>{_number(r.random_loss)}</td>"
            f"<td class=num>{int(r.grouped_epoch)}</td><td class=num>{_number(r.grouped_loss)}</td>"
            f"<td class=num>{_number(r.leak)} {_interval(r.leak_low, r.leak_high)}</td>"
            f"<td class=num>{'' if pd.isna(r.test_best_epoch) else int(r.test_best_epoch)}</td>"
            f"<td class=num>{_number(r.test_at_random_epoch)}</td><td class=num>{_number(r.test_at_grouped_epoch)}</td>"
            f"<td class=num>{_number(r.bias_random)}</td><td class=num>{_number(r.bias_grouped)}</td><td>{_e(_text(r.closer))}</td>"
            f"<td class=num>{'' if pd.isna(r.final_epochs) else int(r.final_epochs)}</td><td class=num>{_number(r.final_test_loss)}</td></tr>")

    rows = "".join(row(r) for r in leak.itertuples())
    sentences = (f"<p>Over {s['experiments']} experiments, random folds' validation loss is lower than grouped folds' by "
                 f"{-s['mean_leak']:.4f} on average (interval below zero in {s['leak_below_zero']} of {s['experiments']}); "
                 f"the epochs the two choose differ in {s['epochs_differ']}.")
    if "tested" in s:
        sentences += (f" Against the test loss of models trained on all training reviews ({test}), the grouped folds' "
                      f"validation loss is the closer in {s['grouped_closer']} of {s['tested']} (mean |bias| "
                      f"{s['mean_abs_bias_grouped']:.4f} grouped, {s['mean_abs_bias_random']:.4f} random); at the epochs each "
                      f"protocol picks, that test loss averages {s['test_loss_grouped_epochs']:.4f} (grouped) against "
                      f"{s['test_loss_random_epochs']:.4f} (random).")
    sentences += f" The final fits take their epochs from <b>{_e(config['final']['choose_epochs_on'])}</b>.</p>"
    return (sentences +
            "<div class=scroll><table><tr><th>experiment</th><th>random: epoch</th><th>random: val loss</th><th>grouped: epoch</th>"
            "<th>grouped: val loss</th><th>leak (random − grouped), 95%</th><th>test: best epoch</th>"
            "<th>test loss at random's epoch</th><th>test loss at grouped's epoch</th><th>bias random</th><th>bias grouped</th>"
            "<th>closer to test</th><th>final fit epochs</th><th>final test loss</th></tr>" + rows + "</table></div>"
            f"<p class=note>Validation loss is the mean over the runs of each protocol at its own chosen epoch (lowest mean). "
            f"The leak is paired by repeat (each repeat of either protocol partitions the same reviews); its interval is the "
            f"plain t-interval over the repeats' differences, which covers partition and initialisation on these reviews. "
            f"Test loss: the mean over the seeds of {_e(test)}, which trains on all 25,000 training reviews "
            f"and validates on the test set each epoch; fold models train on three quarters of the reviews, so both "
            f"protocols' biases include that.</p>")


def runs_table(runs: pd.DataFrame) -> str:
    rows = "".join(
        f"<tr><td>{_e(r.experiment)}</td><td>{_e(r.protocol)}</td><td class=num>{r.runs}</td><td class=num>{r.diverged}</td>"
        f"<td class=num>{r.train_size:.0f}</td><td class=num>{r.validation_size:.0f}</td></tr>" for r in runs.itertuples())
    return ("<table><tr><th>experiment</th><th>protocol</th><th>runs</th><th>diverged</th><th>training reviews (mean)</th>"
            "<th>validation reviews (mean)</th></tr>" + rows + "</table>")


def jobs_table(jobs: pd.DataFrame) -> str:
    rows = "".join(f"<tr><td>{_e(r.job)}</td><td class=num>{r.seconds:.1f}</td><td class=num>{r.max_rss_mb:.0f}</td></tr>"
                   for r in jobs.itertuples())
    total = jobs.seconds.sum()
    return (f"<p>{len(jobs)} jobs, {total / 60:.1f} CPU-job minutes in all (jobs run in parallel, so the wall time is less).</p>"
            "<table><tr><th>job</th><th>wall time (s)</th><th>peak memory (MB)</th></tr>" + rows + "</table>")


def sweeps_table(sweeps: pd.DataFrame) -> str:
    """results/sweeps.csv as the report shows it: one row per point of each sweep."""
    if sweeps.empty:
        return "<p>No sweep in the config.</p>"
    rows = "".join(
        f"<tr><td>{_e(r.sweep)}</td><td>{_e(r.experiment)}{' (chapter)' if r.included else ''}</td>"
        f"<td class=num>{int(r.parameters):,}</td><td class=num>{_number(r.train_reviews, 0) if pd.notna(r.train_reviews) else ''}</td>"
        f"<td class=num>{int(r.runs)}</td><td class=num>{_number(r.best_loss)} {_interval(r.best_low, r.best_high)}</td>"
        f"<td class=num>{_number(r.best_epoch, 1)}</td><td class=num>{_number(r.last_loss)}</td>"
        f"<td class=num>{_number(r.rise_after_best)}</td><td class=num>{_number(r.gap_at_last_epoch)}</td>"
        f"<td class=num>{_number(r.penalty_at_last_epoch)}</td><td class=num>{_number(r.last_train_acc, 3)}</td>"
        f"<td class=num>{_number(r.last_val_acc, 3)}</td><td class=num>{_number(r.epochs_to_fit, 1)}</td>"
        f"<td class=num>{int(r.diverged)}</td></tr>"
        for r in sweeps.itertuples())
    return ("<p class=note>Validation data loss (without the weight penalty) over the runs every point of a sweep has; "
            "the interval is the corrected resampled t over its folds. <b>penalty</b>: what the weight penalty adds to "
            "Keras' reported validation loss at the last epoch. <b>acc</b>: at the last epoch (training: on the labels "
            "it was given); <b>to 0.95</b>: first epoch of training accuracy ≥ 0.95 (one past the last: never).</p>"
            "<table><tr><th>sweep</th><th>experiment</th><th>parameters</th><th>training reviews</th><th>runs</th>"
            "<th>lowest val loss, 95%</th><th>its epoch</th><th>last epoch</th><th>rise after lowest</th>"
            "<th>val − train, last</th><th>penalty</th><th>train acc</th><th>val acc</th><th>to 0.95</th>"
            "<th>diverged</th></tr>"
            f"{rows}</table>")


def protocols_tables(audit: pd.DataFrame, tuning: pd.DataFrame, duplicates: pd.DataFrame) -> str:
    """Section 4.2's tables: the protocol audit, the tuning leak at a few N, and the duplicate counts."""
    audit_rows = "".join(
        f"<tr><td>{_e(r.protocol)}</td><td>{_e(r.estimate)}</td><td>{_e(r.kind)}</td>"
        f"<td class=num>{_number(r.validation_size, 0)}</td><td class=num>{int(r.estimates)}</td>"
        f"<td class=num>{int(r.model_epochs)}</td><td class=num>{_number(r.seconds, 1)}</td>"
        f"<td class=num>{_number(r.chosen_epoch, 1)}</td>"
        f"<td class=num>{_number(r.loss)}</td><td class=num>{_number(r.bias_loss, 3)} {_interval(r.bias_loss_low, r.bias_loss_high)}</td>"
        f"<td class=num>{_number(r.spread_loss, 3)}{'*' if r.spread_derived else ''}</td>"
        f"<td class=num>{_number(r.acc)}</td><td class=num>{_number(r.bias_acc, 3)} {_interval(r.bias_acc_low, r.bias_acc_high)}</td>"
        f"<td class=num>{_number(r.spread_acc, 3)}{'*' if r.spread_derived else ''}</td></tr>"
        for r in audit.itertuples())
    shown = tuning[tuning.configs.isin({1, 2, 4, int(tuning.configs.max()) if len(tuning) else 1})]
    tuning_rows = "".join(
        f"<tr><td>{_e(r.protocol)}</td><td class=num>{int(r.configs)}</td>"
        f"<td class=num>{_number(r.optimism_loss, 3)} [{_number(r.optimism_loss_p10, 3)}, {_number(r.optimism_loss_p90, 3)}]</td>"
        f"<td class=num>{_number(r.optimism_acc, 3)} [{_number(r.optimism_acc_p10, 3)}, {_number(r.optimism_acc_p90, 3)}]</td>"
        f"<td class=num>{_number(r.selected_loss)}</td><td class=num>{_number(r.selected_test_loss)}</td></tr>"
        for r in shown.itertuples())
    duplicate_rows = "".join(
        f"<tr><td>{_e(r.kind)}</td><td>{_e(r.where)}</td><td class=num>{int(r.pairs)}</td><td class=num>{int(r.reviews)}</td>"
        f"<td class=num>{100 * r.share_of_train:.2f}%</td><td class=num>{100 * r.share_of_test:.2f}%</td></tr>"
        for r in duplicates.itertuples())
    return ("<h3>The protocol audit</h3><p class=note>Each row: one protocol's estimates of the reference model's test "
            "score (lowest mean validation loss over its folds, and the accuracy at that epoch), against the book "
            "protocol's test curve at the same epoch. <b>bias</b>: mean error with its t-interval over the protocol's "
            "redraws (they are independent draws of split and initialisation, from these 25,000 reviews); <b>spread</b>: "
            "sd of the estimates over redraws (* derived: an iterated K-fold's single repeat's sd / √P); <b>cost</b>: per "
            "estimate, model-epochs and training seconds on this run's machine. The pitfalls are rows too: the "
            "<i>sorted_holdout</i> kinds (reviews sorted by label, the last held out unshuffled) and the "
            "<i>time_holdout</i> kind (the newest IMDb titles held out), to read against the random and the "
            "whole-movie hold-outs.</p>"
            "<table><tr><th>protocol</th><th>estimate</th><th>kind</th><th>validation reviews</th><th>estimates</th>"
            "<th>model-epochs</th><th>seconds</th><th>chosen epoch</th><th>val loss</th><th>bias, 95%</th><th>spread</th>"
            f"<th>val acc</th><th>bias, 95%</th><th>spread</th></tr>{audit_rows}</table>"
            "<h3>The information leak</h3><p class=note>Optimism of the configuration a random search keeps (best of N "
            "on validation loss, epochs chosen too): test − validation loss, and validation − test accuracy, mean "
            "[10th, 90th percentile] over subsets of N and redraws. All tuning splits are grouped by movie, so a "
            "single configuration's optimism is near zero and what grows with N is the leak. <b>The test set is used "
            "here only to measure the leak; nothing is chosen on it.</b></p>"
            "<table><tr><th>protocol</th><th>N</th><th>optimism, loss</th><th>optimism, accuracy</th>"
            f"<th>selected val loss</th><th>its test loss</th></tr>{tuning_rows}</table>"
            "<h3>Redundancy: duplicate reviews</h3><p class=note>Reviews whose word sets are identical, or nearly "
            "(Jaccard ≥ 0.8; found by MinHash banding, so a lower bound), as the model sees them.</p>"
            "<table><tr><th>kind</th><th>where</th><th>pairs</th><th>reviews</th><th>of training set</th>"
            f"<th>of test set</th></tr>{duplicate_rows}</table>")


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


def _misleading_accuracy(rows: pd.DataFrame) -> str:
    """On a task step 1 judged imbalanced: the baselines' accuracy beside what they find, from step 3's rows."""
    problem = rows[(rows.step == "problem") & rows.chosen.astype(bool)]
    baselines = rows[rows.step == "baselines"].groupby("candidate")[["acc", "precision", "recall"]].mean()
    if not len(problem) or problem.primary.iloc[0] == "acc" or "majority class" not in baselines.index:
        return ""
    majority = baselines.loc["majority class"]
    others = baselines.drop(index=["majority class", "chance"], errors="ignore")
    best = others.acc.idxmax() if len(others) else None
    text = (f"<p class=note><b>Why accuracy misleads here:</b> always answering the majority class is "
            f"{majority.acc:.1%} accurate on the validation folds and finds {majority.recall:.0%} of the positive "
            f"reviews (precision {majority.precision:.2f}).")
    if best is not None:
        text += (f" {_e(best)} is only {100 * (others.acc[best] - majority.acc):+.1f} points more accurate, yet finds "
                 f"{others.recall[best]:.0%} of them with precision {others.precision[best]:.2f}.")
    return text + "</p>"


def recipe_section(recipe: pd.DataFrame) -> str:
    """The universal workflow as it ran: per task, each step, its decision and the number behind it."""
    parts = []
    for task, rows in recipe.groupby("task", sort=False):
        body = ""
        for step, (title, figure) in RECIPE_STEPS.items():
            chosen = rows[(rows.step == step) & rows.chosen.astype(bool)]
            if not len(chosen):
                continue
            row = chosen.iloc[0]
            link = f" <a href='#fig-{figure}'>figure</a>" if figure else ""
            decision = (f"hidden layers {row.candidate}" if step in ("power", "scale_up")
                        else f"{row.candidate}: {row.settings}" if isinstance(row.get("settings"), str) else row.candidate)
            body += (f"<tr><td>{_e(title)}</td><td><b>{_e(decision)}</b></td>"
                     f"<td class=note>{_e(_text(row.reason))}{link}</td></tr>")
        parts.append(f"<h3>{_e(task)}</h3><table><tr><th>step</th><th>decision</th><th>why: the evidence</th></tr>"
                     f"{body}</table>{_misleading_accuracy(rows)}")
    return ("<p class=note>The book's recipe (4.5) run as jobs: each step reads the decision before it from its table "
            "(<code>results/recipe/&lt;task&gt;/</code>; all of them in <code>results/recipe.csv</code>, where the "
            "decisions are the <i>chosen</i> rows) and writes its own. Steps 1 to 6 read the training reviews only; "
            "the test set is opened once, by step 7. Intervals over folds are the claims table's corrected resampled t; "
            "over seeds, plain t.</p>" + "".join(parts))


def last_layer_table(table: pd.DataFrame) -> str:
    """The book's last-layer table with what each pairing measured (mean ± sd over seeds)."""
    stats_ = table.groupby(["problem", "pairing", "activation", "loss", "measure"], sort=False).value.agg(["mean", "std"])
    body = ""
    for problem, (data, outputs, recommended, wrong, judged) in PROBLEMS.items():
        if problem not in set(table.problem):
            continue
        cells = ""
        for kind, pairing in (("recommended", recommended), ("wrong", wrong)):
            mine = stats_.loc[(problem, kind, pairing.activation, pairing.loss)]
            shown = "<br>".join(f"{'<b>' if m == judged else ''}{_e(MEASURES[m])} {r['mean']:.3f} ± {r['std']:.3f}"
                                f"{'</b>' if m == judged else ''}" for m, r in mine.iterrows())
            cells += f"<td>{_e(pairing.name)}</td><td class=num>{shown}</td>"
        body += f"<tr><td>{_e(problem)}</td><td>{_e(data)}, {outputs} output{'s' if outputs > 1 else ''}</td>{cells}</tr>"
    return ("<h3>The last-layer table, run</h3><p class=note>The book's table of last-layer activations and losses "
            "(4.5), one small experiment per problem type (<code>results/last_layer.csv</code>; targets and the wrong "
            "pairings' reasons in <code>overfit/recipe/heads.py</code>): measured on held-out training rows, mean ± sd over "
            "seeds; bold: the measure each problem is judged by. Multi-label: IMDB's rating thresholds (≥ 2, 3, 4, 7, "
            "8, 9, 10 stars), several true at once. <a href='#fig-last_layer'>figure</a></p>"
            "<table><tr><th>problem</th><th>data</th><th>recommended</th><th>measured</th><th>wrong pairing</th>"
            f"<th>measured</th></tr>{body}</table>")


def preparation_section(images: pd.DataFrame | None, clock: pd.DataFrame | None, claims: pd.DataFrame) -> str:
    """The image studies' last epochs, the clock's errors, and the verdicts of their claims (11x, 12x)."""
    parts = ["<p class=note>The 2nd edition's experiments ran on MNIST; the data mirror has no MNIST, so they run on "
             "Fashion-MNIST, its drop-in (same shapes, ten classes, harder: expect lower accuracies than the book's). "
             "Every arm of a study trains from the same seeds (initial weights, batch order); intervals are t over "
             "the seeds. Section 4.3's claims and the clock's are judged the same way.</p>"]
    if images is not None and len(images):
        last = images[images.epoch == images.groupby(["study", "arm"]).epoch.transform("max")]
        summary = last.groupby(["study", "arm", "split", "metric"], sort=False).value.agg(["mean", "std"])
        body = "".join(
            f"<tr><td>{_e(study)}</td><td>{_e(arm)}</td><td>{_e(split.replace('_', ' '))}</td>"
            + "".join(f"<td class=num>{summary.loc[(study, arm, split, m), 'mean']:.3f} ± "
                      f"{summary.loc[(study, arm, split, m), 'std']:.3f}</td>" for m in ("loss", "acc")) + "</tr>"
            for study, arm, split in dict.fromkeys((a, b, c) for a, b, c, _ in summary.index))
        parts.append("<h3>The studies' last epoch</h3><p class=note><code>results/images.csv</code>: mean ± sd over "
                     "seeds at each arm's last epoch (training values are Keras' epoch means).</p><table><tr><th>study"
                     f"</th><th>arm</th><th>split</th><th>loss</th><th>accuracy</th></tr>{body}</table>")
    if clock is not None and len(clock):
        table = clock.groupby(["representation", "train_size"], sort=False)[["mean_error", "within_5", "flops"]].mean()
        body = "".join(f"<tr><td>{_e(r)}</td><td class=num>{n:,}</td><td class=num>{v.mean_error:.2f}</td>"
                       f"<td class=num>{v.within_5:.2%}</td><td class=num>{v.flops:.3g}</td></tr>"
                       for (r, n), v in table.iterrows())
        parts.append("<h3>The clock</h3><p class=note><code>results/clock.csv</code>: mean over seeds of the mean "
                     "reading error on the test faces (minutes, the shorter way round a 12-hour dial), the share read "
                     "within 5 minutes, and the training compute (FLOPs, feature extraction included; the rule's: "
                     "extracting the test faces' angles).</p><table><tr><th>representation</th><th>training faces</th>"
                     f"<th>mean error</th><th>within 5 min</th><th>FLOPs</th></tr>{body}</table>")
    # the claims judged on a study's runs or on the clock (their `protocol` column)
    mine = claims[claims.protocol.isin({*(set(images.study) if images is not None else set()), "clock"})]
    if len(mine):
        def after_holm(c) -> str:
            adjusted = _text(getattr(c, "verdict_adjusted", ""))
            return f"; after Holm: {_verdict(adjusted)}" if adjusted and adjusted != c.verdict else ""

        items = "".join(f"<li><a href='#claim-{_e(c.id)}-{_e(c.protocol)}'>{_e(c.id)}</a> {_e(c.claim)}: "
                        f"{_verdict(c.verdict)}{after_holm(c)} ({_number(c.value, 3)}, {_interval(c.low, c.high)})</li>"
                        for c in mine.itertuples())
        parts.append(f"<h3>Their claims</h3><ul>{items}</ul>")
    return "".join(parts)


def page(*, claims: pd.DataFrame, scores: pd.DataFrame, leak: pd.DataFrame, runs: pd.DataFrame, seeds: pd.DataFrame,
         figures: list[tuple[FigureSpec, Path]], provenance: dict, jobs: pd.DataFrame, config: dict,
         sweeps: pd.DataFrame | None = None, protocol_study: tuple[pd.DataFrame, ...] | None = None,
         recipe: pd.DataFrame | None = None, last_layer: pd.DataFrame | None = None,
         images: pd.DataFrame | None = None, clock: pd.DataFrame | None = None) -> str:
    """``protocol_study``: results/protocol_audit.csv, tuning_leak.csv and duplicates.csv (section 4.2);
    ``recipe``: results/recipe.csv (section 4.5)."""
    roles = config.get("roles", {})
    folded = roles.get("folded", config["final"]["choose_epochs_on"])
    leak_figures = [_figure(spec, path) for spec, path in figures if spec.kind == "movie_leak"]
    by_category: dict[str, list[tuple[FigureSpec, Path]]] = {}  # the movie-leak figure has its own section
    for spec, path in figures:
        if spec.kind != "movie_leak":
            by_category.setdefault(spec.category, []).append((spec, path))
    figure_sections = "".join(
        f"<h2 id='{_anchor(category)}'>{_e(category)}</h2><div class=figures>{''.join(_figure(s, p) for s, p in items)}</div>"
        + (sweeps_table(sweeps) if category == SWEEPS and sweeps is not None else "")
        + (protocols_tables(*protocol_study) if category == PROTOCOLS and protocol_study is not None else "")
        + (recipe_section(recipe) if category == RECIPE and recipe is not None else "")
        + (last_layer_table(last_layer) if category == RECIPE and last_layer is not None else "")
        + (preparation_section(images, clock, claims) if category == PREPARATION else "")
        for category, items in by_category.items())
    toc_figures = "".join(
        f"<li><a href='#{_anchor(category)}'>{_e(category)}</a><ul>"
        + "".join(f"<li><a href='#fig-{_e(s.name)}'>{_e(s.title)}</a></li>" for s, _ in items) + "</ul></li>"
        for category, items in by_category.items())
    versions = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in provenance["versions"].items())
    n_runs = int(runs.runs.sum()) if len(runs) else 0
    n_diverged = int(runs.diverged.sum()) if len(runs) else 0
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>overfit: Deep Learning with Python, chapter 4, re-run</title>
<style>{STYLE}</style></head><body>
<h1>overfit</h1>
<p>Chapter 4 of <em>Deep Learning with Python</em> (1st edition), re-run on the real IMDB reviews with the book's
models, optimizer and loss (Keras 2.0.8 semantics). Every number below is computed from <code>results/metrics.parquet</code>,
<code>results/test_scores.csv</code>, <code>results/claims.csv</code>, <code>results/movie_leak.csv</code>,
<code>results/sweeps.csv</code>, <code>results/protocol_audit.csv</code>, <code>results/tuning_leak.csv</code>,
<code>results/duplicates.csv</code>, <code>results/recipe.csv</code>, <code>results/images.csv</code> and
<code>results/clock.csv</code>.</p>

<h2 id="summary">Summary</h2>
<ul>
<li><b>What ran:</b> {len(set(runs.experiment)) if len(runs) else 0} experiments, {n_runs} training runs under
{len(set(runs.protocol)) if len(runs) else 0} protocols and final fits ({n_diverged} diverged), {len(scores)} test-set
evaluations; {jobs.seconds.sum() / 60:.1f} CPU-job minutes.</li>
<li><b>On what:</b> IMDB (Maas et al. 2011), reviews digest <code>{_e(provenance['reviews_sha256'][:16])}…</code>; code
<code>{_e(provenance['code_version'])}</code>.</li>
<li><b>Verdicts</b> ({len(claims)} claim–protocol rows): {verdict_counts(claims)}</li>
</ul>
<nav><h3>Contents</h3><ol>
<li><a href="#claims">Claims of the chapter</a></li>
<li><a href="#movie-leak">The movie leak</a></li>
<li><a href="#seeds">The book's protocols, seed by seed</a></li>
<li><a href="#test-set">Test set</a></li>
{toc_figures}
<li><a href="#runs">Runs per experiment and protocol</a></li>
<li><a href="#meaning">What the results mean</a></li>
<li><a href="#provenance">Provenance</a></li>
</ol></nav>

<h2 id="claims">Claims of the chapter</h2>
<p class=note>Each claim is judged under each protocol its row names. The <b>value</b> is the mean over runs of the
statistic (a paired difference where two models are compared, a rank correlation with the number of parameters for a
trend); the <b>95% interval</b> is about that same mean and fits how the runs were drawn: over the folds × repeats of
{_e(folded)} the corrected resampled t-interval (Nadeau &amp; Bengio 2003: the folds' training sets overlap, so the plain
interval is too narrow), over independent seeds on one split the plain t-interval (it covers initialisation and batch
order, not the choice of data). An accuracy or a correlation has its interval built on the logit scale (for a
correlation, Fisher's z), so that it stays inside its bounds; another bounded statistic (an epoch, a loss) has it cut
at the bound. Runs that all give the same value (every run's rank correlation −1) get no interval of zero width, which
would claim certainty, but an exact test (a sign test, or a permutation test for a rank correlation) that counts folds
as the fewer independent runs they amount to; the method says how many runs it rests on. A rise after the best epoch
is positive on pure noise, so a threshold on a rise is raised to the <b>noise floor</b> where that is higher: the 95th
percentile of the mean rise of flat curves with the runs' own epoch-to-epoch noise (the threshold shown says which).
The <b>naive interval</b> is the plain t-interval, shown so that the correction can be
seen (it is the same for runs over seeds). <b>holds</b>: the whole interval is on the side (or in the range) the book's
words require; <b>does not hold</b>: the whole interval is on the other side; <b>unclear</b>: it straddles a threshold;
<b>vacuous</b>: the claim it rests on (its row's <code>requires</code>) did not hold, so the sentence says nothing here;
<b>not testable here</b>: the design cannot answer the sentence (the row says why; its statistic is still shown);
<b>not run</b>: what it needs did not run (a role or protocol missing, or every run diverged: <i>how it was judged</i>
says which). <b>p</b>: the two-sided p-value of the verdict's direction. <b>After Holm</b>: the verdict once the p-values of every row that has one are adjusted together (Holm's step-down, one family
for the whole table): a <i>holds</i> or <i>does not hold</i> whose adjusted p is 0.05 or more becomes <i>unclear</i>.
<b>post hoc</b>: the row's threshold or design was set or changed after its results had been seen (open it for its
history). <b>seed 1</b>: the same row's verdict in a run with another seed, where one was given; where it differs,
the summary counts the row as unclear. <b>book's run</b>: the same statistic on the book's own recorded run. Runs left
out (diverged, or the statistic undefined for them) are counted. Under each sentence: what was measured; <i>how it was
judged</i> opens the statistic, our reading of the book's words and the details.</p>
{claims_table(claims)}

<h2 id="movie-leak">The movie leak</h2>
<p class=note>IMDB has up to 30 reviews per movie and its test set shares no movie with its training set. Random folds put
reviews of one movie on both sides; folds grouped by movie do not, as the test set does not.</p>
{leak_section(leak, config)}
<div class=figures>{''.join(leak_figures)}</div>

<h2 id="seeds">The book's protocols, seed by seed</h2>
<p class=note>The book printed one run of each model. Ours run several seeds (initialisation and batch order) on the
same split; a single seed can land in another mode (the 4-unit model sometimes stalls with dead units).</p>
{seeds_table(seeds)}

<h2 id="test-set">Test set</h2>
<p class=note><b>final</b>: retrained on all 25,000 training reviews for the epochs of lowest mean validation loss
under {_e(config['final']['choose_epochs_on'])}, one run per seed, evaluated once on the 25,000 test reviews.
<b>book_3_5</b>: the book's 3.5 check, 16-16-1 for 4 epochs (the book's notebook: 0.8850 accuracy, loss 0.2918; the
printed book: 0.8833). Test loss is Keras' loss (weight penalty included).</p>
{test_table(scores)}
{figure_sections}

<h2 id="runs">Runs per experiment and protocol</h2>
{runs_table(runs)}

<h2 id="meaning">What the results mean</h2>
<ul>
<li><b>loss</b> is what Keras reports: binary cross-entropy on the clipped sigmoid output plus the weight penalty;
<b>data_loss</b> is the same without the penalty (they differ only for l1, l2, l1_l2).</li>
<li><b>Training</b> values are averages over the epoch's batches (dropout on, weights changing), as Keras prints them;
<b>validation</b> values are computed on the weights at the end of the epoch.</li>
<li>The grey curves are the book's own single runs (Keras 2.0.8 notebooks); ours use a different tokenisation of the
same reviews (see the README), so they should land near the book's, within the spread of seeds, not on them.</li>
</ul>

<h2 id="provenance">Provenance</h2>
<table>
<tr><th>code version</th><td>{_e(provenance['code_version'])}</td></tr>
<tr><th>IMDB reviews digest (sha256)</th><td>{_e(provenance['reviews_sha256'])}</td></tr>
</table>
<h3>Package versions</h3><table>{versions}</table>
<h3>Jobs: wall time and peak memory</h3>{jobs_table(jobs)}
<h3>Config</h3><pre>{_e(provenance['config'])}</pre>
</body></html>
"""
