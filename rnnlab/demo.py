"""A small real comparison: LSTM vs GRU on JSB Chorales, next-step NLL per time step.

``rnnlab demo`` trains each cell with Adam from the same seed and prints validation and
test NLL (nats per time step, summed over the 88 keys, as in Boulanger-Lewandowski 2012 and
Greff et al. 2017). Two minutes on a 2-core CPU at the defaults.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from rnnlab import cells, data
from rnnlab.layers import Recurrent


class NextStepModel(nn.Module):
    """Recurrent stack and a linear head giving 88 Bernoulli logits per step."""

    cell: cells.Cell
    num_outputs: int

    @nn.compact
    def __call__(self, x_BTD, lengths_B):
        h_BTH, _ = Recurrent(self.cell)(x_BTD, lengths_B)
        return nn.Dense(self.num_outputs)(h_BTH)


def bernoulli_nll_per_step(logits_BTD, y_BTD, lengths_B):
    """Sum over units of -log p(y | logits), averaged over the valid time steps."""
    nll_BT = optax.sigmoid_binary_cross_entropy(logits_BTD, y_BTD).sum(-1)
    mask_BT = jnp.arange(y_BTD.shape[1])[None, :] < lengths_B[:, None]
    return jnp.sum(nll_BT * mask_BT), jnp.sum(mask_BT)


def _batches(split, batch_size, seed, epoch, shuffle):
    for b in data.iterate_batches(split, batch_size, seed, epoch, shuffle=shuffle, multiple=32):
        yield jnp.asarray(b.x), jnp.asarray(b.lengths), jnp.asarray(b.y)


def train_cell(cell_name: str, splits, *, hidden: int, epochs: int, lr: float, seed: int):
    """Train one cell; returns (valid NLL of the best epoch, test NLL there, seconds)."""
    model = NextStepModel(cells.get(cell_name, hidden), splits.train.input_dim)
    x0, l0, _ = next(_batches(splits.train, 2, seed, 0, False))
    params = model.init(jax.random.PRNGKey(seed), x0, l0)
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr))
    opt_state = tx.init(params)

    @jax.jit
    def train_step(params, opt_state, x, lengths, y):
        def loss_fn(p):
            total, count = bernoulli_nll_per_step(model.apply(p, x, lengths), y, lengths)
            return total / count

        grads = jax.grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    @jax.jit
    def eval_step(params, x, lengths, y):
        return bernoulli_nll_per_step(model.apply(params, x, lengths), y, lengths)

    def evaluate(params, split):
        sums = [eval_step(params, *b) for b in _batches(split, 64, seed, 0, False)]
        return float(sum(s for s, _ in sums) / sum(n for _, n in sums))

    best = (np.inf, np.inf)
    start = time.perf_counter()
    for epoch in tqdm(range(epochs), desc=cell_name, leave=False):
        for x, lengths, y in _batches(splits.train, 16, seed, epoch, True):
            params, opt_state = train_step(params, opt_state, x, lengths, y)
        valid = evaluate(params, splits.valid)
        if valid < best[0]:
            best = (valid, evaluate(params, splits.test))
    return (*best, time.perf_counter() - start)


def compare(
    cell_names: Sequence[str] = ("lstm", "gru"),
    *,
    hidden: int = 64,
    epochs: int = 60,
    lr: float = 1e-2,
    seed: int = 0,
    limit: int | None = None,
) -> list[dict]:
    """Train each cell on JSB; one result row per cell (early stopping on validation NLL)."""
    splits = data.load("jsb", limit=limit)
    rows = []
    for name in cell_names:
        valid, test, seconds = train_cell(
            name, splits, hidden=hidden, epochs=epochs, lr=lr, seed=seed
        )
        rows.append(dict(cell=name, valid_nll=valid, test_nll=test, seconds=seconds))
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| cell | valid NLL | test NLL | train s |", "|---|---:|---:|---:|"]
    lines += [
        f"| {r['cell']} | {r['valid_nll']:.3f} | {r['test_nll']:.3f} | {r['seconds']:.0f} |"
        for r in rows
    ]
    return "\n".join(lines)
