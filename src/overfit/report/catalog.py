"""Which figures the report draws, as data (no plotting imports: Snakemake reads this to name outputs).

Every figure is named from the config's roles (overfit.chapter), never from
experiment names written here, so a renamed experiment keeps its figures.

Titles and captions are written in English and pass through ``_`` (overfit.report.i18n.gettext of the spec's
language) with named ``{fields}`` filled after translation, so that a figure of another language is specified by the
same code: a new spec's words need only their entries in locales/messages.<language>.yaml. The category stays
English (it names the `snakemake --report` category and the page's anchors); the page translates its title.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from overfit.chapter import TUNING_ROLES, by_capacity
from overfit import sweeps
from overfit.report import i18n
from overfit.grid import is_wide, protocol_experiments
from overfit.recipe import threshold_tasks


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
    sweep: str = ""  # sweep: which sweep; x and hue: the columns of results/sweeps.csv it plots against
    # sweep: (sweep, its base) of other sweeps drawn beside it as one more hue value (a learning curve's reference)
    beside: tuple[tuple[str, str], ...] = ()
    x: str = ""
    hue: str = ""
    panels: tuple[tuple[str, str], ...] = ()  # sweep: (column of results/sweeps.csv, its title) per panel
    # the legend's label of each image study's arm, or of each value of a sweep's hue, from the config (written())
    labels: tuple[tuple[str, str], ...] = ()
    # book_4_4: (experiment, lowest validation loss from which its run stalls): that model's two modes drawn apart
    # (overfit.report.modes; chapter ``book.modes``)
    modes: tuple = ()
    language: str = i18n.SOURCE  # the language of its words (title, caption, axes, legends): overfit.report.i18n


_SPEC = FigureSpec  # (figure_specs makes each of its specs in its language)


def written(value) -> str:
    """A config value as the config writes it: an integer as one, a float as the shortest decimal that reads back as
    the same number, never in exponent form (0.01, 1.0, 0.001, 0.00001), a list as YAML's flow list."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text if "." in text or not text.lstrip("-").isdigit() else text + ".0"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(written(v) for v in value) + "]"
    return str(value)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def arm_labels(arms: dict, editions: dict | None = None, _=i18n.gettext(i18n.SOURCE)) -> tuple[tuple[str, str], ...]:
    """The legend's name of each arm of an image study: where every arm sets the same one setting to a number (the
    learning-rate study), that setting and number as the config writes them ("learning rate 0.01", not the arm's
    name "rate 0 01"), and, where some arm sets its own ``edition``, whose Keras it trains as (config ``editions``);
    else the arm's name."""
    numbers = {tuple(k for k in settings if k != "edition") for settings in arms.values()}
    by_edition = editions and any("edition" in settings for settings in arms.values())
    if len(numbers) == 1 and len(key := next(iter(numbers))) == 1 and all(_number(s[key[0]]) for s in arms.values()):
        def label(s: dict) -> str:
            text = f"{_(key[0].replace('_', ' '))} {written(s[key[0]])}"
            if by_edition:
                keras = editions[str(s.get("edition", IMAGE_EDITION))]
                text += f", {keras['keras'].split(' (')[0]} ({_(LOSS_WORDS[keras['loss']])})"
            return text
        return tuple((arm, label(s)) for arm, s in arms.items())
    return tuple((arm, arm.replace("_", " ")) for arm in arms)


# how a legend names each edition's loss (config ``editions``), and the image studies' edition (overfit.images)
LOSS_WORDS = {"keras_clipped": "clipped loss", "exact": "exact loss"}
IMAGE_EDITION = 2


BOOK = "1. The book's figures"
FOLDED = "2. Folded comparisons"
LEAK = "3. The movie leak"
SWEEPS = "4. Sweeps: curves, not points"
PROTOCOLS = "5. Evaluation protocols, measured"
RECIPE = "6. The universal workflow"
PREPARATION = "7. Preparing the data"
# The results table a figure kind draws from (figures of other kinds draw from results/metrics.parquet).
TABLES = {"sweep": "results/sweeps.csv", "protocol_audit": "results/protocol_audit.csv",
          "tuning_leak": "results/tuning_leak.csv", "recipe": "results/recipe.csv",
          "last_layer": "results/last_layer.csv", "images": "results/images.csv", "clock": "results/clock.csv",
          "threshold": "results/recipe_threshold_curves.csv"}
# the recipe's figures: its step (x), title and caption
RECIPE_FIGURES = (
    ("power", "Step 4, statistical power: candidates against the best baseline",
     "Each candidate's validation score (step 1's measure) at its epoch of lowest mean validation loss, mean over "
     "the folds, beside the baselines'; bars: 95% corrected interval over folds of its difference from the best "
     "baseline, drawn around the baseline's mean; the ringed one is chosen."),
    ("scale_up", "Step 5, scale up until it overfits",
     "Per rung of the ladder, from one unit: mean validation loss at its lowest epoch and at the last (the rise, "
     "with its 95% corrected interval over folds), and training loss at both; the ringed rung is the one kept, the "
     "first at least as large as step 4's model that overfits."),
    ("tune", "Step 6, regularize and tune on the folds",
     "Each drawn configuration's validation score at its epoch of lowest mean validation loss (95% corrected interval "
     "over folds); the ringed one is kept. No test row is read."),
    ("final", "Step 7, once on the test set, and why accuracy misleads",
     "Test scores of the tuned model and the book's (mean over seeds) and of the baselines refitted on every training "
     "row: on the imbalanced task the majority class is about 90% accurate and finds no positive review."),
)
# the image studies' figures (overfit.images): study -> title, panels ((split, metric[, "log"]), ...), caption
IMAGE_FIGURES = {
    "noise_channels": ("Noise channels against zeros (2nd ed., listing 5.1)", (("validation", "acc"),),
                       "Validation accuracy of Dense(512) → Dense(10) with 784 white-noise channels or 784 zeros "
                       "appended to the pixels; thin: each seed, thick: mean over seeds."),
    "shuffled_labels": ("Shuffled labels: memorizing (2nd ed., listing 5.2)", (("train", "acc"), ("validation", "acc")),
                        "Every label shuffled: training accuracy (on the shuffled labels) climbs while validation "
                        "accuracy stays at chance (0.1); thin: each seed, thick: the mean."),
    "learning_rate": ("RMSprop at learning rates 1.0 and 0.01 (2nd ed., listings 5.7-5.8)",
                      (("train", "acc"), ("validation", "acc")),
                      "Training and validation accuracy of the same model at two learning rates, each trained as "
                      "the 2nd edition's tf.keras 2 did (the exact cross-entropy from the logits: the claims read "
                      "these; RMSprop's epsilon outside the square root) and as Keras 3 does (the cross-entropy of the "
                      "clipped probabilities; epsilon inside the root); thin: each seed, thick: the mean."),
    "capacity": ("Too little capacity against enough (2nd ed., listings 5.9-5.11)",
                 (("train", "loss"), ("validation", "loss")),
                 "Logistic regression, Dense(10, softmax), against Dense(96) → Dense(96) → Dense(10): training and "
                 "validation loss; thin: each seed, thick: the mean."),
    "normalization": ("Value normalization (4.3.1)", (("train", "loss", "log"), ("validation", "acc")),
                      "Dense(96) → Dense(96) → Dense(10) on grey levels 0-255, scaled to 0-1, standardized per pixel "
                      "(training rows' statistics) and the book's heterogeneous mix (every other pixel 0-1, the rest "
                      "100-200): training loss (log scale) and validation accuracy; thin: each seed, thick: the mean."),
    "split_order": ("Is the training file in class order? (4.2.2)", (("train", "acc"), ("validation", "acc")),
                    "Training and validation accuracy of Dense(96) → Dense(96) → Dense(10) validated under the 5-fold "
                    "(seed s on fold s), on the last 20% of the training file as shipped (Keras' validation_split) and on "
                    "the last 20% once the images are sorted by class; thin: each seed, thick: the mean."),
    "missing_values": ("Missing values (4.3.1)", (("validation", "acc"), ("validation_missing", "acc")),
                       "Validation accuracy on whole images and with a 14 × 14 square missing (0), for the model "
                       "trained without missing values and the one trained with a copy of every image with such a "
                       "square missing; thin: each seed, thick: the mean."),
}
SWEEP_TITLES = {"capacity": "Capacity map", "l2_strength": "L2 strength", "l1_strength": "L1 strength",
                "dropout_rate": "Dropout rate", "weight_decay": "Decoupled weight decay", "l2_dropout": "L2 with dropout",
                "data_size": "More data: the reference model", "learning_curves": "More data: each regularizer",
                "memorization": "Memorization: shuffled training labels",
                "memorization_capacity": "Memorization capacity: how many shuffled labels each width fits",
                "interpolation": "Double descent: trained long, past the interpolation point"}
# the words of the loss axis's values, in legends
LOSS_LABELS = (("keras_clipped", "clipped loss (the book's Keras)"), ("exact", "exact loss"))
# a sweep's caption: which of its repeats it draws (all, or its first where it has repeats), and what, by panels
SWEEP_RUNS = {False: "all its repeats", True: "its first repeat"}
LOSS_PANELS = (("best_loss", "Validation data loss"), ("best_epoch", "Epoch of the lowest validation loss"),
               ("gap_at_last_epoch", "Validation − training, last epoch"))
# a learning curve's subsets train longer than the chapter's experiments on it: only the lowest loss compares
DATA_PANELS = (("best_loss", "Lowest validation data loss"), ("best_epoch", "Its epoch"))
FIT_PANELS = (("last_train_acc", "Training accuracy, last epoch"), ("last_val_acc", "Validation accuracy, last epoch"),
              ("epochs_to_fit", "First epoch of training accuracy ≥ 0.95"))
# double descent is read at the end of training: each point's last epoch, against its number of parameters
END_PANELS = (("last_loss", "Validation data loss, last epoch"), ("last_val_acc", "Validation accuracy, last epoch"),
              ("last_train_acc", "Training accuracy, last epoch"))
SWEEP_CAPTIONS = {
    FIT_PANELS: "the last epoch's training accuracy (on the labels it was given, shuffled ones included) and validation "
                "accuracy (true labels), and the first epoch of training accuracy ≥ 0.95 (one past the last: never)",
    END_PANELS: "the last epoch's validation data loss (bars: 95% corrected interval over folds), validation accuracy "
                "and training accuracy; the dotted line: as many parameters as training reviews (the interpolation "
                "point)",
    DATA_PANELS: "lowest validation data loss (the loss without the weight penalty; bars: 95% corrected interval over "
                 "folds) and its epoch; the subsets train for the sweep's epochs, the chapter's experiments (full "
                 "folds) for theirs, so only the lowest loss compares along the curve",
    LOSS_PANELS: "lowest validation data loss (the loss without the weight penalty; bars: 95% corrected interval over "
                 "folds) and last-epoch value (dashed), the epoch of the lowest, and the validation − training data "
                 "loss at the last epoch",
}

# The book's own figures (1st edition, 4.4): (role of the other model, split, title).
BOOK_4_4 = [
    ("smaller", "validation", "Original vs smaller: validation loss (book fig. 4.4)"),
    ("bigger", "validation", "Original vs bigger: validation loss (book fig. 4.5)"),
    ("bigger", "train", "Original vs bigger: training loss (book fig. 4.6)"),
    ("l2", "validation", "Original vs L2-regularized: validation loss (book fig. 4.7)"),
    ("dropout", "validation", "Original vs dropout: validation loss (book fig. 4.8)"),
]


def figure_specs(config: dict, chapter: dict, language: str = i18n.SOURCE) -> list[FigureSpec]:
    """The report's figures, their words in ``language``."""
    _ = i18n.gettext(language)
    FigureSpec = functools.partial(_SPEC, language=language)  # noqa: N806 (every spec below in this language)
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
                f"book_3_5_{word}", BOOK, _("Training and validation {word} (book section 3.5)").format(word=_(word)),
                "book_3_5", book_3_5, (reference,), "both", metric, book=book("book_3_5", reference), caption=_(
                    "{reference} on the 3.5 hold-out: training {word} (dots) and validation {word} (line), median of "
                    "{seeds} seeds with each seed's run faint; grey: the book's notebook run.").format(
                    reference=reference, word=_(word), seeds=seeds(book_3_5))))
    book_4_4 = roles.get("book_4_4")
    two_modes = chapter.get("book", {}).get("modes", {}).get("book_4_4")
    for role, split, title in BOOK_4_4:
        other = roles.get(role)
        if book_4_4 and other and runs(book_4_4, reference, other):
            modes, seeds_of = (), seeds(book_4_4)
            if two_modes and roles.get(two_modes["role"]) == other:
                modes = (other, two_modes["stalls_from"])
            if is_wide(config, sweeps.entries(config)[other]["hidden"]):
                seeds_of = protocols[book_4_4].get("wide_seeds", seeds_of)
            title = _(title)
            caption = _("{title}, on the book's protocol: median of the seeds (crosses = {reference}, dots = {other}; "
                        "{seeds} seeds of {reference}, {seeds_of} of {other}), each seed's run as a faint line; "
                        "grey: the book's notebook run.").format(title=title, reference=reference, other=other,
                                                                 seeds=seeds(book_4_4), seeds_of=seeds_of)
            if modes:
                caption += " " + _("{other} has two modes: a run stalls when its lowest validation loss is {stalls} or "
                                   "more; each mode's median is drawn apart with its frequency, beside that of Keras 3 "
                                   "running the book's code.").format(other=other, stalls=f"{modes[1]:g}")
            specs.append(FigureSpec(
                f"book_4_4_{other}_{split}", BOOK, title, "book_4_4", book_4_4, (reference, other), split, "loss",
                book=book("book_4_4", reference, other), caption=caption, modes=modes))
    folded = roles.get("folded")
    if folded and runs(folded, reference):
        for other in protocol_experiments(config, folded):
            if other == reference:
                continue
            specs.append(FigureSpec(
                f"folded_{other}_validation", FOLDED,
                _("{reference} vs {other}: validation loss, {folded}").format(reference=reference, other=other,
                                                                            folded=folded), "folded", folded,
                (reference, other), "validation", "loss",
                _("Validation loss of {reference} and {other}: median over the runs of {folded}, band = middle 50% of "
                  "runs (medians, because a few runs of the wide models spike by 1–2 and drag a mean).").format(
                    reference=reference, other=other, folded=folded)))
        capacity = by_capacity(config, roles.get("capacity", []))
        for other in capacity[capacity.index(reference) + 1:] if reference in capacity else []:
            if runs(folded, other):
                specs.append(FigureSpec(
                    f"folded_{other}_train", FOLDED,
                    _("{reference} vs {other}: training loss, {folded}").format(reference=reference, other=other,
                                                                              folded=folded), "folded", folded,
                    (reference, other), "train", "loss",
                    _("Training loss of {reference} and {other}: median over the runs of {folded}, band = middle "
                      "50%.").format(reference=reference, other=other, folded=folded)))
    random_folds = roles.get("random_folds")
    if folded and random_folds and folded in protocols and random_folds in protocols:
        both = [n for n in protocol_experiments(config, random_folds) if n in protocol_experiments(config, folded)]
        test = book_4_4 if book_4_4 in protocols else ""
        if both:
            specs.append(FigureSpec(
                "movie_leak", LEAK, _("Random folds vs folds grouped by movie: mean validation loss"), "movie_leak",
                folded, tuple(both), "validation", "loss",
                _("Mean validation loss over the runs of {random_folds} (random folds) and {folded} (no movie on both "
                  "sides), and the test loss of models trained on all training reviews ({test}, mean of its seeds), "
                  "where run.").format(random_folds=random_folds, folded=folded, test=test),
                protocols=(random_folds, folded, test)))
    specs.extend(sweep_specs(config, language))
    if roles.get("audited") and roles.get("book_4_4"):
        specs.append(FigureSpec(
            "protocol_audit", PROTOCOLS, _("Each protocol's estimate of the test score: bias, spread and cost"),
            "protocol_audit", roles["book_4_4"], (reference,), "validation", "loss", protocols=tuple(roles["audited"]),
            caption=_("{reference}: each protocol's estimate (lowest mean validation loss, and the accuracy at its "
                      "epoch) minus the test curve of {test} there (bias: mean with its t-interval over redraws), its "
                      "spread (sd over redraws; iterated rows derived as sd / √P) and, in the labels, its cost per "
                      "estimate in model-epochs and seconds (this run's machine).").format(
                reference=reference, test=roles["book_4_4"])))
    tuning = [roles[r] for r in TUNING_ROLES if roles.get(r)]
    if tuning:
        specs.append(FigureSpec(
            "tuning_leak", PROTOCOLS, _("The information leak: optimism of the best of N configurations"),
            "tuning_leak", tuning[0], (), "validation", "loss", protocols=tuple(tuning),
            caption=_("Optimism of the validation score of the configuration a random search keeps (the best of N on "
                      "validation loss): test loss − its validation loss, and validation − test accuracy; mean over "
                      "subsets of N configurations and redraws, band = 10th to 90th percentile; N on a log scale. "
                      "The test set only measures the leak.")))
    if config.get("recipe"):
        for step, title, caption in RECIPE_FIGURES:
            specs.append(FigureSpec(f"recipe_{step}", RECIPE, _(title), "recipe", "", (), "validation", "loss",
                                    _(caption), x=step))
        if threshold_tasks(config):
            specs.append(FigureSpec(
                "recipe_threshold", RECIPE, _("Imbalanced classes: precision-recall curves, thresholds and class weights"),
                "threshold", "", (), "validation", "loss",
                _("Precision against recall of step 6's model (net) and of logistic regression, each trained with the "
                  "plain and with a class-weighted loss, over the out-of-fold predictions of step 2's folds (one curve "
                  "per seed); circles: mean precision and recall of the runs at Keras' 0.5, crosses: at the threshold "
                  "tuned on the other folds; dotted: the positive share, what guessing reaches."),
                labels=tuple((task, str(config["recipe"]["tasks"][task]["positive_share"]))
                             for task in threshold_tasks(config))))
        specs.append(FigureSpec(
            "last_layer", RECIPE, _("The last-layer table, run: recommended against wrong pairings"), "last_layer",
            "", (), "validation", "loss", _("Each problem type's measure on held-out training rows (mean over seeds, "
                                            "dots: each seed) with the book's recommended last-layer activation and "
                                            "loss, and with a common wrong pairing.")))
    for study, settings in config.get("images", {}).get("studies", {}).items():
        if study in IMAGE_FIGURES:
            title, _panels, caption = IMAGE_FIGURES[study]
            title, caption = _(title), _(caption)
        else:  # a study the catalog does not describe: its name, and the words every study's figure shares
            title, caption = study.replace("_", " ").capitalize(), _("Each arm; thin: each seed, thick: the mean.")
        specs.append(FigureSpec(f"images_{study}", PREPARATION, title, "images", "", (), "validation", "acc", caption,
                                x=study, labels=arm_labels(settings.get("arms", {}), config.get("editions"), _)))
    if config.get("clock"):
        specs.append(FigureSpec(
            "clock", PREPARATION, _("The clock: reading error against training faces and compute (4.3.2)"), "clock",
            "", (), "validation", "loss",
            _("Mean reading error (minutes, on the test faces; log scale) of each representation against the training "
              "faces it saw and against its training compute (FLOPs, feature extraction included); dots: each seed, "
              "line: the mean. The rule (angles rounded and looked up) trains on nothing: its error is the dashed "
              "line. turns: the hands' angles fed raw; angles: as their sine and cosine; convnet: the pixels read by a "
              "small convnet.")))
    return specs


def sweep_specs(config: dict, language: str = i18n.SOURCE) -> list[FigureSpec]:
    """One figure per sweep: best and last validation loss, best epoch and the gap against its axis."""
    _ = i18n.gettext(language)
    specs = []
    for name, sweep in config.get("sweeps", {}).items():
        grids = sweep["grid"] if isinstance(sweep["grid"], list) else [sweep["grid"]]
        axes = list(dict.fromkeys(a for grid in grids for a in grid))
        panels = LOSS_PANELS
        if "label_noise" in axes:
            x, hue, panels = "label_noise", next((a for a in axes if a in ("width", "depth")), ""), FIT_PANELS
        elif "loss" in axes:  # the same widths trained with each loss, to the end (double descent)
            x, hue, panels = "parameters", "loss", END_PANELS
        elif {"width", "depth"} & set(axes) and "label_noise" in sweep.get("set", {}):  # memorization capacity
            x, hue, panels = "parameters", "", FIT_PANELS
        elif {"width", "depth"} & set(axes):
            x, hue = "parameters", "depth" if "depth" in axes else ""
        elif "train_size" in axes:
            x, hue, panels = "train_reviews", "base" if "experiment" in axes else "", DATA_PANELS
        else:
            x, hue = axes[0], next((a for a in axes[1:] if a != "experiment"), "")
        protocol = sweep["protocol"]
        hue_values = dict.fromkeys(v for grid in grids for v in grid.get(hue, []) if _number(v))
        runs = SWEEP_RUNS[bool(sweep.get("repeats"))]
        what = SWEEP_CAPTIONS[panels]
        # learning curves of several experiments: the reference's own (a sweep of train_size alone under the same
        # protocol) drawn beside them, so that doubling the data and each remedy read off one figure
        beside = tuple((other, entry["base"]) for other, entry in config["sweeps"].items()
                       if hue == "base" and other != name and entry["protocol"] == protocol
                       and {a for grid in (entry["grid"] if isinstance(entry["grid"], list) else [entry["grid"]])
                            for a in grid} == {"train_size"})
        specs.append(FigureSpec(
            f"sweep_{name}", SWEEPS, _(SWEEP_TITLES[name]) if name in SWEEP_TITLES else name.replace("_", " ").capitalize(),
            "sweep", protocol, tuple(sweep.get("include", [])), "validation", "data_loss", sweep=name, x=x, hue=hue,
            beside=beside,
            panels=panels, language=language,
            labels=(tuple((value, _(words)) for value, words in LOSS_LABELS) if hue == "loss"
                    else tuple((written(v), f"{hue} {written(v)}") for v in hue_values)),
            caption=_("Sweep {name} under {protocol} ({runs}), against {x}: {what}; open markers: the chapter's own "
                      "experiments on the curve.").format(name=name, protocol=protocol, runs=_(runs),
                                                          x=_(x.replace("_", " ")), what=_(what))))
    return specs
