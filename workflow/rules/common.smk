# Targets and small helpers shared by the rules; no logic beyond naming files.
from pathlib import Path

PACKAGE = Path(workflow.basedir) / "src" / "overfit"
FASHION_MNIST_FILES = sorted(config["data"]["fashion_mnist"]["files"])


wildcard_constraints:
    name="|".join(FASHION_MNIST_FILES),


def package_code(*parts):
    """The package's source files a job depends on, so that editing them reruns it."""
    files = [PACKAGE / name for name in ("__init__.py", "errors.py", "files.py", "jobs.py")]
    for part in parts:
        path = PACKAGE / part
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [str(f) for f in files]


IMDB_PREPARED = multiext("results/data/imdb/", "train.npz", "test.npz", "vocabulary.tsv", "manifest.json")
FASHION_MNIST_PREPARED = ["results/data/fashion_mnist/train.npz", "results/data/fashion_mnist/test.npz"]


def all_targets():
    return [*IMDB_PREPARED, *FASHION_MNIST_PREPARED]
