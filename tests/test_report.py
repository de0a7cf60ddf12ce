"""Claims, the movie leak, tables and the HTML page on synthetic metric tables whose answers are known."""

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from overfit import chapter as chapter_roles
from overfit.report import catalog, claims, html, leak, tables
from overfit.report.sweeps import sweep_table

EPOCHS = np.arange(1, 21)
CHAPTER = chapter_roles.load(REPO / "config" / "chapter.yaml")


def curve(best: int, floor: float, slope: float, noise: float, rng) -> np.ndarray:
    """A validation curve that falls to ``floor`` at epoch ``best`` and then climbs with ``slope``."""
    values = floor + np.where(EPOCHS < best, 0.05 * (best - EPOCHS), slope * (EPOCHS - best))
    return values + rng.normal(0, noise, len(EPOCHS))


SETTINGS = {  # best epoch, floor, slope after, noise, training-loss decay per epoch (smaller = faster)
    "smaller": (7, 0.30, 0.010, 0.002, 0.9),
    "original": (4, 0.28, 0.030, 0.002, 0.8),
    "bigger": (1, 0.29, 0.060, 0.030, 0.001),
    "l2": (4, 0.28, 0.005, 0.002, 0.8),
    "dropout": (5, 0.25, 0.010, 0.002, 0.85),
}
HIDDEN = {"smaller": [4, 4], "original": [16, 16], "bigger": [512, 512], "l2": [16, 16], "dropout": [16, 16]}
# the sweeps' points (config()'s `sweeps:`), curves that make the sweep claims hold
POINTS = {
    "cap-width_2": (8, 0.31, 0.002, 0.002, 0.95),  # fewer parameters than smaller: slower fit, smaller gap
    "cap-width_64": (2, 0.28, 0.045, 0.002, 0.3),  # between original and bigger
    "l2s-l2_0.0001": (4, 0.28, 0.020, 0.002, 0.8),  # the rise after the minimum falls as λ grows …
    "l2s-l2_0.01": (6, 0.28, 0.001, 0.002, 0.8),
    "l1s-l1_0.0001": (4, 0.28, 0.020, 0.002, 0.8),
    "l1s-l1_0.01": (6, 0.28, 0.002, 0.002, 0.8),
    "drop-dropout_0.3": (4, 0.27, 0.020, 0.002, 0.8),  # … and as the dropout rate grows
    "drop-dropout_0.7": (6, 0.27, 0.002, 0.002, 0.9),
    "data-train_size_500": (4, 0.50, 0.010, 0.002, 0.5),  # less data, a worse best model
    "data-train_size_2000": (4, 0.37, 0.015, 0.002, 0.6),
    "decay-weight_decay_0.002": (4, 0.28, 0.005, 0.002, 0.8),  # as l2 does
    "mem-width_512-label_noise_1": (1, 0.70, 0.100, 0.002, 0.01),  # memorizes: accuracy rows below
}
SWEEPS = {
    "cap": {"base": "original", "protocol": "kfold", "grid": {"width": [2, 64]}, "include": ["smaller", "original", "bigger"]},
    "l2s": {"base": "original", "protocol": "kfold", "grid": {"l2": [0.0001, 0.01]}, "include": ["original", "l2"]},
    "l1s": {"base": "original", "protocol": "kfold", "grid": {"l1": [0.0001, 0.01]}, "include": ["original"]},
    "drop": {"base": "original", "protocol": "kfold", "grid": {"dropout": [0.3, 0.7]}, "include": ["original", "dropout"]},
    "data": {"base": "original", "protocol": "kfold", "grid": {"train_size": [500, 2000]}, "include": ["original"]},
    "decay": {"base": "original", "protocol": "kfold", "grid": {"weight_decay": [0.002]}},
    "mem": {"base": "original", "protocol": "kfold", "grid": {"width": [512], "label_noise": [1]}},
}


def config(protocols=("kfold", "book")) -> dict:
    return {
        "seed": 0, "data": {"imdb": {"num_words": 10000}},
        "training": {"edition": 1, "epochs": 20, "batch_size": 512, "learning_rate": 0.001, "loss": "keras_clipped"},
        "experiments": {name: {"hidden": HIDDEN[name], **({"regularizer": {"l2": 0.001}} if name == "l2" else {}),
                               **({"dropout": 0.5} if name == "dropout" else {})} for name in SETTINGS},
        "sweeps": copy.deepcopy(SWEEPS),
        "protocols": {"kfold": {"kind": "grouped_kfold", "folds": 4, "repeats": 2},
                      "random": {"kind": "kfold", "folds": 4, "repeats": 2},
                      "book": {"kind": "test_as_validation", "seeds": 5},
                      "holdout": {"kind": "holdout", "validation_size": 10000, "seeds": 5}},
        "roles": {"reference": "original", "smaller": "smaller", "bigger": "bigger", "l2": "l2", "dropout": "dropout",
                  "capacity": ["bigger", "smaller", "original"],  # any order: sorted by parameters
                  "book_4_4": "book", "book_3_5": "holdout", "folded": "kfold", "random_folds": "random",
                  "capacity_map": "cap", "l2_strength": "l2s", "l1_strength": "l1s", "dropout_rate": "drop",
                  "data_size": "data", "decoupled_decay": "decay-weight_decay_0.002",
                  "memorizer": "mem-width_512-label_noise_1"},
        "final": {"seeds": 3, "choose_epochs_on": "kfold", "book_3_5": {"experiment": "original", "epochs": 4}},
    }


def synthetic_metrics(settings=None, runs=8, seed=0, protocol="kfold", shift=0.0, memorized=0.5) -> pd.DataFrame:
    """Curves of ``settings`` (default: the experiments, and under kfold the sweeps' points too); the memorizer
    also gets accuracy rows: training 0.99, validation ``memorized``."""
    if settings is None:
        settings = {**SETTINGS, **(POINTS if protocol == "kfold" else {})}
    rng = np.random.default_rng(seed)
    folded = protocol in ("kfold", "random")
    sizes = (18750, 6250) if folded else (25000, 25000) if protocol == "book" else (15000, 10000)
    rows = []
    for name, (best, floor, slope, noise, speed) in settings.items():
        for run in range(runs):
            validation = curve(best, floor + shift, slope, noise, rng)
            training = 0.5 * speed ** (EPOCHS - 1) + 0.001
            labels = dict(repeat=run // 4, fold=run % 4, seed=0) if folded else dict(repeat=0, fold=0, seed=run)
            for split, values in (("validation", validation), ("train", training)):
                for epoch, value in zip(EPOCHS, values):
                    values = {"loss": value, "data_loss": value}
                    if name.startswith("mem"):
                        values["acc"] = 0.99 if split == "train" else memorized + rng.normal(0, 0.005)
                    for metric, v in values.items():
                        rows.append(dict(experiment=name, protocol=protocol, **labels, epoch=epoch, split=split,
                                         metric=metric, value=v, diverged=False, train_size=sizes[0],
                                         validation_size=sizes[1]))
    return pd.DataFrame(rows)


def scores(accuracy=0.884):
    return pd.DataFrame({"experiment": "original", "fit": "book_3_5", "seed": [0, 1, 2], "epochs": 4,
                         "test_loss": 0.29, "test_data_loss": 0.29, "test_acc": [accuracy - 0.001, accuracy, accuracy + 0.001],
                         "diverged": False})


def verdicts(table, protocol="kfold"):
    rows = table[table.protocol.isin([protocol, "book_3_5"])]
    return dict(zip(rows.id, rows.verdict))


def test_claims_hold_where_the_data_say_so():
    table = claims.compute_claims(synthetic_metrics(), scores(), config(), CHAPTER)
    assert set(verdicts(table).values()) == {"holds"}, table[["id", "value", "low", "high", "verdict", "detail"]]
    assert set(table.id) == {row["id"] for row in CHAPTER["claims"]}


def test_claims_fail_where_the_data_contradict_them():
    reversed_settings = {**SETTINGS, **POINTS}
    reversed_settings["smaller"] = (2, 0.30, 0.050, 0.002, 0.001)  # overfits earlier and faster; fits fastest
    reversed_settings["bigger"] = (9, 0.29, 0.005, 0.0, 0.9)  # smooth, late, barely fits: capacity trends reversed
    reversed_settings["l2"] = (4, 0.29, 0.060, 0.002, 0.4)  # overfits more
    reversed_settings["dropout"] = (4, 0.35, 0.040, 0.002, 0.5)  # worse everywhere
    reversed_settings["l2s-l2_0.01"] = (2, 0.28, 0.080, 0.002, 0.8)  # the strongest penalty overfits most
    reversed_settings["l2s-l2_0.0001"] = (2, 0.28, 0.060, 0.002, 0.8)
    reversed_settings["decay-weight_decay_0.002"] = (4, 0.28, 0.030, 0.002, 0.8)  # overfits as if undecayed
    table = claims.compute_claims(synthetic_metrics(reversed_settings, memorized=0.8), scores(0.80), config(), CHAPTER)
    result = verdicts(table)
    for claim in ("1b", "2a", "2b", "3a", "3b", "3c", "4a", "4b", "5a", "5c", "5f", "6a", "6b", "9b"):
        assert result[claim] == "does not hold", (claim, table.set_index("id").loc[claim].to_dict())


def test_every_value_lies_inside_its_own_interval():
    table = claims.compute_claims(synthetic_metrics(seed=4), scores(), config(), CHAPTER)
    ran = table.dropna(subset=["low"])
    assert len(ran) >= 12
    assert ((ran.low <= ran.value) & (ran.value <= ran.high)).all()
    assert ((ran.low <= ran.naive_low + 1e-12) & (ran.naive_high <= ran.high + 1e-12)).all()
    assert set(ran.method) == {"corrected resampled t (Nadeau & Bengio 2003) over folds × repeats", "t over independent seeds"}
    assert (table.claimed != "").all() and table.words.str.len().gt(10).all()


def test_claims_under_the_book_protocols_use_the_plain_interval_over_seeds_and_state_steps():
    metrics = pd.concat([synthetic_metrics(), synthetic_metrics(runs=5, protocol="book", seed=1),
                         synthetic_metrics({"original": SETTINGS["original"]}, runs=5, protocol="holdout", seed=2)])
    table = claims.compute_claims(metrics, scores(), config(), CHAPTER).set_index(["id", "protocol"])
    book = table.loc[("2a", "book")]
    assert book.method == "t over independent seeds" and book.n == 5 and book.steps_per_epoch == 49
    assert table.loc[("1a", "holdout")].steps_per_epoch == 30 and table.loc[("1a", "kfold")].steps_per_epoch == 37
    assert table.loc[("1a", "holdout")].verdict == "holds"
    # the book's own recorded run, through the same statistic: its reference model is best at epoch 4 in 4.4
    assert table.loc[("2a", "book")].book_value == pytest.approx(
        _book_best("smaller") - _book_best("original"))


def _book_best(name):
    book = tables.book_histories()
    rows = book[(book.section == "4.4") & (book.experiment == name) & (book.metric == "val_loss")]
    return rows.set_index("epoch").value.idxmin()


def test_statistic_rows_change_with_the_chapter_not_the_code():
    chapter = copy.deepcopy(CHAPTER)
    row = next(r for r in chapter["claims"] if r["id"] == "3a")
    row["claimed"] = {"within": [5, 6]}
    table = claims.compute_claims(synthetic_metrics(), scores(), config(), chapter)
    assert verdicts(table)["3a"] == "does not hold"


def test_l2_guard_makes_a_vacuous_resistance_claim_fail():
    barely_learns = dict(SETTINGS)
    barely_learns["l2"] = (4, 0.45, 0.0, 0.002, 0.9)  # never overfits because it never fits
    result = verdicts(claims.compute_claims(synthetic_metrics(barely_learns), scores(), config(), CHAPTER))
    assert result["5b"] == "does not hold" and result["5a"] == "does not hold"


def test_renamed_roles_are_followed_and_missing_ones_say_why():
    metrics = synthetic_metrics().replace({"experiment": {"original": "reference_16"}})
    settings = config()
    settings["experiments"]["reference_16"] = settings["experiments"].pop("original")
    for sweep in settings["sweeps"].values():  # the sweeps follow the rename
        sweep["base"] = "reference_16"
        sweep["include"] = ["reference_16" if n == "original" else n for n in sweep.get("include", [])]
    settings["roles"]["reference"] = "reference_16"
    settings["roles"]["capacity"] = ["smaller", "reference_16", "bigger"]
    assert set(verdicts(claims.compute_claims(metrics, scores(), settings, CHAPTER)).values()) == {"holds"}
    del settings["roles"]["dropout"]
    table = claims.compute_claims(metrics, scores(), settings, CHAPTER).set_index(["id", "protocol"])
    assert table.loc[("6a", "kfold")].verdict == "not run" and "role 'dropout'" in table.loc[("6a", "kfold")].detail


def test_diverged_runs_are_left_out_and_counted():
    metrics = synthetic_metrics()
    metrics.loc[(metrics.experiment == "bigger") & (metrics.fold == 1) & (metrics.repeat == 0), "diverged"] = True
    table = claims.compute_claims(metrics, scores(), config(), CHAPTER).set_index(["id", "protocol"])
    assert table.loc[("3b", "kfold")].n == 7 and table.loc[("3b", "kfold")].dropped == 1
    assert "left out" in table.loc[("3b", "kfold")].detail


def test_first_epoch_below_counts_runs_that_never_get_there():
    slow = dict(SETTINGS)
    slow["bigger"] = (2, 0.29, 0.060, 0.030, 0.9)  # training loss never below 0.01 in 20 epochs
    table = claims.compute_claims(synthetic_metrics(slow), scores(), config(), CHAPTER).set_index(["id", "protocol"])
    row = table.loc[("4a", "kfold")]
    assert row.value == 1 and row.verdict == "does not hold" and "bigger: 8 of 8 runs never below 0.01" in row.detail


def test_verdict_flips_finds_opposite_verdicts_only():
    a = pd.DataFrame({"id": ["1", "2", "3"], "protocol": "kfold", "value": 0.0, "low": 0.0, "high": 0.0,
                      "verdict": ["holds", "holds", "unclear"]})
    b = a.assign(verdict=["does not hold", "unclear", "does not hold"])
    assert list(claims.verdict_flips(a, b).id) == ["1"]


def test_movie_leak_measures_random_folds_against_grouped_and_the_test_curve():
    narrow = {name: SETTINGS[name] for name in ("original", "smaller", "l2", "dropout")}
    metrics = pd.concat([
        synthetic_metrics(narrow, runs=12, protocol="random", shift=-0.03, seed=1),  # leaked: lower validation loss
        synthetic_metrics(narrow, runs=12, protocol="kfold", seed=2),
        synthetic_metrics(narrow, runs=5, protocol="book", shift=0.005, seed=3),
    ])
    table = leak.movie_leak(metrics, scores(), config())
    assert sorted(table.experiment) == ["dropout", "l2", "original", "smaller"]
    assert (table.leak_high < 0).all() and table.leak.mean() == pytest.approx(-0.03, abs=0.005) and (table.repeats == 3).all()
    assert (table.closer == "kfold").all() and (table.bias_grouped.abs() < table.bias_random.abs()).all()
    s = leak.summary(table, "random", "kfold")
    assert s["leak_below_zero"] == 4 and s["grouped_closer"] == 4


def test_test_scores_one_row_per_fit_and_seed():
    metrics = pd.DataFrame([dict(experiment="l2", protocol="final", repeat=0, fold=0, seed=s, epoch=3, split="test", metric=m,
                                 value=v, diverged=False, train_size=25000, validation_size=25000)
                            for s in range(2) for m, v in (("loss", 0.3), ("data_loss", 0.25), ("acc", 0.88))])
    table = tables.test_scores(metrics)
    assert table.to_dict("records")[0] == {"experiment": "l2", "fit": "final", "seed": 0, "epochs": 3, "test_loss": 0.3,
                                          "test_data_loss": 0.25, "test_acc": 0.88, "diverged": False}


def test_diverged_final_fits_are_scores_without_values():
    trained = [dict(experiment="l2", protocol="final", repeat=0, fold=0, seed=0, epoch=e, split="train", metric="loss",
                    value=v, diverged=e == 2, train_size=25000, validation_size=25000) for e, v in ((1, 0.5), (2, np.inf))]
    never = [dict(experiment="bad", protocol="final", repeat=0, fold=0, seed=0, epoch=0, split="test", metric=m,
                  value=np.nan, diverged=True, train_size=25000, validation_size=25000) for m in ("loss", "data_loss", "acc")]
    table = tables.test_scores(pd.DataFrame(trained + never)).set_index("experiment")
    assert table.diverged.all() and table.test_acc.isna().all()
    assert table.loc["l2"].epochs == 2 and table.loc["bad"].epochs == 0


def test_an_experiment_whose_every_run_diverged_is_reported_not_run_and_sinks_nothing(tmp_path):
    metrics = pd.concat([synthetic_metrics(), synthetic_metrics(runs=5, protocol="book", seed=1),
                         synthetic_metrics({"original": SETTINGS["original"], "dropout": SETTINGS["dropout"]},
                                           protocol="random", seed=3)])
    metrics.loc[metrics.experiment == "dropout", "diverged"] = True
    metrics.loc[(metrics.experiment == "dropout") & (metrics.epoch == 3), "value"] = np.nan
    table = claims.compute_claims(metrics, scores(), config(), CHAPTER).set_index(["id", "protocol"])
    assert table.loc[("6a", "kfold")].verdict == "not run" and "all 8 runs diverged" in table.loc[("6a", "kfold")].detail
    assert table.loc[("3b", "kfold")].verdict == "holds"  # the others are untouched
    leaks = leak.movie_leak(metrics, scores(), config()).set_index("experiment")
    assert np.isnan(leaks.loc["dropout"].leak) and not np.isnan(leaks.loc["original"].leak)
    from overfit.report import figures
    spec = next(s for s in catalog.figure_specs(config(), CHAPTER) if s.name == "folded_dropout_validation")
    figures.save(figures.draw(spec, metrics, tables.book_histories()), tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_collect_refuses_duplicate_rows():
    metrics = synthetic_metrics({"original": SETTINGS["original"]}, runs=1)
    with pytest.raises(ValueError, match="duplicate"):
        tables.collect_metrics([metrics, metrics])


def test_figures_follow_roles_and_protocol_experiments():
    settings = config()
    settings["protocols"]["random"]["experiments"] = ["original", "smaller"]
    names = {spec.name for spec in catalog.figure_specs(settings, CHAPTER)}
    assert {"book_3_5_loss", "book_4_4_bigger_train", "folded_bigger_validation", "folded_bigger_train", "movie_leak"} <= names
    assert "folded_smaller_train" not in names  # training-loss figures: only the models above the reference
    leak_spec = next(s for s in catalog.figure_specs(settings, CHAPTER) if s.name == "movie_leak")
    assert leak_spec.experiments == ("original", "smaller") and leak_spec.protocols == ("random", "kfold", "book")
    book_spec = next(s for s in catalog.figure_specs(settings, CHAPTER) if s.name == "book_4_4_bigger_validation")
    assert dict(book_spec.book) == {"original": "original", "bigger": "bigger"}


def test_page_is_self_contained_with_a_summary_and_contents(tmp_path):
    from overfit.report import figures

    metrics = pd.concat([synthetic_metrics(), synthetic_metrics(runs=5, protocol="book", seed=1),
                         synthetic_metrics({"original": SETTINGS["original"], "smaller": SETTINGS["smaller"]},
                                           protocol="random", seed=3, shift=-0.02)])
    settings = config()
    specs = {s.name: s for s in catalog.figure_specs(settings, CHAPTER)}
    paths = []
    swept = sweep_table(metrics, settings)
    for name in ("folded_bigger_validation", "book_4_4_smaller_validation", "movie_leak", "sweep_cap", "sweep_mem"):
        figures.save(figures.draw(specs[name], metrics, tables.book_histories(), swept), tmp_path / f"{name}.png")
        paths.append((specs[name], tmp_path / f"{name}.png"))
    final = pd.concat([scores(), scores().assign(fit="final", experiment="l2")])
    table = claims.compute_claims(metrics, scores(), settings, CHAPTER)
    table.to_csv(tmp_path / "claims.csv", index=False)  # as the report job reads it back
    leak.movie_leak(metrics, final, settings).to_csv(tmp_path / "leak.csv", index=False)
    page = html.page(claims=pd.read_csv(tmp_path / "claims.csv"), scores=final, leak=pd.read_csv(tmp_path / "leak.csv"),
                     runs=tables.run_counts(metrics), seeds=tables.seed_runs(metrics, settings), figures=paths,
                     provenance={"code_version": "abc", "versions": {"jax": "1"}, "reviews_sha256": "f" * 64,
                                 "config": yaml.safe_dump(settings)},
                     jobs=pd.DataFrame({"job": ["train/original/kfold"], "seconds": [12.0], "max_rss_mb": [600.0]}),
                     config=settings, sweeps=swept)
    assert page.count("data:image/png;base64,") == 5 and ">nan<" not in page
    assert "Sweeps: curves, not points" in page and "cap-width_64" in page and "href='#fig-sweep_cap'" in page
    assert "<script" not in page and "src=\"http" not in page and "<link" not in page
    assert "<td class='holds'>holds</td>" in page and "train/original/kfold" in page
    assert 'href="#claims"' in page and 'href="#movie-leak"' in page and "href='#fig-movie_leak'" not in page
    assert "href='#fig-folded_bigger_validation'" in page and 'id="fig-folded_bigger_validation"' in page
    assert "Nadeau" in page and "seed by seed" in page
