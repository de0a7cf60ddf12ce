"""Section 4.3 and the 2nd edition's experiments: the arms' data, the clock's generator, extractors and rule, claims."""

import numpy as np
import pandas as pd
import pytest
import yaml

from overfit import clock, images
from overfit.checks import check_images
from overfit.data import clock as faces
from overfit.errors import ConfigError
from overfit.report.claims import compute_claims
from conftest import REPO

# each edition's Keras loss, as the project's config declares them
EDITIONS = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["editions"]


def test_scales_take_statistics_from_the_training_rows_only():
    x = np.array([[0, 255], [255, 255], [0, 0], [255, 0]], np.uint8)
    train = np.array([0, 1])
    assert images.scale(x, "raw", train).max() == 255 and images.scale(x, "unit", train).max() == 1
    standard = images.scale(x, "standardized", train)
    np.testing.assert_allclose(standard[train].mean(0), [0, 0], atol=1e-6)  # the second pixel's sd is 0 there: kept
    np.testing.assert_allclose(standard[:, 1], [0, 0, -255, -255])
    mixed = images.scale(x, "heterogeneous", train)
    assert mixed[:, 0].min() == 0 and mixed[:, 0].max() == 1 and mixed[:, 1].min() == 100 and mixed[:, 1].max() == 200
    with pytest.raises(ValueError, match="no scale"):
        images.scale(x, "log", train)


def test_extra_channels_and_missing_squares():
    x = np.ones((5, 784), np.float32)
    noise = images.extra_channels(x, "noise", 0)
    assert noise.shape == (5, 1568) and 0 <= noise[:, 784:].min() and noise[:, 784:].max() < 1
    assert (images.extra_channels(x, "zeros", 0)[:, 784:] == 0).all()
    damaged = images.missing_patch(x, 14, 0)
    assert ((damaged == 0).sum(1) == 14 * 14).all() and (x == 1).all()  # a copy; the input untouched
    square = damaged[0].reshape(28, 28) == 0
    rows, cols = np.where(square)
    assert rows.max() - rows.min() == 13 and cols.max() - cols.min() == 13


def test_arms_share_their_seeds_and_apply_their_one_setting():
    rng = np.random.default_rng(0)
    pixels, labels = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50)
    study = {"hidden": [4], "patch": 6, "split": "last", "arms": {"plain": {}, "augmented": {"augment": 1},
                                                                  "shuffled": {"labels": "shuffled"}}}
    plain = images.arm_runs(pixels, labels, "s", study, "plain", 2, 0.2, 0)
    augmented = images.arm_runs(pixels, labels, "s", study, "augmented", 2, 0.2, 0)
    shuffled = images.arm_runs(pixels, labels, "s", study, "shuffled", 2, 0.2, 0)
    (x, y, run), (x2, y2, run2) = plain[0], augmented[0]
    assert run.init_seed == run2.init_seed != plain[1][2].init_seed  # paired by seed, not shared between seeds
    assert list(run.train_rows) == list(range(40)) and len(run.evaluations["validation"][1]) == 10  # the last 20%
    assert len(run2.train_rows) == 80 and (y2[:40] == y2[40:]).all()  # one damaged copy of each training image
    assert ((x2[40:] == 0).sum(1) >= 36).all()
    assert set(run.evaluations) == {"validation", "validation_missing"}
    y3 = shuffled[0][1]
    assert sorted(y3) == sorted(labels) and (y3 != labels).any()  # a permutation of every label
    assert images.settings(study, "plain")["epochs"] == images.DEFAULTS["epochs"]


def test_runs_validate_on_their_fold_the_file_s_last_fifth_or_the_last_classes():
    labels = np.repeat(np.arange(10), 10)[np.random.default_rng(0).permutation(100)]  # ten classes, shuffled
    kfold = [images.split_of(labels, "kfold", seed, 0.2, 5, 0) for seed in range(7)]
    for fold in kfold[:5]:  # seeds 0-4: one 5-fold, a fifth validated, disjoint from its training rows
        assert len(fold.validation_rows) == 20 and len(fold.train_rows) == 80
        assert not set(fold.validation_rows) & set(fold.train_rows)
    assert sorted(np.concatenate([f.validation_rows for f in kfold[:5]])) == list(range(100))  # each row once
    assert list(kfold[4].validation_rows) != list(range(80, 100))  # shuffled, not the file's last fifth
    assert (kfold[5].repeat, kfold[5].fold) == (1, 0) and set(kfold[5].validation_rows) != set(kfold[0].validation_rows)
    again = images.split_of(labels, "kfold", 2, 0.2, 5, 0)  # every arm and study of as many rows: the same folds
    assert list(again.validation_rows) == list(kfold[2].validation_rows)
    last = images.split_of(labels, "last", 3, 0.2, 5, 0)
    assert list(last.validation_rows) == list(range(80, 100)) and list(last.train_rows) == list(range(80))
    ordered = images.split_of(labels, "class_sorted", 0, 0.2, 5, 0)
    assert set(labels[ordered.validation_rows]) == {8, 9} and set(labels[ordered.train_rows]) == set(range(8))
    with pytest.raises(ValueError, match="no split"):
        images.split_of(labels, "random", 0, 0.2, 5, 0)


def test_an_image_claim_under_k_fold_gets_the_corrected_interval():
    def table(split_by, rows):
        return pd.DataFrame([{"study": "s", "arm": arm, "seed": seed, "epoch": 1, "split": "validation", "metric": "acc",
                              "value": 0.8 + 0.01 * (arm == "b") + 0.004 * (-1) ** seed * (arm == "b") + 0.001 * seed,
                              "diverged": False, "split_by": split_by, "train_rows": rows[0], "validation_rows": rows[1]}
                             for arm in ("a", "b") for seed in range(5)])
    row = {"id": "11a", "section": "s", "sentence": "x", "statistic": "last_value", "metric": "acc",
           "images": {"study": "s", "compare": ["a", "b"]}, "claimed": {"above": 0}, "words": "w"}
    folded = claims_for(table("kfold", (80, 20)), None, [row]).set_index("id").loc["11a"]
    fixed = claims_for(table("last", (80, 20)), None, [row]).set_index("id").loc["11a"]
    assert folded.value == pytest.approx(fixed.value) == pytest.approx(0.0108)
    # the same differences; under K-fold the interval widens by sqrt((1/5 + 20/80) / (1/5)) = 1.5
    assert (folded.high - folded.low) == pytest.approx(1.5 * (fixed.high - fixed.low), rel=0.05)  # (on the logit scale)


@pytest.mark.slow
def test_a_study_trains_every_arm_and_saves_predictions_that_give_its_last_loss():
    rng = np.random.default_rng(1)
    pixels, labels = rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60)
    study = {"epochs": 2, "hidden": [8], "arms": {"zeros": {"extra_channels": "zeros"}, "noise": {"extra_channels": "noise"}}}
    table, predictions = images.run_study(pixels, labels, "noise_channels", study, 2, 0.2, 0, EDITIONS)
    assert set(table.arm) == {"zeros", "noise"} and set(table.seed) == {0, 1} and table.epoch.max() == 2
    last = table[(table.epoch == 2) & (table.split == "validation")].set_index(["arm", "seed", "metric"]).value
    for arm in ("zeros", "noise"):
        for seed in (0, 1):
            scores, y = predictions[f"{arm}/{seed}/validation"], predictions[f"{arm}/{seed}/validation/labels"]
            p = np.clip(scores / scores.sum(1, keepdims=True), 1e-7, 1 - 1e-7)
            assert last[(arm, seed, "loss")] == pytest.approx(-np.log(p[np.arange(len(y)), y]).mean(), rel=1e-4)
            assert last[(arm, seed, "acc")] == pytest.approx((scores.argmax(1) == y).mean())


def test_the_clock_generator_is_seeded_and_draws_what_it_says():
    a, b, c = faces.generate(50, 3), faces.generate(50, 3), faces.generate(50, 4)
    assert all(np.array_equal(a[k], b[k]) for k in a) and not np.array_equal(a["images"], c["images"])
    assert a["images"].shape == (50, 28, 28) and a["images"].dtype == np.uint8
    assert a["minutes"].min() >= 0 and a["minutes"].max() < 720
    # the minute hand is longer than the hour hand, and both start at the centre
    minute = np.linalg.norm(a["minute_tip"] - a["centre"], axis=1)
    hour = np.linalg.norm(a["hour_tip"] - a["centre"], axis=1)
    assert (minute > hour).all()
    # the ink is where the hands are: the pixel under a hand's middle is bright
    middle = np.round((a["minute_tip"] + a["centre"]) / 2).astype(int)
    assert (a["images"][np.arange(50), middle[:, 1], middle[:, 0]] > 90).all()  # the background stays below 60
    assert np.percentile(a["images"][:, :3, :3], 99) < 60


def test_the_extractors_find_the_dial_and_the_tips_from_the_pixels():
    drawn = faces.generate(400, 5)
    centre, radius = clock.dial(drawn["images"])
    assert np.abs(centre - drawn["centre"]).max() < 0.5 and np.abs(radius - faces.RADIUS).max() < 1.0
    minute, hour, _ = clock.tips(drawn["images"])
    found = clock.angles(minute, hour)
    true = clock.angles(drawn["minute_tip"] - drawn["centre"], drawn["hour_tip"] - drawn["centre"])
    degrees = np.abs((found - true + 0.5) % 1 - 0.5) * 360
    assert degrees[:, 0].max() < 8 and np.median(degrees[:, 1]) < 6
    errors = clock.error(clock.read(found), drawn["minutes"])
    assert (errors <= 5).mean() > 0.99 and clock.error(clock.read(true), drawn["minutes"]).max() == 0


def test_readings_encode_decode_and_errors_go_the_short_way_round():
    minutes = np.arange(720)
    assert clock.error(clock.decode(clock.targets(minutes)), minutes).max() < 1e-3
    np.testing.assert_allclose(clock.error(np.array([719, 0, 100]), np.array([0, 360, 90])), [1, 360, 10])
    # 3:00 exactly: minute hand at 12, hour hand at 3
    np.testing.assert_allclose(clock.angles(np.array([[0.0, -5.0]]), np.array([[3.0, 0.0]])), [[0.0, 0.25]])
    assert clock.read(np.array([[0.0, 0.25], [0.5, 0.25 + 0.5 / 12]])).tolist() == [180, 210]


def test_angles_as_sine_and_cosine_put_nearby_times_near_each_other():
    # 11:59 and 12:00 (and 12:01): as raw turns the minute hand jumps from about 1 back to 0; as (sin, cos) it moves
    # as little as the hands do
    tip = lambda turn, length: np.array([[np.sin(2 * np.pi * turn) * length, -np.cos(2 * np.pi * turn) * length]])
    found = {minute: (tip(minute / 60, 9.0), tip((minute / 60) / 12 % 1, 5.0), np.array([12.0]))
             for minute in (-1, 0, 1)}
    faces_ = {"images": np.zeros((1, 28, 28))}
    turns = {m: clock.features("turns", faces_, f) for m, f in found.items()}
    angles = {m: clock.features("angles", faces_, f) for m, f in found.items()}
    assert angles[0].shape == (1, 4) and turns[0].shape == (1, 2)
    assert np.abs(turns[-1] - turns[0]).max() > 0.9 and np.abs(turns[1] - turns[0]).max() < 0.02
    assert np.abs(angles[-1] - angles[0]).max() < 0.11 and np.abs(angles[1] - angles[0]).max() < 0.11
    np.testing.assert_allclose(np.hypot(angles[0][:, :2], angles[0][:, 2:]), 1.0, rtol=1e-6)


def test_the_clock_study_reads_better_from_features_than_from_pixels():
    settings = {"train_sizes": [200], "seeds": 2, "epochs": 30, "batch_size": 16, "learning_rate": 0.003,
                "models": {"pixels": [16], "tips": [16], "turns": [16], "angles": [16]}}
    table = clock.run(faces.generate(200, 0), faces.generate(100, 1), settings, 0)
    assert list(table.representation.unique()) == ["pixels", "tips", "turns", "angles", "rule"] and len(table) == 9
    # each representation's extraction was timed (a measurement, so only what no load can reverse is asserted:
    # scaling the pixels is a few hundred times cheaper than finding the hands)
    extraction = table.groupby("representation").extraction_us.first()
    assert (extraction > 0).all() and extraction["pixels"] * 20 < extraction["tips"]
    means = table.groupby("representation").mean_error.mean()
    assert means["rule"] < 2 and means["tips"] < means["pixels"]
    learned = table[table.representation != "rule"]
    assert (learned.flops > 0).all() and learned.set_index("representation").flops["pixels"].min() > \
        learned.set_index("representation").flops["tips"].max()


def test_the_clock_convnet_runs_where_configured_and_counts_its_convolutions():
    settings = {"train_sizes": [60], "seeds": 2, "epochs": 2, "batch_size": 16, "learning_rate": 0.003,
                "models": {"pixels": [8], "tips": [4], "turns": [4], "angles": [4]},
                "convnet": {"conv": [2, 3], "hidden": [4], "train_sizes": [30, 60]}}
    table = clock.run(faces.generate(60, 0), faces.generate(20, 1), settings, 0)
    assert list(table.representation.unique()) == ["pixels", "convnet", "tips", "turns", "angles", "rule"]
    convnet = table[table.representation == "convnet"]
    assert sorted(convnet.train_size.unique()) == [30, 60] and len(convnet) == 4  # its own sizes, every seed
    # the same faces as the pixels (paired by seed), read by another model: its compute is its convolutions'
    spec, _ = clock.model("convnet", settings)
    # 28 → 26 (×9×1×2) → 13 → 11 (×9×2×3) → 5: 5·5·3 = 75 inputs to Dense(4), then 4 outputs
    macs = 26 * 26 * 9 * 2 + 11 * 11 * 9 * 2 * 3 + 75 * 4 + 4 * 4
    assert clock.training_flops(spec, 784, 10) == 6.0 * 10 * macs
    assert set(convnet.flops) == {6.0 * n * 2 * macs for n in (30, 60)}
    without = {k: v for k, v in settings.items() if k != "convnet"}
    assert "convnet" not in clock.representations(without)


def test_a_convnet_reads_square_images_and_keeps_something_of_them():
    from overfit.engine.dense import DenseSpec, conv_output, image_side, init

    assert image_side(784) == 28 and conv_output(28, (8, 16)) == 5 * 5 * 16
    with pytest.raises(ValueError, match="not a square"):
        image_side(780)
    with pytest.raises(ValueError, match="leave nothing"):
        init(DenseSpec((), 4, head="linear", conv=(2, 2, 2, 2)), 784, 0)
    with pytest.raises(ConfigError, match="leave nothing"):
        check_images({"clock": {"train_sizes": [10], "faces": {"train": 50, "test": 10},
                                "convnet": {"conv": [2, 2, 2, 2], "hidden": [], "train_sizes": [10]}}})
    with pytest.raises(ConfigError, match="clock.convnet.train_sizes"):
        check_images({"clock": {"train_sizes": [10], "faces": {"train": 50, "test": 10},
                                "convnet": {"conv": [2], "hidden": [], "train_sizes": [100]}}})


def claims_for(images_table, clock_table, rows):
    metrics = pd.DataFrame(columns=["experiment", "protocol", "repeat", "fold", "seed", "epoch", "split", "metric", "value",
                                    "diverged", "train_size", "validation_size"])
    return compute_claims(metrics, pd.DataFrame(), {"roles": {}}, {"claims": rows}, images_table, clock_table)


def test_image_and_clock_claims_are_paired_by_seed_and_judged():
    curves = []
    for arm, level in (("zeros", 0.90), ("noise", 0.88)):
        for seed, jitter in enumerate((0.0, 0.002, -0.002)):
            for epoch in (1, 2):
                curves.append({"study": "noise_channels", "arm": arm, "seed": seed, "epoch": epoch, "split": "validation",
                               # the arms' seeds differ differently: a paired difference with spread (runs that all
                               # differ alike are judged by an exact test, overfit.stats.sign_interval)
                               "metric": "acc", "value": level + jitter * (1 if arm == "zeros" else -1) - 0.1 * (epoch == 1),
                               "diverged": False})
    row = {"id": "11a", "section": "s", "sentence": "lower", "statistic": "last_value", "metric": "acc",
           "images": {"study": "noise_channels", "compare": ["zeros", "noise"]}, "claimed": {"below": 0}, "words": "w"}
    missing = {**row, "id": "11z", "images": {"study": "elsewhere", "of": "zeros"}}
    times = pd.DataFrame([{"representation": r, "train_size": n, "seed": s, "faces": 100, "mean_error": e + s * e / 10,
                           "error_sd": 3.0, "median_error": e, "within_5": 0.5, "flops": f, "seconds": 1.0}
                          for r, n, e, f in (("pixels", 1000, 10.0, 1e10), ("tips", 100, 2.0, 1e7)) for s in range(3)]
                         + [{"representation": "rule", "train_size": 0, "seed": 0, "faces": 100, "mean_error": 0.2,
                             "error_sd": 1.0, "median_error": 0.0, "within_5": 0.99, "flops": 1e6, "seconds": 0.1}])
    fewer = {"id": "12e", "section": "s", "sentence": "less data", "statistic": "mean_error",
             "clock": {"compare": [["pixels", 1000], ["tips", 100]]}, "claimed": {"below": 0}, "words": "w"}
    rule = {**fewer, "id": "12f", "clock": {"of": "rule"}, "claimed": {"below": 5}}
    table = claims_for(pd.DataFrame(curves), times, [row, missing, fewer, rule]).set_index("id")
    assert table.loc["11a", "value"] == pytest.approx(-0.02) and table.loc["11a", "verdict"] == "holds"
    assert table.loc["11a", "n"] == 3 and table.loc["11z", "verdict"] == "not run"
    assert table.loc["12e", "value"] == pytest.approx(-8.8) and table.loc["12e", "verdict"] == "holds"
    assert "1e+03×" in table.loc["12e", "detail"]  # the compute ratio
    assert table.loc["12f", "verdict"] == "holds" and table.loc["12f", "high"] == pytest.approx(0.2 + 1.984 * 0.1, rel=1e-3)


def test_an_arm_that_augments_without_a_patch_size_is_refused():
    config = {"images": {"studies": {"missing": {"arms": {"augmented": {"augment": 1}}}}}}
    with pytest.raises(ConfigError, match="no patch size"):
        check_images(config)
    with pytest.raises(ConfigError, match="cannot be drawn"):
        check_images({"clock": {"train_sizes": [100], "faces": {"train": 50, "test": 10}}})


def test_a_study_can_train_on_the_clock_faces_labelled_by_hour(tmp_path):
    path = tmp_path / "faces.npz"
    faces.prepare(path, {"train": 40, "test": 10}, 0)
    pixels, hours = images.load_input("clock", path)
    assert pixels.shape == (40, 28, 28) and hours.min() >= 0 and hours.max() <= 11
    assert (hours == faces.load(path, "train")["minutes"] // 60).all()
    study = {"input": "clock", "epochs": 1, "hidden": [4], "arms": {"unit": {}}}
    table, _ = images.run_study(pixels, hours, "clock_hours", study, 2, 0.25, 0, EDITIONS)
    assert set(table.split) == {"train", "validation"} and (table.train_size == 32).all()  # 4 of 5 folds of 40
    with pytest.raises(ConfigError, match="one input"):
        check_images({"clock": {}, "images": {"studies": {"s": {"arms": {"a": {"input": "clock"}, "b": {}}}}}})
