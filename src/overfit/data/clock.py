"""The book's clock (section 4.3, feature engineering), generated: analog clock faces with their times.

A face is a 28 × 28 grayscale image (Fashion-MNIST's size): a dial ring, a
long thin minute hand and a short thick hour hand from the centre, drawn
anti-aliased. What varies from face to face, so that a model cannot just
memorise pixels: the centre (±1 pixel), the dial's radius, each hand's
length, width and ink, the background, and pixel noise. Times are whole
minutes of a 12-hour dial, drawn uniformly. Nothing is downloaded: a seed
decides every face.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from overfit.data import prepared
from overfit.errors import DataError
from overfit.files import atomic_path

SIZE = 28
MINUTES = 720  # a 12-hour dial
RADIUS = 12.5  # the dial ring's mean radius (pixels); a face's own is within ±0.3
MINUTE_LENGTH = (0.68, 0.78)  # hand lengths as fractions of the radius
HOUR_LENGTH = (0.40, 0.50)
RULE = "prepare_clock"  # the rule that writes the faces: what a refusal tells the user to rerun
# what a split of the faces file holds: each array's trailing shape (after the faces axis)
ARRAYS = {"images": (SIZE, SIZE), "minutes": (), "centre": (2,), "minute_tip": (2,), "hour_tip": (2,)}


def hand_angles(minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(minute hand, hour hand) angles in radians, clockwise from 12 o'clock."""
    minutes = np.asarray(minutes, float)
    return 2 * np.pi * (minutes % 60) / 60, 2 * np.pi * (minutes % MINUTES) / MINUTES


def direction(angle: np.ndarray) -> np.ndarray:
    """Image coordinates (x to the right, y down) of a unit hand at ``angle``: (..., 2)."""
    return np.stack([np.sin(angle), -np.cos(angle)], axis=-1)


def _segment_distance(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distance of each pixel centre (P, 2) to each face's segment start→end (N, 2): (N, P)."""
    d = end - start
    t = np.clip(((points[None] - start[:, None]) * d[:, None]).sum(-1) / np.maximum((d * d).sum(-1), 1e-9)[:, None], 0, 1)
    nearest = start[:, None] + t[..., None] * d[:, None]
    return np.linalg.norm(points[None] - nearest, axis=-1)


def _draw(centre, radius, minute_tip, hour_tip, widths, inks) -> np.ndarray:
    """Ring and hands of some faces, anti-aliased: full ink within half a stroke's width, fading over a pixel."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    points = np.stack([xs.ravel(), ys.ravel()], axis=-1).astype(float)
    distances = {"ring": np.abs(np.linalg.norm(points[None] - centre[:, None], axis=-1) - radius[:, None]),
                 "minute": _segment_distance(points, centre, minute_tip),
                 "hour": _segment_distance(points, centre, hour_tip)}
    return np.maximum.reduce([inks[k][:, None] * np.clip(widths[k][:, None] / 2 + 0.5 - d, 0, 1)
                              for k, d in distances.items()])


def generate(n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` faces: ``images`` (n, 28, 28) uint8, ``minutes`` (n,) int, and what drew them: ``centre`` (n, 2),
    ``minute_tip`` and ``hour_tip`` (n, 2) in pixels (x right, y down)."""
    rng = np.random.default_rng(seed)
    minutes = rng.integers(0, MINUTES, n)
    centre = (SIZE - 1) / 2 + rng.uniform(-1.0, 1.0, (n, 2))
    radius = RADIUS + rng.uniform(-0.3, 0.3, n)
    minute_angle, hour_angle = hand_angles(minutes)
    minute_tip = centre + (radius * rng.uniform(*MINUTE_LENGTH, n))[:, None] * direction(minute_angle)
    hour_tip = centre + (radius * rng.uniform(*HOUR_LENGTH, n))[:, None] * direction(hour_angle)

    widths = {"ring": np.full(n, 1.0), "minute": rng.uniform(0.9, 1.2, n), "hour": rng.uniform(1.7, 2.2, n)}
    inks = {"ring": rng.uniform(0.6, 0.9, n), "minute": rng.uniform(0.75, 1.0, n), "hour": rng.uniform(0.75, 1.0, n)}
    image = np.concatenate([_draw(centre[part], radius[part], minute_tip[part], hour_tip[part],
                                  {k: v[part] for k, v in widths.items()}, {k: v[part] for k, v in inks.items()})
                            for part in np.array_split(np.arange(n), max(1, n // 1000))])
    image = image + rng.uniform(0.0, 0.1, (n, 1)) + rng.normal(0.0, 0.04, image.shape)
    images = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8).reshape(n, SIZE, SIZE)
    return {"images": images, "minutes": minutes.astype(np.int32), "centre": centre, "minute_tip": minute_tip,
            "hour_tip": hour_tip}


def prepare(out: str | Path, sizes: dict[str, int], seed: int) -> dict:
    """Write one face set per split (``train``, ``test``) to ``out``, each from its own seed."""
    arrays = {}
    for split, n in sizes.items():
        faces = generate(int(n), seed + (0 if split == "train" else 1))
        arrays.update({f"{split}_{name}": value for name, value in faces.items()})
    with atomic_path(Path(out)) as partial, open(partial, "wb") as stream:
        np.savez_compressed(stream, **arrays)
    summary = {split: int(n) for split, n in sizes.items()}
    prepared.write_manifest(Path(out).parent, [out], RULE, faces=summary, seed=seed)
    return summary


def load(path: str | Path, split: str) -> dict[str, np.ndarray]:
    """A split's faces (``generate``'s arrays), verified against the manifest and checked."""
    prepared.verify(path, RULE)
    try:
        with np.load(path, allow_pickle=False) as data:
            faces = {name: data[f"{split}_{name}"] for name in ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: not a prepared set of clock faces with a {split} split ({type(exc).__name__}: "
                        f"{exc}); {prepared.rebuild(RULE)}") from exc
    n = len(faces["images"])
    prepared.require(n > 0, path, f"it holds no {split} faces", RULE)
    for name, shape in ARRAYS.items():
        array = faces[name]
        prepared.require(array.shape == (n, *shape) and array.dtype.kind in ("u" if name == "images" else "iuf"),
                         path, f"its {split} {name} are {array.dtype} of shape {array.shape}, expected ({n}, "
                         f"{', '.join(map(str, shape))}) numbers", RULE)
    for name in ("centre", "minute_tip", "hour_tip"):  # where the hands point: what the clock's readings are scored by
        prepared.require(bool(np.isfinite(faces[name]).all()), path, f"its {split} {name} are not all finite", RULE)
    minutes = faces["minutes"]
    prepared.require(minutes.dtype.kind in "iu" and int(minutes.min()) >= 0 and int(minutes.max()) < MINUTES, path,
                     f"its {split} times are not whole minutes of a 12-hour dial (0 to {MINUTES - 1})", RULE)
    return faces
