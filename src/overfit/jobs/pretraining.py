"""Jobs of section 4.1's pretraining study (overfit.studies.pretraining) and its figure."""

from __future__ import annotations

import logging

log = logging.getLogger("overfit")


def study(job) -> None:
    """The folds, then the test set once: results/pretraining.csv."""
    from overfit import experiments
    from overfit.data import imdb
    from overfit.files import atomic_path
    from overfit.protocols import load_folds
    from overfit.studies import pretraining

    config = job.params.config
    splits = {"train": imdb.load_split(job.input.train), "test": imdb.load_split(job.input.test)}
    folds = load_folds(job.input.folds, {split: len(reviews) for split, reviews in splits.items()})
    reference = experiments.experiment(config, config["roles"]["reference"])
    settings = pretraining.Settings.from_config(config)
    log.info("pretraining: %s, first %d repeat(s), %d seed(s) a fold, labeled %s, epochs %s; model %s",
             settings.protocol, settings.repeats, settings.seeds, list(settings.labeled), list(settings.epochs),
             reference.model.hidden)
    table = pretraining.run(splits, folds, settings, reference.model, reference.training, config["seed"])
    with atomic_path(job.output[0]) as partial:
        table.to_csv(partial, index=False, float_format="%.6g")
    log.info("validation accuracy at each start's chosen epoch (means over folds × seeds):\n%s",
             pretraining.summary(table).to_string())


def figure(job) -> None:
    """The learning curve, labeled reviews against validation accuracy, one line per start: one figure per report
    language (job.params.languages, in the order of the outputs)."""
    import pandas as pd

    from overfit.report import pretraining

    table = pd.read_csv(job.input.table)
    for language, path in zip(job.params.languages, job.output):
        pretraining.save(pretraining.figure(table, language), path)
