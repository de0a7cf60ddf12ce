"""A finished `make reproduce` against its floor: wall time, the sum of its jobs' floors, and their ratio.

    .venv/bin/python benchmarks/pipeline.py [--results results]

Reads the `benchmark:` file of every job of the run (results/benchmarks/) and
what each training job trained (its table: models, epochs, rows). A training
job's floor is the sum of its model-epochs' floors (benchmarks/floor.py, with
this machine's rates measured now); a job of the dense path (an image study,
the clock) counts its FLOPs at the matmul rate; a job that trains nothing (data, claims,
figures, report) counts at its measured time, having no floor model. The
run is the latest Snakemake log (.snakemake/log/): it started at the time in
the log's name and ended when the log was last written; its jobs are those
whose benchmark files were written in between. Run it on the machine that
ran the pipeline, with nothing else running, after a run from a clean
`results/` (a job a run did not rerun is not in its wall time).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

import pandas as pd
import yaml
from floor import machine_rates, model_epoch_floor, review_stats

ROOT = Path(__file__).resolve().parents[1]


def trained_work(table: pd.DataFrame) -> pd.DataFrame:
    """One row per trained model: experiment, epochs trained, training rows, rows evaluated per epoch."""
    keys = ["experiment", "protocol", "repeat", "fold", "seed"]
    runs = table.groupby(keys).agg(epochs=("epoch", "max"), train_size=("train_size", "first"),
                                   validation_size=("validation_size", "first"),
                                   evaluations=("epoch", lambda e: e[table.loc[e.index, "split"] != "train"].nunique()))
    return runs.reset_index()


def dense_floor(results: Path, stage: str, name: str, config: dict, flops_per_second: float) -> float | None:
    """The FLOP floor of a job of the dense path: an image study (each run's epochs × (6 × its training rows + 2 ×
    its evaluated rows) × the model's multiply-adds) or the clock (its training FLOPs, in its table)."""
    import numpy as np

    if stage == "." and name == "clock" and (results / "clock.csv").exists():
        return float(pd.read_csv(results / "clock.csv").flops.sum()) / flops_per_second
    if stage != "images" or not (results / "images" / f"{name}.csv").exists():
        return None
    from overfit.images import settings

    table = pd.read_csv(results / "images" / f"{name}.csv")
    study = config["images"]["studies"][name]
    flops = 0.0
    with np.load(results / "images" / f"{name}_predictions.npz") as saved:
        for (arm, seed), runs in table.groupby(["arm", "seed"]):
            s = settings(study, arm)
            inputs = 784 * (2 if s["extra_channels"] != "none" else 1)
            widths = (inputs, *s["hidden"], saved[f"{arm}/{seed}/validation"].shape[1])
            macs = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
            evaluated = sum(len(saved[key]) for key in saved.files if key.startswith(f"{arm}/{seed}/")
                            and not key.endswith("/labels"))
            flops += runs.epoch.max() * (6 * runs.train_size.iloc[0] + 2 * evaluated) * macs
    return flops / flops_per_second


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--log", type=Path, help="the run's Snakemake log (default: the latest in .snakemake/log)")
    args = parser.parse_args()
    from overfit import sweeps
    from overfit.data import imdb

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    entries = sweeps.entries(config)  # the experiments and the sweeps' points
    ids, distinct = review_stats(imdb.load_split(args.results / "data" / "imdb" / "train.npz"))
    rates = machine_rates()
    log = args.log or max((args.results.parent / ".snakemake" / "log").glob("*.snakemake.log"),
                          key=lambda p: p.stat().st_mtime)
    start = datetime.strptime(log.name.split(".snakemake")[0], "%Y-%m-%dT%H%M%S.%f").timestamp()
    wall = log.stat().st_mtime - start
    rows = []
    for path in sorted((args.results / "benchmarks").rglob("*.tsv")):
        if not start <= path.stat().st_mtime <= start + wall + 5:
            continue  # a job of an earlier run, not rerun in this one
        seconds = float(pd.read_csv(path, sep="\t").s.iloc[0])
        stage, name = path.parent.relative_to(args.results / "benchmarks"), path.stem
        table = None
        dense = dense_floor(args.results, str(stage), name, config, rates[0])
        if not stage.parts:
            pass
        elif stage.parts[0] == "train":
            table = args.results / "metrics" / stage.parts[1] / f"{name}.parquet"
        elif stage.parts[0] == "final_fit":
            table = args.results / "final" / f"{name}.parquet"
        floor, kind = (seconds, "measured") if dense is None else (dense, "floor")
        work = None if table is None or not table.exists() else trained_work(pd.read_parquet(table).dropna(subset=["value"]))
        if work is not None and set(work.experiment) <= set(entries):  # (a point since edited away counts as measured)
            floor = sum(model_epoch_floor(entries[w.experiment]["hidden"], w.train_size,
                                          w.validation_size * w.evaluations / max(w.epochs, 1), ids, distinct, rates)
                        * w.epochs for w in work.itertuples())
            kind = "floor"
        rows.append({"job": f"{stage}/{name}", "seconds": seconds, "floor": floor, "kind": kind})
    jobs = pd.DataFrame(rows)
    print(f"the run of {log.name}")
    print(f"this machine: float32 matmul {rates[0] / 1e9:.0f} GFLOP/s, streaming update {rates[1] / 1e9:.1f} GB/s\n")
    print(jobs.sort_values("seconds", ascending=False).head(12)[["job", "seconds", "floor", "kind"]]
          .to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    floor = jobs.floor.sum()
    print(f"\n{len(jobs)} jobs; training floors {jobs[jobs.kind == 'floor'].floor.sum():.0f} s, other jobs as measured "
          f"{jobs[jobs.kind == 'measured'].floor.sum():.0f} s")
    print(f"wall time {wall:.0f} s, sum of the jobs' floors {floor:.0f} s: wall / floor = {wall / floor:.2f}")


if __name__ == "__main__":
    main()
