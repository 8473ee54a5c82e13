"""Single-model training: ``train_and_evaluate(config, workdir)``.

It is the population trainer with one trial and the ``"loop"`` strategy (one jitted step),
so a trial trained alone and the same trial inside a population follow the same code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rnnlab.train.config import TrainConfig
from rnnlab.train.population import train_population


def train_and_evaluate(
    config: TrainConfig,
    workdir: str | os.PathLike | None = None,
    *,
    callback: Callable[[int, dict], None] | None = None,
) -> dict[str, Any]:
    """Train one model of ``config`` (seed ``config.seed``); resume from ``workdir``.

    Returns a dict: best_metric, best_epoch, diverged, epochs_trained, valid and test
    metrics at the best parameters, per-epoch history, and ``params`` (the best ones).
    Writes ``workdir/metrics.jsonl`` and orbax checkpoints (see ``train_population``).
    """
    res = train_population(
        config, None, [config.seed], strategy="loop", workdir=workdir, callback=callback
    )
    out = res.trial(0)
    out["params"] = _first(res.best_params)
    return out


def _first(tree: Any) -> Any:
    import jax

    return jax.tree.map(lambda a: a[0], tree)
