"""overfit: a reproducible re-run of chapter 4 of *Deep Learning with Python*."""

__version__ = "0.1.0"
