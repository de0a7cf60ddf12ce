"""One log line per run-epoch of a training job: where it stands and about how long it has left."""

from __future__ import annotations

import logging
import time

import numpy as np

log = logging.getLogger(__name__)


class Progress:
    """One log line per run-epoch: where the job stands and about how long it has left.

    The estimate is the mean time of the epochs so far (the first one includes
    compilation, so early estimates run high) times the epochs still to train.
    """

    def __init__(self, runs: int, epochs: int, names: tuple[str, ...]):
        self.runs, self.epochs, self.total, self.names = runs, epochs, runs * epochs, names
        self.done, self.start = 0, time.monotonic()
        self.last, self.started = self.start, 0

    def start_run(self) -> int:
        """The next run's index in the job (for callers that train a job's runs in several calls)."""
        self.started += 1
        return self.started - 1

    def skip(self, epochs: int) -> None:
        self.total -= epochs

    def epoch_done(self, index: int, run, epoch: int, train_metrics: np.ndarray, evaluation: np.ndarray | None,
                   alive: list[bool]) -> None:
        """``run``: its ``labels`` (a dict, shown but for the protocol) and ``evaluation_name``; ``train_metrics``
        and ``evaluation``: one row per model, the loss first."""
        now = time.monotonic()
        self.done += 1
        seconds, self.last = now - self.last, now
        left = (now - self.start) / self.done * (self.total - self.done)
        where = ", ".join(f"{k} {v}" for k, v in run.labels.items() if k != "protocol")
        # each model's training (/ evaluation) loss: one model, or every model of a stack
        heading = "loss" if evaluation is None else f"loss / {run.evaluation_name} loss"
        shown = heading + " " + ", ".join(
            f"{name} " + (f"{train_metrics[m, 0]:.4f}" + ("" if evaluation is None else f"/{evaluation[m, 0]:.4f}")
                          if alive[m] else "diverged") for m, name in enumerate(self.names))
        log.info("model %d/%d (%s) epoch %d/%d: %s; %.2f s; job %d%% done, about %s left",
                 index + 1, self.runs, where, epoch, self.epochs, shown, seconds,
                 100 * self.done // max(self.total, 1), _duration(left), extra={"progress": True})


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
