"""Jobs of the universal workflow (section 4.5): one per step of the recipe, each reading the step before's decision.

Steps 1 to 6 read the training split only; the final step is the one job
given the test split (a test proves the others never open it).
"""

from __future__ import annotations

import logging

log = logging.getLogger("overfit")


def _task(job):
    """The task's training rows (all of IMDB's, or the imbalanced draw) and the loaded training split."""
    from overfit.data import imdb
    from overfit.recipe.tasks import task_rows

    train = imdb.load_split(job.input.train)
    share = job.params.config["recipe"]["tasks"][job.wildcards.task].get("positive_share")
    return train, task_rows(train.label, share, job.params.config["seed"], job.wildcards.task, "train")


def _read(path):
    """A step's table; candidate names ("4", "16-16") stay text."""
    import pandas as pd

    return pd.read_csv(path, dtype={"candidate": str})


def _csv(table, path) -> None:
    from overfit.files import atomic_path

    with atomic_path(path) as partial:
        table.to_csv(partial, index=False, float_format="%.6g")


def _write(table, path, title: str) -> None:
    """A step's table, and its candidates and decision in the log."""
    _csv(table, path)
    shown = table[[c for c in ("candidate", "chosen", "reason") if c in table]].drop_duplicates("candidate")
    log.info("%s:\n%s", title, shown.to_string(index=False, max_colwidth=160))


def _curves(table, path) -> None:
    from overfit.files import atomic_path

    with atomic_path(path) as partial:
        table.to_parquet(partial, index=False)


def problem(job) -> None:
    """Step 1: define the problem; choose the measure of success from the class balance."""
    from overfit.recipe import tasks

    train, rows = _task(job)
    table = tasks.problem(job.wildcards.task, train.label[rows], job.params.config["recipe"]["balanced_from"])
    _write(table, job.output[0], "1. the problem and its measure of success")


def protocol(job) -> None:
    """Step 2: choose the evaluation protocol; write its folds."""
    from overfit.protocols import save_folds
    from overfit.recipe import tasks

    config = job.params.config
    train, rows = _task(job)
    table, folds = tasks.protocol(job.wildcards.task, rows, train.movie_id[rows], config["recipe"]["holdout_from"],
                                  config["recipe"]["folds"], config["seed"])
    save_folds(folds, job.output.folds, rule="recipe_protocol")
    _write(table, job.output.table, "2. the evaluation protocol")


def baselines(job) -> None:
    """Step 3: the baselines on the chosen protocol's folds; the best by step 1's measure is the one to beat."""
    import pandas as pd

    from overfit.data import imdb
    from overfit.protocols import load_folds
    from overfit.recipe import baselines as baseline_models
    from overfit.recipe.decide import best_baseline
    from overfit.recipe.tasks import primary_metric

    config = job.params.config
    train = imdb.load_split(job.input.train)
    folds = load_folds(job.input.folds, {"train": len(train)}, rule="recipe_protocol")
    scores = baseline_models.baselines(job.wildcards.task, train, folds, config["data"]["imdb"]["num_words"],
                                       config["seed"])
    table = best_baseline(scores, primary_metric(_read(job.input.problem)))
    _write(table, job.output[0], "3. the baselines")


def _trained(job, entries: dict, epochs: int):
    from overfit.data import imdb
    from overfit.protocols import load_folds
    from overfit.recipe.training import train

    split = imdb.load_split(job.input.train)
    folds = load_folds(job.input.folds, {"train": len(split)}, rule="recipe_protocol")
    log.info("%d candidates (%s) on %d folds, %d epochs", len(entries), ", ".join(entries), len(folds), epochs)
    curves = train(job.params.config, job.wildcards.task, entries, folds, {"train": split}, epochs)
    _curves(curves, job.output.curves)
    return curves, folds


def _parameters(job, entries: dict) -> dict:
    from overfit.grid import parameter_count

    return {name: parameter_count(e["hidden"], job.params.config["data"]["imdb"]["num_words"]) for name, e in entries.items()}


def power(job) -> None:
    """Step 4: the smallest model that beats the best baseline by more than its uncertainty."""
    import pandas as pd

    from overfit.recipe import candidates, decide
    from overfit.recipe.tasks import primary_metric, validation_train_ratio

    recipe = job.params.config["recipe"]
    entries = candidates.power(recipe)
    curves, folds = _trained(job, entries, recipe["epochs"])
    table = decide.power(job.wildcards.task, curves, _read(job.input.baselines), list(entries),
                         primary_metric(_read(job.input.problem)), validation_train_ratio(folds),
                         _parameters(job, entries))
    table["entry"] = [candidates.encode(entries[name]) for name in table.candidate]
    _write(table, job.output.table, "4. statistical power")


def scale_up(job) -> None:
    """Step 5: a ladder of models from one too small to overfit, widened and deepened past step 4's model, until
    one overfits."""
    import pandas as pd

    from overfit.recipe import candidates, decide
    from overfit.recipe.tasks import chosen, validation_train_ratio

    recipe = job.params.config["recipe"]
    powered = candidates.decode(chosen(_read(job.input.power)).entry)
    entries = candidates.scale_up(recipe)
    curves, folds = _trained(job, entries, recipe["epochs"])
    parameters = _parameters(job, {**entries, decide.name_of(powered["hidden"]): powered})
    table = decide.scale_up(job.wildcards.task, curves, list(entries), validation_train_ratio(folds), parameters,
                            powered=decide.name_of(powered["hidden"]))
    table["entry"] = [candidates.encode(entries[name]) for name in table.candidate]
    _write(table, job.output.table, "5. scale up until it overfits")


def tune(job) -> None:
    """Step 6: regularize and tune around the model that overfit, judged on the folds' validation rows only."""
    import pandas as pd

    from overfit.recipe import candidates, decide
    from overfit.recipe.tasks import chosen, primary_metric, validation_train_ratio

    config, task = job.params.config, job.wildcards.task
    base = candidates.decode(chosen(_read(job.input.scale_up)).entry)
    entries = candidates.tune(config["recipe"], base["hidden"], config["seed"], task)
    curves, folds = _trained(job, entries, config["recipe"]["epochs"])
    table = decide.tune(task, curves, {name: candidates.describe(e) for name, e in entries.items()},
                        primary_metric(_read(job.input.problem)), validation_train_ratio(folds))
    table["entry"] = [candidates.encode(entries[name]) for name in table.candidate]
    _write(table, job.output.table, "6. regularize and tune")


def final(job) -> None:
    """Step 7: retrain the tuned model (and the book's) on every training row; evaluate once on the test set, with the
    baselines refitted on the same rows beside them."""
    import pandas as pd

    from overfit.data import imdb
    from overfit.recipe import baselines as baseline_models
    from overfit.recipe import candidates, decide
    from overfit.recipe.tasks import chosen, primary_metric, task_rows
    from overfit.recipe.training import final_fold, train

    config, task = job.params.config, job.wildcards.task
    recipe = config["recipe"]
    train_split, rows = _task(job)
    test = imdb.load_split(job.input.test)
    test_rows = task_rows(test.label, recipe["tasks"][task].get("positive_share"), config["seed"], task, "test")
    tuned = chosen(_read(job.input.tune))
    book = recipe["book"]
    models = {f"tuned ({tuned.candidate})": (candidates.decode(tuned.entry), int(tuned.epoch)),
              "the book's": ({"hidden": book["hidden"]}, int(book["epochs"]))}
    splits = {"train": train_split, "test": test}
    curves = []
    for name, (entry, epochs) in models.items():
        log.info("%s: %s, %d epochs, %d seeds, on all %d training rows", name, candidates.describe(entry), epochs,
                 recipe["seeds"], len(rows))
        curves.append(train(config, task, {name: entry}, [final_fold(rows, test_rows)], splits, epochs,
                            seeds=recipe["seeds"], evaluate_every_epoch=False, evaluation_name="test"))
    curves = pd.concat(curves, ignore_index=True)
    _curves(curves, job.output.curves)
    reference = baseline_models.on_test(task, train_split, rows, test, test_rows, config["data"]["imdb"]["num_words"],
                                  config["seed"])
    table = decide.final(task, curves, {name: f"{candidates.describe(e)}, {n} epochs" for name, (e, n) in models.items()},
                         primary_metric(_read(job.input.problem)), reference)
    _write(table, job.output.table, "7. the final model, evaluated once on the test set")


def threshold(job) -> None:
    """Imbalanced classes as they are worked on: step 6's model (at its epoch) and logistic regression, each with the
    plain and a class-weighted loss, predicted out of fold on step 2's folds; the thresholds, scores and curves are
    read from these predictions (overfit.recipe.threshold)."""
    import numpy as np
    import pandas as pd

    from overfit.protocols import load_folds
    from overfit.recipe import baselines as baseline_models
    from overfit.recipe import candidates
    from overfit.recipe.tasks import chosen
    from overfit.recipe.threshold import balanced_weights
    from overfit.recipe.training import predict

    config, task = job.params.config, job.wildcards.task
    seeds = config["recipe"]["threshold"]["seeds"]
    split, rows = _task(job)
    folds = load_folds(job.input.folds, {"train": len(split)}, rule="recipe_protocol")
    tuned = chosen(_read(job.input.tune))
    entry, epochs = candidates.decode(tuned.entry), int(tuned.epoch)
    weights = balanced_weights(split.label[rows])
    log.info("step 6's model %s (%s), %d epochs, on %d folds × %d seeds, plain and with class weights %.3g "
             "(negative), %.3g (positive); logistic regression both ways", tuned.candidate, candidates.describe(entry),
             epochs, len(folds), seeds, *weights)
    x, y = baseline_models.multi_hot(split, config["data"]["imdb"]["num_words"]), split.label.astype(np.int64)
    tables = []
    for loss, class_weight in (("plain", None), ("class-weighted", weights)):
        # the same initialisations and batch orders as the plain runs: the two losses compare paired by run
        for fold, seed, p in predict(config, task, entry, folds, {"train": split}, epochs, seeds, class_weight):
            tables.append(pd.DataFrame({"model": "net", "loss": loss, "fold": fold.fold, "seed": seed,
                                        "row": fold.validation_rows, "p": p}))
        for fold in folds:  # deterministic: one seed
            p = baseline_models.probabilities("logistic regression", x[fold.train_rows], y[fold.train_rows],
                                              x[fold.validation_rows], 0, class_weight)
            tables.append(pd.DataFrame({"model": "logistic regression", "loss": loss, "fold": fold.fold, "seed": 0,
                                        "row": fold.validation_rows, "p": p}))
    table = pd.concat(tables, ignore_index=True)
    table.insert(0, "task", task)
    table["label"] = split.label[table.row.to_numpy()].astype(np.int8)
    if not np.isfinite(table.p).all():
        log.warning("%d predictions are not finite (a diverged run): they are dropped", int((~np.isfinite(table.p)).sum()))
        table = table[np.isfinite(table.p)]
    _curves(table, job.output[0])


def collect(job) -> None:
    """Every task's step tables in one (rows in step order), for the report and its figures."""
    import pandas as pd

    table = pd.concat([_read(path) for path in job.input.tables], ignore_index=True)
    _csv(table, job.output[0])
    log.info("%d rows from %d step tables", len(table), len(job.input.tables))


def collect_threshold(job) -> None:
    """Every imbalanced task's out-of-fold predictions in one table; each run's scores at 0.5 and at its threshold
    cross-fitted on the other folds (overfit.recipe.threshold.run_scores), what the claims and the report read; the
    precision-recall curves and points the figure draws."""
    import pandas as pd

    from overfit.recipe.threshold import figure_table, run_scores

    table = pd.concat([pd.read_parquet(path) for path in job.input.tables], ignore_index=True)
    scores = run_scores(table)
    _curves(table, job.output.predictions)
    _csv(scores, job.output.scores)
    _csv(figure_table(table, scores), job.output.curves)
    log.info("%d predictions of %d tasks; means over folds and seeds:\n%s", len(table), table.task.nunique(),
             scores.groupby(["task", "model", "loss"], sort=False)[["f1_default", "f1_tuned", "average_precision",
                                                                     "threshold"]].mean().to_string(float_format="%.4f"))


def last_layer(job) -> None:
    """The book's table of last-layer activations and losses, run: each problem type, recommended against wrong."""
    import pandas as pd

    from overfit.data import fashion_mnist, imdb
    from overfit.recipe import last_layer as lastlayer

    config = job.params.config
    settings = config["recipe"]["last_layer"]
    reviews = imdb.load_split(job.input.imdb)
    images = dict(zip(("images", "labels"), fashion_mnist.load(job.input.fashion_mnist)))
    tables = []
    for kind in lastlayer.PROBLEMS:  # not "problem": a name of this module counts as a helper (overfit.imports)
        data = lastlayer.problem_data(kind, reviews, images, settings["validation_size"],
                                      config["data"]["imdb"]["num_words"], settings["batch_size"])
        log.info("%s: %d training rows, %d held out, %d outputs, %d seeds", kind, len(data[0][1]), len(data[1][1]),
                 data[0][1].shape[1], settings["seeds"])
        tables.append(lastlayer.run(kind, data, settings, config["seed"]))
    table = pd.concat(tables, ignore_index=True)
    _csv(table, job.output[0])
    summary = table.groupby(["problem", "measure", "pairing"], sort=False).value.mean().unstack("pairing")
    log.info("last-layer table (means over seeds):\n%s", summary.to_string())
