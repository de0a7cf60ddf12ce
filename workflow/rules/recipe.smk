# The universal workflow (section 4.5): the book's recipe run step by step on each task of `recipe:` in the config.
# Each step is a job that reads the step before's decision (its table's chosen row) and writes its own, with the
# evidence, to results/recipe/{task}/. Only recipe_final is given the test split. Calls overfit.jobs.recipe.


wildcard_constraints:
    task="|".join(RECIPE_TASKS) or "no-task",


rule recipe_problem:
    input:
        train="results/data/imdb/train.npz",
        code=code("overfit.jobs.recipe:problem"),
    output:
        RECIPE_TABLES["problem"],
    params:
        config=recipe_config(),
    log:
        "logs/recipe/{task}/problem.log",
    benchmark:
        "results/benchmarks/recipe/{task}/problem.tsv"
    resources:
        mem_mb=1000,
        runtime=5,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_problem.py"


rule recipe_protocol:
    input:
        train="results/data/imdb/train.npz",
        problem=RECIPE_TABLES["problem"],
        code=code("overfit.jobs.recipe:protocol"),
    output:
        table=RECIPE_TABLES["protocol"],
        folds=f"{RECIPE}folds/folds.npz",
        manifest=f"{RECIPE}folds/manifest.json",
    params:
        config=recipe_config(),
    log:
        "logs/recipe/{task}/protocol.log",
    benchmark:
        "results/benchmarks/recipe/{task}/protocol.tsv"
    resources:
        mem_mb=1000,
        runtime=5,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_protocol.py"


rule recipe_baselines:
    input:
        train="results/data/imdb/train.npz",
        problem=RECIPE_TABLES["problem"],
        protocol=RECIPE_TABLES["protocol"],
        folds=f"{RECIPE}folds/folds.npz",
        code=code("overfit.jobs.recipe:baselines"),
    output:
        RECIPE_TABLES["baselines"],
    params:
        config=recipe_config(),
    log:
        "logs/recipe/{task}/baselines.log",
    benchmark:
        "results/benchmarks/recipe/{task}/baselines.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_baselines.py"


rule recipe_power:
    input:
        train="results/data/imdb/train.npz",
        problem=RECIPE_TABLES["problem"],
        folds=f"{RECIPE}folds/folds.npz",
        baselines=RECIPE_TABLES["baselines"],
        code=code("overfit.jobs.recipe:power"),
    output:
        table=RECIPE_TABLES["power"],
        curves=f"{RECIPE}4_power.parquet",
    params:
        config=recipe_config(),
    log:
        "logs/recipe/{task}/power.log",
    benchmark:
        "results/benchmarks/recipe/{task}/power.tsv"
    resources:
        mem_mb=3000,
        runtime=15,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_power.py"


rule recipe_scale_up:
    input:
        train="results/data/imdb/train.npz",
        folds=f"{RECIPE}folds/folds.npz",
        power=RECIPE_TABLES["power"],
        code=code("overfit.jobs.recipe:scale_up"),
    output:
        table=RECIPE_TABLES["scale_up"],
        curves=f"{RECIPE}5_scale_up.parquet",
    params:
        config=recipe_config(),
    log:
        "logs/recipe/{task}/scale_up.log",
    benchmark:
        "results/benchmarks/recipe/{task}/scale_up.tsv"
    resources:
        mem_mb=3000,
        runtime=15,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_scale_up.py"


rule recipe_tune:
    input:
        train="results/data/imdb/train.npz",
        problem=RECIPE_TABLES["problem"],
        folds=f"{RECIPE}folds/folds.npz",
        scale_up=RECIPE_TABLES["scale_up"],
        code=code("overfit.jobs.recipe:tune"),
    output:
        table=RECIPE_TABLES["tune"],
        curves=f"{RECIPE}6_tune.parquet",
    params:
        config=recipe_config(),
    log:
        "logs/recipe/{task}/tune.log",
    benchmark:
        "results/benchmarks/recipe/{task}/tune.tsv"
    resources:
        mem_mb=3000,
        runtime=15,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_tune.py"


# the only step given the test split
rule recipe_final:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        problem=RECIPE_TABLES["problem"],
        tune=RECIPE_TABLES["tune"],
        code=code("overfit.jobs.recipe:final"),
    output:
        table=RECIPE_TABLES["final"],
        curves=f"{RECIPE}7_final.parquet",
    params:
        config=recipe_config(),
    log:
        "logs/recipe/{task}/final.log",
    benchmark:
        "results/benchmarks/recipe/{task}/final.tsv"
    resources:
        mem_mb=3000,
        runtime=10,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_final.py"


# an imbalanced task's threshold, tuned on validation data: step 6's model and logistic regression, plain and
# class-weighted, predicted out of fold on step 2's folds
rule recipe_threshold:
    input:
        train="results/data/imdb/train.npz",
        folds=f"{RECIPE}folds/folds.npz",
        tune=RECIPE_TABLES["tune"],
        code=code("overfit.jobs.recipe:threshold"),
    output:
        f"{RECIPE}threshold.parquet",
    params:
        config=recipe_config(),
    log:
        "logs/recipe/{task}/threshold.log",
    benchmark:
        "results/benchmarks/recipe/{task}/threshold.tsv"
    resources:
        mem_mb=3000,
        runtime=15,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_threshold.py"


# every imbalanced task's out-of-fold predictions in one table (the figure's) and each run's scores (the claims')
rule recipe_threshold_collect:
    input:
        tables=expand(f"{RECIPE}threshold.parquet", task=THRESHOLD_TASKS),
        code=code("overfit.jobs.recipe:collect_threshold"),
    output:
        predictions=report("results/recipe_threshold.parquet", caption="../report/recipe_threshold.rst",
                           category="6. The universal workflow"),
        scores="results/recipe_threshold.csv",
        curves="results/recipe_threshold_curves.csv",
    log:
        "logs/recipe/collect_threshold.log",
    localrule: True
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_threshold_collect.py"


# every task's decisions in one table, what the report and the figures read
rule recipe:
    input:
        tables=expand(list(RECIPE_TABLES.values()), task=RECIPE_TASKS),
        code=code("overfit.jobs.recipe:collect"),
    output:
        report("results/recipe.csv", caption="../report/recipe.rst", category="6. The universal workflow"),
    log:
        "logs/recipe/collect.log",
    localrule: True
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_collect.py"


# the book's table of last-layer activations and losses, run: each problem type, recommended against wrong
rule recipe_last_layer:
    input:
        imdb="results/data/imdb/train.npz",
        fashion_mnist="results/data/fashion_mnist/train.npz",
        code=code("overfit.jobs.recipe:last_layer"),
    output:
        report("results/last_layer.csv", caption="../report/last_layer.rst", category="6. The universal workflow"),
    params:
        config=recipe_config(),
    log:
        "logs/recipe/last_layer.log",
    benchmark:
        "results/benchmarks/recipe/last_layer.tsv"
    resources:
        mem_mb=3000,
        runtime=10,
    group: GROUP_RECIPE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/recipe_last_layer.py"
