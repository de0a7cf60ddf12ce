"""One self-contained HTML page: figures embedded as data URIs, no script, no network."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from overfit.report.catalog import FigureSpec

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.holds { background: #dff3df; } .fails { background: #f8dcdc; } .unclear { background: #fbf1d0; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; width: 520px; } figure img { width: 100%; } figcaption { font-size: 0.85em; color: #444; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
.note { color: #555; font-size: 0.9em; }
"""

VERDICT_CLASS = {"holds": "holds", "does not hold": "fails", "unclear": "unclear"}


def _e(value) -> str:
    return html.escape(str(value))


def _number(value, digits=4) -> str:
    return "" if pd.isna(value) else f"{value:.{digits}f}"


def _figure(spec: FigureSpec, path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return (f'<figure><img alt="{_e(spec.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(spec.caption)}</figcaption></figure>")


def claims_table(claims: pd.DataFrame) -> str:
    rows = []
    for c in claims.itertuples():
        interval = "" if pd.isna(c.low) else f"[{_number(c.low, 3)}, {_number(c.high, 3)}]"
        detail = "" if pd.isna(c.detail) else str(c.detail)  # empty cells come back from the CSV as NaN
        rows.append(
            f"<tr><td>{_e(c.id)}</td><td>{_e(c.claim)}</td><td>{_e(c.statistic)}"
            f"{'<br><span class=note>' + _e(detail) + '</span>' if detail else ''}</td>"
            f"<td class=num>{_number(c.value, 3)}</td><td class=num>{interval}</td><td class=num>{c.n}</td>"
            f"<td class='{VERDICT_CLASS.get(c.verdict, '')}'>{_e(c.verdict)}</td></tr>")
    return ("<table><tr><th>#</th><th>claim (book)</th><th>statistic</th><th>value</th><th>95% interval</th>"
            "<th>runs</th><th>verdict</th></tr>" + "".join(rows) + "</table>")


def test_table(scores: pd.DataFrame) -> str:
    summary = scores.groupby(["fit", "experiment"]).agg(
        epochs=("epochs", "first"), seeds=("seed", "count"), acc_mean=("test_acc", "mean"), acc_sd=("test_acc", "std"),
        acc_min=("test_acc", "min"), acc_max=("test_acc", "max"), loss_mean=("test_loss", "mean"), loss_sd=("test_loss", "std"),
    ).reset_index().sort_values(["fit", "acc_mean"], ascending=[True, False])
    rows = "".join(
        f"<tr><td>{_e(r.fit)}</td><td>{_e(r.experiment)}</td><td class=num>{r.epochs}</td><td class=num>{r.seeds}</td>"
        f"<td class=num>{r.acc_mean:.4f} ± {r.acc_sd:.4f}</td><td class=num>{r.acc_min:.4f}–{r.acc_max:.4f}</td>"
        f"<td class=num>{r.loss_mean:.4f} ± {r.loss_sd:.4f}</td></tr>" for r in summary.itertuples())
    return ("<table><tr><th>fit</th><th>experiment</th><th>epochs</th><th>seeds</th><th>test accuracy (mean ± sd)</th>"
            "<th>range</th><th>test loss (mean ± sd)</th></tr>" + rows + "</table>")


def jobs_table(jobs: pd.DataFrame) -> str:
    rows = "".join(f"<tr><td>{_e(r.job)}</td><td class=num>{r.seconds:.1f}</td><td class=num>{r.max_rss_mb:.0f}</td></tr>"
                   for r in jobs.itertuples())
    total = jobs.seconds.sum()
    return (f"<p>{len(jobs)} jobs, {total / 60:.1f} CPU-job minutes in all (jobs run in parallel, so the wall time is less).</p>"
            "<table><tr><th>job</th><th>wall time (s)</th><th>peak memory (MB)</th></tr>" + rows + "</table>")


def page(*, claims: pd.DataFrame, scores: pd.DataFrame, figures: list[tuple[FigureSpec, Path]], provenance: dict,
         jobs: pd.DataFrame, protocol: str) -> str:
    by_category: dict[str, list[str]] = {}
    for spec, path in figures:
        by_category.setdefault(spec.category, []).append(_figure(spec, path))
    figure_sections = "".join(f"<h2>{_e(category)}</h2><div class=figures>{''.join(items)}</div>"
                              for category, items in by_category.items())
    versions = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in provenance["versions"].items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>overfit: Deep Learning with Python, chapter 4, re-run</title>
<style>{STYLE}</style></head><body>
<h1>overfit</h1>
<p>Chapter 4 of <em>Deep Learning with Python</em> (1st edition), re-run on the real IMDB reviews with the book's
models, optimizer and loss (Keras 2.0.8 semantics), every setting trained under {_e(protocol)} with spread over folds
and repeats. Every number below is computed from <code>results/metrics.parquet</code> and
<code>results/test_scores.csv</code>.</p>

<h2>Claims of the chapter</h2>
<p class=note>Each claim is tested on the runs of the <b>{_e(protocol)}</b> protocol. Comparisons are paired (both models train on
the same folds in the same batch order); the interval is a 95% t-interval over runs. Folds of one repeat share
data, so treat the intervals as a rough guide. Verdicts: <b>holds</b> the interval lies on the claimed side;
<b>does not hold</b> it lies on the other side; <b>unclear</b> it straddles (or the rule in the statistic says so).</p>
{claims_table(claims)}

<h2>Test set</h2>
<p class=note><b>final</b>: retrained on all 25,000 training reviews for the epochs of lowest mean validation loss
under {_e(protocol)}, one run per seed, evaluated once on the 25,000 test reviews. <b>book_3_5</b>: the book's 3.5
check, 16-16-1 for 4 epochs (the book's notebook: 0.8850 accuracy, loss 0.2918; the printed book: 0.8833).
Test loss is Keras' loss (weight penalty included).</p>
{test_table(scores)}
{figure_sections}

<h2>What the results mean</h2>
<ul>
<li><b>loss</b> is what Keras reports: binary cross-entropy on the clipped sigmoid output plus the weight penalty;
<b>data_loss</b> is the same without the penalty (they differ only for l1, l2, l1_l2).</li>
<li><b>Training</b> values are averages over the epoch's batches (dropout on, weights changing), as Keras prints them;
<b>validation</b> values are computed on the weights at the end of the epoch.</li>
<li><b>book</b> protocol: one run validated on the test set, as in the book's section 4.4 (its figures);
<b>holdout</b>: the 3.5 split; <b>{_e(protocol)}</b>: K folds × P reshuffled repeats, the basis of every claim and band.</li>
<li>The grey curves are the book's own single runs (Keras 2.0.8 notebooks); ours use a different tokenisation of the
same reviews (see the README), so they should land near the book's, within the spread of seeds, not on them.</li>
</ul>

<h2>Provenance</h2>
<table>
<tr><th>code version</th><td>{_e(provenance['code_version'])}</td></tr>
<tr><th>IMDB reviews digest (sha256)</th><td>{_e(provenance['reviews_sha256'])}</td></tr>
</table>
<h3>Package versions</h3><table>{versions}</table>
<h3>Jobs: wall time and peak memory</h3>{jobs_table(jobs)}
<h3>Config</h3><pre>{_e(provenance['config'])}</pre>
</body></html>
"""
