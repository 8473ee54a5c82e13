"""Losses against hand-computed float64 values; padded steps never count."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rnnlab import losses


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def test_sequence_mask():
    m = losses.sequence_mask(jnp.array([2, 0, 3]), 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 0, 0], [1, 1, 1]])


def test_bernoulli_nll_per_step_summed_over_units():
    # B=2, T=2, V=2; sequence 1 has length 1, its second step holds garbage.
    z = np.array([[[0.5, -1.0], [2.0, 0.0]], [[1.5, 0.3], [99.0, -99.0]]])
    y = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 1]]], float)
    nll = [
        -(math.log(_sig(0.5)) + math.log(1 - _sig(-1.0))),  # b0 t0
        -(math.log(1 - _sig(2.0)) + math.log(_sig(0.0))),  # b0 t1
        -(math.log(1 - _sig(1.5)) + math.log(_sig(0.3))),  # b1 t0
    ]
    got = losses.bernoulli_nll(jnp.array(z), jnp.array(y), jnp.array([2, 1]))
    np.testing.assert_allclose(got, sum(nll) / 3, rtol=1e-12)


def test_sequence_cross_entropy_and_error():
    z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = np.array([0, 2])

    def ce(row, k):
        return -(row[k] - math.log(sum(math.exp(v) for v in row)))

    got = losses.sequence_cross_entropy(jnp.array(z), jnp.array(y))
    np.testing.assert_allclose(got, (ce(z[0], 0) + ce(z[1], 2)) / 2, rtol=1e-12)
    np.testing.assert_allclose(losses.sequence_error(jnp.array(z), jnp.array(y)), 0.5)


def test_framewise_cross_entropy_masked():
    z = np.array([[[2.0, 0.0], [0.0, 1.0], [5.0, -5.0]]])  # B=1, T=3, V=2, length 2
    y = np.array([[0, 0, 1]])

    def ce(row, k):
        return -(row[k] - math.log(sum(math.exp(v) for v in row)))

    want = (ce(z[0, 0], 0) + ce(z[0, 1], 0)) / 2
    lengths = jnp.array([2])
    np.testing.assert_allclose(
        losses.framewise_cross_entropy(jnp.array(z), jnp.array(y), lengths), want, rtol=1e-12
    )
    np.testing.assert_allclose(losses.framewise_error(jnp.array(z), jnp.array(y), lengths), 0.5)
    np.testing.assert_allclose(
        losses.bits_per_character(jnp.array(z), jnp.array(y), lengths),
        want / math.log(2),
        rtol=1e-12,
    )


def test_mse_mae_masked_and_unmasked():
    p = np.array([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [7.0, 7.0]]])
    t = np.array([[[0.0, 2.0], [1.0, 1.0]], [[1.0, -1.0], [0.0, 0.0]]])
    lengths = jnp.array([2, 1])
    # valid steps: (0,0): sq 1,0 ; (0,1): 4,9 ; (1,0): 1,1  -> per-step means 0.5, 6.5, 1
    np.testing.assert_allclose(losses.mse(jnp.array(p), jnp.array(t), lengths), 8.0 / 3)
    # abs: 1,0 ; 2,3 ; 1,1 -> 0.5, 2.5, 1
    np.testing.assert_allclose(losses.mae(jnp.array(p), jnp.array(t), lengths), 4.0 / 3)
    np.testing.assert_allclose(losses.mse(jnp.array(p), jnp.array(t)), np.mean((p - t) ** 2))


def test_ctc_two_steps_one_label_by_hand():
    # V = {blank 0, 'a' 1}; label "a"; T=2 valid steps + 1 padded step with garbage logits.
    # Paths collapsing to "a": (a,-), (-,a), (a,a).
    z = np.array([[[0.2, 1.0], [1.5, -0.5], [50.0, -50.0]]])
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    prob = p[0, 0, 1] * p[0, 1, 0] + p[0, 0, 0] * p[0, 1, 1] + p[0, 0, 1] * p[0, 1, 1]
    got = losses.ctc_loss(jnp.array(z), jnp.array([2]), jnp.array([[1, 0]]), jnp.array([1]))
    np.testing.assert_allclose(got, -math.log(prob), rtol=1e-10)
    # and optax on the unpadded 2-step input agrees
    ref = optax.ctc_loss(
        jnp.array(z[:, :2]), jnp.zeros((1, 2)), jnp.array([[1]]), jnp.zeros((1, 1))
    )
    np.testing.assert_allclose(got, ref[0], rtol=1e-10)


def test_ctc_repeated_label_needs_blank():
    # label "aa" in T=3: the only path is (a, -, a).
    z = np.array([[[0.1, 0.7], [0.3, -0.2], [-1.0, 0.4]]])
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    prob = p[0, 0, 1] * p[0, 1, 0] * p[0, 2, 1]
    got = losses.ctc_loss(jnp.array(z), jnp.array([3]), jnp.array([[1, 1]]), jnp.array([2]))
    np.testing.assert_allclose(got, -math.log(prob), rtol=1e-10)
