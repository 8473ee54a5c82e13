"""Encoder-decoder with attention, teacher forcing, greedy and beam-search decoding.

Attention (h_j encoder outputs, s decoder state, masked softmax over valid source steps):

- additive, Bahdanau, Cho & Bengio (2015, "Neural Machine Translation by Jointly Learning to
  Align and Translate", eq. 6 / App. A.1.2): e_tj = v^T tanh(W_s s_{t-1} + W_h h_j); the
  context c_t = sum_j softmax(e_t)_j h_j is computed from the *previous* state and fed to the
  cell with the previous token: s_t = cell(s_{t-1}, [E y_{t-1}; c_t]); logits from [s_t; c_t].
- multiplicative, Luong, Pham & Manning (2015, "Effective Approaches to Attention-based
  Neural Machine Translation", eqs. 5, 8 "general" score and sec. 3.3 input feeding):
  s_t = cell(s_{t-1}, [E y_{t-1}; ~h_{t-1}]); e_tj = s_t^T W_a h_j; ~h_t = tanh(W_c [c_t; s_t]);
  logits = W_o ~h_t.

The model is a frozen dataclass with pure functions over a parameter dict (like the cells);
encoder and decoder are any rnnlab cell of the same kind (the decoder starts from the
encoder's final carry). Token ids: ``pad`` (0), ``bos`` (1), ``eos`` (2) by default.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells import get as get_cell
from rnnlab.cells.base import Array, Params, glorot_uniform, step
from rnnlab.recurrent import rnn

ATTENTIONS = ("bahdanau", "luong")


def masked_softmax(e_BS: Array, mask_BS: Array) -> Array:
    e_BS = jnp.where(mask_BS, e_BS, -jnp.inf)
    return jax.nn.softmax(e_BS, axis=-1)


@dataclasses.dataclass(frozen=True)
class Seq2Seq:
    """``Seq2Seq(src_vocab, tgt_vocab, hidden=64, attention="bahdanau" | "luong")``."""

    src_vocab: int
    tgt_vocab: int
    hidden: int = 64
    embed: int = 32
    cell: str = "lstm"
    cell_kwargs: tuple = (("variant", "standard"),)
    attention: str = "bahdanau"
    pad: int = 0
    bos: int = 1
    eos: int = 2

    def __post_init__(self):
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}.")

    @property
    def rnn_cell(self):
        return get_cell(self.cell, self.hidden, **dict(self.cell_kwargs))

    def init(self, key: Array, dtype: Any = jnp.float32) -> Params:
        H, E, V = self.hidden, self.embed, self.tgt_vocab
        ks = jax.random.split(key, 8)
        params = {
            "src_embed": jax.random.normal(ks[0], (self.src_vocab, E), dtype) / jnp.sqrt(E),
            "tgt_embed": jax.random.normal(ks[1], (V, E), dtype) / jnp.sqrt(E),
            "encoder": self.rnn_cell.init(ks[2], E, dtype),
            "decoder": self.rnn_cell.init(ks[3], E + H, dtype),
            "b_out": jnp.zeros((V,), dtype),
        }
        if self.attention == "bahdanau":
            params["W_h"] = glorot_uniform(ks[4], (H, H), dtype)
            params["W_s"] = glorot_uniform(ks[5], (H, H), dtype)
            params["v"] = glorot_uniform(ks[6], (H, 1), dtype)[:, 0]
            params["W_out"] = glorot_uniform(ks[7], (2 * H, V), dtype)
        else:
            params["W_a"] = glorot_uniform(ks[4], (H, H), dtype)
            params["W_c"] = glorot_uniform(ks[5], (2 * H, H), dtype)
            params["W_out"] = glorot_uniform(ks[7], (H, V), dtype)
        return params

    # -- encoder ------------------------------------------------------------------------
    def encode(self, params: Params, src_BS: Array, src_len_B: Array) -> dict:
        """Encoder outputs, the source mask, attention keys and the decoder's first state."""
        x_BSE = params["src_embed"][src_BS]
        h_BSH, carry = rnn(self.rnn_cell, params["encoder"], x_BSE, lengths=src_len_B)
        mask_BS = jnp.arange(src_BS.shape[1])[None, :] < src_len_B[:, None]
        keys = h_BSH @ (params["W_h"] if self.attention == "bahdanau" else params["W_a"].T)
        feed = jnp.zeros((src_BS.shape[0], self.hidden), h_BSH.dtype)
        return {"h": h_BSH, "mask": mask_BS, "keys": keys, "state": (carry, feed)}

    # -- decoder ------------------------------------------------------------------------
    def decode_step(self, params: Params, enc: dict, state: tuple, tok_B: Array):
        """One decoder step from the previous token: (new state, logits (B, V))."""
        cell, dec = self.rnn_cell, params["decoder"]
        carry, feed = state
        emb = params["tgt_embed"][tok_B]
        if self.attention == "bahdanau":
            s_prev = cell.recurrent_input(carry)
            e = jnp.tanh(enc["keys"] + (s_prev @ params["W_s"])[:, None, :]) @ params["v"]
            c = jnp.einsum("bs,bsh->bh", masked_softmax(e, enc["mask"]), enc["h"])
            carry, s = step(cell, dec, carry, cell.project(dec, jnp.concatenate([emb, c], -1)))
            out = jnp.concatenate([s, c], -1)
            feed = c
        else:
            x = jnp.concatenate([emb, feed], -1)
            carry, s = step(cell, dec, carry, cell.project(dec, x))
            e = jnp.einsum("bh,bsh->bs", s, enc["keys"])
            c = jnp.einsum("bs,bsh->bh", masked_softmax(e, enc["mask"]), enc["h"])
            out = feed = jnp.tanh(jnp.concatenate([c, s], -1) @ params["W_c"])
        return (carry, feed), out @ params["W_out"] + params["b_out"]

    def logits(self, params: Params, src_BS: Array, src_len_B: Array, tgt_in_BT: Array) -> Array:
        """Teacher forcing: logits (B, T, V) for target inputs [bos, y_1, ..., y_{T-1}]."""
        enc = self.encode(params, src_BS, src_len_B)

        def body(state, tok_B):
            return self.decode_step(params, enc, state, tok_B)

        _, logits_TBV = jax.lax.scan(body, enc["state"], tgt_in_BT.T)
        return jnp.swapaxes(logits_TBV, 0, 1)

    def greedy(self, params: Params, src_BS: Array, src_len_B: Array, max_len: int) -> Array:
        """Greedy decoding: (B, max_len) tokens; after ``eos`` every token is ``eos``."""
        enc = self.encode(params, src_BS, src_len_B)
        B = src_BS.shape[0]

        def body(c, _):
            state, tok, done = c
            state, logits = self.decode_step(params, enc, state, tok)
            tok = jnp.where(done, self.eos, jnp.argmax(logits, -1))
            return (state, tok, done | (tok == self.eos)), tok

        init = (enc["state"], jnp.full((B,), self.bos), jnp.zeros((B,), bool))
        _, toks_TB = jax.lax.scan(body, init, None, length=max_len)
        return toks_TB.T

    def beam_search(
        self, params: Params, src_BS: Array, src_len_B: Array, max_len: int, beam_size: int = 4
    ) -> tuple[Array, Array]:
        """Beam search on the sum of log-probabilities: best (B, max_len) tokens and scores.

        A finished hypothesis (one that emitted ``eos``) only extends with ``eos`` at no cost,
        so it competes with the open ones on its final score.
        """
        B, K, V = src_BS.shape[0], beam_size, self.tgt_vocab
        enc = self.encode(params, src_BS, src_len_B)
        enc = jax.tree.map(lambda a: jnp.repeat(a, K, axis=0), enc)  # (B*K, ...)
        scores = jnp.tile(jnp.array([0.0] + [-jnp.inf] * (K - 1)), (B, 1))
        eos_only = jnp.full((V,), -jnp.inf).at[self.eos].set(0.0)

        def body(c, t):
            state, tok, done, scores, hist = c
            state, logits = self.decode_step(params, enc, state, tok)
            logp = jax.nn.log_softmax(logits, -1).reshape(B, K, V)
            logp = jnp.where(done.reshape(B, K, 1), eos_only, logp)
            cand = (scores[..., None] + logp).reshape(B, K * V)
            scores, idx = jax.lax.top_k(cand, K)
            beam, tok_BK = idx // V, idx % V
            flat = (jnp.arange(B)[:, None] * K + beam).reshape(-1)
            state = jax.tree.map(lambda a: a[flat], state)
            hist = hist[flat].at[:, t].set(tok_BK.reshape(-1))
            tok = tok_BK.reshape(-1)
            return (state, tok, done[flat] | (tok == self.eos), scores, hist), None

        init = (
            enc["state"],
            jnp.full((B * K,), self.bos),
            jnp.zeros((B * K,), bool),
            scores,
            jnp.zeros((B * K, max_len), jnp.int32),
        )
        (_, _, _, scores, hist), _ = jax.lax.scan(body, init, jnp.arange(max_len))
        best = jnp.argmax(scores, -1)
        return hist.reshape(B, K, max_len)[jnp.arange(B), best], scores[jnp.arange(B), best]


def sequence_loss(logits_BTV: Array, tgt_out_BT: Array, mask_BT: Array) -> Array:
    """Mean token cross-entropy over the valid (unmasked) target positions."""
    logp = jax.nn.log_softmax(logits_BTV, -1)
    nll = -jnp.take_along_axis(logp, tgt_out_BT[..., None], -1)[..., 0]
    return jnp.sum(nll * mask_BT) / jnp.maximum(jnp.sum(mask_BT), 1)
