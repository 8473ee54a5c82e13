"""Losses over right-padded batches: padded steps never count.

Shape legend: B batch, T time, V outputs (units, classes or symbols), L label length.
Every loss returns the mean that its docstring states; ``mask_BT`` is 1 on valid steps,
``t < lengths[b]``. ``count`` helpers give the number the mean divides by, so that means
over several batches can be combined exactly: mean = sum_b(loss_b * count_b) / sum_b count_b.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax

Array = jax.Array


def sequence_mask(lengths_B: Array, T: int, dtype=jnp.float32) -> Array:
    """mask[b, t] = 1 if t < lengths[b] else 0, shape (B, T)."""
    return (jnp.arange(T)[None, :] < jnp.asarray(lengths_B)[:, None]).astype(dtype)


def _masked_mean(v_BT: Array, lengths_B: Array | None) -> Array:
    """sum_{b,t} m_bt v_bt / max(1, sum m): the mean over valid steps."""
    if lengths_B is None:
        return jnp.mean(v_BT)
    m_BT = sequence_mask(lengths_B, v_BT.shape[1], v_BT.dtype)
    return jnp.sum(v_BT * m_BT) / jnp.maximum(jnp.sum(m_BT), 1.0)


def valid_steps(lengths_B: Array) -> Array:
    """The number of valid steps sum_b lengths[b] (the count of per-step means)."""
    return jnp.sum(jnp.asarray(lengths_B)).astype(jnp.float32)


def bernoulli_nll(logits_BTV: Array, targets_BTV: Array, lengths_B: Array | None = None) -> Array:
    """Negative log-likelihood per time step of independent Bernoulli units (JSB convention).

    NLL = (1/N) sum_{b, t < len_b} sum_v -[y log s(z) + (1 - y) log(1 - s(z))], with s the
    logistic sigmoid, z the logits and N = sum_b len_b: summed over the V units, averaged over
    valid steps (Boulanger-Lewandowski et al. 2012; Greff et al. 2017).
    """
    nll_BTV = optax.sigmoid_binary_cross_entropy(logits_BTV, targets_BTV.astype(logits_BTV.dtype))
    return _masked_mean(jnp.sum(nll_BTV, axis=-1), lengths_B)


def sequence_cross_entropy(logits_BV: Array, labels_B: Array) -> Array:
    """Cross-entropy of one label per sequence: (1/B) sum_b -log softmax(z_b)[y_b]."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits_BV, labels_B))


def sequence_error(logits_BV: Array, labels_B: Array) -> Array:
    """Classification error rate (1/B) sum_b [argmax z_b != y_b]."""
    return jnp.mean((jnp.argmax(logits_BV, -1) != labels_B).astype(jnp.float32))


def framewise_cross_entropy(
    logits_BTV: Array, labels_BT: Array, lengths_B: Array | None = None
) -> Array:
    """Cross-entropy per frame: (1/N) sum_{b, t < len_b} -log softmax(z_bt)[y_bt], N = sum len."""
    ce_BT = optax.softmax_cross_entropy_with_integer_labels(logits_BTV, labels_BT)
    return _masked_mean(ce_BT, lengths_B)


def framewise_error(logits_BTV: Array, labels_BT: Array, lengths_B: Array | None = None) -> Array:
    """Frame error rate: (1/N) sum_{b, t < len_b} [argmax z_bt != y_bt]."""
    wrong_BT = (jnp.argmax(logits_BTV, -1) != labels_BT).astype(logits_BTV.dtype)
    return _masked_mean(wrong_BT, lengths_B)


def char_cross_entropy(
    logits_BTV: Array, labels_BT: Array, lengths_B: Array | None = None
) -> Array:
    """Character-level LM cross-entropy in nats per character (= framewise cross-entropy)."""
    return framewise_cross_entropy(logits_BTV, labels_BT, lengths_B)


def bits_per_character(
    logits_BTV: Array, labels_BT: Array, lengths_B: Array | None = None
) -> Array:
    """Bits per character: BPC = CE / ln 2, CE the mean nats per valid character."""
    return char_cross_entropy(logits_BTV, labels_BT, lengths_B) / math.log(2.0)


def ctc_loss(
    logits_BTV: Array,
    lengths_B: Array,
    labels_BL: Array,
    label_lengths_B: Array,
    blank_id: int = 0,
) -> Array:
    """Connectionist temporal classification (Graves et al. 2006), mean over sequences.

    CTC = (1/B) sum_b -log sum_{pi in B^-1(l_b)} prod_{t < len_b} softmax(z_bt)[pi_t], the sum
    over all frame alignments pi that collapse (merge repeats, drop blanks) to the label
    sequence l_b of length label_lengths[b]. Computed by ``optax.ctc_loss``.
    """
    T, L = logits_BTV.shape[1], labels_BL.shape[1]
    logit_pad_BT = 1.0 - sequence_mask(lengths_B, T, logits_BTV.dtype)
    label_pad_BL = 1.0 - sequence_mask(label_lengths_B, L, logits_BTV.dtype)
    nll_B = optax.ctc_loss(logits_BTV, logit_pad_BT, labels_BL, label_pad_BL, blank_id=blank_id)
    return jnp.mean(nll_B)


def mse(pred: Array, target: Array, lengths_B: Array | None = None) -> Array:
    """Mean squared error. Per step (B, T, V) with lengths: (1/(N V)) sum_{b,t<len_b,v} (p - y)^2;
    without lengths: the mean of (p - y)^2 over all entries."""
    sq = jnp.square(pred - target)
    if lengths_B is None:
        return jnp.mean(sq)
    return _masked_mean(jnp.mean(sq, axis=-1), lengths_B)


def mae(pred: Array, target: Array, lengths_B: Array | None = None) -> Array:
    """Mean absolute error, masked like ``mse``: (1/(N V)) sum_{b,t<len_b,v} |p - y|."""
    ab = jnp.abs(pred - target)
    if lengths_B is None:
        return jnp.mean(ab)
    return _masked_mean(jnp.mean(ab, axis=-1), lengths_B)


__all__ = [
    "bernoulli_nll",
    "bits_per_character",
    "char_cross_entropy",
    "ctc_loss",
    "framewise_cross_entropy",
    "framewise_error",
    "mae",
    "mse",
    "sequence_cross_entropy",
    "sequence_error",
    "sequence_mask",
    "valid_steps",
]
