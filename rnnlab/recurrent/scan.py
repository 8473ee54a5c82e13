"""The recurrent layer: a cell run over a sequence, fast, with padding done right.

``rnn`` is the functional core (any cell, one direction); ``Recurrent`` is the Flax module
on top of it (stacks, bidirectional, dropout between layers, variational recurrent dropout).

Speed. Each step does one fused matmul ``r(carry_{t-1}) @ R`` (none for a cell without
``"R"``, whose recurrence is element-wise) and element-wise work. The
input projection ``x W + b`` is either hoisted out of the time loop (one matmul for the whole
sequence) or done inside the step (``hoist``). With ``custom_vjp`` the backward pass is
hand-written: the forward loop stores each step's carry and pre-activations; the reverse
loop carries only the carry's gradient, replays each step's element-wise update from them and
emits the gate gradients; dW, dR and dx are then one matmul each over all T*B rows, outside
the loop.
Defaults per backend come from ``benchmarks/bench_lstm.py`` (see benchmarks/README.md).

Padding. Batches are right-padded with integer ``lengths``. Outputs are exactly zero past each
length; the returned carry is the one at each sequence's last valid step (the carry simply
stops changing, so no history is stored); ``reverse`` reverses within each length. With the
hand-written backward pass and ``lengths``, both loops stop after the longest length
(``steps_bound``): steps where every sequence is padding change nothing, so they are skipped,
and one compiled program serves every padded time size up to T at the cost of its real steps.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells.base import Array, Carry, Cell, Params
from rnnlab.recurrent.sequence import finish_sequence, prepare_sequence

_PROJECTION_KEYS = ("W", "b", "R")


def default_hoist() -> bool:
    """Hoist the input projection on accelerators; keep it in the loop on CPU (measured)."""
    return jax.default_backend() != "cpu"


@jax.custom_batching.custom_vmap
def steps_bound(lengths_B: Array) -> Array:
    """The time steps a loop must run: the longest of ``lengths_B``. Under ``vmap`` it is the
    longest over all the batched rows, left unbatched: a batched trip count would make the
    loop select between old and new values of its whole state at every step."""
    return jnp.max(lengths_B, initial=0)


@steps_bound.def_vmap
def _steps_bound_vmap(axis_size: int, in_batched: list, lengths: Array) -> tuple[Array, bool]:
    del axis_size, in_batched
    return jnp.max(lengths, initial=0), False


def scan_steps(body, carry: Any, xs: Any, steps: Array | None, *, reverse=False, unroll=1):
    """``lax.scan(body, carry, xs, reverse=reverse)`` over only the first ``steps`` of the T
    steps of ``xs`` (in reverse from ``steps - 1``); the outputs of the skipped steps are
    zeros. Exact when the skipped steps leave the carry as it is and output zeros (all rows
    padding). ``steps=None`` or ``unroll > 1`` runs all T steps with ``lax.scan``."""
    if steps is None or unroll != 1:
        return jax.lax.scan(body, carry, xs, reverse=reverse, unroll=unroll)
    T = jax.tree.leaves(xs)[0].shape[0]
    at = lambda t: jax.tree.map(lambda a: jax.lax.dynamic_index_in_dim(a, t, 0, False), xs)  # noqa: E731
    out_shapes = jax.tree.leaves(jax.eval_shape(body, carry, at(0))[1])
    ys0 = [jnp.zeros((T, *o.shape), o.dtype) for o in out_shapes]
    treedef = []

    def step(i, state):
        c, ys = state
        t = steps - 1 - i if reverse else i
        c, y = body(c, at(t))
        leaves, tree = jax.tree.flatten(y)
        treedef[:] = [tree]
        ys = [jax.lax.dynamic_update_index_in_dim(buf, v, t, 0) for buf, v in zip(ys, leaves)]
        return c, ys

    carry, ys = jax.lax.fori_loop(0, steps, step, (carry, ys0))
    return carry, jax.tree.unflatten(treedef[0], ys)


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


def _step_inputs(cell: Cell, u_t: Array, v_t: Array | None) -> tuple[Array, ...]:
    """What a step's update reads besides the carry, as the backward saves it: (u + v,) for
    an additive cell (one gradient then serves du and dv), (u, v), or (u,) without R."""
    if v_t is None:
        return (u_t,)
    return (u_t + v_t,) if _additive(cell) else (u_t, v_t)


def _update(cell, params, carry, z_t, m_t, has_R):
    """``_masked_update`` on ``_step_inputs``."""
    v_t = z_t[1] if len(z_t) == 2 else (0.0 if has_R else None)
    return _masked_update(cell, params, carry, z_t[0], v_t, m_t)


def _forward(cell, hoist, unroll, params, carry0, x_TBD, mask_TB, rmask_BK, steps, save):
    """Run the time loop over the first ``steps`` steps (all when None). With ``save`` it also
    returns, per step, the carry before the step and its ``_step_inputs``: all the
    hand-written backward needs to replay the step. The backward recomputes the element-wise
    work from them (storing every intermediate made the training step 1.3x slower on CPU,
    benchmarks/README.md) and reads loop-invariant parameters once, not per step."""
    R = params.get("R")  # None: element-wise recurrence, no matmul (IndRNN, minGRU, LRU)
    xs_TB = cell.project(params, x_TBD) if hoist else x_TBD

    def body(carry, inp):
        xs_t, m_t = inp
        u_t = xs_t if hoist else cell.project(params, xs_t)
        v_t = None if R is None else _recurrent_input(cell, carry, rmask_BK) @ R
        z_t = _step_inputs(cell, u_t, v_t)
        new_carry, y_t = _update(cell, params, carry, z_t, m_t, R is not None)
        return new_carry, ((y_t, (carry, z_t)) if save else y_t)

    carry, out = scan_steps(body, carry0, (xs_TB, mask_TB), steps, unroll=unroll)
    return (carry, out, None) if not save else (carry, out[0], out[1])


def _weight_gradient(a_TBK: Array, d_TBG: Array) -> Array:
    """sum_t a_t^T d_t as one (T*B, K)^T @ (T*B, G) matmul. Written on 2-D operands with the
    contracting axis first, XLA:CPU emits one dot with no copy; the 3-D einsum became two
    transposing copies plus a dot, about twice the time (benchmarks/README.md, section 0)."""
    a = a_TBK.reshape(-1, a_TBK.shape[-1])
    d = d_TBG.reshape(-1, d_TBG.shape[-1])
    return jax.lax.dot_general(a, d, (((0,), (0,)), ((), ())))


@partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def _recur_custom(cell, hoist, unroll, params, carry0, x_TBD, mask_TB, rmask_BK, steps):
    args = (params, carry0, x_TBD, mask_TB, rmask_BK, steps)
    carry, y_TBH, _ = _forward(cell, hoist, unroll, *args, False)
    return carry, y_TBH


def _recur_fwd(cell, hoist, unroll, params, carry0, x_TBD, mask_TB, rmask_BK, steps):
    args = (params, carry0, x_TBD, mask_TB, rmask_BK, steps)
    carry, y_TBH, saved = _forward(cell, hoist, unroll, *args, True)
    return (carry, y_TBH), (params, x_TBD, mask_TB, rmask_BK, steps, saved)


def _float0_like(x: Array | None) -> np.ndarray | None:
    """The cotangent of an integer or boolean argument."""
    return None if x is None else np.zeros(np.shape(x), jax.dtypes.float0)


def _recur_bwd(cell, hoist, unroll, residuals, cotangents):
    params, x_TBD, mask_TB, rmask_BK, steps, saved = residuals
    carry_TB, z_TB = saved
    dcarry_T, dy_TBH = cotangents
    has_R = "R" in params
    R_T = params["R"].T if has_R else None
    fixed, rest = _split_params(params)
    recurrent_input = partial(_recurrent_input, cell)

    def body(state, inp):
        dcarry, drest, drmask = state
        carry_t, z_t, m_t, dy_t = inp
        update = lambda rest_, c, *z: _update(cell, {**fixed, **rest_}, c, z, m_t, has_R)  # noqa: E731
        _, pullback_update = jax.vjp(update, rest, carry_t, *z_t)
        drest_t, dcarry_prev, *dz_t = pullback_update((dcarry, dy_t))
        if has_R:
            _, pullback_r = jax.vjp(recurrent_input, carry_t, rmask_BK)
            dcarry_r, drmask_t = pullback_r(dz_t[-1] @ R_T)
            dcarry_prev, drmask = _tree_add(dcarry_prev, dcarry_r), _tree_add(drmask, drmask_t)
        state = (dcarry_prev, _tree_add(drest, drest_t), drmask)
        return state, dz_t

    init = (dcarry_T, *jax.tree.map(jnp.zeros_like, (rest, rmask_BK)))
    xs = (carry_TB, z_TB, mask_TB, dy_TBH)
    (dcarry_0, drest, drmask), dz = scan_steps(body, init, xs, steps, reverse=True, unroll=unroll)
    du_TBG, dv_TBG = dz[0], dz[-1]

    # All weight gradients as one matmul over the T*B rows, outside the loop.
    # On (T*B, .) rows, the transposed projection's dW is a dot contracting the rows' axis
    # first, which XLA:CPU runs without transposing copies (see _weight_gradient).
    rows = x_TBD.shape[0] * x_TBD.shape[1]
    _, vjp_project = jax.vjp(cell.project, params, x_TBD.reshape(rows, *x_TBD.shape[2:]))
    dparams, dx = vjp_project(du_TBG.reshape(rows, *du_TBG.shape[2:]))
    dx_TBD = dx.reshape(x_TBD.shape)
    if has_R:
        r_TBK = recurrent_input(carry_TB, rmask_BK)  # the rows R multiplied, at every step
        dparams = {**dparams, "R": dparams["R"] + _weight_gradient(r_TBK, dv_TBG)}
    dparams = {k: v + drest[k] if k in drest else v for k, v in dparams.items()}
    return dparams, dcarry_0, dx_TBD, _float0_like(mask_TB), drmask, _float0_like(steps)


_recur_custom.defvjp(_recur_fwd, _recur_bwd)


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
    if recurrent_mask is not None and "R" not in params:
        raise ValueError(
            f"{type(cell).__name__} has no recurrent matrix for recurrent_mask to act on; "
            "drop recurrent dropout for this cell."
        )
    x_TBD, lengths, mask_TB, carry0 = prepare_sequence(
        cell, params, x_BTD, lengths, initial_carry, reverse, time_major
    )
    if custom_vjp:
        if recurrent_mask is None and hasattr(cell, "fuse_recurrence"):
            cell, params = cell.fuse_recurrence(params)  # one matmul for the whole recurrence
        steps = None if lengths is None else steps_bound(lengths)
        carry, y_TBH = _recur_custom(
            cell, hoist, unroll, params, carry0, x_TBD, mask_TB, recurrent_mask, steps
        )
    else:  # lax.scan over all T steps: autodiff needs a static trip count
        carry, y_TBH, _ = _forward(
            cell, hoist, unroll, params, carry0, x_TBD, mask_TB, recurrent_mask, None, False
        )
    return finish_sequence(y_TBH, lengths, reverse, time_major), carry
