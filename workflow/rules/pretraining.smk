# Section 4.1 measured: self-supervised and unsupervised pretraining with few labels, against training from scratch
# (overfit.studies.pretraining). Calls overfit.jobs.pretraining.


# its figure is drawn by its own rule, not by the catalog's `figure` rule (whose {figure} would match its name)
ruleorder: pretraining_figure > figure


# the folds, then the test set once; one job (a fold's pretraining serves all its labeled sizes)
rule pretraining:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        folds=lambda w: f"results/data/folds/{config['pretraining']['protocol']}/folds.npz",
        code=code("overfit.jobs.pretraining:study"),
    output:
        report("results/pretraining.csv", caption="../report/pretraining.rst", category="8. Branches of machine learning"),
    params:
        config=pretraining_config(),
    log:
        "logs/pretraining.log",
    benchmark:
        "results/benchmarks/pretraining.tsv"
    resources:
        mem_mb=3000,
        runtime=10,
    group: GROUP_SMALL
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/pretraining.py"


rule pretraining_figure:
    input:
        table="results/pretraining.csv",
        code=code("overfit.jobs.pretraining:figure", *(f"report/locales/messages.{language}.yaml" for language in TRANSLATED)),
    output:
        report("results/figures/pretraining.png", caption="../report/pretraining_figure.rst",
               category="8. Branches of machine learning"),
        # the same figure in the report's other languages (config report.language)
        [i18n.figure_path(language, "pretraining") for language in TRANSLATED],
    params:
        languages=[i18n.SOURCE, *TRANSLATED],
    log:
        "logs/figure/pretraining.log",
    benchmark:
        "results/benchmarks/report/figure/pretraining.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_FIGURES
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/pretraining_figure.py"
