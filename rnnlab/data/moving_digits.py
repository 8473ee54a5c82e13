"""Moving digits: scikit-learn's 8x8 handwritten digits bouncing across a small canvas.

A video-like task in the spirit of Moving MNIST (Srivastava, Mansimov & Salakhutdinov 2015)
that needs no download: each sequence shows 1 or 2 digits (``min_digits``..``max_digits``)
moving on a ``canvas`` x ``canvas`` frame (16 x 16 by default) at a constant velocity with
components in {-max_speed, ..., max_speed} pixels per frame (not both zero), bouncing off the
edges; overlapping digits combine by the pixel-wise maximum. Pixel values lie in [0, 1].

Task: next-frame prediction. Inputs are frames 0..T-1, targets frames 1..T, each of shape
(T, canvas, canvas, 1) float32, ``target_kind="frame"``; T is uniform in ``length``
(inclusive). Metric: Bernoulli negative log-likelihood of the pixels (intensities as soft
targets), summed over the pixels of a frame and averaged over valid frames (nats per frame):
``rnnlab.losses.bernoulli_nll`` on frames flattened to (B, T, canvas * canvas).
:func:`baselines` gives the numbers a model must beat.

Splits use disjoint images (the stratified 60/20/20 split of ``rnnlab.data.digits``);
everything is a pure function of ``seed``.
"""

from __future__ import annotations

import numpy as np

from rnnlab.data import digits
from rnnlab.data.batching import SequenceDataset, Splits
from rnnlab.data.registry import DatasetSpec, register

TASK = "next-frame prediction of 1-2 bouncing 8x8 digits on a 16x16 canvas"
METRIC = "Bernoulli NLL per frame (nats, summed over pixels)"
SOURCE = digits.SOURCE + ", moved by rnnlab.data.moving_digits"
LICENSE = digits.LICENSE
DIGIT = 8  # side of a digit image


def _trajectory(rng: np.random.Generator, steps: int, room: int, max_speed: int) -> np.ndarray:
    """(steps, 2) integer top-left positions in [0, room] bouncing off both ends."""
    pos = rng.integers(0, room + 1, size=2)
    while True:
        vel = rng.integers(-max_speed, max_speed + 1, size=2)
        if vel.any():
            break
    out = np.empty((steps, 2), np.int64)
    for t in range(steps):
        out[t] = pos
        pos = pos + vel
        for a in range(2):  # reflect at the walls
            if pos[a] < 0:
                pos[a], vel[a] = -pos[a], -vel[a]
            elif pos[a] > room:
                pos[a], vel[a] = 2 * room - pos[a], -vel[a]
    return out


def render(images_K88: np.ndarray, positions_KT2: np.ndarray, canvas: int) -> np.ndarray:
    """Frames (T, canvas, canvas) with image k's top-left corner at positions[k, t]."""
    T = positions_KT2.shape[1]
    frames = np.zeros((T, canvas, canvas), np.float32)
    for image, path in zip(images_K88, positions_KT2):
        for t, (r, c) in enumerate(path):
            window = frames[t, r : r + DIGIT, c : c + DIGIT]
            np.maximum(window, image, out=window)
    return frames


def load_moving_digits(
    *,
    seed: int = 0,
    num_sequences: tuple[int, int, int] = (2000, 400, 400),
    canvas: int = 16,
    length: int | tuple[int, int] = (10, 20),
    min_digits: int = 1,
    max_digits: int = 2,
    max_speed: int = 1,
) -> Splits:
    """Bouncing-digit videos: inputs (T, canvas, canvas, 1) frames, targets the next frames.

    ``meta`` holds task, metric, ``frame_shape``, and per sequence the image indices
    (``digit_index``) and the (K, T + 1, 2) top-left positions (``positions``).
    """
    lo, hi = (length, length) if isinstance(length, int) else length
    if not 1 <= lo <= hi:
        raise ValueError(f"length must be >= 1 (or a range lo <= hi), got {length}")
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    if canvas < DIGIT:
        raise ValueError(f"canvas must be at least {DIGIT} pixels, got {canvas}")
    if max_speed < 1:
        raise ValueError(f"max_speed must be >= 1, got {max_speed}")
    images, labels = digits.images_and_labels()
    rng = np.random.default_rng(seed)
    datasets = []
    for split, idx, n in zip(digits.SPLITS, digits.split_indices(labels, seed), num_sequences):
        inputs, targets, used, paths = [], [], [], []
        for _ in range(n):
            T = int(rng.integers(lo, hi + 1))
            pick = rng.choice(idx, size=int(rng.integers(min_digits, max_digits + 1)))
            pos = np.stack([_trajectory(rng, T + 1, canvas - DIGIT, max_speed) for _ in pick])
            frames = render(images[pick], pos, canvas)[..., None]
            inputs.append(frames[:-1])
            targets.append(frames[1:])
            used.append(pick)
            paths.append(pos)
        meta = {
            "name": "moving_digits",
            "split": split,
            "task": TASK,
            "metric": METRIC,
            "frame_shape": (canvas, canvas, 1),
            "digit_index": used,
            "positions": paths,
        }
        datasets.append(SequenceDataset(inputs, targets, "frame", meta))
    return Splits(*datasets)


def _nll(p: np.ndarray, y: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    p = np.clip(p, eps, 1.0 - eps)
    return -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def baselines(dataset: SequenceDataset, train: SequenceDataset | None = None) -> dict[str, float]:
    """Per-frame metrics of two predictors that know nothing about motion.

    - ``mean_nll``: each pixel's mean intensity over the targets of ``train`` (``dataset``
      when None) as its probability: Bernoulli NLL per frame;
    - ``copy_last_mse``, ``copy_last_nll``: the last input frame as the prediction: squared
      error summed over a frame's pixels, and Bernoulli NLL with probabilities clipped to
      [1e-6, 1 - 1e-6].
    """
    train = dataset if train is None else train
    mean_frame = np.mean(np.concatenate(list(train.targets)), axis=0)
    x, y = np.concatenate(list(dataset.inputs)), np.concatenate(list(dataset.targets))
    axes = tuple(range(1, y.ndim))
    return {
        "mean_nll": float(np.mean(np.sum(_nll(mean_frame, y), axis=axes))),
        "copy_last_nll": float(np.mean(np.sum(_nll(x, y), axis=axes))),
        "copy_last_mse": float(np.mean(np.sum((x - y) ** 2, axis=axes))),
    }


register(DatasetSpec("moving_digits", load_moving_digits, TASK, METRIC, SOURCE, LICENSE))
