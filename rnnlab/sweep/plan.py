"""Plan a study up front: every trial's config, content key and training seed.

``plan(config, space, trials, seed)`` spreads ``trials`` evenly over the space's crossed cells
(each LSTM variant gets its share) and samples trial ``j`` of a cell from a generator seeded
by (study seed, the cell's values, j), so the plan depends on nothing a worker does, and
raising ``trials`` only adds trials (the old ones stay as they were). A trial's **content key**
is the SHA-256 of its canonical config (JSON, sorted keys, sampled floats rounded to 12
significant digits); its **training seed** derives from the key alone, never from Optuna's
trial number or from which worker runs it. Trials are ordered so that those sharing a compiled
program (the same variant and hidden-size bucket) come together.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rnnlab.sweep import engine
from rnnlab.sweep.space import Space


def canonical_json(obj: Any) -> str:
    """Sorted-key compact JSON (tuples as lists): the text a content key hashes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, tuple | set | frozenset):
        return list(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"config value {obj!r} of type {type(obj).__name__} is not JSON-able.")


def content_key(config: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``config``."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


def seed_from_key(key: str) -> int:
    """The training seed of the trial with content ``key`` (31-bit)."""
    return int(key[:8], 16) & 0x7FFFFFFF


def get_path(d: Mapping[str, Any], path: str) -> Any:
    for part in path.split("."):
        d = d[part]
    return d


def set_path(d: dict[str, Any], path: str, value: Any, *, create: bool = False) -> None:
    """Set ``d[a][b][c] = value`` for ``path = "a.b.c"``; a missing section is an error
    (naming the path) unless ``create`` or it is a dict of options."""
    parts = path.split(".")
    node = d
    for i, part in enumerate(parts[:-1]):
        if part not in node:
            if not create:
                raise KeyError(f"config has no section {'.'.join(parts[: i + 1])!r} ({path}).")
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            raise KeyError(f"config path {path!r}: {'.'.join(parts[: i + 1])} is not a section.")
    leaf = parts[-1]
    options = len(parts) >= 2 and parts[-2].endswith("options")
    if leaf not in node and not (create or options):
        known = sorted(node)
        raise KeyError(f"config has no key {path!r}; keys there: {known}.")
    node[leaf] = value


def group_of(config: Mapping[str, Any]) -> str:
    """What must match for trials to train together: a short hash of the engine's
    ``program_key`` (structure, with the hidden size as its bucket)."""
    return hashlib.sha256(engine.program_key(config).encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class PlannedTrial:
    """One planned trial: its content key, training seed, sampled params, full nested config,
    the crossed cell it belongs to, its index within that cell, and its program group."""

    key: str
    seed: int
    params: dict[str, Any]
    config: dict[str, Any]
    cell: dict[str, Any]
    index: int
    group: str
    order: int = 0
    sampler: str = "random"


def planned_trial(
    config: Mapping[str, Any],
    space: Space,
    params: Mapping[str, Any],
    cell: Mapping[str, Any],
    index: int,
    *,
    order: int = 0,
    sampler: str = "random",
    group_fn: Callable[[Mapping[str, Any]], str] = group_of,
) -> PlannedTrial:
    """The trial that sets ``params`` (sampled and crossed values) on ``config``: its full
    config, content key, key-derived seed and program group."""
    cfg = copy.deepcopy(dict(config))
    targets = space.targets()
    for name, value in params.items():
        set_path(cfg, targets[name], value)
    cfg = engine.normalize(cfg)
    key = content_key(cfg)
    return PlannedTrial(
        key, seed_from_key(key), dict(params), cfg, dict(cell), index, group_fn(cfg), order, sampler
    )


def cell_counts(trials: int, num_cells: int) -> list[int]:
    """``trials`` spread evenly over ``num_cells`` (the first cells get one more)."""
    base, extra = divmod(trials, num_cells)
    return [base + (i < extra) for i in range(num_cells)]


def cell_seed(cell: Mapping[str, Any]) -> int:
    """A cell's share of every seed derived for it (CRC-32 of its canonical JSON)."""
    return zlib.crc32(canonical_json(cell).encode())


def plan(
    config: Mapping[str, Any],
    space: Space,
    trials: int,
    seed: int,
    *,
    group_fn: Callable[[Mapping[str, Any]], str] = group_of,
) -> list[PlannedTrial]:
    """All trials of a study, ordered so that trials of one program group are adjacent."""
    if trials < 1:
        raise ValueError(f"a study needs at least one trial, got {trials}.")
    cells = list(space.cells())
    targets = space.targets()
    out: list[PlannedTrial] = []
    for cell, count in zip(cells, cell_counts(trials, len(cells))):
        for j in range(count):
            rng = np.random.default_rng(np.random.SeedSequence([seed, cell_seed(cell), j]))
            params = {**space.sample(rng), **cell}
            out.append(planned_trial(config, space, params, cell, j, group_fn=group_fn))
    seen: dict[str, PlannedTrial] = {}
    for t in out:
        if t.key in seen:
            raise ValueError(
                f"the space is too small for {trials} distinct trials: {t.params} was drawn twice."
            )
        seen[t.key] = t
    hidden_target = targets.get("hidden")
    cell_index = {canonical_json(c): i for i, c in enumerate(cells)}

    def sort_key(t: PlannedTrial) -> tuple:
        bucket = (
            engine.hidden_bucket(int(get_path(t.config, hidden_target))) if hidden_target else 0
        )
        return (cell_index[canonical_json(t.cell)], bucket, t.group, t.index)

    ordered = sorted(out, key=sort_key)
    # A group may span crossed cells (LSTM variants share a program); keep it in one run.
    first: dict[str, int] = {}
    for i, t in enumerate(ordered):
        first.setdefault(t.group, i)
    ordered.sort(key=lambda t: first[t.group])
    return [dataclasses.replace(t, order=i) for i, t in enumerate(ordered)]
