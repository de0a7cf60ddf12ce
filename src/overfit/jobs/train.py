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
    """All folds of one (experiment, protocol), trained in one call."""
    from overfit import experiments
    from overfit.engine.train import train_models

    config, name, protocol = job.params.config, job.wildcards.experiment, job.wildcards.protocol
    splits = _load_imdb(job)
    spec = experiments.experiment(config, name)
    runs = experiments.protocol_runs(config, protocol, len(splits["train"]), len(splits["test"]), splits["train"].movie_id)
    log.info("%s under %s: %d models of %s, %d epochs", name, protocol, len(runs), spec.model.hidden, spec.training.epochs)
    rows = train_models(spec.model, runs, spec.training, splits)
    _write_table(rows, job.output[0], experiment=name)


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
        epochs = job.params.epochs or choose_epochs(pd.read_parquet(job.input.curves))
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
