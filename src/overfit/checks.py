"""What the config schema cannot say, checked before any job runs (the Snakefile calls check_config).

Also a command that checks a config file on its own, as ``make reproduce``
does before it starts the pipeline:

    python -m overfit.checks [config/config.yaml [config/full.yaml …]]

It reports a YAML syntax error with its file, line and column, a schema
violation with the key path, the bad value and what is allowed, and every
cross-reference the schema cannot express.
"""

from __future__ import annotations

import sys
from pathlib import Path

from overfit import search, sweeps
from overfit.chapter import check_roles
from overfit.data.catalog import study_inputs
from overfit.errors import ConfigError
from overfit.experiments import experiment
from overfit.files import load_yaml
from overfit.grid import protocol_experiments


# The settings each protocol kind takes besides kind, experiments and seeds.
KIND_SETTINGS = {
    "test_as_validation": set(),
    "holdout": {"validation_size"},
    "validation_split": {"fraction"},
    "kfold": {"folds", "repeats"},
    "grouped_kfold": {"folds", "repeats"},
    "shuffled_holdout": {"validation_size", "repeats", "group_by_movie"},
    "sorted_holdout": {"validation_size"},
    "time_holdout": {"validation_size"},
    "nested_kfold": {"folds", "inner_folds"},
}
# What every kind takes.
COMMON_SETTINGS = {"kind", "experiments", "seeds", "epochs", "evaluate_test"}


def check_protocol_sizes(config: dict) -> None:
    """Each protocol's settings fit its kind and the data set's size, known before any job from ``data.imdb``."""
    n_train = config["data"]["imdb"].get("train_reviews")
    for name, entry in config["protocols"].items():
        kind, key = entry["kind"], f"protocols.{name}"
        foreign = set(entry) - COMMON_SETTINGS - KIND_SETTINGS[kind]
        if foreign:
            takes = ", ".join(sorted(KIND_SETTINGS[kind])) or "no settings"
            raise ConfigError(f"{key}: {', '.join(sorted(foreign))} does not apply to kind {kind!r} (it takes {takes}, "
                              f"plus {', '.join(sorted(COMMON_SETTINGS - {'kind'}))})")
        if n_train is None:
            continue
        if "validation_size" in KIND_SETTINGS[kind] and not entry["validation_size"] < n_train:
            raise ConfigError(f"{key}.validation_size: {entry['validation_size']} leaves no training reviews: the "
                              f"training set has {n_train}; use at most {n_train - 1}")
        if kind == "validation_split" and not 1 <= int(n_train * (1 - entry["fraction"])) < n_train:
            raise ConfigError(f"{key}.fraction: {entry['fraction']} leaves an empty side of {n_train} training reviews")
        if kind in ("kfold", "grouped_kfold", "nested_kfold") and entry["folds"] > n_train // 2:
            raise ConfigError(f"{key}.folds: {entry['folds']} folds of {n_train} training reviews leave fewer than two "
                              f"reviews a fold; use at most {n_train // 2} (the book's sketch uses 4)")


def check_images(config: dict) -> None:
    """An arm that adds images with a missing square needs the square's size; the clock's sizes need faces."""
    for name, study in config.get("images", {}).get("studies", {}).items():
        inputs = study_inputs(study)
        if len(inputs) > 1:
            raise ConfigError(f"images.studies.{name}: its arms read {' and '.join(sorted(inputs))}; a study's arms "
                              "compare on one input: set input on the study, not on an arm")
        if "clock" in inputs and "clock" not in config:
            raise ConfigError(f"images.studies.{name}: input clock needs the clock's faces; add a clock block")
        for arm, own in study["arms"].items():
            if own.get("augment", study.get("augment", 0)) and not own.get("patch", study.get("patch", 0)):
                raise ConfigError(f"images.studies.{name}.arms.{arm}: augment copies training images with a square "
                                  "missing, but no patch size is set; set patch (its side in pixels) on the study or arm")
    clock = config.get("clock")
    if clock and max(clock["train_sizes"]) > clock["faces"]["train"]:
        raise ConfigError(f"clock.train_sizes: {max(clock['train_sizes'])} faces cannot be drawn from "
                          f"{clock['faces']['train']}; raise clock.faces.train or lower the size")


def check_config(config: dict) -> None:
    """What the schema cannot say: references between sections, and settings every model can take."""
    check_protocol_sizes(config)
    final = config["final"]
    if final["choose_epochs_on"] not in config["protocols"]:
        raise ConfigError(f"final.choose_epochs_on: {final['choose_epochs_on']!r} is not a protocol of the config "
                          f"(have: {', '.join(config['protocols'])})")
    recipe = config.get("recipe")
    if recipe:
        space = search.space_size(recipe["tune"]["space"])
        if recipe["tune"]["configs"] > space:
            raise ConfigError(f"recipe.tune.configs: {recipe['tune']['configs']} configurations cannot be drawn without "
                              f"repeats from a space of {space}; draw fewer or widen recipe.tune.space")
    check_images(config)
    if config.get("search") and config["search"]["configs"] > search.size(config):
        raise ConfigError(f"search.configs: {config['search']['configs']} configurations cannot be drawn without "
                          f"repeats from a space of {search.size(config)}; draw fewer or widen search.space")
    for protocol, entry in config["protocols"].items():
        if entry.get("experiments") == "search":
            if not config.get("search"):
                raise ConfigError(f"protocols.{protocol}.experiments: 'search' names the search's configurations, but "
                                  "the config has no search block; add one (see config/config.yaml) or list experiments")
            continue
        missing = [name for name in entry.get("experiments", []) if name not in config["experiments"]]
        if missing:
            raise ConfigError(f"protocols.{protocol}.experiments: {', '.join(map(repr, missing))} is not an experiment of "
                              f"the config (have: {', '.join(config['experiments'])})")
    skipped = [name for name in config["experiments"] if name not in protocol_experiments(config, final["choose_epochs_on"])]
    if skipped:
        raise ConfigError(f"final.choose_epochs_on: {final['choose_epochs_on']!r} does not run {', '.join(skipped)}, whose "
                          "final fits need its curves; add them to its experiments or leave its list out (all experiments)")
    check_roles(config)
    if final["book_3_5"]["experiment"] not in config["experiments"]:
        raise ConfigError(f"final.book_3_5.experiment: {final['book_3_5']['experiment']!r} is not an experiment of the config")
    for name in config["experiments"]:
        try:
            experiment(config, name)
        except ValueError as exc:
            raise ConfigError(f"experiment {name!r}: {exc}") from exc
    for name, entry in search.configs(config).items():
        try:
            experiment(config, name, entry)
        except ValueError as exc:
            raise ConfigError(f"search: the configuration {name!r}: {exc}") from exc
    for name, point in sweeps.points(config).items():  # refuses a sweep that names nothing, or an unknown axis
        try:
            experiment(config, name, point.entry)
        except ValueError as exc:
            raise ConfigError(f"sweeps.{point.sweep}: the point {name!r}: {exc}") from exc


def merged(base: dict, override: dict) -> dict:
    """``override`` over ``base`` as Snakemake merges a ``--configfile``: mappings key by key, anything else replaced."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def check_file(path: str | Path, schema: str | Path, *overrides: str | Path) -> dict:
    """A config file (with ``overrides`` merged over it, as ``--configfile`` does) checked as the Snakefile checks
    it: YAML, schema (with the key path), cross-references."""
    import jsonschema

    config = load_yaml(path)
    for override in overrides:
        config = merged(config, load_yaml(override))
    validator = jsonschema.Draft202012Validator(load_yaml(schema))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        # of a oneOf (a sweep's grid: one grid or a list of them), the error deepest in the config names the key
        error = jsonschema.exceptions.best_match([errors[0]])
        key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(f"{path}: {key}: {error.message}")
    check_config(config)
    return config


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[2]
    path, *overrides = argv or ["config/config.yaml"]
    try:
        check_file(path, root / "workflow" / "schemas" / "config.schema.yaml", *overrides)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(f"{' + '.join([path, *overrides])}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
