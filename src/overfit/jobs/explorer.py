"""Job of the run explorer: results/explorer.html beside the report (overfit.report.explorer)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("overfit")


def explorer(job) -> None:
    """The packed curves, the claims' runs and the plotting library in one page; its size is logged, since the
    page must stay light enough to open and mail (overfit.report.explorer.LIMIT_MB)."""
    import pandas as pd

    from overfit.files import atomic_path
    from overfit.report.explorer import LIMIT_MB, page

    images = pd.read_csv(job.input.images[0]) if getattr(job.input, "images", None) else None
    text = page(pd.read_parquet(job.input.metrics), pd.read_csv(job.input.claims), job.params.config,
                job.params.chapter, images)
    with atomic_path(job.output[0]) as partial:
        partial.write_text(text, encoding="utf-8")
    size = Path(job.output[0]).stat().st_size / 1e6
    log.info("explorer written: %s (%.2f MB)", Path(job.output[0]).resolve(), size)
    if size > LIMIT_MB:
        log.warning("the explorer is %.1f MB, over the %d MB it should stay under: fewer runs or digits "
                    "(overfit.report.explorer.DIGITS)", size, LIMIT_MB)
