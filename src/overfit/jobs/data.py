"""Jobs of the data stage."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("overfit")


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
