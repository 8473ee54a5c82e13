"""SequenceModel heads: pooling at the last valid step / mean, padding invariance."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab
from rnnlab.models import SequenceModel
from rnnlab.models.sequence import last_valid_BH, mean_valid_BH


def test_pooling_helpers():
    y = jnp.arange(2 * 4 * 3, dtype=jnp.float32).reshape(2, 4, 3)
    y = y * (jnp.arange(4)[None, :, None] < jnp.array([2, 4])[:, None, None])
    np.testing.assert_array_equal(last_valid_BH(y, jnp.array([2, 4])), np.stack([y[0, 1], y[1, 3]]))
    np.testing.assert_allclose(
        mean_valid_BH(y, jnp.array([2, 4])), [y[0, :2].mean(0), y[1].mean(0)]
    )


@pytest.mark.parametrize(("head", "bidirectional"), [("sequence", True), ("next_step", False)])
def test_padded_batch_equals_each_sequence_alone(head, bidirectional):
    cell = rnnlab.cells.get("gru", 5)
    model = SequenceModel(cell, 3, head=head, bidirectional=bidirectional)
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 4))
    lengths = jnp.array([4, 6])
    x = x * (jnp.arange(6)[None, :, None] < lengths[:, None, None])
    params = model.init(jax.random.PRNGKey(1), x, lengths)
    out = model.apply(params, x, lengths)
    alone = model.apply(params, x[:1, :4], jnp.array([4]))
    if head == "sequence":
        assert out.shape == (2, 3)
        np.testing.assert_allclose(out[0], alone[0], atol=1e-6)
    else:
        assert out.shape == (2, 6, 3)
        np.testing.assert_allclose(out[0, :4], alone[0], atol=1e-6)


def test_input_noise_is_added_only_in_training():
    cell = rnnlab.cells.get("lstm", 4)
    model = SequenceModel(cell, 2, head="regression")
    x = jnp.ones((1, 3, 2))
    params = model.init(jax.random.PRNGKey(0), x)
    rngs = {"noise": jax.random.PRNGKey(1), "dropout": jax.random.PRNGKey(2)}
    a = model.apply(params, x, deterministic=False, noise_std=0.0, rngs=rngs)
    b = model.apply(params, x, deterministic=True)
    c = model.apply(params, x, deterministic=False, noise_std=0.5, rngs=rngs)
    np.testing.assert_allclose(a, b, atol=1e-7)
    assert np.max(np.abs(np.asarray(c - b))) > 1e-3


def test_unknown_head_is_named():
    model = SequenceModel(rnnlab.cells.get("gru", 2), 1, head="nope")
    with pytest.raises(ValueError, match="unknown head 'nope'"):
        model.init(jax.random.PRNGKey(0), jnp.ones((1, 2, 1)))
