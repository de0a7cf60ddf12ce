"""Section 4.1's pretraining study (overfit.studies.pretraining): its starts, its runs, its claims and its report.

The claim rows 13a-13c are judged through the real claims code on small tables built here to give each verdict;
the study itself runs end to end on a few dozen made-up reviews.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from overfit import chapter as chapter_roles
from overfit import stats
from overfit.data.imdb import SparseReviews
from overfit.engine.model import ModelSpec
from overfit.engine.train import TrainingSpec
from overfit.errors import ConfigError
from overfit.files import load_yaml
from overfit.protocols import Fold
from overfit.report import claims
from overfit.report import pretraining as report
from overfit.studies import pretraining as study

CONFIG = load_yaml(REPO / "config" / "config.yaml")
CHAPTER = chapter_roles.load(REPO / "config" / "chapter.yaml")
ROWS = {row["id"]: row for row in CHAPTER["claims"] if "pretraining" in row}


# --- made-up reviews: words 4-13 tell the label, the rest is shared noise --------------------------------------

def reviews(n: int, num_words: int = 60, seed: int = 0) -> SparseReviews:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).astype(np.uint8)
    rows = []
    for label in labels:
        telling = 4 + 5 * label + rng.choice(5, 2, replace=False)
        rows.append(np.unique(np.concatenate([telling, rng.choice(np.arange(14, num_words), 6, replace=False)])))
    offsets = np.cumsum([0] + [len(r) for r in rows])
    return SparseReviews(np.concatenate(rows).astype(np.int32), offsets, labels, np.zeros(n, np.uint8),
                         np.arange(n, dtype=np.int32), np.arange(n, dtype=np.int32) // 2, "made up")


def two_folds(n: int) -> list[Fold]:
    half = np.arange(n) < n // 2
    return [Fold(0, 0, np.flatnonzero(~half), "train", np.flatnonzero(half)),
            Fold(0, 1, np.flatnonzero(half), "train", np.flatnonzero(~half)),
            Fold(1, 0, np.flatnonzero(half), "train", np.flatnonzero(~half))]


SETTINGS = study.Settings("kfold_by_movie", repeats=1, seeds=2, labeled=(6, 12), epochs=(3, 2), pretext_epochs=2,
                          final_seeds=2, hide=0.5, pretext_learning_rate=0.01)
SPEC = ModelSpec.build([4, 4], input_dim=60)
TRAINING = TrainingSpec(epochs=99, batch_size=8, learning_rate=0.01)


@pytest.fixture(scope="module")
def made_up_study() -> pd.DataFrame:
    splits = {"train": reviews(48), "test": reviews(30, seed=1)}
    return study.run(splits, two_folds(48), SETTINGS, SPEC, TRAINING, seed=0)


@pytest.mark.slow  # about 20 s on two cores: every shape of the stack and the masked-word task compiles
def test_the_study_runs_every_start_fold_seed_and_size_then_the_test_set_once(made_up_study):
    table = made_up_study
    validation = table[table.split == "validation"]
    # the first repeat only: two folds × two seeds × two sizes × three starts, each every epoch of its size's
    # (3 for 6 labeled, 2 for 12), loss and acc
    assert set(validation.repeat) == {0}
    assert validation.groupby(["start", "labeled"]).size().to_dict() == {
        (start, n): 2 * 2 * epochs * 2 for start in study.STARTS for n, epochs in ((6, 3), (12, 2))}
    assert set(validation.metric) == {"loss", "acc"} and validation.value.notna().all()
    # the runs train on their labeled reviews only, the pool is the fold's training part
    assert set(validation.train_size) == {6, 12} and set(validation.pool_size) == {24}
    # the test split: per start and size, each of the final seeds scored once (one epoch: the chosen one)
    test = table[table.split == "test"]
    assert test.groupby(["start", "labeled", "metric"]).size().eq(2).all() and len(test) == 3 * 2 * 2 * 2
    assert set(test.start) == set(study.STARTS)
    chosen = study.chosen_epochs(table[table.split != "test"])
    for (start, n), rows in test.groupby(["start", "labeled"]):
        assert set(rows.epoch) == {chosen.loc[(start, n)]}
    # the masked-word task's own scores, per fold, beside the frequency guess
    pretext = table[table.split == "pretext"]
    assert set(pretext.metric) == {"loss", "acc", "frequency_loss"} and len(pretext) == 2 * 3


def test_starts_share_everything_but_the_first_layer():
    """A stack's models start as the engine starts them alone, but for the first layers given: the comparison of
    starts is paired (same later layers, batches, order)."""
    trainer = study.StartsTrainer(SPEC, TRAINING, 3)
    given = (np.full((60, 4), 0.5, np.float32), np.arange(4, dtype=np.float32))
    trainer.first_layers = [None, given, None]
    (params,), _ = trainer.init(7)
    (plain,), _ = study.Trainer((SPEC,), TRAINING).init(7)
    kernel, bias = np.asarray(params["kernels"][0]), np.asarray(params["biases"][0])
    np.testing.assert_array_equal(kernel[:, 4:8], given[0])
    np.testing.assert_array_equal(bias[4:8], given[1])
    np.testing.assert_array_equal(kernel[:, :4], np.asarray(plain["kernels"][0]))  # scratch: Glorot from the seed
    np.testing.assert_array_equal(kernel[:, 8:], np.asarray(plain["kernels"][0]))
    for later in params["kernels"][1:]:  # every later layer the same in all three
        later = np.asarray(later)
        assert np.array_equal(later[0], later[1]) and np.array_equal(later[0], later[2])


def test_labeled_sets_are_nested_draws_from_the_pool():
    fold = two_folds(48)[0]
    drawn = study.labeled_sets(fold, (3, 6, 12), seed=5)
    assert set(drawn[3]) <= set(drawn[6]) <= set(drawn[12]) <= set(fold.train_rows)
    assert not set(drawn[12]) & set(fold.validation_rows)
    assert not np.array_equal(drawn[12], study.labeled_sets(fold, (12,), seed=6)[12])  # a seed draws its own


def test_the_svd_start_is_signed_and_scaled_as_documented():
    pool = reviews(40)
    kernel, bias = study.svd_layer(pool, 60, 4, seed=0)
    projections = study.multi_hot(pool, 60) @ kernel
    target = study.glorot_std(60, 4) * np.sqrt(np.diff(pool.offsets).mean())
    np.testing.assert_allclose(np.sqrt((projections ** 2).mean(axis=0)), target, rtol=1e-4)
    assert (projections.mean(axis=0) > 0).all() and not bias.any()
    np.testing.assert_array_equal(kernel, study.svd_layer(pool, 60, 4, seed=0)[0])  # the seed decides it


def test_the_masked_word_task_learns_what_frequencies_alone_do_not():
    """On reviews where words 4-8 come together and 9-13 together, the rest of a review tells which half a hidden
    word is from: the task must beat the frequency guess on reviews it never saw."""
    pool, held_out = reviews(400), reviews(100, seed=3)
    pretext = study.Pretext(epochs=30, hide=0.5, learning_rate=0.01, batch_size=64)
    kernel, bias, scores = study.masked_word_layer(pool, 60, 4, pretext, seed=0, validation=held_out)
    assert kernel.shape == (60, 4) and bias.shape == (4,) and np.isfinite(kernel).all()
    assert scores["loss"] < scores["frequency_loss"] - 0.05


def test_bad_settings_are_refused_with_the_fix():
    block = {**CONFIG["pretraining"], "labeled": [100, 100, 300, 1000]}
    with pytest.raises(ConfigError, match="twice"):
        study.Settings.from_config({"pretraining": block})
    with pytest.raises(ConfigError, match="one per size"):
        study.Settings.from_config({"pretraining": {**CONFIG["pretraining"], "epochs": [10]}})
    # sizes given in any order keep their epochs
    shuffled = {**CONFIG["pretraining"], "labeled": [300, 100], "epochs": [7, 9]}
    settings = study.Settings.from_config({"pretraining": shuffled})
    assert settings.labeled == (100, 300) and settings.epochs == (9, 7)
    with pytest.raises(ConfigError, match="below it"):
        study.check_sizes(dataclasses.replace(SETTINGS, labeled=(6, 24)), two_folds(48))
    on_test = [dataclasses.replace(f, validation_split="test") for f in two_folds(48)]
    with pytest.raises(ConfigError, match="test set once"):
        study.check_sizes(SETTINGS, on_test)
    with pytest.raises(ConfigError, match="no such repeats"):
        study.run({}, [f for f in two_folds(48) if f.repeat == 1], SETTINGS, SPEC, TRAINING, 0)


def test_the_chosen_epoch_is_the_claims_statistic():
    """The test fits' epochs (the study) and the claims' per-run values read the same epoch."""
    rng = np.random.default_rng(0)
    rows = [{"start": "scratch", "labeled": 10, "repeat": 0, "fold": f, "seed": s, "epoch": e, "split": "validation",
             "metric": "acc", "value": rng.random(), "diverged": False}
            for f in range(4) for s in range(2) for e in range(1, 9)]
    table = pd.DataFrame(rows)
    curves = table.pivot_table(index=["repeat", "fold", "seed"], columns="epoch", values="value")
    chosen = study.chosen_epochs(table).loc[("scratch", 10)]
    pd.testing.assert_series_equal(claims.value_at_highest_mean_epoch(curves), curves[chosen], check_names=False)


# --- the claim rows: each verdict from a table built to give it -------------------------------------------------

FOLDS, SEEDS, EPOCHS = 4, 2, 5
SIZES = (100, 3000)


def built(advantages: dict[int, np.ndarray], start: str = "self_supervised", base: float = 0.7) -> pd.DataFrame:
    """A study table whose runs (4 folds × 2 seeds) give ``start`` these per-run advantages over scratch at each
    size at the best epoch (3); the unsupervised start (if not ``start``) equals scratch."""
    rows = []
    for n, advantage in advantages.items():
        for i, (f, s) in enumerate((f, s) for f in range(FOLDS) for s in range(SEEDS)):
            for name in study.STARTS:
                peak = base + (advantage[i] if name == start else 0.0)
                for e in range(1, EPOCHS + 1):
                    rows.append({"start": name, "labeled": n, "repeat": 0, "fold": f, "seed": s, "epoch": e,
                                 "split": "validation", "metric": "acc", "value": peak - 0.02 * abs(e - 3),
                                 "diverged": False, "train_size": n, "validation_size": 6250, "pool_size": 18750})
    return pd.DataFrame(rows)


def judged(table: pd.DataFrame) -> pd.DataFrame:
    metrics = pd.DataFrame(columns=["experiment", "protocol", "repeat", "fold", "seed", "epoch", "split", "metric",
                                    "value", "diverged", "train_size", "validation_size"])
    out = claims.compute_claims(metrics, pd.DataFrame(), CONFIG, CHAPTER, pretraining=table)
    return out[out.id.isin(list(ROWS))].set_index("id")


def spread(centre: float, width: float = 0.004) -> np.ndarray:
    return centre + width * np.linspace(-1, 1, FOLDS * SEEDS)


@pytest.mark.parametrize("row,start", [("13a", "self_supervised"), ("13b", "unsupervised")])
def test_helps_when_labels_are_few_can_hold_fail_or_stay_unclear(row, start):
    threshold = ROWS[row]["claimed"]["above"]
    for centre, verdict in ((threshold + 0.04, stats.HOLDS), (threshold - 0.04, stats.FAILS),
                            (threshold, stats.UNCLEAR)):
        result = judged(built({100: spread(centre), 3000: spread(0.0)}, start)).loc[row]
        assert result.verdict == verdict, (centre, result.detail)
        assert result.value == pytest.approx(centre, abs=1e-9)
        assert result.method.startswith(stats.CORRECTED)  # folds share reviews: the corrected interval


def test_the_advantage_shrinks_holds_fails_or_is_vacuous_without_an_advantage():
    row = ROWS["13c"]
    assert row["requires"] == "13a"
    few = ROWS["13a"]["claimed"]["above"] + 0.05
    shrinks = judged(built({100: spread(few), 3000: spread(0.0)})).loc["13c"]
    assert shrinks.verdict == stats.HOLDS and shrinks.value == pytest.approx(few)
    grows = judged(built({100: spread(few), 3000: spread(few + 0.05)})).loc["13c"]
    assert grows.verdict == stats.FAILS and grows.value == pytest.approx(-0.05)
    # no advantage at few labels (13a does not hold): nothing to shrink, whatever the difference says
    none = judged(built({100: spread(-0.05), 3000: spread(-0.2)})).loc["13c"]
    assert none.verdict == stats.VACUOUS and "13a" in none.reason


def test_the_rows_say_why_when_the_study_did_not_run():
    out = judged(None)
    assert (out.verdict == stats.NOT_RUN).all()
    assert out.detail.str.contains("pretraining").all()


# --- the report's section -------------------------------------------------------------------------------------

def with_test_and_pretext(table: pd.DataFrame) -> pd.DataFrame:
    """A built table with what the study adds after the folds: test fits (two a start and size), pretext scores."""
    extra = [{"start": start, "labeled": n, "repeat": 0, "fold": 0, "seed": s, "epoch": 3, "split": "test",
              "metric": "acc", "value": 0.7 + 0.01 * s, "diverged": False, "train_size": n,
              "validation_size": 25000, "pool_size": 25000}
             for start in study.STARTS for n in SIZES for s in range(2)]
    extra += [{"start": "self_supervised", "labeled": 0, "repeat": 0, "fold": f, "seed": 0, "epoch": 4,
               "split": "pretext", "metric": metric, "value": value, "diverged": False, "train_size": 18750,
               "validation_size": 6250, "pool_size": 18750}
              for f in range(FOLDS) for metric, value in (("loss", 7.4), ("frequency_loss", 7.45), ("acc", 0.7))]
    return pd.concat([table, pd.DataFrame(extra)], ignore_index=True)


def test_the_section_fills_its_text_and_draws_its_figure(tmp_path):
    table = with_test_and_pretext(built({100: spread(0.05), 3000: spread(0.0)}))
    found = report.points(table)
    assert set(found.start) == set(study.STARTS) and set(found.labeled) == set(SIZES)
    ssl = found.set_index(["start", "labeled"]).loc[("self_supervised", 100)]
    assert ssl.advantage == pytest.approx(0.05) and ssl.epoch == 3 and ssl.test_acc == pytest.approx(0.705)
    assert ((found.low <= found.validation_acc) & (found.validation_acc <= found.high)).all()
    scratch = found[found.start == "scratch"]
    assert scratch.advantage.isna().all() and found[found.start != "scratch"].advantage.notna().all()
    claim_rows = judged(table).reset_index()
    shown = report.section(table, claim_rows)
    assert shown["name"] == "pretraining" and "{" not in shown["caption"]
    assert len(shown["rows"]) == len(found) and set(shown["claims"].id) == set(ROWS)
    assert shown["n"]["folds"] == FOLDS and shown["n"]["seeds"] == SEEDS
    assert shown["n"]["verdict_13a"] == stats.HOLDS == shown["outcome"]
    assert shown["n"]["self_supervised_advantage_smallest"] == "+0.050"
    for language in ("en", "ko"):
        path = tmp_path / f"pretraining-{language}.png"
        report.save(report.figure(table, language), path)
        assert path.read_bytes()[:4] == b"\x89PNG"


def section_html(shown: dict, language: str = "en") -> str:
    """The section as the report's page renders it (templates/pretraining.html.j2), with a stand-in figure."""
    from types import SimpleNamespace

    from overfit.report import html

    figure = SimpleNamespace(name=shown["name"], title=shown["title"], caption=shown["caption"], wide=False, data="")
    template = html.environment(language).get_template("pretraining.html.j2")
    return template.render(p=SimpleNamespace(**shown, figure=figure))


@pytest.mark.parametrize("outcome", [stats.HOLDS, stats.UNCLEAR, stats.FAILS])
def test_the_text_says_what_each_outcome_means_and_what_the_opposite_would_have(outcome):
    table = with_test_and_pretext(built({100: spread(0.05), 3000: spread(0.0)}))
    shown = report.section(table, judged(table).reset_index())
    words = section_html({**shown, "outcome": outcome})
    assert words.count("What it means.") == 1 and words.count("What the opposite would have meant.") == 1
    assert "labels hidden" in words and "50,000" in words and "+0.050" in words
    others = [section_html({**shown, "outcome": other}) for other in (stats.HOLDS, stats.UNCLEAR, stats.FAILS)
              if other != outcome]
    assert all(words != other for other in others)
    assert "What it means" not in section_html({**shown, "outcome": stats.NOT_RUN})  # no outcome, no meaning
    korean = section_html({**shown, "outcome": outcome}, "ko")
    assert "의미." in korean and "반대 결과였다면." in korean and "+0.050" in korean


@pytest.mark.slow  # a minute: Snakemake, the data stage and the study's two jobs on the tiny data
def test_the_rules_make_the_table_and_the_figure_on_the_small_config(tiny_workflow):
    from conftest import run_snakemake

    targets = ["results/pretraining.csv", "results/figures/pretraining.png"]
    result = run_snakemake(tiny_workflow["dir"], "--configfile", str(tiny_workflow["config"]), "--cores", "2",
                           *targets, mirror=tiny_workflow["mirror"])
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(tiny_workflow["dir"] / targets[0])
    assert set(table.split) == {"validation", "train", "pretext", "test"}
    assert set(table.labeled[table.split == "validation"]) == set(tiny_workflow["settings"]["pretraining"]["labeled"])
    assert (tiny_workflow["dir"] / targets[1]).read_bytes()[:4] == b"\x89PNG"
    assert (tiny_workflow["dir"] / "results" / "benchmarks" / "pretraining.tsv").exists()
