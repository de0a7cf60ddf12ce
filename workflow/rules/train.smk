# Training: one job per (experiment, protocol), all its folds trained inside. Calls overfit.jobs.train.


rule train:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        code=code("overfit.jobs.train:train"),
    output:
        "results/metrics/{experiment}/{protocol}.parquet",
    params:
        # the whole experiment and protocol entries: editing one reruns exactly its jobs
        config=lambda w: job_config(w.experiment, w.protocol),
    log:
        "logs/train/{experiment}/{protocol}.log",
    benchmark:
        "results/benchmarks/train/{experiment}/{protocol}.tsv"
    threads: 1
    # longest first, so that the width-1024 K-fold job does not start last
    priority: lambda w: train_runtime_min(w.experiment, w.protocol)
    resources:
        mem_mb=lambda w: train_mem_mb(w.experiment),
        runtime=lambda w: train_runtime_min(w.experiment, w.protocol),
        # wide models are bound by this machine's matmul throughput, which two of
        # them only share; the default profile lets one run at a time
        wide_model=lambda w: wide_model(w.experiment),
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/train.py"
