"""The book's clock (section 4.3): the same faces in four representations, and how much data and compute each needs.

"If you choose to use the raw pixels of the image as input data, you have a
difficult machine-learning problem on your hands ... If you already
understand the problem at a high level, you can write a five-line Python
script to follow the black pixels of the clock hands and output the (x, y)
coordinates of the tip of each hand. Then a simple machine-learning
algorithm can learn to associate these coordinates with the appropriate time
of day. You can go even further: do a coordinate change, and express the
(x, y) coordinates as polar coordinates with regard to the center of the
image ... At this point, your features are making the problem so easy that
no machine learning is required; a simple rounding operation and dictionary
lookup are enough to recover the approximate time of day."

- ``pixels``: the 784 grey levels, learned by a dense MLP;
- ``convnet``: the same grey levels, learned by a small convnet (config ``clock.convnet``): the features
  learned from the raw pixels, as the book says deep learning lets a network do given enough data;
- ``tips``: the hands' tips found in the pixels (``tips``), relative to the
  dial's centre, learned by a small MLP;
- ``turns``: the same tips as angles in turns (0–1), learned by the same small MLP: the book's polar
  coordinates fed raw, so 11:59 and 12:00 are far apart as inputs;
- ``angles``: the same angles as (sin, cos) of each hand, learned by the same small MLP: nearby times are
  nearby inputs all round the dial;
- ``rule``: the angles read by rounding and a lookup (``read``), no training.

A learned model outputs the cosine and sine of the time's angle on a 12-hour
dial and on a 60-minute dial (``targets``), and is read back by ``decode``;
errors are in minutes, the shorter way round a 12-hour dial.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from overfit.data.clock import MINUTES, SIZE, direction
from overfit.engine.dense import DenseRun, DenseSpec, DenseTrainer, DenseTraining, train
from overfit.engine.progress import Progress
from overfit.grid import conv_blocks, pooled_side
from overfit.seeds import stable_seed

REPRESENTATIONS = ("pixels", "convnet", "tips", "turns", "angles", "rule")
INK = 0.45  # a pixel at least this bright (0–1) is ink: background and noise stay below, strokes' cores above
# operations per pixel of `tips` (the circle fit's sums and the distances): the extractors' compute
EXTRACTION_OPS_PER_PIXEL = 40


def _pixels() -> np.ndarray:
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    return np.stack([xs.ravel(), ys.ravel()], axis=-1).astype(float)


def dial(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each face's dial (centre (n, 2), radius (n,)): a least-squares circle through the ink far from the image
    centre, where only the ring reaches (x² + y² + Dx + Ey + F = 0, weighted by ink; linear in D, E, F)."""
    ink = images.reshape(len(images), -1) / 255.0
    points = _pixels()
    far = np.linalg.norm(points - (SIZE - 1) / 2, axis=1) > 11.5
    w = np.where(ink[:, far] > INK, ink[:, far], 0.0)
    x, y = points[far, 0], points[far, 1]
    design = np.stack([x, y, np.ones_like(x)], axis=1)  # (P, 3)
    normal = np.einsum("np,pi,pj->nij", w, design, design)
    rhs = np.einsum("np,pi,p->ni", w, design, -(x * x + y * y))
    d, e, f = np.linalg.solve(normal + 1e-9 * np.eye(3), rhs[..., None])[..., 0].T
    centre = np.stack([-d / 2, -e / 2], axis=1)
    return centre, np.sqrt(np.maximum((centre ** 2).sum(1) - f, 0.0))


def tips(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(minute tip, hour tip, dial radius): tips (n, 2) in pixels from the dial's centre (x right, y down).

    The minute tip is the ink inside the dial farthest from the centre; the
    hour tip the farthest ink more than 1.5 pixels off the minute hand's line.
    Where there is none the hands overlap, and the hour tip is put on the
    minute hand at a typical hour hand's length.
    """
    centre, radius = dial(images)
    ink = images.reshape(len(images), -1) / 255.0 > INK
    offset = _pixels()[None] - centre[:, None]  # (n, P, 2)
    distance = np.linalg.norm(offset, axis=-1)
    hand = ink & (distance < radius[:, None] - 1.5)
    rows = np.arange(len(images))
    minute = offset[rows, np.argmax(np.where(hand, distance, -1.0), axis=1)]
    unit = minute / np.maximum(np.linalg.norm(minute, axis=1, keepdims=True), 1e-9)
    along = np.clip((offset * unit[:, None]).sum(-1), 0, np.linalg.norm(minute, axis=1)[:, None])
    off_line = np.linalg.norm(offset - along[..., None] * unit[:, None], axis=-1) > 1.5
    candidates = np.where(hand & off_line & (distance > 1.5), distance, -1.0)
    found = candidates.max(axis=1) > 0
    hour = np.where(found[:, None], offset[rows, np.argmax(candidates, axis=1)], unit * 0.45 * radius[:, None])
    return minute, hour, radius


def angles(minute_tip: np.ndarray, hour_tip: np.ndarray) -> np.ndarray:
    """(minute hand, hour hand) angles in turns (0–1), clockwise from 12 o'clock: the tips in polar coordinates."""
    turn = lambda tip: (np.arctan2(tip[:, 0], -tip[:, 1]) / (2 * np.pi)) % 1.0  # noqa: E731 (x right, y down)
    return np.stack([turn(minute_tip), turn(hour_tip)], axis=1)


def read(hand_turns: np.ndarray) -> np.ndarray:
    """The time, by rounding and a lookup: the minute hand gives the minutes; the hour is the one whose hand
    position (it moves half a degree a minute) is nearest the hour hand's."""
    minute = np.round(hand_turns[:, 0] * 60).astype(int) % 60
    hour = np.round(hand_turns[:, 1] * 12 - minute / 60).astype(int) % 12
    return hour * 60 + minute


def targets(minutes: np.ndarray) -> np.ndarray:
    """What a model learns: cos and sin of the time on a 12-hour dial, then on a 60-minute dial (n, 4)."""
    hours, minutes_ = 2 * np.pi * (minutes % MINUTES) / MINUTES, 2 * np.pi * (minutes % 60) / 60
    return np.stack([np.cos(hours), np.sin(hours), np.cos(minutes_), np.sin(minutes_)], axis=1).astype(np.float32)


def decode(outputs: np.ndarray) -> np.ndarray:
    """A model's outputs read back: the minutes from the 60-minute dial, the hour from the 12-hour dial (the
    time with those minutes nearest the 12-hour reading)."""
    coarse = (np.arctan2(outputs[:, 1], outputs[:, 0]) / (2 * np.pi) * MINUTES) % MINUTES
    minute = (np.arctan2(outputs[:, 3], outputs[:, 2]) / (2 * np.pi) * 60) % 60
    hour = np.round((coarse - minute) / 60) % 12
    return (hour * 60 + minute) % MINUTES


def error(read_minutes: np.ndarray, true_minutes: np.ndarray) -> np.ndarray:
    """Minutes between two readings, the shorter way round a 12-hour dial (0–360)."""
    difference = np.abs(np.asarray(read_minutes, float) - true_minutes) % MINUTES
    return np.minimum(difference, MINUTES - difference)


def features(representation: str, faces: dict, found: tuple | None = None) -> np.ndarray:
    """A face set in one representation; the tips and angles from its pixels (``found``: its ``tips`` already)."""
    if representation in ("pixels", "convnet"):
        return faces["images"].reshape(len(faces["images"]), -1).astype(np.float32) / 255.0
    minute, hour, radius = found if found is not None else tips(faces["images"])
    if representation == "tips":
        return (np.concatenate([minute, hour], axis=1) / radius[:, None]).astype(np.float32)
    turns = angles(minute, hour)
    if representation == "turns":
        return turns.astype(np.float32)
    return np.concatenate([np.sin(2 * np.pi * turns), np.cos(2 * np.pi * turns)], axis=1).astype(np.float32)


def extraction_seconds(representations: list[str], faces: dict, repeats: int = 5) -> dict[str, float]:
    """Seconds per face to turn pixels into each representation, measured on ``faces``: for the pixels (and the
    convnet's input), scaling to 0–1; for the rule, the angles and the lookup. The representations are timed in
    turn, ``repeats`` rounds, and each keeps its best round: a job shares the machine with others, and a load that
    comes and goes then slows every representation alike rather than whichever ran at the time."""
    best = dict.fromkeys(representations, float("inf"))
    for _ in range(repeats):
        for representation in representations:
            start = time.perf_counter()
            if representation == "rule":
                read(features("turns", faces))
            else:
                features(representation, faces)
            best[representation] = min(best[representation], time.perf_counter() - start)
    return {r: seconds / len(faces["images"]) for r, seconds in best.items()}


def training_flops(spec: DenseSpec, input_dim: int, examples: int) -> float:
    """Multiply-adds of the layers × 2 (forward) × 3 (forward and backward), per example trained: a convolution's
    are its output positions × its 3×3 window × its channels in and out."""
    macs = sum(side * side * 9 * channels * filters for side, channels, filters in conv_blocks(SIZE, spec.conv))
    if spec.conv:
        input_dim = pooled_side(SIZE, spec.conv) ** 2 * spec.conv[-1]
    widths = (input_dim, *spec.hidden, spec.outputs)
    return 6.0 * examples * (macs + sum(a * b for a, b in zip(widths[:-1], widths[1:])))


def model(representation: str, settings: dict) -> tuple[DenseSpec, list[int]]:
    """A learned representation's model (a dense net, or the convnet on the pixels) and its training sizes."""
    if representation == "convnet":
        net = settings["convnet"]
        return DenseSpec(tuple(net["hidden"]), 4, head="linear", conv=tuple(net["conv"])), net["train_sizes"]
    return DenseSpec(tuple(settings["models"][representation]), 4, head="linear"), settings["train_sizes"]


def representations(settings: dict) -> list[str]:
    """The representations a config runs: the convnet where it has a ``convnet`` block."""
    return [r for r in REPRESENTATIONS if r != "convnet" or "convnet" in settings]


def run(train_faces: dict, test_faces: dict, settings: dict, base_seed: int) -> pd.DataFrame:
    """Every representation at every training-set size over seeds: one row per run, scored on the test faces.

    Columns: representation, train_size, seed, faces (test faces read),
    mean_error, error_sd and median_error (minutes), within_5 (share read within 5 minutes), flops (training, plus
    feature extraction for the tips and angles), seconds (the same, measured) and extraction_us (microseconds per
    face to extract the representation from the pixels, measured on the test faces; the rule's includes its
    lookup). The faces a run trains on are drawn by (size, seed), the same for every representation, so
    representations compare paired by seed.
    """
    chosen_representations = representations(settings)
    learned = [r for r in chosen_representations if r != "rule"]
    seeds, epochs = settings["seeds"], settings["epochs"]
    progress = Progress(sum(len(model(r, settings)[1]) for r in learned) * seeds, epochs, ("model",))
    y_all = targets(train_faces["minutes"])
    # each representation's extraction timed on the test faces; the tips are then found once per face set
    extraction = extraction_seconds(chosen_representations, test_faces)
    found = {"test": tips(test_faces["images"]), "train": tips(train_faces["images"])}
    rows = []
    for representation in chosen_representations:
        x_test = features("turns" if representation == "rule" else representation, test_faces, found["test"])
        raw = representation in ("pixels", "convnet")
        per_face = (extraction[representation], 0.0 if raw else EXTRACTION_OPS_PER_PIXEL * SIZE * SIZE)
        if representation == "rule":
            errors = error(read(x_test), test_faces["minutes"])
            rows.append(_row("rule", 0, 0, errors, per_face[1] * len(errors), per_face[0] * len(errors), per_face[0]))
            continue
        x_all = features(representation, train_faces, found["train"])
        spec, sizes = model(representation, settings)
        training = DenseTraining(epochs=epochs, batch_size=settings["batch_size"], optimizer="adam",
                                 learning_rate=settings["learning_rate"])
        trainer = DenseTrainer(spec, x_all.shape[1], training)
        for size in sizes:
            for s in range(seeds):
                chosen = np.sort(np.random.default_rng(stable_seed(base_seed, "clock", size, s)).choice(
                    len(y_all), size, replace=False))
                seed = stable_seed(base_seed, "clock", representation, size, s)
                labels = {"representation": representation, "train_size": size, "seed": s}
                start = time.perf_counter()
                _, (params,) = train([(x_all, y_all, DenseRun(labels, chosen, init_seed=seed, shuffle_seed=seed + 1))],
                                     spec, training, trainer=trainer, keep=True, progress=progress)
                errors = error(decode(trainer.predict(params, x_test)), test_faces["minutes"])
                # the faces it trained on had to be extracted too (the test faces' extraction is not counted)
                seconds = time.perf_counter() - start + per_face[0] * size
                flops = training_flops(spec, x_all.shape[1], size * epochs) + per_face[1] * size
                rows.append(_row(representation, size, s, errors, flops, seconds, per_face[0]))
    return pd.DataFrame(rows)


def _row(representation, size, seed, errors, flops, seconds, extraction) -> dict:
    return {"representation": representation, "train_size": size, "seed": seed, "faces": len(errors),
            "mean_error": float(errors.mean()), "error_sd": float(errors.std(ddof=1)),
            "median_error": float(np.median(errors)), "within_5": float((errors <= 5).mean()), "flops": float(flops),
            "seconds": float(seconds), "extraction_us": float(extraction * 1e6)}
