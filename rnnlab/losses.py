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


def ctc_greedy_decode(
    logits_BTV: Array, lengths_B: Array, blank_id: int = 0
) -> tuple[Array, Array]:
    """Best-path CTC decoding: argmax per valid frame, repeats merged, blanks dropped.

    Returns (tokens_BT, token_lengths_B): the decoded symbols left-aligned, zero-padded.
    """
    B, T = logits_BTV.shape[:2]
    best_BT = jnp.argmax(logits_BTV, -1).astype(jnp.int32)
    prev_BT = jnp.pad(best_BT[:, :-1], ((0, 0), (1, 0)), constant_values=-1)
    keep_BT = (sequence_mask(lengths_B, T, bool)) & (best_BT != blank_id) & (best_BT != prev_BT)
    pos_BT = jnp.where(keep_BT, jnp.cumsum(keep_BT, axis=1) - 1, T)
    rows_BT = jnp.broadcast_to(jnp.arange(B)[:, None], (B, T))
    tokens_BT = jnp.zeros((B, T), jnp.int32).at[rows_BT, pos_BT].set(best_BT, mode="drop")
    return tokens_BT, jnp.sum(keep_BT, axis=1).astype(jnp.int32)


def edit_distance(
    hyp_BT: Array, hyp_lengths_B: Array, ref_BL: Array, ref_lengths_B: Array
) -> Array:
    """Levenshtein distance (unit insert/delete/substitute) between each hypothesis
    hyp[b, :hyp_len[b]] and reference ref[b, :ref_len[b]], shape (B,) float32.

    Dynamic programming row by row over the hypothesis; within a row the insertion chain
    d[j] = min_k (t[k] + j - k) is a cumulative minimum, so each row is vectorised.
    """
    B, L = ref_BL.shape
    j_L1 = jnp.arange(L + 1, dtype=jnp.float32)
    d0_BL1 = jnp.broadcast_to(j_L1, (B, L + 1))

    def row(d_BL1, inp):
        i, h_B = inp
        sub_BL = d_BL1[:, :-1] + (h_B[:, None] != ref_BL).astype(jnp.float32)
        t_BL1 = jnp.concatenate(
            [jnp.full((B, 1), i + 1.0), jnp.minimum(d_BL1[:, 1:] + 1.0, sub_BL)], axis=1
        )
        new_BL1 = jax.lax.cummin(t_BL1 - j_L1, axis=1) + j_L1
        live_B = i < hyp_lengths_B
        return jnp.where(live_B[:, None], new_BL1, d_BL1), None

    T = hyp_BT.shape[1]
    steps = (jnp.arange(T, dtype=jnp.float32), jnp.swapaxes(hyp_BT, 0, 1))
    d_BL1, _ = jax.lax.scan(row, d0_BL1, steps)
    return jnp.take_along_axis(d_BL1, jnp.asarray(ref_lengths_B)[:, None], axis=1)[:, 0]


def label_error_rate(
    logits_BTV: Array,
    lengths_B: Array,
    labels_BL: Array,
    label_lengths_B: Array,
    blank_id: int = 0,
) -> Array:
    """Label error rate of best-path decoding: sum_b edit(decode_b, l_b) / sum_b |l_b|."""
    hyp_BT, hyp_len_B = ctc_greedy_decode(logits_BTV, lengths_B, blank_id)
    dist_B = edit_distance(hyp_BT, hyp_len_B, labels_BL, label_lengths_B)
    return jnp.sum(dist_B) / jnp.maximum(jnp.sum(label_lengths_B), 1).astype(jnp.float32)


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
    "ctc_greedy_decode",
    "ctc_loss",
    "edit_distance",
    "framewise_cross_entropy",
    "framewise_error",
    "label_error_rate",
    "mae",
    "mse",
    "sequence_cross_entropy",
    "sequence_error",
    "sequence_mask",
    "valid_steps",
]
