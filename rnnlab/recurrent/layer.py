"""``Recurrent``: the Flax module over the runners - stacks, bidirectional layers, dropout
between layers, variational recurrent dropout and the per-step noise of cells that need it
(zoneout); the scan implementation is an enum.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, Cell, has_recurrent_matrix, noise_size
from rnnlab.recurrent.parallel import parallel_rnn
from rnnlab.recurrent.scan import rnn


class Scan(enum.StrEnum):
    """How the time loop runs: ``lax.scan`` with the hand-written backward pass, or an
    associative scan for linear recurrences (minGRU, minLSTM, LRU)."""

    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"


class Recurrent(nn.Module):
    """A stack of recurrent layers over right-padded batches.

    ``Recurrent(cell, num_layers=2, bidirectional=True, dropout=0.2, recurrent_dropout=0.25)``;
    call as ``ys, carries = layer.apply(variables, x_BTD, lengths=len_B)``.

    Returns the top layer's outputs (B, T, H or 2H) and a tuple with one entry per layer: the
    carry, or (forward carry, backward carry) when bidirectional. Passing that tuple back as
    ``initial_carry`` continues the sequence (truncated BPTT). Dropout needs
    ``deterministic=False`` and a ``"dropout"`` rng.

    A cell with per-step noise (``noise_size`` > 0: zoneout) gets its noise features from
    the layer: ``cell.with_noise(x, key)`` with a fresh key from the ``"dropout"`` rng per
    layer and direction when ``deterministic=False``, their expectation (key None) otherwise.
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
    scan: Scan | str = Scan.SEQUENTIAL

    def _directions(self) -> Sequence[bool]:
        return (False, True) if self.bidirectional else (False,)

    def _recurrent_mask(self, carry: Carry, deterministic: bool) -> Array | None:
        if deterministic or self.recurrent_dropout == 0.0:
            return None
        keep = 1.0 - self.recurrent_dropout
        r_BK = self.cell.recurrent_input(carry)
        bits = unit_bernoulli(self.make_rng("dropout"), keep, r_BK.shape)
        return bits.astype(r_BK.dtype) / keep

    def _dropout(self, h_BTH: Array, deterministic: bool) -> Array:
        if deterministic or self.dropout == 0.0:
            return h_BTH
        keep = 1.0 - self.dropout
        B, T, H = h_BTH.shape  # drawn time-major: padding to more steps keeps the real bits
        bits_TBH = unit_bernoulli(self.make_rng("dropout"), keep, (T, B, H))
        return jnp.where(jnp.swapaxes(bits_TBH, 0, 1), h_BTH / keep, 0.0)

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
        scan = _scan(self.scan)
        if not isinstance(self.cell, Cell):
            raise TypeError(
                f"{type(self.cell).__name__} is not a cell over (batch, time, features) "
                "sequences; a ConvLSTM runs on frames with rnnlab.models.FramePredictor or "
                "rnnlab.cells.conv_lstm."
            )
        if scan is Scan.PARALLEL and self.recurrent_dropout:
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
                if self.recurrent_dropout and not has_recurrent_matrix(params):
                    raise ValueError(
                        f"recurrent_dropout acts on the recurrent matmul, which "
                        f"{type(self.cell).__name__} does not have; set it to 0 for this cell."
                    )
                x_in = h_BTD
                if noise_size(self.cell):
                    key = None if deterministic else self.make_rng("dropout")
                    x_in = self.cell.with_noise(h_BTD, key)
                carry0 = None
                if initial_carry is not None:
                    carry0 = initial_carry[layer][d] if self.bidirectional else initial_carry[layer]
                shape_carry = self.cell.initial_carry((x_BTD.shape[0],), h_BTD.dtype)
                common = dict(lengths=lengths, initial_carry=carry0, reverse=reverse)
                if scan is Scan.PARALLEL:
                    y_BTH, carry = parallel_rnn(self.cell, params, x_in, **common)
                else:
                    y_BTH, carry = rnn(
                        self.cell,
                        params,
                        x_in,
                        recurrent_mask=self._recurrent_mask(shape_carry, deterministic),
                        hoist=self.hoist,
                        custom_vjp=self.custom_vjp,
                        unroll=self.unroll,
                        **common,
                    )
                outs.append(y_BTH)
                layer_carries.append(carry)
            carries.append(tuple(layer_carries) if self.bidirectional else layer_carries[0])
            if layer < self.num_layers - 1 and self.merge == "concat":
                outs = [self._dropout(y, deterministic) for y in outs]  # per direction
            if len(outs) == 1:
                h_BTD = outs[0]
            else:
                h_BTD = jnp.concatenate(outs, -1) if self.merge == "concat" else outs[0] + outs[1]
            if layer < self.num_layers - 1 and self.merge == "sum":
                h_BTD = self._dropout(h_BTD, deterministic)
        return h_BTD, tuple(carries)


def _scan(value: Scan | str) -> Scan:
    try:
        return Scan(value)
    except ValueError:
        choices = ", ".join(repr(s.value) for s in Scan)
        raise ValueError(f"unknown scan {value!r}; choose one of {choices}.") from None


def unit_bernoulli(key: Array, keep: float, shape: tuple[int, ...]) -> Array:
    """Bernoulli(keep) bits of ``shape`` (..., N) in which unit j's bits depend only on
    (key, j), not on N: a model padded to more units draws the same masks for its real units
    (exact mixed-size populations)."""
    bits_N = jax.vmap(lambda j: jax.random.bernoulli(jax.random.fold_in(key, j), keep, shape[:-1]))(
        jnp.arange(shape[-1])
    )
    return jnp.moveaxis(bits_N, 0, -1)
