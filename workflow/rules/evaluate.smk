# Final evaluation: choose epochs on the folded curves (final.choose_epochs_on), retrain on all training reviews, test once.


rule final_fit:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        curves=lambda w: curves_of(w.experiment),
        code=code("overfit.jobs.train:final_fit"),
    output:
        "results/final/{experiment}.parquet",
    params:
        config=lambda w: job_config([w.experiment], None),
        experiment="{experiment}",
        fit="final",
        epochs=None,
    log:
        "logs/final_fit/{experiment}.log",
    benchmark:
        "results/benchmarks/final_fit/{experiment}.tsv"
    threads: lambda w: WIDE_THREADS if wide_model(w.experiment) else 1
    resources:
        mem_mb=lambda w: train_mem_mb(w.experiment),
        runtime=lambda w: final_runtime_min(w.experiment),
        wide_model=lambda w: wide_model(w.experiment),
    group: final_fit_group
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/final_fit.py"


rule book_3_5_check:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        code=code("overfit.jobs.train:final_fit"),
    output:
        "results/final/book_3_5.parquet",
    params:
        config=lambda w: job_config([config["final"]["book_3_5"]["experiment"]], None),
        experiment=config["final"]["book_3_5"]["experiment"],
        fit="book_3_5",
        epochs=config["final"]["book_3_5"]["epochs"],
    log:
        "logs/final_fit/book_3_5.log",
    benchmark:
        "results/benchmarks/final_fit/book_3_5.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    group: GROUP_SMALL
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/final_fit.py"


# Redundancy across the split, measured (config `duplicate_leak:`): the reference model with and without the training
# reviews that have a duplicate in the test set, scored on those test reviews and on the whole test set.
rule duplicate_leak:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        pairs="results/data/imdb/duplicate_pairs.parquet",
        code=code("overfit.jobs.train:duplicate_leak"),
    output:
        report("results/duplicate_leak.csv", caption="../report/duplicate_leak.rst", category="5. Evaluation protocols, measured"),
    params:
        config=lambda w: {**job_config([config["duplicate_leak"]["experiment"]], None),
                          "duplicate_leak": config["duplicate_leak"]},
    log:
        "logs/duplicate_leak.log",
    benchmark:
        "results/benchmarks/duplicate_leak.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    group: GROUP_SMALL
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/duplicate_leak.py"
