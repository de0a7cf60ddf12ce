"""What each Snakemake job does: read the job's inputs and params, call the library, write outputs.

Each function takes the ``snakemake`` object a rule's script receives (any
object with ``input``, ``output``, ``params``, ``threads``, ``log``), so the
rules stay declarations and the tests can call a job without Snakemake.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from overfit.errors import OverfitError

log = logging.getLogger("overfit")


def run(job, task) -> None:
    """Run ``task(job)`` with logging to the job's log file and stderr; exit 1 on a user error."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if getattr(job, "log", None):
        Path(job.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(job.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", handlers=handlers, force=True)
    try:
        task(job)
    except OverfitError as exc:
        log.error("ERROR: %s", exc)
        sys.exit(1)


def fetch_imdb(job) -> None:
    from overfit.data import catalog, sources

    sources.fetch(catalog.imdb_source(job.params.data), job.output[0])


def fetch_fashion_mnist(job) -> None:
    from overfit.data import catalog, sources

    sources.fetch(catalog.fashion_mnist_source(job.params.data, job.params.name), job.output[0])


def prepare_imdb(job) -> None:
    from overfit.data import catalog, imdb

    data = job.params.data
    imdb.prepare(
        job.input.archive,
        Path(job.output.train).parent,
        expected_digest=data["imdb"]["reviews_sha256"],
        encoding=catalog.imdb_encoding(data),
        order_seed=data["imdb"]["order_seed"],
    )


def prepare_fashion_mnist(job) -> None:
    from overfit.data import catalog, fashion_mnist

    summary = fashion_mnist.prepare(
        Path(job.input.files[0]).parent, Path(job.output.train).parent, catalog.fashion_mnist_content_sha256(job.params.data)
    )
    log.info("Fashion-MNIST prepared: %s", summary)
