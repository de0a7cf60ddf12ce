# Report: tidy tables, claims with verdicts, the movie leak, the figures, one self-contained HTML page. Calls overfit.report.


# The report's languages (REPORT_LANGUAGES, common.smk): a page each, each with figures in its own words. English
# figures are the `figure` rule's, one job each; another language's are drawn by one job.
FIGURES_IN = {language: FIGURES if language == i18n.SOURCE else
              {spec.name: spec for spec in figure_specs(config, CHAPTER, language)} for language in REPORT_LANGUAGES}
# what the words of a page and its figures are made of besides the package's code: the templates and catalogs
REPORT_WORDS = ["report/templates/page.html.j2", "report/templates/macros.html.j2", "report/templates/style.css",
                "report/templates/pretraining.html.j2",
                *(f"report/locales/{kind}.{language}.yaml" for language in TRANSLATED for kind in ("messages", "chapter", "generated"))]


rule collect:
    input:
        metrics=[*TRAINED, *FINAL],
        code=code("overfit.jobs.report:collect"),
    output:
        metrics="results/metrics.parquet",
        scores=report("results/test_scores.csv", caption="../report/test_scores.rst", category="3. Tables"),
    log:
        "logs/collect.log",
    benchmark:
        "results/benchmarks/report/collect.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_TABLES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/collect.py"


rule claims:
    input:
        unpack(claims_studies),
        metrics="results/metrics.parquet",
        scores="results/test_scores.csv",
        code=code("overfit.jobs.report:claims", BOOK_HISTORIES),
        # `make seed-check`'s table, where one was made: its verdicts go beside these (same code and config only)
        seed_1=lambda w: [SEED_1_CLAIMS] if os.path.exists(SEED_1_CLAIMS) else [],
    output:
        table=report("results/claims.csv", caption="../report/claims.rst", category="3. Tables"),
        provenance="results/claims_provenance.json",
    params:
        config=report_config(),
        chapter=CHAPTER,
        # the whole config: its digests make a claims table comparable only with one of the same config
        whole_config=config,
    log:
        "logs/claims.log",
    benchmark:
        "results/benchmarks/report/claims.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_TABLES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/claims.py"


rule movie_leak:
    input:
        metrics="results/metrics.parquet",
        scores="results/test_scores.csv",
        code=code("overfit.jobs.report:movie_leak"),
    output:
        report("results/movie_leak.csv", caption="../report/movie_leak.rst", category="3. Tables"),
    params:
        config=report_config(),
    log:
        "logs/movie_leak.log",
    benchmark:
        "results/benchmarks/report/movie_leak.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_TABLES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/movie_leak.py"


rule sweeps:
    input:
        metrics="results/metrics.parquet",
        code=code("overfit.jobs.report:sweeps"),
    output:
        report("results/sweeps.csv", caption="../report/sweeps.rst", category="3. Tables"),
    params:
        config=report_config(),
    log:
        "logs/sweeps.log",
    benchmark:
        "results/benchmarks/report/sweeps.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_TABLES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/sweeps.py"


rule protocol_audit:
    input:
        metrics="results/metrics.parquet",
        # what each protocol's training of the reference model cost
        benchmarks=list(AUDIT_JOBS),
        code=code("overfit.jobs.report:protocol_audit"),
    output:
        report("results/protocol_audit.csv", caption="../report/protocol_audit.rst", category="5. Evaluation protocols, measured"),
    params:
        config=report_config(),
        shared_by=list(AUDIT_JOBS.values()),
    log:
        "logs/protocol_audit.log",
    benchmark:
        "results/benchmarks/report/protocol_audit.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_TABLES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/protocol_audit.py"


rule tuning_leak:
    input:
        metrics="results/metrics.parquet",
        code=code("overfit.jobs.report:tuning_leak"),
    output:
        report("results/tuning_leak.csv", caption="../report/tuning_leak.rst", category="5. Evaluation protocols, measured"),
    params:
        config=report_config(),
    log:
        "logs/tuning_leak.log",
    benchmark:
        "results/benchmarks/report/tuning_leak.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_TABLES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/tuning_leak.py"


rule figure:
    input:
        metrics="results/metrics.parquet",
        # a sweep's, the audit's and the tuning leak's figures draw their tables
        table=lambda w: [TABLES[FIGURES[w.figure].kind]] if FIGURES[w.figure].kind in TABLES else [],
        code=code("overfit.jobs.report:figure", BOOK_HISTORIES),
    output:
        report("results/figures/{figure}.png", caption="../report/figure.rst", category=lambda w: FIGURES[w.figure].category),
    params:
        spec=lambda w: FIGURES[w.figure].__dict__,
    # the catalog's figures only: a study's own figure (pretraining) and another language's have rules of their own
    wildcard_constraints:
        figure="|".join(FIGURES),
    log:
        "logs/figure/{figure}.log",
    benchmark:
        "results/benchmarks/report/figure/{figure}.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_FIGURES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/figure.py"


rule figures_in_language:
    input:
        metrics="results/metrics.parquet",
        tables=sorted({TABLES[spec.kind] for spec in FIGURES.values() if spec.kind in TABLES}),
        code=code("overfit.jobs.report:figures_in_language", BOOK_HISTORIES,
                  *(f"report/locales/messages.{language}.yaml" for language in TRANSLATED)),
    output:
        expand("results/figures/{{language}}/{figure}.png", figure=FIGURES),
    params:
        specs=lambda w: [FIGURES_IN[w.language][name].__dict__ for name in FIGURES],
    wildcard_constraints:
        language="|".join(TRANSLATED) or "(?!)",  # (no other language: the rule matches nothing)
    log:
        "logs/figures_in_language/{language}.log",
    benchmark:
        "results/benchmarks/report/figures_in_language/{language}.tsv"
    resources:
        mem_mb=2000,
        runtime=20,
    group: GROUP_FIGURES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/figures_in_language.py"


rule report:
    input:
        claims="results/claims.csv",
        scores="results/test_scores.csv",
        leak="results/movie_leak.csv",
        sweeps="results/sweeps.csv",
        audit="results/protocol_audit.csv",
        tuning="results/tuning_leak.csv",
        duplicates="results/duplicates.csv",
        duplicate_leak=["results/duplicate_leak.csv"] if "duplicate_leak" in config else [],
        recipe=["results/recipe.csv"] if "recipe" in config else [],
        last_layer=["results/last_layer.csv"] if "recipe" in config else [],
        threshold=["results/recipe_threshold.csv"] if THRESHOLD_TASKS else [],
        images=["results/images.csv"] if "images" in config else [],
        clock=["results/clock.csv"] if "clock" in config else [],
        pretraining=["results/pretraining.csv"] if "pretraining" in config else [],
        pretraining_figures=[i18n.figure_path(language, "pretraining") for language in REPORT_LANGUAGES]
        if "pretraining" in config else [],
        metrics="results/metrics.parquet",
        manifest="results/data/imdb/manifest.json",
        figures=[i18n.figure_path(language, name) for language in REPORT_LANGUAGES for name in FIGURES],
        # every job's time, the figures of the other languages' job included
        benchmarks=[*JOB_BENCHMARKS, *(f"results/benchmarks/report/figures_in_language/{lang}.tsv" for lang in TRANSLATED)],
        code=code("overfit.jobs.report:report", *REPORT_WORDS),
    output:
        [i18n.page_path(REPORT_LANGUAGES, language) for language in REPORT_LANGUAGES],
    params:
        # each page's figures, by language, in the order of the outputs
        figures={language: [spec.__dict__ for spec in specs.values()] for language, specs in FIGURES_IN.items()},
        # the chapter's claim rows, whose words a page in another language shows translated (none for English alone)
        chapter=CHAPTER if TRANSLATED else None,
        config=config,
        # the commit the results come from: a new commit redraws the report only
        code_version=CODE_VERSION,
    log:
        "logs/report.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/report.py"
