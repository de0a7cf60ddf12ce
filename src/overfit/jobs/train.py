"""Jobs of the training and final-evaluation stages."""

from __future__ import annotations

import logging

log = logging.getLogger("overfit")


def _load_imdb(job):
    from overfit.data import imdb

    return {"train": imdb.load_split(job.input.train), "test": imdb.load_split(job.input.test)}


def _write_table(rows, path, **columns) -> None:
    import pandas as pd

    from overfit.files import atomic_path

    table = pd.DataFrame(rows)
    for name, value in columns.items():
        table.insert(0, name, value)
    with atomic_path(path) as partial:
        table.to_parquet(partial, index=False)


def train(job) -> None:
    """One training job of a protocol: a stack of narrow experiments, or (a part of) one wide experiment's runs."""
    from overfit import experiments
    from overfit.engine.train import train_stack
    from overfit.protocols import load_folds

    config, protocol, names = job.params.config, job.wildcards.protocol, job.params.experiments
    splits = _load_imdb(job)
    specs = [experiments.experiment(config, name, protocol=protocol) for name in names]
    # a stack's experiments share their data settings (overfit.grid.training_jobs): subset size, label noise
    data = config["experiments"][names[0]]
    folds = load_folds(job.input.folds, {split: len(reviews) for split, reviews in splits.items()})
    runs = experiments.protocol_runs(config, protocol, folds, data.get("train_size"), data.get("label_noise", 0.0))
    log.info("%s: %s, %d of its %d models, each %s, %d epochs", protocol, ", ".join(names), len(job.params.runs),
             len(runs), "stacked (one shared step)" if len(names) > 1 else f"{specs[0].model.hidden}",
             specs[0].training.epochs)
    tables = train_stack(tuple(s.model for s in specs), runs, specs[0].training, splits, names=tuple(names),
                         train_only=list(job.params.runs))
    _write_table([{"experiment": name, **row} for name, rows in zip(names, tables) for row in rows], job.output[0])


def _curves(paths, experiment: str):
    """An experiment's rows of the training tables (a stack's table holds several experiments)."""
    import pandas as pd

    table = pd.concat([pd.read_parquet(path) for path in paths], ignore_index=True)
    return table[table.experiment == experiment].reset_index(drop=True)


def final_fit(job) -> None:
    """Retrain on all training reviews for the chosen (or fixed) number of epochs; look at the test set once."""
    import dataclasses

    import pandas as pd

    from overfit import experiments
    from overfit.engine.train import train_models, untrained_rows
    from overfit.evaluate import NoValidationCurve, choose_epochs

    config, name = job.params.config, job.params.experiment
    splits = _load_imdb(job)
    runs = experiments.final_runs(config, job.params.fit, len(splits["train"]), len(splits["test"]))
    try:
        epochs = job.params.epochs or choose_epochs(_curves(job.input.curves, name))
    except NoValidationCurve as reason:
        # one broken experiment must not sink the others: its final fit is recorded as not trained
        log.warning("final fit %s of %s not trained: %s", job.params.fit, name, reason)
        _write_table(untrained_rows(runs), job.output[0], experiment=name)
        return
    spec = experiments.experiment(config, name)
    training = dataclasses.replace(spec.training, epochs=epochs)
    log.info("final fit %s of %s: %d seeds, %d epochs", job.params.fit, name, len(runs), epochs)
    rows = train_models(spec.model, runs, training, splits)
    _write_table(rows, job.output[0], experiment=name)


def duplicate_runs(arms: dict, seeds: int, seed: int, name: str) -> list:
    """The duplicates study's runs: each arm's seed s from the same initial weights and shuffle as the other's (a final
    fit's seeds, paired), scored after every epoch on the duplicated test reviews and on them all."""
    from overfit.engine.train import Run
    from overfit.seeds import stable_seed

    return [Run(arm, fold, s, init_seed=stable_seed(seed, "init", name, s), shuffle_seed=stable_seed(seed, "shuffle", name, s),
                evaluation_name="duplicated", evaluate_test=True) for arm, fold in arms.items() for s in range(seeds)]


def duplicate_leak(job) -> None:
    """Redundancy across the split, measured: the reference model with and without the training reviews that have a
    duplicate in the test set, scored on those test reviews and on all of them (overfit.studies.duplicates)."""
    import dataclasses

    import pandas as pd

    from overfit import experiments
    from overfit.engine.train import train_models
    from overfit.files import atomic_path
    from overfit.studies import duplicates

    config = job.params.config
    settings = config["duplicate_leak"]
    splits, pairs = _load_imdb(job), pd.read_parquet(job.input.pairs)
    spec = experiments.experiment(config, settings["experiment"])
    training = dataclasses.replace(spec.training, epochs=settings["epochs"])
    train_partners, test_partners = duplicates.partners(pairs)
    log.info("%s, %d epochs, %d seeds: on all %d training reviews, and without the %d that have a duplicate among the "
             "%d test reviews scored apart", settings["experiment"], settings["epochs"], settings["seeds"],
             len(splits["train"]), len(train_partners), len(test_partners))
    arms = duplicates.folds(len(splits["train"]), pairs)
    runs = duplicate_runs(arms, settings["seeds"], config["seed"], settings["experiment"])
    table = (duplicates.tidy(train_models(spec.model, runs, training, splits), arms, len(splits["test"])) if runs
             else pd.DataFrame(columns=duplicates.COLUMNS))
    with atomic_path(job.output[0]) as partial:
        table.to_csv(partial, index=False, float_format="%.6g")
    if table.empty:
        log.warning("no test review has a duplicate in the training set: nothing to measure (an empty table)")
        return
    last = table[table.epoch == table.epoch.max()]
    log.info("last epoch, means over seeds:\n%s", last.groupby(["scored", "arm"])[["loss", "acc"]].mean().to_string())
