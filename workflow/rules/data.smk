# Data stage: fetch (mirror or official URL) and verify, then prepare; each protocol's folds, drawn once.
# Each job that prepares files writes, last, its folder's manifest.json: their digests, verified on every load.
# Calls overfit.data and overfit.protocols.


rule fetch_imdb:
    input:
        code=code("overfit.jobs.data:fetch_imdb"),
    output:
        "resources/aclImdb_v1.tar.gz",
    params:
        data=config["data"],
    log:
        "logs/fetch_imdb.log",
    localrule: True
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/fetch_imdb.py"


rule prepare_imdb:
    input:
        archive="resources/aclImdb_v1.tar.gz",
        code=code("overfit.jobs.data:prepare_imdb"),
    output:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        vocabulary="results/data/imdb/vocabulary.tsv",
        manifest="results/data/imdb/manifest.json",
    params:
        data=config["data"],
    log:
        "logs/prepare_imdb.log",
    benchmark:
        "results/benchmarks/data/prepare_imdb.tsv"
    priority: UNBLOCKS
    resources:
        mem_mb=3000,
        runtime=10,
    group: GROUP_PREPARE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/prepare_imdb.py"


rule folds:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        code=code("overfit.jobs.data:folds"),
    output:
        folds="results/data/folds/{protocol}/folds.npz",
        manifest="results/data/folds/{protocol}/manifest.json",
    params:
        config=lambda w: {"seed": config["seed"], "protocols": {w.protocol: config["protocols"][w.protocol]}},
    log:
        "logs/folds/{protocol}.log",
    benchmark:
        "results/benchmarks/data/folds/{protocol}.tsv"
    priority: UNBLOCKS
    resources:
        mem_mb=1000,
        runtime=5,
    group: GROUP_PREPARE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/folds.py"


rule fetch_fashion_mnist:
    input:
        code=code("overfit.jobs.data:fetch_fashion_mnist"),
    output:
        "resources/fashion_mnist/{name}.gz",
    params:
        data=config["data"],
        name="{name}",
    log:
        "logs/fetch_fashion_mnist/{name}.log",
    localrule: True
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/fetch_fashion_mnist.py"


rule prepare_fashion_mnist:
    input:
        files=expand("resources/fashion_mnist/{name}.gz", name=FASHION_MNIST_FILES),
        code=code("overfit.jobs.data:prepare_fashion_mnist"),
    output:
        train="results/data/fashion_mnist/train.npz",
        test="results/data/fashion_mnist/test.npz",
        manifest="results/data/fashion_mnist/manifest.json",
    params:
        data=config["data"],
    log:
        "logs/prepare_fashion_mnist.log",
    benchmark:
        "results/benchmarks/data/prepare_fashion_mnist.tsv"
    priority: UNBLOCKS
    resources:
        mem_mb=1000,
        runtime=10,
    group: GROUP_PREPARE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/prepare_fashion_mnist.py"


rule duplicates:
    input:
        train="results/data/imdb/train.npz",
        test="results/data/imdb/test.npz",
        code=code("overfit.jobs.data:duplicates"),
    output:
        pairs="results/data/imdb/duplicate_pairs.parquet",
        summary=report("results/duplicates.csv", caption="../report/duplicates.rst", category="5. Evaluation protocols, measured"),
    params:
        num_words=config["data"]["imdb"]["num_words"],
    log:
        "logs/duplicates.log",
    benchmark:
        "results/benchmarks/data/duplicates.tsv"
    resources:
        mem_mb=2000,
        runtime=5,
    group: GROUP_PREPARE
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/duplicates.py"
