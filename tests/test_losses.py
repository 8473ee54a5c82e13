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


def _levenshtein(a: list[int], b: list[int]) -> int:
    """Textbook O(len(a) len(b)) dynamic programme, independent of rnnlab's vectorised one."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def test_edit_distance_equals_textbook_levenshtein_on_padded_batches():
    rng = np.random.default_rng(0)
    B, T, L = 40, 7, 6
    hyp_len, ref_len = rng.integers(0, T + 1, B), rng.integers(0, L + 1, B)
    hyp = rng.integers(1, 4, (B, T))  # small alphabet: many matches and near-matches
    ref = rng.integers(1, 4, (B, L))
    got = losses.edit_distance(jnp.asarray(hyp), jnp.asarray(hyp_len), jnp.asarray(ref), ref_len)
    want = [
        _levenshtein(list(h[:m]), list(r[:n])) for h, m, r, n in zip(hyp, hyp_len, ref, ref_len)
    ]
    np.testing.assert_array_equal(np.asarray(got), want)


def test_ctc_greedy_decode_merges_repeats_drops_blanks_and_padding():
    # best path per frame: 1 1 0 1 2 2 | padding 3 3  -> tokens 1 1 2 (blank splits the 1s)
    path = [1, 1, 0, 1, 2, 2, 3, 3]
    logits_BTV = jnp.asarray(np.eye(4)[path][None] * 5.0)
    tokens, n = losses.ctc_greedy_decode(logits_BTV, jnp.array([6]))
    assert int(n[0]) == 3
    np.testing.assert_array_equal(np.asarray(tokens[0, :3]), [1, 1, 2])
    assert int(np.asarray(tokens[0, 3:]).sum()) == 0
    rate = losses.label_error_rate(logits_BTV, jnp.array([6]), jnp.array([[1, 2]]), jnp.array([2]))
    np.testing.assert_allclose(float(rate), 0.5)  # one insertion against a 2-label reference
