"""Jobs of the report stage: tables, claims, the movie leak, figures, the HTML page."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("overfit")


def collect(job) -> None:
    import pandas as pd

    from overfit.files import atomic_path
    from overfit.report.tables import collect_metrics, test_scores

    metrics = collect_metrics([pd.read_parquet(path) for path in job.input.metrics])
    with atomic_path(job.output.metrics) as partial:
        metrics.to_parquet(partial, index=False)
    with atomic_path(job.output.scores) as partial:
        test_scores(metrics).to_csv(partial, index=False, float_format="%.6f")
    log.info("%d metric rows", len(metrics))


def claims(job) -> None:
    """The chapter's claims with their verdicts, and what produced them (config and code digests, so that two
    tables compare only like with like); where a seed-1 table of the same code and config is given, its verdicts
    beside them."""
    import json

    import pandas as pd

    from overfit.files import atomic_path
    from overfit.report import provenance
    from overfit.report.claims import compute_claims, seed_check

    studies = {name: pd.read_csv(getattr(job.input, name)) for name in ("images", "clock", "pretraining", "duplicate_leak")
               if getattr(job.input, name, None)}
    # the recipe's step 5 curves, by task (results/recipe/<task>/5_scale_up.parquet)
    recipe = {Path(path).parent.name: pd.read_parquet(path) for path in getattr(job.input, "recipe", [])}
    # the imbalanced tasks' run scores (results/recipe_threshold.csv), where they ran
    threshold = pd.read_csv(job.input.threshold) if getattr(job.input, "threshold", None) else None
    table = compute_claims(pd.read_parquet(job.input.metrics), pd.read_csv(job.input.scores), job.params.config,
                           job.params.chapter, recipe=recipe, threshold=threshold, **studies)
    made_of = {"config": provenance.config_digests(job.params.whole_config), "code": provenance.code_digests()}
    table["config_hash"], table["code_hash"] = (provenance.fingerprint(made_of[k]) for k in ("config", "code"))
    table["seed"] = job.params.whole_config["seed"]
    table["seed_1_verdict"] = ""
    if getattr(job.input, "seed_1", None):
        other = pd.read_csv(job.input.seed_1[0])
        made_of_other = json.loads(Path(job.input.seed_1[0]).with_name(provenance.PROVENANCE).read_text())
        table["seed_1_verdict"], note = seed_check(table, other, made_of, made_of_other)
        log.info("seed 1 (%s): %s", job.input.seed_1[0], note)
    with atomic_path(job.output.provenance) as partial:
        partial.write_text(json.dumps(made_of, indent=1) + "\n")
    with atomic_path(job.output.table) as partial:
        table.to_csv(partial, index=False, float_format="%.6g")
    log.info("claims:\n%s", table[["id", "protocol", "value", "low", "high", "verdict", "verdict_adjusted"]]
             .to_string(index=False))


def movie_leak(job) -> None:
    import pandas as pd

    from overfit.report.leak import movie_leak as leak_table

    table = leak_table(pd.read_parquet(job.input.metrics), pd.read_csv(job.input.scores), job.params.config)
    _write_csv(table, job.output[0], "movie leak")


def figure(job) -> None:
    import pandas as pd

    from overfit.report import figures
    from overfit.report.catalog import TABLES, FigureSpec
    from overfit.report.tables import book_histories

    spec = FigureSpec(**job.params.spec)
    metrics = pd.read_parquet(job.input.metrics)
    rows = pd.read_csv(job.input.table[0]) if spec.kind in TABLES else None
    figures.save(figures.draw(spec, metrics, book_histories(), rows), job.output[0])


def figures_in_language(job) -> None:
    """Every figure of one language other than English, in one job (the metrics read once): ``params.specs``."""
    import pandas as pd

    from overfit.report import figures
    from overfit.report.catalog import TABLES, FigureSpec
    from overfit.report.tables import book_histories

    metrics, book = pd.read_parquet(job.input.metrics), book_histories()
    tables = {path: pd.read_csv(path) for path in job.input.tables}
    for spec, path in zip((FigureSpec(**spec) for spec in job.params.specs), job.output):
        rows = tables[TABLES[spec.kind]] if spec.kind in TABLES else None
        figures.save(figures.draw(spec, metrics, book, rows), path)
    log.info("%d figures in %s", len(job.output), job.wildcards.language)


def _write_csv(table, path, title: str) -> None:
    from overfit.files import atomic_path

    with atomic_path(path) as partial:
        table.to_csv(partial, index=False, float_format="%.6g")
    log.info("%s:\n%s", title, table.to_string(index=False))


def sweeps(job) -> None:
    import pandas as pd

    from overfit.report.sweeps import sweep_table

    _write_csv(sweep_table(pd.read_parquet(job.input.metrics), job.params.config), job.output[0], "sweeps")


def protocol_audit(job) -> None:
    """Section 4.2: each audited protocol's estimate of the reference model's test score, its bias, spread, cost."""
    import pandas as pd

    from overfit.report.audit import audit_table
    from overfit.report.provenance import protocol_seconds

    seconds = protocol_seconds(job.input.benchmarks, job.params.shared_by)
    table = audit_table(pd.read_parquet(job.input.metrics), job.params.config, seconds)
    _write_csv(table, job.output[0], "protocol audit")


def tuning_leak(job) -> None:
    """Section 4.2's information leak: the optimism of a validation score chosen among N configurations."""
    import pandas as pd

    from overfit.report.tuning import tuning_leak as leak_curves

    _write_csv(leak_curves(pd.read_parquet(job.input.metrics), job.params.config), job.output[0], "tuning leak")


def report(job) -> None:
    import pandas as pd
    import yaml

    from overfit.data import imdb, prepared
    from overfit.files import atomic_path
    from overfit.report import html, i18n, pretraining, provenance
    from overfit.report.catalog import FigureSpec
    from overfit.report.tables import run_counts, seed_runs

    # the data the report names: the manifest beside the splits (refused, with how to rebuild it, if unreadable)
    manifest = prepared.read_manifest(Path(job.input.manifest).with_name("train.npz"), imdb.RULE)
    metrics = pd.read_parquet(job.input.metrics)
    tables = dict(
        claims=pd.read_csv(job.input.claims),
        scores=pd.read_csv(job.input.scores),
        leak=pd.read_csv(job.input.leak),
        sweeps=pd.read_csv(job.input.sweeps),
        protocol_study=tuple(pd.read_csv(path) for path in (job.input.audit, job.input.tuning, job.input.duplicates,
                                                             *getattr(job.input, "duplicate_leak", []))),
        recipe=pd.read_csv(job.input.recipe[0]) if getattr(job.input, "recipe", None) else None,
        last_layer=pd.read_csv(job.input.last_layer[0]) if getattr(job.input, "last_layer", None) else None,
        threshold=pd.read_csv(job.input.threshold[0]) if getattr(job.input, "threshold", None) else None,
        images=pd.read_csv(job.input.images[0]) if getattr(job.input, "images", None) else None,
        clock=pd.read_csv(job.input.clock[0]) if getattr(job.input, "clock", None) else None,
        runs=run_counts(metrics),
        seeds=seed_runs(metrics, job.params.config),
        provenance={
            "code_version": job.params.code_version,
            "versions": provenance.package_versions(),
            "reviews_sha256": manifest["reviews_sha256"],
            "config": yaml.safe_dump(job.params.config, sort_keys=False),
        },
        jobs=provenance.job_benchmarks(job.input.benchmarks),
        config=job.params.config,
    )
    # section 4.1's study, where the config has it (its figures are drawn by its own rule)
    studies = {"pretraining": pd.read_csv(job.input.pretraining[0])} if getattr(job.input, "pretraining", None) else {}
    # one page per language (config report.language), each with its own figures and the chapter's words in it
    languages = tuple(job.params.figures)
    for language, path in zip(languages, job.output):
        specs = [FigureSpec(**spec) for spec in job.params.figures[language]]
        figures = [(spec, i18n.figure_path(language, spec.name)) for spec in specs]
        studied = (pretraining.section(studies["pretraining"], tables["claims"], language)
                   if "pretraining" in studies else None)
        page = html.page(**tables, figures=figures, language=language, chapter=job.params.chapter, pretraining=studied)
        with atomic_path(path) as partial:
            partial.write_text(page, encoding="utf-8")
        log.info("report (%s) written: %s", language, Path(path).resolve())
