# Training: one job per stack of narrow experiments, or per (part of a) wide experiment, under each protocol
# (overfit.grid.training_jobs); each writes its models' rows, labeled by experiment. Calls overfit.jobs.train.


rule train:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        folds="results/data/folds/{protocol}/folds.npz",
        code=code("overfit.jobs.train:train"),
    output:
        "results/metrics/{protocol}/{job}.parquet",
    params:
        # the entries of its experiments and protocol: editing one reruns exactly the jobs that train it
        config=lambda w: job_config(TRAINING[w.protocol, w.job]["experiments"], w.protocol),
        experiments=lambda w: TRAINING[w.protocol, w.job]["experiments"],
        runs=lambda w: TRAINING[w.protocol, w.job]["runs"],
    log:
        "logs/train/{protocol}/{job}.log",
    benchmark:
        "results/benchmarks/train/{protocol}/{job}.tsv"
    threads: lambda w: WIDE_THREADS if training_is_wide(w.protocol, w.job) else 1
    # longest first, so that the width-1024 K-fold job does not start last
    priority: lambda w: training_runtime_min(w.protocol, w.job)
    resources:
        mem_mb=lambda w: training_mem_mb(w.protocol, w.job),
        runtime=lambda w: training_runtime_min(w.protocol, w.job),
        # wide models are bound by this machine's matmul throughput, which two of
        # them only share; the default profile lets one run at a time
        wide_model=lambda w: training_is_wide(w.protocol, w.job),
    group: training_group
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/train.py"
