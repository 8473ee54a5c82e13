"""JSB Chorales rebuilt from the Bach chorales shipped with music21 (pinned 10.5.1).

Task: polyphonic next-step prediction. Each chorale is an 88-key piano roll (MIDI 21..108,
column ``m - 21``) of its four voices (soprano, alto, tenor, bass) sampled once per quarter
note (or eighth): pitch m is on at step t if ``onset <= t * step < offset``, so ties need no
handling, grace notes vanish and repeats are not expanded (as in Boulanger-Lewandowski et
al., 2012). Inputs are the roll shifted by one step with a zero first frame, targets are the
roll: ``x_t = roll_{t-1}``, ``y_t = roll_t``. Metric: Bernoulli negative log-likelihood,
summed over the 88 keys and averaged over all time steps of the split (nats per step).

Set "strict" (398 chorales) drops 3 exact duplicates and 8 orchestral settings with long
instrumental interludes; "all" keeps the 409 chorale scores. Split 60/20/20 grouped by BWV
number (movements of one cantata never straddle splits), with groups ordered by the sha1 of
their key: strict, quarter gives train 240, valid 80, test 78 chorales. The numbers are not
comparable with published JSB results (different chorale set and split); compare variants
with each other.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import pathlib
import re
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from rnnlab.data import _common
from rnnlab.data.batching import SequenceDataset, Splits
from rnnlab.data.registry import DatasetSpec, register

NUM_KEYS = 88
LOWEST_MIDI = 21
VOICES = ("soprano", "alto", "tenor", "bass")
STEPS_PER_QUARTER = {"quarter": 1, "eighth": 2}
SUBSETS = ("strict", "all")
MUSIC21_PIN = "music21==10.5.1"
CACHE_FORMAT = 1

# Exact duplicates (second of each pair dropped) and orchestral settings whose four voices
# are silent for >= 4 quarter notes (instrumental interludes).
DUPLICATES = frozenset({"bwv190.7-inst", "bwv398", "bwv62.6"})
INTERLUDES = frozenset(
    {
        "bwv119.9",
        "bwv171.6",
        "bwv248.23-2",
        "bwv248.42-4",
        "bwv248.64-6",
        "bwv248.9-1",
        "bwv41.6",
        "bwv79.3",
    }
)
NOT_CHORALES = frozenset({"bwv846"})  # a Well-Tempered Clavier prelude

TASK = "polyphonic next-step prediction (88 independent Bernoullis per step)"
METRIC = "Bernoulli NLL, summed over 88 keys, mean over time steps (nats/step)"
SOURCE = "Bach chorales of the music21 10.5.1 corpus (Greentree's list), rebuilt as JSB"
LICENSE = "music21 BSD-3-Clause; corpus per music21/corpus/license.txt; music public domain"


def chorale_index() -> dict[str, pathlib.Path]:
    """All 409 chorale score files of music21's corpus, by name (e.g. "bwv66.6").

    Reads only the folder listing: no music21 import, no parsing. MusicXML is preferred
    where a chorale also exists as Humdrum.
    """
    folder = _common.package_dir("music21", MUSIC21_PIN) / "corpus" / "bach"
    rank = {".mxl": 0, ".xml": 1, ".krn": 2}
    index: dict[str, pathlib.Path] = {}
    for p in sorted(folder.iterdir()):
        name = p.name[: -len(p.suffix)] if p.suffix in rank else None
        if name is None or name in NOT_CHORALES or not p.is_file():
            continue
        if name not in index or rank[p.suffix] < rank[index[name].suffix]:
            index[name] = p
    return index


def chorale_names(subset: str = "strict") -> list[str]:
    """Sorted names of the chorales of ``subset`` ("strict": 398, "all": 409)."""
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    names = sorted(chorale_index())
    if subset == "strict":
        names = [n for n in names if n not in DUPLICATES | INTERLUDES]
    return names


def work_group(name: str) -> str:
    """The BWV work a chorale belongs to: "bwv248.23-s" -> "bwv248"."""
    m = re.match(r"bwv\d+", name)
    if m is None:
        raise ValueError(f"not a BWV chorale name: {name!r}")
    return m.group(0)


def split_names(
    names: Sequence[str], fractions: Sequence[float] = (0.6, 0.2, 0.2)
) -> tuple[list[str], list[str], list[str]]:
    """Deterministic split grouped by BWV work.

    Groups are ordered by ``sha1(group key)``; whole groups fill train until it holds
    ``fractions[0]`` of the chorales, then valid up to ``fractions[0] + fractions[1]``, the
    rest is test. Depends only on the names. Each split is returned sorted.
    """
    groups: dict[str, list[str]] = {}
    for n in sorted(set(names)):
        groups.setdefault(work_group(n), []).append(n)
    order = sorted(groups, key=lambda g: hashlib.sha1(g.encode()).hexdigest())
    quota = np.cumsum(fractions)[:2] * len(names)
    train: list[str] = []
    valid: list[str] = []
    test: list[str] = []
    for g in order:
        if len(train) < quota[0]:
            train += groups[g]
        elif len(train) + len(valid) < quota[1]:
            valid += groups[g]
        else:
            test += groups[g]
    return sorted(train), sorted(valid), sorted(test)


def voice_parts(score) -> list:
    """The soprano, alto, tenor and bass parts of a score, picked by part name."""
    parts = list(score.parts)
    picked = []
    for voice in VOICES:
        match = [p for p in parts if (p.partName or "").strip().lower().startswith(voice)]
        if not match:
            break
        picked.append(match[0])
    if len(picked) == len(VOICES):
        return picked
    if len(parts) == len(VOICES):
        return parts
    names = [p.partName for p in parts]
    raise ValueError(f"cannot find the four voices among the parts {names}")


def piano_roll(path: pathlib.Path | str, steps_per_quarter: int = 1) -> np.ndarray:
    """(T, 88) bool piano roll of the four voices of one chorale file.

    T = ceil(last voice offset * steps_per_quarter); key column = MIDI pitch - 21.
    """
    from music21 import converter

    score = converter.parse(pathlib.Path(path), forceSource=True, storePickle=False)
    spq = Fraction(steps_per_quarter)
    events = []
    end = Fraction(0)
    for part in voice_parts(score):
        for n in part.flatten().notes:
            on = Fraction(n.offset)
            off = on + Fraction(n.quarterLength)
            end = max(end, off)
            for p in n.pitches:
                events.append((math.ceil(on * spq), math.ceil(off * spq), p.midi))
    roll_TK = np.zeros((math.ceil(end * spq), NUM_KEYS), dtype=bool)
    for start, stop, midi in events:
        if not LOWEST_MIDI <= midi < LOWEST_MIDI + NUM_KEYS:
            raise ValueError(f"{path}: MIDI pitch {midi} outside the 88-key range 21..108")
        roll_TK[start:stop, midi - LOWEST_MIDI] = True
    return roll_TK


def build_arrays(
    subset: str = "strict", resolution: str = "quarter", limit: int | None = None
) -> dict[str, np.ndarray]:
    """Parses the chorales: arrays ``roll`` (sum T, 88) bool, ``lengths``, ``names``, ``split``.

    ``limit`` keeps the first ``limit`` chorales (by name) of each split, for fast tests;
    the split itself is always computed on the full name index.
    """
    spq = _steps_per_quarter(resolution)
    index = chorale_index()
    splits = split_names(chorale_names(subset))
    if limit is not None:
        splits = tuple(s[:limit] for s in splits)
    names, split_ids, rolls = [], [], []
    for k, split in enumerate(splits):
        for name in split:
            rolls.append(piano_roll(index[name], spq))
            names.append(name)
            split_ids.append(k)
    return {
        "roll": np.concatenate(rolls) if rolls else np.zeros((0, NUM_KEYS), bool),
        "lengths": np.array([len(r) for r in rolls], dtype=np.int64),
        "names": np.array(names, dtype=str),
        "split": np.array(split_ids, dtype=np.int8),
    }


def cached_arrays(
    subset: str = "strict",
    resolution: str = "quarter",
    limit: int | None = None,
    *,
    cache: bool = True,
) -> dict[str, np.ndarray]:
    """:func:`build_arrays`, read from the cache when it is present and valid.

    The cache file lives in ``$RNNLAB_CACHE`` (or the user cache folder), is keyed by the
    music21 version and the build options, and is verified by the sha256 of its arrays
    stored in a sidecar json. A missing, stale or corrupt file is rebuilt (logged at INFO).
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    _steps_per_quarter(resolution)
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of chorales per split, got {limit}")
    if not cache:
        return build_arrays(subset, resolution, limit)
    version = importlib.metadata.version("music21")
    meta = {
        "format": CACHE_FORMAT,
        "music21": version,
        "subset": subset,
        "resolution": resolution,
        "limit": limit,
    }
    tag = "all" if limit is None else f"limit{limit}"
    path = _common.cache_dir() / f"jsb_{subset}_{resolution}_{tag}_music21-{version}.npz"
    arrays = _common.load_cached(path, meta)
    if arrays is None:
        _common.log.info("building %s from the music21 corpus (about 30 s for all)", path.name)
        arrays = build_arrays(subset, resolution, limit)
        _common.save_cached(path, arrays, meta)
    return arrays


def load_jsb(
    *,
    resolution: str = "quarter",
    subset: str = "strict",
    limit: int | None = None,
    cache: bool = True,
) -> Splits:
    """JSB-like chorales as train/valid/test :class:`SequenceDataset` s.

    Each example: inputs (T, 88) float32 (roll shifted one step, zero first frame), targets
    (T, 88) float32 (the roll), ``target_kind="frame"``. ``resolution`` is "quarter" or
    "eighth"; ``limit`` keeps the first chorales of each split (tests); ``cache=False``
    always rebuilds. The first full build takes about 30 s, later loads well under 1 s.
    """
    arrays = cached_arrays(subset, resolution, limit, cache=cache)
    ends = np.cumsum(arrays["lengths"])
    datasets = []
    for k, split in enumerate(("train", "valid", "test")):
        inputs, targets, names = [], [], []
        for i in np.flatnonzero(arrays["split"] == k):
            roll = arrays["roll"][ends[i] - arrays["lengths"][i] : ends[i]]
            shifted = np.zeros((len(roll) + 1, NUM_KEYS), dtype=np.float32)
            shifted[1:] = roll
            inputs.append(shifted[:-1])
            targets.append(shifted[1:])
            names.append(str(arrays["names"][i]))
        meta = {
            "name": "jsb",
            "split": split,
            "task": TASK,
            "metric": METRIC,
            "names": names,
            "resolution": resolution,
            "subset": subset,
            "num_keys": NUM_KEYS,
            "lowest_midi": LOWEST_MIDI,
        }
        datasets.append(SequenceDataset(inputs, targets, "frame", meta))
    return Splits(*datasets)


def _steps_per_quarter(resolution: str) -> int:
    if resolution not in STEPS_PER_QUARTER:
        raise ValueError(
            f"resolution must be one of {sorted(STEPS_PER_QUARTER)}, got {resolution!r}"
        )
    return STEPS_PER_QUARTER[resolution]


register(DatasetSpec("jsb", load_jsb, TASK, METRIC, SOURCE, LICENSE))
