"""JapaneseVowels (Kudo et al., 1999), shipped with sktime 1.2.0: the speech stand-in.

640 utterances of /ae/ by 9 male speakers: 12 LPC cepstrum coefficients per 6.4 ms frame,
7 to 29 frames. Task: speaker classification (9 classes), either one label per sequence
(metric: error rate) or, with ``framewise=True``, the speaker label at every frame (metric:
frame error rate), the analogue of framewise TIMIT phone classification.

Splits: the official 270 training utterances (30 per speaker) minus a validation set carved
from them, stratified by speaker, from ``seed``; the official 370 test utterances (recorded
later, 24 to 88 per speaker). The ``.ts`` files are read directly from sktime's folder
(without importing sktime or pandas).
"""

from __future__ import annotations

import pathlib

import numpy as np

from rnnlab.data import _common
from rnnlab.data.batching import SequenceDataset, Splits
from rnnlab.data.registry import DatasetSpec, register

SKTIME_PIN = "sktime==1.2.0"
NUM_CLASSES = 9
INPUT_DIM = 12
TASK = "speaker classification, 9 classes (per sequence, or per frame with framewise=True)"
METRIC = "classification error rate (per sequence, or per frame)"
SOURCE = "UCI JapaneseVowels (Kudo, Toyama, Shimbo 1999) via sktime 1.2.0 .ts files"
LICENSE = "sktime BSD-3-Clause; UCI data CC BY 4.0 (per the UCI site)"


def read_ts(path: pathlib.Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Reads a multivariate UEA ``.ts`` file: sequences (T_i, D) float64 and string labels."""
    xs, ys = [], []
    in_data = False
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dims, label = line.split(":")
        xs.append(np.array([[float(v) for v in d.split(",")] for d in dims]).T)
        ys.append(label)
    return xs, np.array(ys)


def raw_splits() -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], np.ndarray]:
    """Official train and test: (x_train, y_train, x_test, y_test), labels 0..8."""
    folder = _common.package_dir("sktime", SKTIME_PIN) / "datasets" / "data" / "JapaneseVowels"
    x_tr, y_tr = read_ts(folder / "JapaneseVowels_TRAIN.ts")
    x_te, y_te = read_ts(folder / "JapaneseVowels_TEST.ts")
    return x_tr, y_tr.astype(np.int64) - 1, x_te, y_te.astype(np.int64) - 1


def load_japanese_vowels(
    *,
    framewise: bool = False,
    valid_fraction: float = 0.2,
    seed: int = 0,
    standardize: bool = True,
) -> Splits:
    """JapaneseVowels as train/valid/test :class:`SequenceDataset` s.

    Inputs (T, 12) float32, standardised per feature with the mean/std of the train split
    (after carving out validation) unless ``standardize=False``. Targets: int64 class
    scalars (``target_kind="example"``), or (T,) int64 with the class at every frame
    (``framewise=True``, ``target_kind="frame"``). ``valid_fraction`` of each speaker's
    training utterances go to validation, chosen by ``seed``. ``meta["source_index"]``:
    each example's position in the official train (train, valid) or test file.
    """
    x_tr, y_tr, x_te, y_te = raw_splits()
    train_idx, valid_idx = _common.stratified_split(
        y_tr, (1.0 - valid_fraction, valid_fraction), seed
    )
    parts = {
        "train": ([x_tr[i] for i in train_idx], y_tr[train_idx], train_idx),
        "valid": ([x_tr[i] for i in valid_idx], y_tr[valid_idx], valid_idx),
        "test": (x_te, y_te, np.arange(len(x_te))),
    }
    frames = np.concatenate(parts["train"][0])
    mean_D, std_D = frames.mean(0), frames.std(0)
    if not standardize:
        mean_D, std_D = np.zeros(INPUT_DIM), np.ones(INPUT_DIM)
    datasets = []
    for split, (xs, ys, source_index) in parts.items():
        inputs = [((x - mean_D) / std_D).astype(np.float32) for x in xs]
        if framewise:
            targets = [np.full(len(x), y, dtype=np.int64) for x, y in zip(xs, ys)]
        else:
            targets = list(ys.astype(np.int64))
        meta = {
            "name": "japanese_vowels_framewise" if framewise else "japanese_vowels",
            "split": split,
            "task": TASK,
            "metric": METRIC,
            "num_classes": NUM_CLASSES,
            "mean": mean_D,
            "std": std_D,
            "source_index": source_index,
        }
        kind = "frame" if framewise else "example"
        datasets.append(SequenceDataset(inputs, targets, kind, meta))
    return Splits(*datasets)


register(DatasetSpec("japanese_vowels", load_japanese_vowels, TASK, METRIC, SOURCE, LICENSE))
register(
    DatasetSpec(
        "japanese_vowels_framewise",
        load_japanese_vowels,
        TASK,
        METRIC,
        SOURCE,
        LICENSE,
        {"framewise": True},
    )
)
