"""Time the IMDB and Fashion-MNIST preparation on the real data (target: under 60 s on 2 cores).

    OVERFIT_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/data_stage.py

Fetches into a temporary folder (from the mirror or the official URL), then
times each preparation step on its own. Prints seconds; writes nothing in the project.
"""

import tempfile
import time
from pathlib import Path

import yaml

from overfit.data import catalog, fashion_mnist, imdb, sources

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    data = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["data"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        timings = {}
        start = time.perf_counter()
        archive = sources.fetch(catalog.imdb_source(data), tmp / catalog.IMDB_ARCHIVE)
        timings["fetch + verify IMDB archive"] = time.perf_counter() - start
        start = time.perf_counter()
        manifest = imdb.prepare(archive, tmp / "imdb", data["imdb"]["reviews_sha256"], catalog.imdb_encoding(data), data["imdb"]["order_seed"])
        timings["prepare IMDB (read, digest, tokenize, vectorize)"] = time.perf_counter() - start
        start = time.perf_counter()
        for name in data["fashion_mnist"]["files"]:
            sources.fetch(catalog.fashion_mnist_source(data, name), tmp / "fm" / f"{name}.gz")
        fashion_mnist.prepare(tmp / "fm", tmp / "fm_out", catalog.fashion_mnist_content_sha256(data))
        timings["fetch + prepare Fashion-MNIST"] = time.perf_counter() - start
    for step, seconds in timings.items():
        print(f"{step:55s} {seconds:6.1f} s")
    print(f"{'data stage total':55s} {sum(timings.values()):6.1f} s   (target < 60 s)")
    print(f"IMDB: {manifest['splits']}, vocabulary {manifest['vocabulary_size']} words")


if __name__ == "__main__":
    main()
