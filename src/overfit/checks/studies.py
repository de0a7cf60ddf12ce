"""The studies beside the protocols, checked against the data and their own settings: the universal workflow
(``recipe``), the image studies and the clock, the search and the tuning leak it feeds."""

from __future__ import annotations

import numpy as np

from overfit import search
from overfit.checks.sizes import Sizes, ceil_div, known_sizes, largest_fraction, most_folds, split_training
from overfit.data.catalog import study_inputs
from overfit.errors import ConfigError


def check_studies(config: dict, sizes: Sizes) -> None:
    check_recipe(config, sizes)
    check_images(config, sizes)
    check_search(config)


def check_recipe(config: dict, sizes: Sizes) -> None:
    """The tuning draw fits its space; each task's draw fits both splits and its folds; the last-layer table's
    hold-outs leave training rows."""
    recipe = config.get("recipe")
    if not recipe:
        return
    space = search.space_size(recipe["tune"]["space"])
    if recipe["tune"]["configs"] > space:
        raise ConfigError(f"recipe.tune.configs: {recipe['tune']['configs']} configurations cannot be drawn without "
                          f"repeats from a space of {space}; use at most {space} or widen recipe.tune.space")
    for task, entry in recipe["tasks"].items():
        rows = _task_size(task, entry, sizes.train_reviews, sizes.train_positive, "train")
        _task_size(task, entry, sizes.test_reviews, sizes.test_positive, "test")  # its final test: the same draw
        # a drawn task keeps some positives only: its movies are at least those its rows fill at the most reviews
        # a movie has
        movies = (sizes.train_movies if entry.get("positive_share") is None
                  else ceil_div(rows, sizes.most_reviews_per_movie))
        most = most_folds(rows, movies)
        if recipe["folds"] > most:
            raise ConfigError(f"recipe.folds: {recipe['folds']} folds of task {task}'s {rows} training reviews leave "
                              f"a fold with fewer than two reviews, or without a movie where they are grouped by "
                              f"movie ({movies} movies at least); use at most {most}")
    for data, images in (("imdb", sizes.train_reviews), ("fashion_mnist", sizes.train_images)):
        size = recipe["last_layer"]["validation_size"][data]
        if size >= images:
            raise ConfigError(f"recipe.last_layer.validation_size.{data}: {size} held-out rows leave none of the "
                              f"{images} training rows to train on; use at most {images - 1}")


def _task_size(task: str, entry: dict, reviews: int, positives: int, split: str) -> int:
    """A task's rows of a split, drawn as the recipe draws them (every negative, positives drawn down)."""
    from overfit.recipe.tasks import task_rows  # with pandas: here, so that a mistake found before costs no import

    labels = np.repeat(np.array([0, 1], np.uint8), [reviews - positives, positives])
    try:
        return len(task_rows(labels, entry.get("positive_share"), 0, task, split))
    except ConfigError as exc:
        negatives, share = reviews - positives, entry["positive_share"]
        # round(share / (1 - share) × negatives) positives are drawn: at least one, at most all of them
        low, high = 0.5 / (negatives + 0.5), min((positives + 0.5) / (reviews + 0.5), 0.5)
        drawn = "no positive review" if share <= low else f"more positive reviews than its {positives}"
        raise ConfigError(f"recipe.tasks.{task}.positive_share: {share} draws {drawn} beside the {split} split's "
                          f"{negatives} negative ones; use a share above {low:.4g} and below {high:.4g}") from exc


def check_images(config: dict, sizes: Sizes | None = None) -> None:
    """A study reads one input; an arm that adds images with a missing square has the square's size; a study's
    ``rows`` and the validation share fit its input; the clock draws its training sizes from its faces."""
    sizes = sizes or known_sizes(config)
    _check_clock(config)
    images = config.get("images", {})
    trained = [arm for name, study in images.get("studies", {}).items()
               for arm in _study_images(config, sizes, f"images.studies.{name}", study)]
    fewest, where = min(trained, default=(None, ""))
    if fewest is not None and split_training(fewest, images["validation_split"]) < 1:
        raise ConfigError(f"images.validation_split: {images['validation_split']} leaves none of the {fewest} images "
                          f"of {where} to train on; use at most {largest_fraction(fewest)}")


def _study_images(config: dict, sizes: Sizes, key: str, study: dict) -> list[tuple[int, str]]:
    """(images, where that number is set) of each arm of a study, its settings checked."""
    inputs = study_inputs(study)
    if len(inputs) > 1:
        raise ConfigError(f"{key}: its arms read {' and '.join(sorted(inputs))}; a study's arms compare on one "
                          "input: set input on the study, not on an arm")
    (source,) = inputs
    if source == "clock" and "clock" not in config:
        raise ConfigError(f"{key}: input clock needs the clock's faces; add a clock block")
    available, out = sizes.image_input(source), []
    for arm, own in study["arms"].items():
        if own.get("augment", study.get("augment", 0)) and not own.get("patch", study.get("patch", 0)):
            raise ConfigError(f"{key}.arms.{arm}: augment copies training images with a square missing, but no "
                              "patch size is set; set patch (its side in pixels) on the study or arm")
        rows, where = (own["rows"], f"{key}.arms.{arm}.rows") if "rows" in own else (study.get("rows"), f"{key}.rows")
        if rows is not None and rows > available:
            raise ConfigError(f"{where}: {rows} is more than the {available} images of {source} (the study would "
                              f"take all {available}); use at most {available}")
        out.append((rows, where) if rows is not None else (available, f"{key} (all of {source})"))
    return out


def _check_clock(config: dict) -> None:
    clock = config.get("clock")
    if not clock:
        return
    for key, sizes in (("clock.train_sizes", clock["train_sizes"]),
                       ("clock.convnet.train_sizes", clock.get("convnet", {}).get("train_sizes", []))):
        if sizes and max(sizes) > clock["faces"]["train"]:
            raise ConfigError(f"{key}: {max(sizes)} faces cannot be drawn from the {clock['faces']['train']} "
                              f"training faces (clock.faces.train); use at most {clock['faces']['train']} or raise "
                              f"clock.faces.train")
    if "convnet" in clock:
        from overfit.data.clock import SIZE  # the faces' side
        from overfit.grid import pooled_side

        if pooled_side(SIZE, clock["convnet"]["conv"]) < 1:
            raise ConfigError(f"clock.convnet.conv: {len(clock['convnet']['conv'])} blocks of a 3×3 convolution "
                              f"and a 2×2 pooling leave nothing of a {SIZE}-pixel face; use fewer")


def check_search(config: dict) -> None:
    """The search's draw fits its space, and a tuning leak compares the best of several configurations; the nested
    K-fold's outer folds are the tuning K-fold's."""
    drawn = config.get("search")
    if drawn and drawn["configs"] > search.size(config):
        raise ConfigError(f"search.configs: {drawn['configs']} configurations cannot be drawn without repeats from "
                          f"a space of {search.size(config)}; use at most {search.size(config)} or widen search.space")
    tuned = [p for p, entry in config["protocols"].items() if entry.get("experiments") == "search"]
    if drawn and tuned and drawn["configs"] < 2:
        raise ConfigError(f"search.configs: {drawn['configs']} configuration leaves {', '.join(tuned)} nothing to "
                          "choose among (the tuning leak is the best of N against one); use at least 2")
    _check_nested_outer_folds(config)


def _check_nested_outer_folds(config: dict) -> None:
    # overfit.report.tuning scores a nested K-fold's choice with the tuning K-fold's model of the same outer fold
    roles, protocols = config.get("roles", {}), config["protocols"]
    nested, outer = roles.get("tuning_nested"), roles.get("tuning_kfold")
    named = all(isinstance(name, str) and name in protocols for name in (nested, outer))
    if not named or "folds" not in protocols[outer]:
        return  # no such study (a role naming nothing is overfit.chapter.check_roles's to refuse)
    if protocols[nested].get("folds") != protocols[outer]["folds"]:
        raise ConfigError(f"protocols.{nested}.folds: {protocols[nested].get('folds')} outer folds, but the tuning "
                          f"K-fold it is scored with (roles.tuning_kfold: {outer}) has {protocols[outer]['folds']}; "
                          f"use {protocols[outer]['folds']}")
