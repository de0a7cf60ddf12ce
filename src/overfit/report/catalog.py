"""Which figures the report draws, as data (no plotting imports: Snakemake reads this to name outputs).

Every figure is named from the config's roles (overfit.chapter), never from
experiment names written here, so a renamed experiment keeps its figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from overfit.chapter import by_capacity
from overfit.grid import protocol_experiments


@dataclass(frozen=True)
class FigureSpec:
    name: str
    category: str  # the `snakemake --report` category and the report's section
    title: str
    kind: str  # "book_3_5", "book_4_4", "folded" or "movie_leak": how figures.draw draws it
    protocol: str
    experiments: tuple[str, ...]
    split: str  # "train", "validation" or "both"
    metric: str  # "loss" or "acc"
    caption: str
    protocols: tuple[str, ...] = ()  # movie_leak: random folds, grouped folds, the test-set protocol
    book: tuple[tuple[str, str], ...] = ()  # (experiment, its name in the book's recorded runs): the grey overlay


BOOK = "1. The book's figures"
FOLDED = "2. Folded comparisons"
LEAK = "3. The movie leak"

# The book's own figures (1st edition, 4.4): (role of the other model, split, title).
BOOK_4_4 = [
    ("smaller", "validation", "Original vs smaller: validation loss (book fig. 4.4)"),
    ("bigger", "validation", "Original vs bigger: validation loss (book fig. 4.5)"),
    ("bigger", "train", "Original vs bigger: training loss (book fig. 4.6)"),
    ("l2", "validation", "Original vs L2-regularized: validation loss (book fig. 4.7)"),
    ("dropout", "validation", "Original vs dropout: validation loss (book fig. 4.8)"),
]


def figure_specs(config: dict, chapter: dict) -> list[FigureSpec]:
    roles, protocols = config.get("roles", {}), config["protocols"]
    reference = roles.get("reference")
    if reference is None:
        return []

    def book(protocol_role, *names):
        recorded = chapter.get("book", {}).get("runs", {}).get(protocol_role, {})
        by_experiment = {roles.get(role): name for role, name in recorded.items() if role != "section"}
        return tuple((n, by_experiment[n]) for n in names if n in by_experiment)

    def runs(protocol, *names):
        return protocol in protocols and all(n in protocol_experiments(config, protocol) for n in names)

    def seeds(protocol):
        return protocols[protocol].get("seeds", 1)

    specs = []
    book_3_5 = roles.get("book_3_5")
    if book_3_5 and runs(book_3_5, reference):
        for metric, word in (("loss", "loss"), ("acc", "accuracy")):
            specs.append(FigureSpec(
                f"book_3_5_{word}", BOOK, f"Training and validation {word} (book section 3.5)", "book_3_5", book_3_5,
                (reference,), "both", metric, book=book("book_3_5", reference), caption=
                f"{reference} on the 3.5 hold-out: training {word} (dots) and validation {word} (line), median of "
                f"{seeds(book_3_5)} seeds with each seed's run faint; grey: the book's notebook run."))
    book_4_4 = roles.get("book_4_4")
    for role, split, title in BOOK_4_4:
        other = roles.get(role)
        if book_4_4 and other and runs(book_4_4, reference, other):
            specs.append(FigureSpec(
                f"book_4_4_{other}_{split}", BOOK, title, "book_4_4", book_4_4, (reference, other), split, "loss",
                book=book("book_4_4", reference, other), caption=f"{title}, on the book's protocol: median of {seeds(book_4_4)} seeds (crosses = {reference}, dots = {other}), "
                "each seed's run as a faint line; grey: the book's notebook run."))
    folded = roles.get("folded")
    if folded and runs(folded, reference):
        for other in protocol_experiments(config, folded):
            if other == reference:
                continue
            specs.append(FigureSpec(
                f"folded_{other}_validation", FOLDED, f"{reference} vs {other}: validation loss, {folded}", "folded", folded,
                (reference, other), "validation", "loss",
                f"Validation loss of {reference} and {other}: median over the runs of {folded}, band = middle 50% of "
                "runs (medians, because a few runs of the wide models spike by 1–2 and drag a mean)."))
        capacity = by_capacity(config, roles.get("capacity", []))
        for other in capacity[capacity.index(reference) + 1:] if reference in capacity else []:
            if runs(folded, other):
                specs.append(FigureSpec(
                    f"folded_{other}_train", FOLDED, f"{reference} vs {other}: training loss, {folded}", "folded", folded,
                    (reference, other), "train", "loss",
                    f"Training loss of {reference} and {other}: median over the runs of {folded}, band = middle 50%."))
    random_folds = roles.get("random_folds")
    if folded and random_folds and folded in protocols and random_folds in protocols:
        both = [n for n in protocol_experiments(config, random_folds) if n in protocol_experiments(config, folded)]
        test = book_4_4 if book_4_4 in protocols else ""
        if both:
            specs.append(FigureSpec(
                "movie_leak", LEAK, f"Random folds vs folds grouped by movie: mean validation loss", "movie_leak", folded,
                tuple(both), "validation", "loss",
                f"Mean validation loss over the runs of {random_folds} (random folds) and {folded} (no movie on both sides), "
                f"and the test loss of models trained on all training reviews ({test}, mean of its seeds), where run.",
                protocols=(random_folds, folded, test)))
    return specs
