# Experiments on images (the 2nd edition's and section 4.3's value normalization and missing values) and the
# clock of section 4.3's feature engineering, on the dense engine path. Calls overfit.jobs.images.


wildcard_constraints:
    study="|".join(IMAGE_STUDIES) or "no-study",


# the clock faces, generated (the data stage: nothing to download)
rule prepare_clock:
    input:
        code=code("overfit.jobs.data:prepare_clock"),
    output:
        faces="results/data/clock/faces.npz",
        manifest="results/data/clock/manifest.json",
    params:
        config=clock_config(faces_only=True),
    log:
        "logs/prepare_clock.log",
    benchmark:
        "results/benchmarks/data/prepare_clock.tsv"
    resources:
        mem_mb=2000,
        runtime=5,
    group: GROUP_PREPARE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/prepare_clock.py"


# one study of `images:`, every arm over the seeds
rule image_study:
    input:
        images=image_study_input,
        code=code("overfit.jobs.images:study"),
    output:
        table="results/images/{study}.csv",
        # the last epoch's class scores on each evaluation set: the table's losses can be checked against them
        predictions="results/images/{study}_predictions.npz",
    params:
        config=image_study_config,
    log:
        "logs/images/{study}.log",
    benchmark:
        "results/benchmarks/images/{study}.tsv"
    # the longest jobs first, as training's (train.smk): an image study is among the longest of the run
    priority: lambda w: resources.image_study_runtime_minutes(config["images"], w.study)
    resources:
        mem_mb=3000,
        runtime=lambda w: resources.image_study_runtime_minutes(config["images"], w.study),
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/image_study.py"


rule images:
    input:
        tables=expand("results/images/{study}.csv", study=IMAGE_STUDIES),
        code=code("overfit.jobs.images:collect"),
    output:
        report("results/images.csv", caption="../report/images.rst", category="7. Preparing the data"),
    log:
        "logs/images/collect.log",
    localrule: True
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/images_collect.py"


# the same faces in four representations: reading error against training faces and compute
rule clock:
    input:
        faces="results/data/clock/faces.npz",
        code=code("overfit.jobs.images:clock"),
    output:
        report("results/clock.csv", caption="../report/clock.rst", category="7. Preparing the data"),
    params:
        config=clock_config(),
    log:
        "logs/clock.log",
    benchmark:
        "results/benchmarks/clock.tsv"
    resources:
        mem_mb=3000,
        runtime=10,
    group: GROUP_SMALL
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/clock.py"
