"""Independent float64 NumPy references for every rnnlab cell and for whole padded batches.

Written from the papers' equations, one time step at a time, with one explicit weight matrix
per gate. Only the *parameter layout* is taken from rnnlab (which key holds what, and the
order of the column blocks); each layout is read by one small ``*_weights`` helper below, so a
change of layout breaks in exactly one place. Nothing here calls rnnlab's maths.

Conventions: row vectors, so a pre-activation is ``x @ W_g + y @ R_g + b_g`` with ``W_g``
(D, H) and ``R_g`` (H, H). A carry is a tuple of (H,) vectors with the same structure as the
library's carry for that cell, so the two can be compared leaf by leaf.

Equations:

- LSTM, Greff et al. 2017 ("LSTM: A Search Space Odyssey"), vanilla (V)::

      z = g(W_z x + R_z y' + b_z)
      i = σ(W_i x + R_i y' + p_i ⊙ c' + b_i)
      f = σ(W_f x + R_f y' + p_f ⊙ c' + b_f)
      c = z ⊙ i + c' ⊙ f
      o = σ(W_o x + R_o y' + p_o ⊙ c + b_o)            (peephole on the *new* c)
      y = h(c) ⊙ o                                      (g = h = tanh)

  NIG i=1, NFG f=1, NOG o=1, NIAF g=id, NOAF h=id, NP no p terms, CIFG f = 1 - i,
  FGR: each gate pre-activation also gets Σ_{g'} R_{g'g} a_{g'}(t-1) over the gate
  activations a of the previous step (zero before the first step).
- GRU, Cho et al. 2014 (reset before the recurrent matmul)::

      r = σ(W_r x + U_r h' + b_r);  z = σ(W_z x + U_z h' + b_z)
      n = tanh(W_n x + b_n + U_n (r ⊙ h'));  h = (1 - z) ⊙ n + z ⊙ h'

- GRU reset-after (cuDNN / flax.linen.GRUCell): n = tanh(W_n x + b_n + r ⊙ (U_n h' + b_hn)).
- Elman: h = act(W x + R h' + b), act = tanh or ReLU; IRNN is the ReLU one.

A ``recurrent_mask`` m (variational recurrent dropout, Gal & Ghahramani 2016) multiplies the
recurrent input wherever the library defines it: y' for the LSTM, h' in the gate matmul
``h' @ R`` for the GRUs and the Elman RNN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rnnlab.cells import GRU, LSTM, Elman


def _np(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def identity(a: np.ndarray) -> np.ndarray:
    return a


def relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0.0)


# --------------------------------------------------------------------------------------------
# Parameter slicing: the only place that knows rnnlab's layout.
# --------------------------------------------------------------------------------------------


def _blocks(m: np.ndarray, names: Sequence[str], H: int) -> dict[str, np.ndarray]:
    """Split the last axis of m into consecutive H-wide blocks named ``names``."""
    assert m.shape[-1] == len(names) * H, (m.shape, names, H)
    return {n: m[..., k * H : (k + 1) * H] for k, n in enumerate(names)}


def lstm_gate_names(spec: Any) -> tuple[str, ...]:
    """The sigmoid gates that have their own weights, in layout order (i, f, o)."""
    own_f = spec.forget_gate and not spec.coupled_input_forget
    return tuple(
        g for g, on in (("i", spec.input_gate), ("f", own_f), ("o", spec.output_gate)) if on
    )


def lstm_weights(cell: LSTM, params: dict) -> dict[str, Any]:
    """Per-gate weights of an rnnlab LSTM.

    Layout: ``W`` (D, n*H), ``b`` (n*H,), ``R`` (H, n*H) with column blocks ``z`` then the
    gates that have their own weights, in the order i, f, o (skipping absent ones; CIFG has no
    f block); ``p_<gate>`` (H,) peepholes; under FGR ``R_gates`` (nG*H, nG*H) whose row block
    g' and column block g is R_{g'g} (from gate g' at t-1 into gate g).

    Returns {"gates": names, "W": {name: (D,H)}, "R": {...}, "b": {...}, "p": {gate: (H,)},
    "R_gg": {(g', g): (H,H)}}.
    """
    H, spec = cell.hidden_size, cell.spec
    gates = lstm_gate_names(spec)
    names = ("z", *gates)
    out = {
        "gates": gates,
        "W": _blocks(_np(params["W"]), names, H),
        "R": _blocks(_np(params["R"]), names, H),
        "b": _blocks(_np(params["b"]), names, H),
        "p": {g: _np(params[f"p_{g}"]) for g in gates} if spec.peepholes else {},
        "R_gg": {},
    }
    if spec.full_gate_recurrence:
        Rg = _np(params["R_gates"])
        for a, src in enumerate(gates):
            for d, dst in enumerate(gates):
                out["R_gg"][(src, dst)] = Rg[a * H : (a + 1) * H, d * H : (d + 1) * H]
    return out


def gru_weights(cell: GRU, params: dict) -> dict[str, Any]:
    """Per-gate weights of an rnnlab GRU.

    Layout: ``W`` (D, 3H) and ``b`` (3H,) with blocks r, z, n. Reset-before: ``R`` (H, 2H)
    with blocks r, z and ``U_n`` (H, H). Reset-after: ``R`` (H, 3H) with blocks r, z, n and
    ``b_hn`` (H,).
    """
    H = cell.hidden_size
    W = _blocks(_np(params["W"]), "rzn", H)
    b = _blocks(_np(params["b"]), "rzn", H)
    if cell.reset_after:
        U = _blocks(_np(params["R"]), "rzn", H)
        b_hn = _np(params["b_hn"])
    else:
        U = {**_blocks(_np(params["R"]), "rz", H), "n": _np(params["U_n"])}
        b_hn = None
    return {"W": W, "U": U, "b": b, "b_hn": b_hn}


def elman_weights(cell: Elman, params: dict) -> dict[str, Any]:
    """Layout: ``W`` (D, H), ``b`` (H,), ``R`` (H, H)."""
    return {"W": _np(params["W"]), "R": _np(params["R"]), "b": _np(params["b"])}


# --------------------------------------------------------------------------------------------
# One step per cell (one sequence: x (D,), carry of (H,) vectors).
# --------------------------------------------------------------------------------------------


def lstm_step(cell: LSTM, w: dict, carry: tuple, x: np.ndarray, m: np.ndarray | None = None):
    spec, H = cell.spec, cell.hidden_size
    c_prev, y_prev = carry[0], carry[1]
    y_rec = y_prev if m is None else y_prev * m
    gates = w["gates"]
    prev_acts = {}
    if spec.full_gate_recurrence:
        prev_acts = {g: carry[2][k * H : (k + 1) * H] for k, g in enumerate(gates)}

    def pre(name):
        a = x @ w["W"][name] + y_rec @ w["R"][name] + w["b"][name]
        if name != "z":
            for src, act in prev_acts.items():
                a = a + act @ w["R_gg"][(src, name)]
        return a

    def peep(name, c):
        return w["p"][name] * c if spec.peepholes else 0.0

    g_act = np.tanh if spec.input_activation else identity
    h_act = np.tanh if spec.output_activation else identity
    ones = np.ones(H)
    z = g_act(pre("z"))
    i = sigmoid(pre("i") + peep("i", c_prev)) if spec.input_gate else ones
    if spec.coupled_input_forget:
        f = 1.0 - i
    elif spec.forget_gate:
        f = sigmoid(pre("f") + peep("f", c_prev))
    else:
        f = ones
    c = z * i + c_prev * f
    o = sigmoid(pre("o") + peep("o", c)) if spec.output_gate else ones
    y = h_act(c) * o
    if spec.full_gate_recurrence:
        acts = {"i": i, "f": f, "o": o}
        return (c, y, np.concatenate([acts[g] for g in gates])), y
    return (c, y), y


def gru_step(cell: GRU, w: dict, carry: tuple, x: np.ndarray, m: np.ndarray | None = None):
    (h_prev,) = carry
    h_rec = h_prev if m is None else h_prev * m
    W, U, b = w["W"], w["U"], w["b"]
    r = sigmoid(x @ W["r"] + h_rec @ U["r"] + b["r"])
    z = sigmoid(x @ W["z"] + h_rec @ U["z"] + b["z"])
    if cell.reset_after:
        n = np.tanh(x @ W["n"] + b["n"] + r * (h_rec @ U["n"] + w["b_hn"]))
    else:
        # The library's recurrent_mask enters only the fused h' @ [U_r U_z] matmul.
        n = np.tanh(x @ W["n"] + b["n"] + (r * h_prev) @ U["n"])
    h = (1.0 - z) * n + z * h_prev
    return (h,), h


def elman_step(cell: Elman, w: dict, carry: tuple, x: np.ndarray, m: np.ndarray | None = None):
    (h_prev,) = carry
    h_rec = h_prev if m is None else h_prev * m
    act = {"tanh": np.tanh, "relu": relu}[cell.activation]
    h = act(x @ w["W"] + h_rec @ w["R"] + w["b"])
    return (h,), h


def weights_and_step(cell: Any, params: dict) -> tuple[dict, Callable]:
    """The sliced weights and the step function for any rnnlab cell."""
    if isinstance(cell, LSTM):
        return lstm_weights(cell, params), lstm_step
    if isinstance(cell, GRU):
        return gru_weights(cell, params), gru_step
    if isinstance(cell, Elman):
        return elman_weights(cell, params), elman_step
    raise TypeError(f"no reference for {type(cell).__name__}")


# --------------------------------------------------------------------------------------------
# Carries: convert between the library's pytree (batched) and tuples of (H,) vectors.
# --------------------------------------------------------------------------------------------


def zero_carry(cell: Any) -> tuple:
    H = cell.hidden_size
    if isinstance(cell, LSTM):
        if cell.spec.full_gate_recurrence:
            n = len(lstm_gate_names(cell.spec))
            return (np.zeros(H), np.zeros(H), np.zeros(n * H))
        return (np.zeros(H), np.zeros(H))
    return (np.zeros(H),)


def carry_row(carry: Any, b: int) -> tuple:
    """Sequence b's carry from a library (batched) carry pytree."""
    leaves = carry if isinstance(carry, tuple) else (carry,)
    return tuple(_np(leaf)[b] for leaf in leaves)


def stack_carries(carries: Sequence[tuple]) -> tuple:
    """Batch a list of per-sequence carries into a tuple of (B, ...) arrays."""
    return tuple(np.stack(leaves) for leaves in zip(*carries))


def as_tuple(carry: Any) -> tuple:
    """A library carry pytree as a tuple of float64 NumPy arrays (for comparisons)."""
    leaves = carry if isinstance(carry, tuple) else (carry,)
    return tuple(_np(leaf) for leaf in leaves)


# --------------------------------------------------------------------------------------------
# Sequences and batches.
# --------------------------------------------------------------------------------------------


def run_sequence(
    cell: Any,
    params: dict,
    x_TD: np.ndarray,
    carry: tuple | None = None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple]:
    """Run one sequence (T, D) step by step: returns (y_TH, final carry)."""
    w, step = weights_and_step(cell, params)
    carry = zero_carry(cell) if carry is None else tuple(_np(c) for c in carry)
    ys = []
    for x_t in _np(x_TD):
        carry, y = step(cell, w, carry, x_t, None if mask is None else _np(mask))
        ys.append(y)
    return np.stack(ys) if ys else np.zeros((0, cell.hidden_size)), carry


def run_batch(
    cell: Any,
    params: dict,
    x_BTD: np.ndarray,
    lengths: Sequence[int] | None = None,
    *,
    initial_carry: Any = None,
    reverse: bool = False,
    recurrent_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple]:
    """A right-padded batch, each sequence run alone on its valid part.

    Returns (y_BTH with zeros past each length, batched carry as a tuple of (B, ...) arrays).
    ``reverse`` runs each sequence on its reversed valid part and puts the outputs back in the
    original time order.
    """
    x_BTD = _np(x_BTD)
    B, T, _ = x_BTD.shape
    lengths = [T] * B if lengths is None else [int(n) for n in np.asarray(lengths)]
    y_BTH = np.zeros((B, T, cell.hidden_size))
    carries = []
    for b in range(B):
        n = lengths[b]
        x = x_BTD[b, :n]
        if reverse:
            x = x[::-1]
        c0 = None if initial_carry is None else carry_row(initial_carry, b)
        m = None if recurrent_mask is None else _np(recurrent_mask)[b]
        y, carry = run_sequence(cell, params, x, c0, m)
        y_BTH[b, :n] = y[::-1] if reverse else y
        carries.append(carry)
    return y_BTH, stack_carries(carries)


def run_recurrent(
    cell: Any,
    params: dict,
    x_BTD: np.ndarray,
    lengths: Sequence[int] | None = None,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    merge: str = "concat",
    initial_carry: Sequence | None = None,
) -> tuple[np.ndarray, list]:
    """A stack of (bi)directional layers with params ``layer{l}_{fwd|bwd}`` (rnnlab.Recurrent).

    Returns (top outputs, per-layer carries: a carry or (fwd, bwd) when bidirectional).
    """
    h = _np(x_BTD)
    carries = []
    for layer in range(num_layers):
        dirs = ("fwd", "bwd") if bidirectional else ("fwd",)
        outs, layer_carries = [], []
        for d, name in enumerate(dirs):
            c0 = None
            if initial_carry is not None:
                c0 = initial_carry[layer][d] if bidirectional else initial_carry[layer]
            y, carry = run_batch(
                cell,
                params[f"layer{layer}_{name}"],
                h,
                lengths,
                initial_carry=c0,
                reverse=name == "bwd",
            )
            outs.append(y)
            layer_carries.append(carry)
        if len(outs) == 1:
            h = outs[0]
        elif merge == "concat":
            h = np.concatenate(outs, axis=-1)
        else:
            h = outs[0] + outs[1]
        carries.append(tuple(layer_carries) if bidirectional else layer_carries[0])
    return h, carries
