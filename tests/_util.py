"""Helpers shared by the test modules: the cells under test and random non-trivial params."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import rnnlab as rl

# (test id, registry name, options): every registered cell and every LSTM preset.
LSTM_PRESETS = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR", "standard")
CELLS: list[tuple[str, str, dict[str, Any]]] = [
    *[(f"lstm-{v}", "lstm", {"variant": v}) for v in LSTM_PRESETS],
    ("gru", "gru", {}),
    ("gru_reset_after", "gru_reset_after", {}),
    ("rnn-tanh", "rnn", {"activation": "tanh"}),
    ("rnn-relu", "rnn", {"activation": "relu"}),
    ("irnn", "irnn", {"identity_scale": 0.9}),
]
CELL_IDS = [c[0] for c in CELLS]


def make_cell(name: str, options: dict[str, Any], hidden_size: int = 4) -> Any:
    return rl.cells.get(name, hidden_size=hidden_size, **options)


def random_params(cell: Any, seed: int, input_size: int, scale: float = 0.5) -> dict:
    """Float64 params with the cell's layout, every entry drawn at random.

    Shapes come from ``jax.eval_shape(cell.init, ...)`` (nothing is compiled); the values are
    N(0, scale^2 / fan) for matrices and N(0, scale^2) for vectors, so peepholes and biases
    are far from their zero init and every term of the equations contributes (a zero
    peephole would hide a wrong peephole formula).
    """
    shapes = jax.eval_shape(
        functools.partial(cell.init, input_size=input_size, dtype=jnp.float64),
        jax.random.PRNGKey(0),
    )
    rng = np.random.default_rng(seed)

    def draw(s):
        fan = s.shape[0] if len(s.shape) == 2 else 1
        return jnp.asarray(
            rng.normal(0.0, scale / np.sqrt(fan) * 1.5 if fan > 1 else scale, s.shape)
        )

    return {k: draw(s) for k, s in sorted(shapes.items())}


def random_carry(cell: Any, seed: int, batch: int) -> Any:
    """A non-zero float64 carry with the library's structure (gate activations in (0, 1))."""
    zeros = cell.initial_carry((batch,), jnp.float64)
    leaves, treedef = jax.tree.flatten(zeros)
    rng = np.random.default_rng(seed)
    out = [jnp.asarray(rng.uniform(-0.8, 0.8, leaf.shape)) for leaf in leaves]
    if isinstance(cell, rl.cells.LSTM) and cell.spec.full_gate_recurrence:
        out[2] = jnp.asarray(rng.uniform(0.05, 0.95, leaves[2].shape))
    return jax.tree.unflatten(treedef, out)


def carry_leaves(carry: Any) -> tuple:
    return tuple(np.asarray(leaf) for leaf in jax.tree.leaves(carry))
