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


def folds(job) -> None:
    """A protocol's folds, drawn once: every training job of the protocol reads them."""
    from overfit.data import imdb
    from overfit.protocols import protocol_folds, save_folds

    train, test = imdb.load_split(job.input.train), imdb.load_split(job.input.test)
    folds = protocol_folds(job.params.config, job.wildcards.protocol, len(train), len(test), train.movie_id,
                           train.label)
    save_folds(folds, job.output.folds)
    log.info("%s: %d folds, %s training and %s validation rows each", job.wildcards.protocol, len(folds),
             sorted({len(f.train_rows) for f in folds}), sorted({len(f.validation_rows) for f in folds}))


def duplicates(job) -> None:
    """Duplicate and near-duplicate reviews within and across IMDB's splits (section 4.2's redundancy)."""
    from overfit.data import imdb
    from overfit.data.duplicates import find_pairs, summary
    from overfit.files import atomic_path

    train, test = imdb.load_split(job.input.train), imdb.load_split(job.input.test)
    pairs = find_pairs(train, test, job.params.num_words)
    table = summary(pairs, len(train), len(test))
    with atomic_path(job.output.pairs) as partial:
        pairs.to_parquet(partial, index=False)
    with atomic_path(job.output.summary) as partial:
        table.to_csv(partial, index=False, float_format="%.6g")
    log.info("duplicates:\n%s", table.to_string(index=False))


def prepare_clock(job) -> None:
    """The clock faces of section 4.3, generated from the config's seed (nothing to download)."""
    from overfit.data import clock

    settings = job.params.config["clock"]
    summary = clock.prepare(job.output.faces, settings["faces"], job.params.config["seed"])
    log.info("clock faces: %s", summary)
