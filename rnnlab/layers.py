"""The recurrent layer: a cell run over a sequence, fast, with padding done right.

``rnn`` is the functional core (any cell, one direction); ``Recurrent`` is the Flax module
on top of it (stacks, bidirectional, dropout between layers, variational recurrent dropout).

Speed. Each step does one fused matmul ``r(carry_{t-1}) @ R`` and element-wise work. The
input projection ``x W + b`` is either hoisted out of the time loop (one matmul for the whole
sequence) or done inside the step (``hoist``). With ``custom_vjp`` the backward pass is
hand-written: the forward loop stores each step's pullback of the element-wise update; the
reverse loop carries only the carry's gradient, replays those pullbacks and emits the gate
gradients; dW, dR and dx are then one matmul each over all T*B rows, outside the loop.
Defaults per backend come from ``benchmarks/bench_lstm.py`` (see benchmarks/README.md).

Padding. Batches are right-padded with integer ``lengths``. Outputs are exactly zero past each
length; the returned carry is the one at each sequence's last valid step (the carry simply
stops changing, so no history is stored); ``reverse`` reverses within each length.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells.base import Array, Carry, Cell, Params, check_input_size

_PROJECTION_KEYS = ("W", "b", "R")


def default_hoist() -> bool:
    """Hoist the input projection on accelerators; keep it in the loop on CPU (measured)."""
    return jax.default_backend() != "cpu"


def _tree_add(a: Any, b: Any) -> Any:
    return jax.tree.map(jnp.add, a, b)


def _recurrent_input(cell: Cell, carry: Carry, rmask_BK: Array | None = None) -> Array:
    r_BK = cell.recurrent_input(carry)
    return r_BK if rmask_BK is None else r_BK * rmask_BK


def _masked_update(
    cell: Cell, params: Params, carry: Carry, u_BG: Array, v_BG: Array, m_B: Array | None
) -> tuple[Carry, Array]:
    """cell.update, frozen where the step is padding (m_B False): carry kept, output zero."""
    new_carry, y_BH = cell.update(params, carry, u_BG, v_BG)
    if m_B is None:
        return new_carry, y_BH
    keep = m_B[:, None]
    new_carry = jax.tree.map(lambda n, o: jnp.where(keep, n, o), new_carry, carry)
    return new_carry, jnp.where(keep, y_BH, 0)


def _additive(cell: Cell) -> bool:
    """Whether the cell's update depends on u and v only through u + v (LSTM, Elman)."""
    return getattr(cell, "additive_update", False)


def _split_params(params: Params) -> tuple[Params, Params]:
    """(projection and recurrent matrices, element-wise parameters of ``update``)."""
    fixed = {k: v for k, v in params.items() if k in _PROJECTION_KEYS}
    rest = {k: v for k, v in params.items() if k not in _PROJECTION_KEYS}
    return fixed, rest


def _forward(cell, hoist, unroll, params, carry0, x_TBD, mask_TB, rmask_BK, save):
    """Run the time loop. With ``save`` it also returns, per step, the recurrent input r_t and
    the pullbacks of the element-wise update and of r(carry): the hand-written backward
    replays those. The update is wrapped in ``jax.checkpoint``, so a pullback keeps only the
    step's inputs and recomputes the element-wise work: storing every intermediate made the
    training step 1.3x slower on CPU (benchmarks/README.md)."""
    R = params["R"]
    fixed, rest = _split_params(params)
    xs_TB = cell.project(params, x_TBD) if hoist else x_TBD

    def body(carry, inp):
        xs_t, m_t = inp
        u_t = xs_t if hoist else cell.project(params, xs_t)
        if not save:
            v_t = _recurrent_input(cell, carry, rmask_BK) @ R
            return _masked_update(cell, params, carry, u_t, v_t, m_t)

        @jax.checkpoint
        def update(rest_, carry_, u_, v_):
            return _masked_update(cell, {**fixed, **rest_}, carry_, u_, v_, m_t)

        r_t, pullback_r = jax.vjp(partial(_recurrent_input, cell), carry, rmask_BK)
        if _additive(cell):  # update sees only a = u + v: one gradient serves du and dv
            a_t = u_t + r_t @ R
            (new_carry, y_t), pullback_update = jax.vjp(
                lambda rest_, c, a: update(rest_, c, a, 0.0), rest, carry, a_t
            )
        else:
            (new_carry, y_t), pullback_update = jax.vjp(update, rest, carry, u_t, r_t @ R)
        return new_carry, (y_t, (r_t, pullback_r, pullback_update))

    carry, out = jax.lax.scan(body, carry0, (xs_TB, mask_TB), unroll=unroll)
    return (carry, out, None) if not save else (carry, out[0], out[1])


@partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def _recur_custom(cell, hoist, unroll, params, carry0, x_TBD, mask_TB, rmask_BK):
    carry, y_TBH, _ = _forward(cell, hoist, unroll, params, carry0, x_TBD, mask_TB, rmask_BK, False)
    return carry, y_TBH


def _recur_fwd(cell, hoist, unroll, params, carry0, x_TBD, mask_TB, rmask_BK):
    carry, y_TBH, saved = _forward(
        cell, hoist, unroll, params, carry0, x_TBD, mask_TB, rmask_BK, True
    )
    return (carry, y_TBH), (params, x_TBD, mask_TB, rmask_BK, saved)


def _recur_bwd(cell, hoist, unroll, residuals, cotangents):
    params, x_TBD, mask_TB, rmask_BK, (r_TBK, pullback_r, pullback_update) = residuals
    dcarry_T, dy_TBH = cotangents
    R_T = params["R"].T
    _, rest = _split_params(params)

    def body(state, inp):
        dcarry, drest, drmask = state
        pullback_r_t, pullback_update_t, dy_t = inp
        drest_t, dcarry_prev, *dz_t = pullback_update_t((dcarry, dy_t))
        dcarry_r, drmask_t = pullback_r_t(dz_t[-1] @ R_T)
        state = (
            _tree_add(dcarry_prev, dcarry_r),
            _tree_add(drest, drest_t),
            _tree_add(drmask, drmask_t),
        )
        return state, dz_t

    init = (dcarry_T, *jax.tree.map(jnp.zeros_like, (rest, rmask_BK)))
    xs = (pullback_r, pullback_update, dy_TBH)
    (dcarry_0, drest, drmask), dz = jax.lax.scan(body, init, xs, reverse=True, unroll=unroll)
    du_TBG, dv_TBG = dz[0], dz[-1]

    # All weight gradients as one matmul over the T*B rows, outside the loop.
    dR = jnp.einsum("tbk,tbg->kg", r_TBK, dv_TBG)
    _, vjp_project = jax.vjp(cell.project, params, x_TBD)
    dparams, dx_TBD = vjp_project(du_TBG)
    dparams = {**dparams, "R": dparams["R"] + dR}
    dparams = {k: v + drest[k] if k in drest else v for k, v in dparams.items()}
    dmask = None if mask_TB is None else np.zeros(mask_TB.shape, jax.dtypes.float0)
    return dparams, dcarry_0, dx_TBD, dmask, drmask


_recur_custom.defvjp(_recur_fwd, _recur_bwd)


def reverse_within_lengths(x_TB: Array, lengths_B: Array | None) -> Array:
    """Reverse a time-major (T, B, ...) array within each sequence's length; padding stays put.

    The permutation is its own inverse, so applying it twice gives back x.
    """
    if lengths_B is None:
        return jnp.flip(x_TB, axis=0)
    t_T1 = jnp.arange(x_TB.shape[0])[:, None]
    idx_TB = jnp.where(t_T1 < lengths_B[None, :], lengths_B[None, :] - 1 - t_T1, t_T1)
    idx = idx_TB.reshape(idx_TB.shape + (1,) * (x_TB.ndim - 2))
    return jnp.take_along_axis(x_TB, idx, axis=0)


def _check_lengths(lengths_B: Any, batch: int, time: int) -> Array:
    """Lengths as a (B,) integer array; values are checked whenever they are known."""
    concrete = not isinstance(lengths_B, jax.core.Tracer)
    if concrete:  # read with NumPy: a concrete jax array closed over under jit stays concrete
        lengths_B = np.asarray(lengths_B)
    if lengths_B.shape != (batch,):
        raise ValueError(
            f"lengths must have shape (batch,) = ({batch},), got {lengths_B.shape}; "
            "pass one integer length per sequence."
        )
    if not jnp.issubdtype(lengths_B.dtype, jnp.integer):
        raise TypeError(f"lengths must be integers, got dtype {lengths_B.dtype}.")
    if concrete and batch and (lengths_B.min() < 0 or lengths_B.max() > time):
        raise ValueError(
            f"lengths must lie in [0, {time}] (the padded sequence length), got min "
            f"{lengths_B.min()}, max {lengths_B.max()}; pad the batch to the longest sequence "
            "or fix the lengths."
        )
    return jnp.asarray(lengths_B)


def prepare_sequence(
    cell: Cell,
    params: Params,
    x_BTD: Array,
    lengths: Array | None,
    initial_carry: Carry | None,
    reverse: bool,
    time_major: bool,
) -> tuple[Array, Array | None, Array | None, Carry]:
    """Checked, time-major inputs (reversed within lengths if asked), the lengths, the
    (T, B) validity mask and the initial carry: what every sequence runner starts from."""
    if x_BTD.ndim != 3:
        raise ValueError(
            f"expected inputs of shape (batch, time, features), got shape {x_BTD.shape}."
        )
    check_input_size(params, x_BTD)
    x_TBD = x_BTD if time_major else jnp.swapaxes(x_BTD, 0, 1)
    T, B = x_TBD.shape[:2]
    mask_TB = None
    if lengths is not None:
        lengths = _check_lengths(lengths, B, T)
        mask_TB = jnp.arange(T)[:, None] < lengths[None, :]
    if reverse:
        x_TBD = reverse_within_lengths(x_TBD, lengths)
    carry0 = cell.initial_carry((B,), x_TBD.dtype) if initial_carry is None else initial_carry
    return x_TBD, lengths, mask_TB, carry0


def finish_sequence(y_TBH: Array, lengths: Array | None, reverse: bool, time_major: bool) -> Array:
    """Undo ``prepare_sequence``'s reversal and transpose on the outputs."""
    if reverse:
        y_TBH = reverse_within_lengths(y_TBH, lengths)
    return y_TBH if time_major else jnp.swapaxes(y_TBH, 0, 1)


def rnn(
    cell: Cell,
    params: Params,
    x_BTD: Array,
    *,
    lengths: Array | None = None,
    initial_carry: Carry | None = None,
    reverse: bool = False,
    recurrent_mask: Array | None = None,
    hoist: bool | None = None,
    custom_vjp: bool = True,
    unroll: int = 1,
    time_major: bool = False,
) -> tuple[Array, Carry]:
    """Run ``cell`` over a batch of sequences: returns (y_BTH, carry at each last valid step).

    Args:
      x_BTD: right-padded inputs (T, B, D) when ``time_major``.
      lengths: (B,) valid lengths; outputs past them are exactly zero.
      initial_carry: carry to start from (truncated BPTT); zeros by default.
      reverse: run from each sequence's last valid step to its first; outputs stay aligned
        with the inputs.
      recurrent_mask: (B, K) multiplier of the recurrent input r(carry), the same at every
        step: variational recurrent dropout (Gal & Ghahramani 2016). It reaches the fused
        matmul r @ R; a second matmul inside a cell's update (reset-before GRU's U_n, MGU,
        MUT) sees the unmasked state.
      hoist: input projection outside (True) or inside (False) the time loop;
        None picks the measured default for the backend.
      custom_vjp: use the hand-written backward pass (gradients equal autodiff's).
      unroll: ``lax.scan`` unroll factor.
    """
    hoist = default_hoist() if hoist is None else hoist
    x_TBD, lengths, mask_TB, carry0 = prepare_sequence(
        cell, params, x_BTD, lengths, initial_carry, reverse, time_major
    )
    if custom_vjp:
        carry, y_TBH = _recur_custom(
            cell, hoist, unroll, params, carry0, x_TBD, mask_TB, recurrent_mask
        )
    else:
        carry, y_TBH, _ = _forward(
            cell, hoist, unroll, params, carry0, x_TBD, mask_TB, recurrent_mask, False
        )
    return finish_sequence(y_TBH, lengths, reverse, time_major), carry


class Recurrent(nn.Module):
    """A stack of recurrent layers over right-padded batches.

    ``Recurrent(cell, num_layers=2, bidirectional=True, dropout=0.2, recurrent_dropout=0.25)``;
    call as ``ys, carries = layer.apply(variables, x_BTD, lengths=len_B)``.

    Returns the top layer's outputs (B, T, H or 2H) and a tuple with one entry per layer: the
    carry, or (forward carry, backward carry) when bidirectional. Passing that tuple back as
    ``initial_carry`` continues the sequence (truncated BPTT). Dropout needs
    ``deterministic=False`` and a ``"dropout"`` rng.
    """

    cell: Cell
    num_layers: int = 1
    bidirectional: bool = False
    merge: str = "concat"  # how the two directions are combined: "concat" or "sum"
    dropout: float = 0.0  # on the outputs of every layer but the last
    recurrent_dropout: float = 0.0  # variational: one mask per sequence, per layer and direction
    hoist: bool | None = None
    custom_vjp: bool = True
    unroll: int = 1
    scan: str = "sequential"  # "parallel": associative scan for linear recurrences (minGRU, LRU)

    def _directions(self) -> Sequence[bool]:
        return (False, True) if self.bidirectional else (False,)

    def _recurrent_mask(self, carry: Carry, deterministic: bool) -> Array | None:
        if deterministic or self.recurrent_dropout == 0.0:
            return None
        keep = 1.0 - self.recurrent_dropout
        r_BK = self.cell.recurrent_input(carry)
        bits = jax.random.bernoulli(self.make_rng("dropout"), keep, r_BK.shape)
        return bits.astype(r_BK.dtype) / keep

    @nn.compact
    def __call__(
        self,
        x_BTD: Array,
        lengths: Array | None = None,
        initial_carry: tuple | None = None,
        *,
        deterministic: bool = True,
    ) -> tuple[Array, tuple]:
        if self.merge not in ("concat", "sum"):
            raise ValueError(f"merge must be 'concat' or 'sum', got {self.merge!r}.")
        if self.scan not in ("sequential", "parallel"):
            raise ValueError(f"scan must be 'sequential' or 'parallel', got {self.scan!r}.")
        if self.scan == "parallel" and self.recurrent_dropout:
            raise ValueError("recurrent_dropout needs scan='sequential' (it acts inside the loop).")
        for name in ("dropout", "recurrent_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}.")
        if initial_carry is not None and len(initial_carry) != self.num_layers:
            raise ValueError(
                f"initial_carry needs one entry per layer ({self.num_layers}), "
                f"got {len(initial_carry)}."
            )
        h_BTD, carries = x_BTD, []
        for layer in range(self.num_layers):
            outs, layer_carries = [], []
            for d, reverse in enumerate(self._directions()):
                suffix = "bwd" if reverse else "fwd"
                in_size = h_BTD.shape[-1]
                params = self.param(
                    f"layer{layer}_{suffix}", lambda k, n=in_size: self.cell.init(k, n)
                )
                carry0 = None
                if initial_carry is not None:
                    carry0 = initial_carry[layer][d] if self.bidirectional else initial_carry[layer]
                shape_carry = self.cell.initial_carry((x_BTD.shape[0],), h_BTD.dtype)
                common = dict(lengths=lengths, initial_carry=carry0, reverse=reverse)
                if self.scan == "parallel":
                    from rnnlab.parallel import parallel_rnn

                    y_BTH, carry = parallel_rnn(self.cell, params, h_BTD, **common)
                else:
                    y_BTH, carry = rnn(
                        self.cell,
                        params,
                        h_BTD,
                        recurrent_mask=self._recurrent_mask(shape_carry, deterministic),
                        hoist=self.hoist,
                        custom_vjp=self.custom_vjp,
                        unroll=self.unroll,
                        **common,
                    )
                outs.append(y_BTH)
                layer_carries.append(carry)
            if len(outs) == 1:
                h_BTD = outs[0]
            else:
                h_BTD = jnp.concatenate(outs, -1) if self.merge == "concat" else outs[0] + outs[1]
            carries.append(tuple(layer_carries) if self.bidirectional else layer_carries[0])
            if layer < self.num_layers - 1 and self.dropout > 0.0:
                h_BTD = nn.Dropout(self.dropout)(h_BTD, deterministic=deterministic)
        return h_BTD, tuple(carries)
