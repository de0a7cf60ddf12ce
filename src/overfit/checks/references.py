"""References between the config's sections (a name must name something), and models every entry can build."""

from __future__ import annotations

from overfit import search, sweeps
from overfit.chapter import check_roles
from overfit.errors import ConfigError
from overfit.grid import protocol_experiments


def check_references(config: dict) -> None:
    final = config["final"]
    if final["choose_epochs_on"] not in config["protocols"]:
        raise ConfigError(f"final.choose_epochs_on: {final['choose_epochs_on']!r} is not a protocol of the config "
                          f"(have: {', '.join(config['protocols'])})")
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
    leak = config.get("duplicate_leak")
    if leak and leak["experiment"] not in config["experiments"]:
        raise ConfigError(f"duplicate_leak.experiment: {leak['experiment']!r} is not an experiment of the config "
                          f"(have: {', '.join(config['experiments'])})")
    if final["book_3_5"]["experiment"] not in config["experiments"]:
        raise ConfigError(f"final.book_3_5.experiment: {final['book_3_5']['experiment']!r} is not an experiment of the config")


def check_models(config: dict) -> None:
    """Every experiment, search configuration and sweep point builds a model (e.g. a dropout per hidden layer)."""
    # the engine's model imports JAX: last, so that `python -m overfit.checks` answers any other mistake at once
    from overfit.experiments import experiment

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
