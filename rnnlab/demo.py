"""A small real comparison: LSTM vs GRU on JSB Chorales, next-step NLL per time step.

``rnnlab demo`` trains each cell with the training engine (Adam, early stopping on
validation NLL) from the same seed and prints validation and test NLL: nats per time step,
summed over the 88 keys, as in Boulanger-Lewandowski et al. (2012) and Greff et al. (2017).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig, train


def jsb_config(cell: str, *, hidden: int, epochs: int, lr: float, seed: int, limit: int | None):
    """One-layer next-step model on JSB Chorales (the Odyssey music task)."""
    return Config(
        data=DataConfig(
            "jsb",
            {} if limit is None else {"limit": limit},
            batch_size=16,
            bucket=8,
            pad_multiple=32,
            eval_batch_size=128,
        ),
        model=ModelConfig(cell, hidden),
        optim=OptimConfig(name="adam", lr=lr, clip_norm=1.0),
        loop=LoopConfig(epochs=epochs, patience=10, metric="loss", seed=seed),
    )


def compare(
    cell_names: Sequence[str] = ("lstm", "gru"),
    *,
    hidden: int = 64,
    epochs: int = 60,
    lr: float = 1e-2,
    seed: int = 0,
    limit: int | None = None,
) -> list[dict]:
    """Train each cell on JSB; one result row per cell, at its best validation epoch."""
    rows = []
    for name in cell_names:
        start = time.perf_counter()
        config = jsb_config(name, hidden=hidden, epochs=epochs, lr=lr, seed=seed, limit=limit)
        result = train(config)
        rows.append(
            dict(
                cell=name,
                valid_nll=result.valid["loss"],
                test_nll=result.test["loss"],
                best_epoch=result.best_epoch,
                seconds=time.perf_counter() - start,
            )
        )
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| cell | valid NLL | test NLL | best epoch | seconds |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {r['cell']} | {r['valid_nll']:.3f} | {r['test_nll']:.3f} | {r['best_epoch']} "
        f"| {r['seconds']:.0f} |"
        for r in rows
    ]
    return "\n".join(lines)
