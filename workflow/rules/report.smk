# Report: tidy tables, claims with verdicts, the movie leak, the figures, one self-contained HTML page. Calls overfit.report.


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


rule report:
    input:
        claims="results/claims.csv",
        scores="results/test_scores.csv",
        leak="results/movie_leak.csv",
        sweeps="results/sweeps.csv",
        audit="results/protocol_audit.csv",
        tuning="results/tuning_leak.csv",
        duplicates="results/duplicates.csv",
        recipe=["results/recipe.csv"] if "recipe" in config else [],
        last_layer=["results/last_layer.csv"] if "recipe" in config else [],
        images=["results/images.csv"] if "images" in config else [],
        clock=["results/clock.csv"] if "clock" in config else [],
        metrics="results/metrics.parquet",
        manifest="results/data/imdb/manifest.json",
        figures=expand("results/figures/{figure}.png", figure=FIGURES),
        benchmarks=JOB_BENCHMARKS,
        code=code("overfit.jobs.report:report"),
    output:
        "results/report.html",
    params:
        figures=[spec.__dict__ for spec in FIGURES.values()],
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
