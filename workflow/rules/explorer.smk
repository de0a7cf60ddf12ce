# The run explorer: every curve and each claim's runs in one self-contained page beside the report.
# Calls overfit.jobs.explorer.


rule explorer:
    input:
        metrics="results/metrics.parquet",
        claims="results/claims.csv",
        images=["results/images.csv"] if "images" in config else [],
        code=code("overfit.jobs.explorer:explorer", "report/explorer/page.html", "report/explorer/uPlot.iife.min.js",
                  "report/explorer/uPlot.min.css"),
    output:
        "results/explorer.html",
    params:
        config=report_config(),
        chapter=CHAPTER,
    log:
        "logs/explorer.log",
    benchmark:
        "results/benchmarks/report/explorer.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/overfit.yaml"
    script:
        "../scripts/explorer.py"
