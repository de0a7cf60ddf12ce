"""Jobs of the experiments on images (the 2nd edition's and section 4.3's) and of the clock."""

from __future__ import annotations

import logging

log = logging.getLogger("overfit")


def _csv(table, path) -> None:
    from overfit.files import atomic_path

    with atomic_path(path) as partial:
        table.to_csv(partial, index=False, float_format="%.6g")


def study(job) -> None:
    """One study of ``images:``: each arm over the seeds, on its input's training images."""
    import numpy as np

    from overfit.data.catalog import study_inputs
    from overfit.files import atomic_path
    from overfit.images import load_input, run_study
    from overfit.studies.image_settings import FOLDS

    config, name = job.params.config, job.wildcards.study
    settings = config["images"]
    (source,) = study_inputs(settings["studies"][name])
    images, labels = load_input(source, job.input.images)
    log.info("%s: arms %s, %d seeds each", name, ", ".join(settings["studies"][name]["arms"]), settings["seeds"])
    table, predictions = run_study(images, labels, name, settings["studies"][name], settings["seeds"],
                                   settings["validation_split"], config["seed"], config["editions"],
                                   settings.get("folds", FOLDS))
    _csv(table, job.output.table)
    with atomic_path(job.output.predictions) as partial, open(partial, "wb") as stream:
        np.savez_compressed(stream, **predictions)
    last = table[table.epoch == table.groupby("arm").epoch.transform("max")]
    log.info("last epoch, means over seeds:\n%s",
             last.groupby(["arm", "split", "metric"], sort=False).value.mean().unstack("metric").to_string())


def collect(job) -> None:
    """Every study's rows in one table, what the claims, the figures and the report read."""
    import pandas as pd

    _csv(pd.concat([pd.read_csv(path) for path in job.input.tables], ignore_index=True), job.output[0])


def clock(job) -> None:
    """The clock in four representations: reading error against training faces and compute."""
    from overfit.clock import run as read_clocks
    from overfit.data.clock import load

    settings = job.params.config["clock"]
    table = read_clocks(load(job.input.faces, "train"), load(job.input.faces, "test"), settings, job.params.config["seed"])
    _csv(table, job.output[0])
    log.info("clock (means over seeds):\n%s",
             table.groupby(["representation", "train_size"]).mean_error.mean().unstack("train_size").to_string())
