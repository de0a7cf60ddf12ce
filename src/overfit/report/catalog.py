"""Which figures the report draws, as data (no plotting imports: Snakemake reads this to name outputs)."""

from __future__ import annotations

from dataclasses import dataclass

REFERENCE = "original"  # every comparison is "the reference model vs another"


@dataclass(frozen=True)
class FigureSpec:
    name: str
    category: str  # the `snakemake --report` category
    title: str
    protocol: str
    experiments: tuple[str, ...]
    split: str  # "train" or "validation"
    metric: str  # "loss" or "acc"
    book: bool  # overlay the book's recorded curves (section 4.4 / 3.5)
    caption: str


# The book's own figures (1st edition, 4.4), regenerated on its protocol.
BOOK_4_4 = [
    ("smaller", "validation", "Original vs smaller: validation loss (book fig. 4.4)"),
    ("bigger", "validation", "Original vs bigger: validation loss (book fig. 4.5)"),
    ("bigger", "train", "Original vs bigger: training loss (book fig. 4.6)"),
    ("l2", "validation", "Original vs L2-regularized: validation loss (book fig. 4.7)"),
    ("dropout", "validation", "Original vs dropout: validation loss (book fig. 4.8)"),
]


def figure_specs(experiments: list[str], protocols: list[str], folded_protocol: str) -> list[FigureSpec]:
    specs = []
    if "holdout" in protocols and REFERENCE in experiments:
        for metric, word in (("loss", "loss"), ("acc", "accuracy")):
            specs.append(FigureSpec(
                f"book_3_5_{word}", "1. The book's figures", f"Training and validation {word} (book section 3.5)",
                "holdout", (REFERENCE,), "both", metric, True,
                f"16-16-1 on the 3.5 hold-out: training {word} (dots) and validation {word} (line), ours vs the book's notebook (grey)."))
    if "book" in protocols and REFERENCE in experiments:
        for other, split, title in BOOK_4_4:
            if other in experiments:
                specs.append(FigureSpec(
                    f"book_4_4_{other}_{split}", "1. The book's figures", title, "book", (REFERENCE, other), split, "loss", True,
                    f"{title}: our single run (seed 0) on the book's protocol, crosses = original, dots = {other}; "
                    "grey: the book's notebook run."))
    if folded_protocol in protocols and REFERENCE in experiments:
        for other in experiments:
            if other == REFERENCE:
                continue
            specs.append(FigureSpec(
                f"kfold_{other}_validation", "2. Folded comparisons", f"Original vs {other}: validation loss, {folded_protocol}",
                folded_protocol, (REFERENCE, other), "validation", "loss", False,
                f"Validation loss of original and {other}, mean over all folds and repeats of {folded_protocol} "
                "with a 95% confidence band."))
        for other in ("bigger", "bigger_1024"):
            if other in experiments:
                specs.append(FigureSpec(
                    f"kfold_{other}_train", "2. Folded comparisons", f"Original vs {other}: training loss, {folded_protocol}",
                    folded_protocol, (REFERENCE, other), "train", "loss", False,
                    f"Training loss of original and {other}, mean over folds and repeats with a 95% band."))
    return specs
