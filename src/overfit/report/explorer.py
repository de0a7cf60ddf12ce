"""The run explorer (results/explorer.html): every curve of metrics.parquet in one page that opens from disk.

The report shows chosen figures; the explorer lets a reader pick any experiment, protocol, sweep point, fold,
seed, split and metric and see those curves against the others, and follow each claim row to the runs it read.

The data travel packed (``pack``): one table of runs (experiment and protocol as indices into small lists of
names, repeat, fold, seed, diverged, sizes) and one list of curves (run, split, metric, first epoch, values
rounded to ``DIGITS`` significant digits, null for a missing epoch). Parallel arrays of small integers and short
decimals in JSON are a few times smaller than the long table and need no decoder in the page (Arrow or Parquet
would need one of ~1 MB inlined). ``unpack`` reverses it (the tests' round trip).

The claims' runs (``claim_runs``) are found with overfit.report.claims' own pieces (its Context's roles,
curves and book mode, its STATISTICS), row by row as ``compute_claims`` reads them, so the runs the page shows
for a claim are the runs its value was computed from.

The plot is uPlot (src/overfit/report/explorer/, pinned, MIT, its LICENSE beside it), inlined at build time: a
sixteenth of the size of vega + vega-lite + vega-embed (docs/explorer.md has the numbers), and it draws hundreds
of line series on a canvas without lag, which is what "a selection over the faint others" needs; the page's own
script does the rest (the selectors, the claim links).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from overfit import stats, sweeps
from overfit import chapter as chapter_roles
from overfit.errors import DataError
from overfit.report.claims import STATISTICS, Context, NotRun
from overfit.report.sweeps import ordered

HERE = Path(__file__).with_name("explorer")
TEMPLATE, PLOT_JS, PLOT_CSS = HERE / "page.html", HERE / "uPlot.iife.min.js", HERE / "uPlot.min.css"
PLOT_VERSION = "uPlot 1.6.32"  # npm's uplot@1.6.32 (sha256 of the tarball in docs/explorer.md)
DIGITS = 4  # significant digits of a packed value: a loss of 0.2823, an accuracy of 0.8874
RUN = ["experiment", "protocol", "repeat", "fold", "seed"]
COLUMNS = [*RUN, "epoch", "split", "metric", "value", "diverged", "train_size", "validation_size"]
IMAGES_PROTOCOL = "images/{study}"  # an image study's arms become the experiments of this protocol
TEXT = ("protocol", "claim", "words", "statistic", "claimed", "verdict", "verdict_adjusted", "detail")  # claims.csv's words
LIMIT_MB = 10  # the bound on the page for the default run


def _rounded(values: np.ndarray) -> list:
    """Values to DIGITS significant digits, NaN as None (JSON null)."""
    return [None if not math.isfinite(v) else float(f"{v:.{DIGITS}g}") for v in values.tolist()]


def pack(metrics: pd.DataFrame) -> dict:
    """The long metrics table as runs and curves (see the module docstring); epochs of a curve run from
    ``start`` one by one, a missing epoch is null."""
    missing = [c for c in COLUMNS if c not in metrics.columns]
    if missing:
        raise DataError(f"the metrics table lacks the column(s) {', '.join(missing)}: pass results/metrics.parquet "
                         f"as overfit.report.tables.collect_metrics writes it (columns: {', '.join(COLUMNS)})")
    if metrics.empty:
        raise DataError("the metrics table has no rows: the explorer has nothing to show (run the training first)")
    frame = metrics[COLUMNS].sort_values([*RUN, "split", "metric", "epoch"], kind="stable")
    names = {key: sorted(frame[key].astype(str).unique()) for key in ("experiment", "protocol", "split", "metric")}
    codes = {key: frame[key].astype(str).map({n: i for i, n in enumerate(names[key])}).to_numpy()
             for key in names}
    run_of = frame.groupby(RUN, sort=False).ngroup().to_numpy()
    runs = frame.groupby(RUN, sort=False).agg(diverged=("diverged", "any"), train_size=("train_size", "first"),
                                              validation_size=("validation_size", "first")).reset_index()
    key = np.stack([run_of, codes["split"], codes["metric"]], axis=1)
    starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]).any(axis=1)])
    ends = np.r_[starts[1:], len(frame)]
    epochs, values = frame.epoch.to_numpy(), frame.value.to_numpy(dtype=float)
    curves = {"run": [], "split": [], "metric": [], "start": [], "values": []}
    for a, b in zip(starts, ends):
        first = int(epochs[a])
        line = np.full(int(epochs[b - 1]) - first + 1, np.nan)
        line[epochs[a:b] - first] = values[a:b]
        curves["run"].append(int(run_of[a]))
        curves["split"].append(int(codes["split"][a]))
        curves["metric"].append(int(codes["metric"][a]))
        curves["start"].append(first)
        curves["values"].append(_rounded(line))
    return {
        "names": names,
        "runs": {
            "experiment": runs.experiment.map({n: i for i, n in enumerate(names["experiment"])}).tolist(),
            "protocol": runs.protocol.map({n: i for i, n in enumerate(names["protocol"])}).tolist(),
            **{k: runs[k].astype(int).tolist() for k in ("repeat", "fold", "seed", "train_size", "validation_size")},
            "diverged": runs.diverged.astype(int).tolist(),
        },
        "curves": curves,
        "digits": DIGITS,
    }


def unpack(packed: dict) -> pd.DataFrame:
    """The long table back from ``pack`` (values rounded to its digits; epochs that were missing stay missing)."""
    names, runs, curves = packed["names"], pd.DataFrame(packed["runs"]), packed["curves"]
    runs["experiment"] = [names["experiment"][i] for i in runs.experiment]
    runs["protocol"] = [names["protocol"][i] for i in runs.protocol]
    runs["diverged"] = runs.diverged.astype(bool)
    rows = []
    for run, split, metric, start, line in zip(*(curves[k] for k in ("run", "split", "metric", "start", "values"))):
        for offset, value in enumerate(line):
            if value is not None:
                rows.append((run, start + offset, names["split"][split], names["metric"][metric], value))
    long = pd.DataFrame(rows, columns=["run", "epoch", "split", "metric", "value"])
    table = runs.iloc[long.run.to_numpy()].reset_index(drop=True).join(long.drop(columns="run"))
    return table[COLUMNS]


def image_runs(images: pd.DataFrame) -> pd.DataFrame:
    """results/images.csv in the metrics table's shape: each study a protocol (IMAGES_PROTOCOL), its arms the
    experiments, its seeds the runs (one fold, one repeat), so that its claims can show their runs too."""
    table = images.assign(experiment=images.arm.astype(str),
                          protocol=[IMAGES_PROTOCOL.format(study=s) for s in images.study],
                          repeat=0, fold=0, validation_size=0)
    return table[COLUMNS]


# --- which runs each claim row read (the rows of results/claims.csv) ---------------------------------------------

def _group(experiment: str, protocol: str, split: str, metric: str, runs) -> dict:
    return {"experiment": experiment, "protocol": protocol, "split": split, "metric": metric,
            "runs": [[int(r), int(f), int(s)] for r, f, s in runs]}


def _splits(row: dict, split: str) -> list[str]:
    """The splits a statistic reads: the gap at the last epoch reads both curves, whatever the row's split."""
    return ["validation", "train"] if row["statistic"] == "gap_at_last_epoch" else [split]


def _curve_runs(ctx: Context, row: dict, protocol_role: str) -> list[dict]:
    """A curve claim's runs under one protocol, chosen as claims._curve_claim chooses them: runs that did not
    diverge, paired (a comparison, a trend: the runs every experiment has), in the book's mode where the row is
    read in it, with a defined statistic."""
    protocol = ctx.protocol(protocol_role)
    split, metric = row.get("split", "validation"), row.get("metric", "loss")
    statistic = STATISTICS[row["statistic"]][0]

    def per_run(name: str) -> pd.Series:
        return statistic(lambda s: ctx.curves(name, protocol, s, metric), split)

    if "compare" in row:
        names = [ctx.experiments(r)[0] for r in row["compare"]]
        a, b = (per_run(n) for n in names)
        common = a.index.intersection(b.index)
        per = b.loc[common] - a.loc[common]
    elif "trend" in row:
        names = ctx.experiments(row["trend"])
        missing = [n for n in names if n not in ctx.present.get(protocol, set())]
        if missing:
            raise NotRun(f"{protocol} has no runs of {', '.join(missing)}")
        table = pd.DataFrame({n: per_run(n) for n in names}).dropna()
        per = table.apply(lambda r: stats.rank_correlation(np.arange(len(names)), r.to_numpy()), axis=1)
    else:
        names = [ctx.experiments(r)[0] for r in row["of"]]
        per = per_run(names[0])
    mode = ctx.book_mode(protocol_role, protocol, names)
    if mode is not None:
        per = per[per.index.isin(mode[0])]
    runs = per.dropna().index
    return [_group(n, protocol, s, metric, runs) for n in names for s in _splits(row, split)]


def _all_runs(ctx: Context, experiment: str, protocol: str, split: str, metric: str, keep=None) -> dict:
    index = ctx.curves(experiment, protocol, split, metric).index
    return _group(experiment, protocol, split, metric, index if keep is None else index[keep(index)])


def _study_runs(ctx: Context, row: dict) -> list[dict]:
    """A section 4.2 row: the reference model's runs under each protocol it compares and, for the estimates judged
    against the test curve, the book protocol's runs that give that curve; a search's gain, every configuration's
    runs (claims._estimates, claims._selection_gain)."""
    protocols = [ctx.protocol(role) for role in row["study"]]
    metric = row.get("metric", "loss")
    if row["statistic"] == "selection_gain":
        configs = sorted(n for n in ctx.present.get(protocols[0], set()) if n in sweeps.entries(ctx.config))
        return [_all_runs(ctx, n, protocols[0], "validation", metric) for n in configs]
    reference = ctx.experiments("reference")[0]
    iterate = row.get("iterate", 1)
    groups = []
    for i, protocol in enumerate(protocols):
        keep = None
        if i == 1 and iterate > 1:  # a last group short of repeats is left out of iterated K-fold estimates
            def keep(index, iterate=iterate):
                repeats = index.get_level_values("repeat")
                return repeats < (repeats.max() + 1) // iterate * iterate
        groups.append(_all_runs(ctx, reference, protocol, "validation", metric, keep))
    groups.append(_all_runs(ctx, reference, ctx.protocol("book_4_4"), "validation", metric))
    return groups


def _fit_runs(ctx: Context, row: dict) -> list[dict]:
    """A final fit's test score: every seed of the fit that did not diverge (its protocol in metrics.parquet)."""
    protocol, metric = row["fit"], row["statistic"].removeprefix("test_")
    return [_all_runs(ctx, n, protocol, "test", metric) for n in sorted(ctx.present.get(protocol, set()))]


def _image_runs(ctx: Context, row: dict) -> list[dict]:
    """An image study's arms, paired by seed where they compare (claims._image_claim)."""
    spec = row["images"]
    protocol = IMAGES_PROTOCOL.format(study=spec["study"])
    split, metric = row.get("split", "validation"), row.get("metric", "loss")
    arms = list(spec["compare"]) if "compare" in spec else [spec["of"]]
    splits = list(dict.fromkeys(spec.get("splits", [split])))  # 12d reads one split twice
    statistic = STATISTICS[row["statistic"]][0]
    seeds = None
    for arm in arms:
        for on in splits:
            values = statistic(lambda s, arm=arm: ctx.curves(arm, protocol, s, metric), on).dropna()
            seeds = values.index if seeds is None else seeds.intersection(values.index)
    return [_group(arm, protocol, on, metric, seeds) for arm in arms for on in splits]


def _protocol_role(ctx: Context, row: dict, protocol: str) -> str:
    for role in row["protocols"]:
        if ctx.protocol(role) == protocol:
            return role
    raise NotRun(f"claims.csv judges {row['id']} under {protocol!r}, which none of its protocol roles "
                 f"({', '.join(row['protocols'])}) names in this config: rebuild claims.csv with this config")


def claim_runs(metrics: pd.DataFrame, claims: pd.DataFrame, config: dict, chapter: dict) -> list[dict]:
    """For each row of the claims table: its words, verdicts and interval, and the groups of runs it read (each an
    experiment, protocol, split, metric and its runs as [repeat, fold, seed]); ``note`` says why a row has none."""
    ctx = Context(metrics, pd.DataFrame(), config, chapter)
    rows = {row["id"]: row for row in chapter["claims"]}
    unknown = sorted(set(claims.id.astype(str)) - set(rows))
    if unknown:
        raise DataError(f"claims.csv has rows {', '.join(unknown)} that config/chapter.yaml does not declare: "
                         f"rebuild results/claims.csv with this chapter.yaml")
    out = []
    for record in claims.fillna({k: "" for k in TEXT}).to_dict("records"):
        row, note, groups = rows[str(record["id"])], "", []
        try:
            if "clock" in row:
                note = "clock"  # the clock's runs are summaries (results/clock.csv), without curves
            elif "pretraining" in row:
                note = "pretraining"  # its curves are in results/pretraining.csv, which this page does not read
            elif not any(kind in row for kind in ("images", "fit", "study", "of", "compare", "trend")):
                note = "elsewhere"  # a kind of row added to claims.py since: its runs are not in metrics.parquet
            elif "images" in row:
                groups = _image_runs(ctx, row)
            elif "fit" in row:
                groups = _fit_runs(ctx, row)
            elif "study" in row:
                groups = _study_runs(ctx, row)
            else:
                groups = _curve_runs(ctx, row, _protocol_role(ctx, row, record["protocol"]))
        except NotRun as reason:
            note = str(reason)
        out.append({
            "id": str(record["id"]), "protocol": record["protocol"], "section": str(record["section"]),
            "claim": record["claim"], "words": record.get("words", ""), "statistic": record["statistic"],
            "value": _number(record["value"]), "low": _number(record["low"]), "high": _number(record["high"]),
            "claimed": record.get("claimed", ""), "verdict": record["verdict"],
            "verdict_adjusted": record.get("verdict_adjusted", ""), "detail": record.get("detail", ""),
            "groups": groups, "note": note,
        })
    return out


def _number(value) -> float | None:
    value = float(value)
    return float(f"{value:.{DIGITS}g}") if math.isfinite(value) else None


def sweep_points(config: dict, present: set[str]) -> dict[str, list[str]]:
    """Each sweep's experiments in its curve's order (overfit.report.sweeps.ordered), those that have runs."""
    return {name: [n for n in ordered(config, name) if n in present] for name in config.get("sweeps", {})}


def page(metrics: pd.DataFrame, claims: pd.DataFrame, config: dict, chapter: dict,
         images: pd.DataFrame | None = None) -> str:
    """The explorer: the template with the packed data, the claims' runs and the plotting library inlined."""
    everything = metrics if images is None else pd.concat([metrics[COLUMNS], image_runs(images)], ignore_index=True)
    data = {
        **pack(everything),
        "claims": claim_runs(everything, claims, config, chapter),
        "sweeps": sweep_points(config, set(metrics.experiment.astype(str))),
        "roles": {k: v for k, v in config.get("roles", {}).items() if k in chapter_roles.PROTOCOL_ROLES},
        "library": PLOT_VERSION,
    }
    # inside <script type="application/json">: only "</" could end the element early
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    template = TEMPLATE.read_text(encoding="utf-8")
    for marker in ("/*{{plot_css}}*/", "/*{{plot_js}}*/", "{{data}}"):
        if template.count(marker) != 1:
            raise ValueError(f"{TEMPLATE}: the marker {marker} must appear exactly once (found {template.count(marker)})")
    return (template.replace("/*{{plot_css}}*/", PLOT_CSS.read_text(encoding="utf-8"))
            .replace("/*{{plot_js}}*/", PLOT_JS.read_text(encoding="utf-8").replace("</", "<\\/"))
            .replace("{{data}}", payload))
