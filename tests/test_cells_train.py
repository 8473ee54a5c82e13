"""Every cell that ``rnnlab.cells.available()`` lists trains: a model around it takes optax
steps on a tiny batch and its loss goes down, and its parameters hold no zero-size array and
survive an orbax save and restore unchanged."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

import rnnlab as rl
from rnnlab import losses
from rnnlab.models import FramePredictor, SequenceModel

B, T, D, H = 4, 8, 3, 8
STEPS = 15

# (test id, cell name, cell options, model options): every registered cell at least once.
SEQUENCE_CASES = [
    ("lstm", "lstm", {}, {}),
    ("gru", "gru", {}, {}),
    ("gru_reset_after", "gru_reset_after", {}, {}),
    ("rnn", "rnn", {}, {}),
    ("irnn", "irnn", {}, {}),
    ("mgu", "mgu", {}, {}),
    ("mut1", "mut1", {}, {}),
    ("mut2", "mut2", {}, {}),
    ("mut3", "mut3", {}, {}),
    ("indrnn", "indrnn", {}, {}),
    ("layernorm_lstm", "layernorm_lstm", {}, {}),
    ("zoneout-lstm", "zoneout", {"cell": "lstm", "rates": 0.1}, {}),
    ("zoneout-indrnn", "zoneout", {"cell": "indrnn", "rates": 0.1}, {}),
    ("mingru", "mingru", {}, {}),
    ("mingru-parallel", "mingru", {}, {"scan": "parallel"}),
    ("minlstm", "minlstm", {}, {}),
    ("minlstm-parallel", "minlstm", {}, {"scan": "parallel"}),
    ("lru", "lru", {}, {"num_layers": 2}),  # layer 0 D != H (dense skip), layer 1 D == H
    ("lru-parallel", "lru", {"state_size": 6}, {"scan": "parallel", "num_layers": 2}),
]
FRAME_CELLS = {"convlstm"}


def test_every_listed_cell_is_covered():
    covered = {case[1] for case in SEQUENCE_CASES} | FRAME_CELLS
    assert covered == set(rl.cells.available())


def _fit(model, x, lengths, loss_of_outputs, steps=STEPS, lr=1e-2):
    """(params, loss before, loss after ``steps`` Adam steps) in training mode. The dropout
    rng is the same at every step (zoneout draws the same masks), so the losses compare."""
    params = jax.jit(model.init)(jax.random.PRNGKey(0), x, lengths)["params"]
    tx = optax.adam(lr)
    rngs = {"dropout": jax.random.PRNGKey(1), "noise": jax.random.PRNGKey(2)}

    def loss_fn(p):
        out = model.apply({"params": p}, x, lengths, deterministic=False, rngs=rngs)
        return loss_of_outputs(out)

    @jax.jit
    def step(p, opt_state):
        loss, grads = jax.value_and_grad(loss_fn)(p)
        updates, opt_state = tx.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, loss

    opt_state, curve = tx.init(params), []
    for _ in range(steps + 1):  # the last call only reads the loss of the trained params
        trained, opt_state, loss = step(params, opt_state)
        curve.append(float(loss))
        params = trained if len(curve) <= steps else params
    return params, curve[0], curve[-1]


def _assert_checkpointable(params, tmp_path):
    leaves = jax.tree.leaves(params)
    assert leaves and all(leaf.size > 0 for leaf in leaves), "zero-size parameter"
    checkpointer = ocp.Checkpointer(ocp.StandardCheckpointHandler())
    path = tmp_path / "params"
    checkpointer.save(path, args=ocp.args.StandardSave(params))
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, params)
    restored = checkpointer.restore(path, args=ocp.args.StandardRestore(abstract))
    assert jax.tree.structure(restored) == jax.tree.structure(params)
    for got, want in zip(jax.tree.leaves(restored), leaves):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize(
    ("name", "options", "model_options"),
    [case[1:] for case in SEQUENCE_CASES],
    ids=[case[0] for case in SEQUENCE_CASES],
)
def test_sequence_cell_trains_and_checkpoints(name, options, model_options, tmp_path):
    cell = rl.cells.get(name, H, **options)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((B, T, D)), jnp.float32)
    lengths = jnp.asarray([T, 6, 5, 3])
    y = jnp.cumsum(x[..., :2], axis=1) / 3.0  # running sums: needs memory
    model = SequenceModel(cell, output_size=2, head="regression", **model_options)

    def loss(out):
        return losses.mse(out, y, lengths)

    params, before, after = _fit(model, x, lengths, loss)
    assert after < 0.9 * before, (before, after)
    _assert_checkpointable(params, tmp_path)


def test_convlstm_trains_and_checkpoints(tmp_path):
    cell = rl.cells.get("convlstm", 4)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(size=(2, 5, 6, 6, 1)) > 0.7, jnp.float32)
    lengths = jnp.asarray([5, 3])
    model = FramePredictor(cell)

    def loss(out):
        return losses.bernoulli_nll(out.reshape(2, 5, -1), x.reshape(2, 5, -1), lengths)

    params, before, after = _fit(model, x, lengths, loss)
    assert after < 0.9 * before, (before, after)
    _assert_checkpointable(params, tmp_path)
