"""Claims, tables and the HTML page on synthetic metric tables whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from overfit.report import catalog, claims, html, tables

EPOCHS = np.arange(1, 21)


def curve(best: int, floor: float, slope: float, noise: float, rng) -> np.ndarray:
    """A validation curve that falls to ``floor`` at epoch ``best`` and then climbs with ``slope``."""
    values = floor + np.where(EPOCHS < best, 0.05 * (best - EPOCHS), slope * (EPOCHS - best))
    return values + rng.normal(0, noise, len(EPOCHS))


SETTINGS = {  # best epoch, floor, slope after, noise, training-loss speed
    "smaller": (7, 0.30, 0.010, 0.002, 0.6),
    "original": (4, 0.28, 0.030, 0.002, 0.4),
    "bigger": (1, 0.29, 0.060, 0.030, 0.05),
    "l2": (4, 0.29, 0.005, 0.002, 0.4),
    "dropout": (5, 0.27, 0.010, 0.002, 0.5),
}


def synthetic_metrics(settings=SETTINGS, runs=8, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for name, (best, floor, slope, noise, speed) in settings.items():
        for run in range(runs):
            validation = curve(best, floor, slope, noise, rng)
            training = 0.5 * speed ** (EPOCHS - 1) + 0.001
            for split, values in (("validation", validation), ("train", training)):
                for epoch, value in zip(EPOCHS, values):
                    for metric in ("loss", "data_loss"):
                        rows.append(dict(experiment=name, protocol="kfold", repeat=run // 4, fold=run % 4, seed=0, epoch=epoch,
                                         split=split, metric=metric, value=value, diverged=False))
    return pd.DataFrame(rows)


def scores(accuracy=0.884):
    return pd.DataFrame({"experiment": "original", "fit": "book_3_5", "seed": [0, 1, 2], "epochs": 4,
                         "test_loss": 0.29, "test_data_loss": 0.29, "test_acc": [accuracy - 0.001, accuracy, accuracy + 0.001]})


def verdicts(table):
    return dict(zip(table.id, table.verdict))


def test_claims_hold_where_the_data_say_so():
    result = verdicts(claims.compute_claims(synthetic_metrics(), scores(), "kfold"))
    assert result == {"1a": "holds", "1b": "holds", "2a": "holds", "2b": "holds", "3a": "holds", "3b": "holds",
                      "3c": "holds", "4a": "holds", "4b": "holds", "4c": "holds", "5": "holds", "6a": "holds", "6b": "holds"}


def test_claims_fail_where_the_data_contradict_them():
    reversed_settings = dict(SETTINGS)
    reversed_settings["smaller"] = (2, 0.30, 0.050, 0.002, 0.6)  # overfits earlier and faster than original
    reversed_settings["l2"] = (4, 0.29, 0.060, 0.002, 0.4)  # overfits more
    reversed_settings["dropout"] = (4, 0.35, 0.040, 0.002, 0.5)  # worse everywhere
    result = verdicts(claims.compute_claims(synthetic_metrics(reversed_settings), scores(0.80), "kfold"))
    assert result["1b"] == result["2a"] == result["2b"] == result["5"] == result["6a"] == result["6b"] == "does not hold"


def test_claims_of_missing_experiments_are_left_out_not_invented():
    only_original = {"original": SETTINGS["original"]}
    table = claims.compute_claims(synthetic_metrics(only_original), scores().iloc[:0], "kfold")
    assert verdicts(table) == {"1a": "holds", "1b": "not run"}


def test_paired_interval_shrinks_with_more_runs():
    few = claims.compute_claims(synthetic_metrics(runs=4, seed=1), scores(), "kfold").set_index("id")
    many = claims.compute_claims(synthetic_metrics(runs=16, seed=1), scores(), "kfold").set_index("id")
    assert (many.high - many.low)["3b"] < (few.high - few.low)["3b"]


def test_test_scores_one_row_per_fit_and_seed():
    metrics = pd.DataFrame([dict(experiment="l2", protocol="final", repeat=0, fold=0, seed=s, epoch=3, split="test", metric=m,
                                 value=v, diverged=False) for s in range(2) for m, v in (("loss", 0.3), ("data_loss", 0.25), ("acc", 0.88))])
    table = tables.test_scores(metrics)
    assert table.to_dict("records")[0] == {"experiment": "l2", "fit": "final", "seed": 0, "epochs": 3, "test_loss": 0.3,
                                          "test_data_loss": 0.25, "test_acc": 0.88}


def test_collect_refuses_duplicate_rows():
    metrics = synthetic_metrics({"original": SETTINGS["original"]}, runs=1)
    with pytest.raises(ValueError, match="duplicate"):
        tables.collect_metrics([metrics, metrics])


def test_page_is_self_contained(tmp_path):
    from overfit.report import figures

    metrics = synthetic_metrics()
    spec = next(s for s in catalog.figure_specs(list(SETTINGS), ["kfold"], "kfold") if s.name == "kfold_bigger_validation")
    figures.save(figures.draw(spec, metrics, figures.book_histories()), tmp_path / "f.png")
    final = pd.concat([scores(), scores().assign(fit="final", experiment="l2")])
    table = claims.compute_claims(metrics, scores(), "kfold")
    table.to_csv(tmp_path / "claims.csv", index=False)  # as the report job reads it back
    page = html.page(claims=pd.read_csv(tmp_path / "claims.csv"), scores=final,
                     figures=[(spec, tmp_path / "f.png")],
                     provenance={"code_version": "abc", "versions": {"jax": "1"}, "reviews_sha256": "f" * 64, "config": "seed: 0"},
                     jobs=pd.DataFrame({"job": ["train/original/kfold"], "seconds": [12.0], "max_rss_mb": [600.0]}), protocol="kfold")
    assert "data:image/png;base64," in page and ">nan<" not in page
    assert "<script" not in page and "src=\"http" not in page and "<link" not in page
    assert "<td class='fails'>" not in page and "<td class='holds'>holds</td>" in page and "train/original/kfold" in page
