"""LSTM with the switches of Greff et al., "LSTM: A Search Space Odyssey" (TNNLS 2017).

Vanilla LSTM (V), with y the block output and c the cell state (Greff et al. 2017, eqs. 1-6):

    z_t = g(W_z x_t + R_z y_{t-1} + b_z)                       block input
    i_t = sigma(W_i x_t + R_i y_{t-1} + p_i * c_{t-1} + b_i)   input gate
    f_t = sigma(W_f x_t + R_f y_{t-1} + p_f * c_{t-1} + b_f)   forget gate
    c_t = z_t * i_t + c_{t-1} * f_t                            cell
    o_t = sigma(W_o x_t + R_o y_{t-1} + p_o * c_t + b_o)       output gate (peeps at c_t)
    y_t = h(c_t) * o_t                                         block output

with g = h = tanh and diagonal peepholes p. The variants switch one part off: NIG (i = 1),
NFG (f = 1), NOG (o = 1), NIAF (g = identity), NOAF (h = identity), NP (no peepholes),
CIFG (f = 1 - i), FGR (every gate also sees all gate activations of t-1 through nine extra
H x H matrices). "standard" is NP: what flax.linen.LSTMCell and torch.nn.LSTM compute.

The switchable LSTM (``LSTMSpec(switchable=True)``) has every part of V and a parameter
``switches`` that says which parts a model uses, so that models of different variants train
in one compiled program. Its update selects, per model,

    z_t = g(a_z)                    g = tanh if s_g else identity
    i_t = sigma(a_i + s_p p_i * c_{t-1})          if s_i else 1
    f_t = 1 - i_t                                 if s_cifg
          sigma(a_f + s_p p_f * c_{t-1})          elif s_f else 1
    o_t = sigma(a_o + s_p p_o * c_t)              if s_o else 1
    y_t = h(c_t) * o_t              h = tanh if s_h else identity

with a_* = W_* x_t + R_* y_{t-1} + b_*, c_t as in eq. 4, the switches s_i, s_f, s_o, s_g, s_h,
s_p, s_cifg (``SWITCHES``) and each "if" a ``jnp.where``: with a variant's switches
(``switch_values``) it computes that variant's function, forward and backward (the parts a
variant lacks get zero gradients). The switches are constants, not trained: a population
masks their gradients and updates (``rnnlab.train.variants``).

The forget-gate bias starts at 1.0, as recommended by Gers et al. (2000) and Jozefowicz et
al. (2015, "adding a bias of 1 to the LSTM's forget gate closes the gap ... with the GRU").
Peepholes start at zero, so V and NP compute the same function at initialisation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells.base import (
    Array,
    Carry,
    Params,
    glorot_uniform,
    linear_project,
    orthogonal_blocks,
)
from rnnlab.cells.registry import register


@dataclasses.dataclass(frozen=True)
class LSTMSpec:
    """Which parts of the LSTM are present. Every Odyssey variant is one of these values."""

    input_gate: bool = True
    forget_gate: bool = True
    output_gate: bool = True
    input_activation: bool = True  # g = tanh (False: identity)
    output_activation: bool = True  # h = tanh (False: identity)
    peepholes: bool = True
    coupled_input_forget: bool = False  # CIFG: f = 1 - i
    full_gate_recurrence: bool = False  # FGR
    forget_bias: float = 1.0
    switchable: bool = False  # every part, the variant in params["switches"]

    def __post_init__(self):
        parts = (*SWITCHES, "full_gate_recurrence")
        if self.switchable and any(getattr(self, n) != _DEFAULTS[n] for n in parts):
            raise ValueError(
                "a switchable LSTM has every part and takes its variant from its switches "
                "parameter (switch_values); set only forget_bias besides switchable=True."
            )
        if self.coupled_input_forget and not self.input_gate:
            raise ValueError("CIFG sets f = 1 - i and needs the input gate; drop input_gate=False.")
        if self.coupled_input_forget and not self.forget_gate:
            raise ValueError(
                "CIFG replaces the forget gate by 1 - i; "
                "it cannot be combined with forget_gate=False."
            )
        if self.full_gate_recurrence and not self.gates:
            raise ValueError("FGR adds recurrence between gates; a cell without gates has none.")

    @property
    def gates(self) -> tuple[str, ...]:
        """The sigmoid gates with their own weights, in parameter order."""
        own_forget = self.forget_gate and not self.coupled_input_forget
        return tuple(
            g
            for g, on in (("i", self.input_gate), ("f", own_forget), ("o", self.output_gate))
            if on
        )


# The parts a switchable LSTM selects, in the order of its "switches" parameter.
SWITCHES = (
    "input_gate",
    "forget_gate",
    "output_gate",
    "input_activation",
    "output_activation",
    "peepholes",
    "coupled_input_forget",
)
GATE_SWITCHES = {"i": "input_gate", "f": "forget_gate", "o": "output_gate"}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(LSTMSpec)}


def switch_values(spec: LSTMSpec) -> np.ndarray:
    """The switches (1.0 on, 0.0 off, in ``SWITCHES`` order) with which a switchable LSTM
    computes the variant ``spec``."""
    if spec.full_gate_recurrence:
        raise ValueError("FGR has nine extra matrices; a switchable LSTM does not cover it.")
    return np.array([float(getattr(spec, name)) for name in SWITCHES], np.float32)


PRESETS: dict[str, LSTMSpec] = {
    "V": LSTMSpec(),
    "NIG": LSTMSpec(input_gate=False),
    "NFG": LSTMSpec(forget_gate=False),
    "NOG": LSTMSpec(output_gate=False),
    "NIAF": LSTMSpec(input_activation=False),
    "NOAF": LSTMSpec(output_activation=False),
    "NP": LSTMSpec(peepholes=False),
    "CIFG": LSTMSpec(coupled_input_forget=True),
    "FGR": LSTMSpec(full_gate_recurrence=True),
    "standard": LSTMSpec(peepholes=False),
}


def preset(name: str, **overrides: Any) -> LSTMSpec:
    """The named Odyssey variant (V, NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR, standard)."""
    key = {k.lower(): k for k in PRESETS}.get(name.lower())
    if key is None:
        raise ValueError(f"unknown LSTM variant {name!r}; choose one of {sorted(PRESETS)}.")
    return dataclasses.replace(PRESETS[key], **overrides)


def _identity(x: Array) -> Array:
    return x


@dataclasses.dataclass(frozen=True)
class LSTM:
    """LSTM cell (Greff et al. 2017) with its variant as a frozen spec.

    Carry: (c, y), or (c, y, gates_{t-1}) under FGR. Params: W (D, nG*H), b, R (H, nG*H),
    p_<gate> (H,) peepholes, R_gates (nGates*H, nGates*H) under FGR, switches (7,) when
    switchable (V's at init). Column blocks are ordered z, then the gates of ``spec.gates``.
    """

    hidden_size: int
    spec: LSTMSpec = LSTMSpec()
    additive_update = True  # update uses u and v only through u + v
    gate_recurrence_in_R = False  # FGR: gates_{t-1} @ R_gates is part of v (fuse_recurrence)

    @property
    def n_blocks(self) -> int:
        return 1 + len(self.spec.gates)

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        H, gates = self.hidden_size, self.spec.gates
        k_w, k_r, k_g = jax.random.split(key, 3)
        b = jnp.zeros((self.n_blocks, H), dtype)
        if "f" in gates:
            b = b.at[1 + gates.index("f")].set(self.spec.forget_bias)
        params = {
            "W": glorot_uniform(k_w, (input_size, self.n_blocks * H), dtype),
            "b": b.reshape(-1),
            "R": orthogonal_blocks(k_r, H, self.n_blocks, dtype),
        }
        if self.spec.peepholes:
            params.update({f"p_{g}": jnp.zeros((H,), dtype) for g in gates})
        if self.spec.full_gate_recurrence:
            n = len(gates) * H
            params["R_gates"] = glorot_uniform(k_g, (n, n), dtype)
        if self.spec.switchable:
            params["switches"] = jnp.asarray(switch_values(self.spec), dtype)
        return params

    project = staticmethod(linear_project)

    def initial_carry(self, batch_shape: tuple[int, ...], dtype: Any = jnp.float32) -> Carry:
        zeros = jnp.zeros((*batch_shape, self.hidden_size), dtype)
        if self.spec.full_gate_recurrence:
            gates = jnp.zeros((*batch_shape, len(self.spec.gates) * self.hidden_size), dtype)
            return (zeros, zeros, gates)
        return (zeros, zeros)

    @staticmethod
    def recurrent_input(carry: Carry) -> Array:
        return carry[1]

    def fuse_recurrence(self, params: Params) -> tuple[LSTM, Params]:
        """Under FGR, the same cell with its gate recurrence folded into R: the recurrent
        input becomes [y_{t-1}, gates_{t-1}] and R becomes [[R], [0, R_gates]], so the layer
        does the whole recurrence as one matmul per step and both weight gradients as one
        matmul after the loop (unfused, dR_gates is an outer product summed at every step).
        Other variants are returned unchanged."""
        if not self.spec.full_gate_recurrence:
            return self, params
        R, R_gates = params["R"], params["R_gates"]
        zeros = jnp.zeros((R_gates.shape[0], self.hidden_size), R.dtype)
        fused = {k: v for k, v in params.items() if k != "R_gates"}
        fused["R"] = jnp.concatenate([R, jnp.concatenate([zeros, R_gates], axis=1)], axis=0)
        return _FusedGateRecurrence(self.hidden_size, self.spec), fused

    def update(self, params: Params, carry: Carry, u_BG: Array, v_BG: Array) -> tuple[Carry, Array]:
        spec, H = self.spec, self.hidden_size
        c_prev = carry[0]
        a_BG = u_BG + v_BG
        if spec.switchable:
            return self._switched_update(params, c_prev, a_BG)
        if spec.full_gate_recurrence and not self.gate_recurrence_in_R:
            a_gates = a_BG[..., H:] + carry[2] @ params["R_gates"]
            a_BG = jnp.concatenate([a_BG[..., :H], a_gates], axis=-1)
        blocks = dict(zip(("z", *spec.gates), jnp.split(a_BG, self.n_blocks, axis=-1)))

        def gate(name: str, c: Array) -> Array:
            peep = params[f"p_{name}"] * c if spec.peepholes else 0.0
            return jax.nn.sigmoid(blocks[name] + peep)

        g = jnp.tanh if spec.input_activation else _identity
        h = jnp.tanh if spec.output_activation else _identity
        z = g(blocks["z"])
        i = gate("i", c_prev) if spec.input_gate else 1.0
        if spec.coupled_input_forget:
            f = 1.0 - i
        elif spec.forget_gate:
            f = gate("f", c_prev)
        else:
            f = 1.0
        c = z * i + c_prev * f
        o = gate("o", c) if spec.output_gate else 1.0
        y = h(c) * o
        if spec.full_gate_recurrence:
            acts = {"i": i, "f": f, "o": o}
            return (c, y, jnp.concatenate([acts[n] for n in spec.gates], axis=-1)), y
        return (c, y), y

    def _switched_update(self, params: Params, c_prev: Array, a_BG: Array) -> tuple[Carry, Array]:
        """The switchable LSTM's step (module docstring): each part selected by its switch."""
        on = dict(zip(SWITCHES, params["switches"] > 0.5))
        a_z, a_i, a_f, a_o = jnp.split(a_BG, 4, axis=-1)

        def gate(name: str, a: Array, c: Array) -> Array:
            peep = jnp.where(on["peepholes"], params[f"p_{name}"] * c, 0.0)
            return jnp.where(on[GATE_SWITCHES[name]], jax.nn.sigmoid(a + peep), 1.0)

        z = jnp.where(on["input_activation"], jnp.tanh(a_z), a_z)
        i = gate("i", a_i, c_prev)
        f = jnp.where(on["coupled_input_forget"], 1.0 - i, gate("f", a_f, c_prev))
        c = z * i + c_prev * f
        o = gate("o", a_o, c)
        y = jnp.where(on["output_activation"], jnp.tanh(c), c) * o
        return (c, y), y


@dataclasses.dataclass(frozen=True)
class _FusedGateRecurrence(LSTM):
    """FGR as ``LSTM.fuse_recurrence`` returns it: r(carry) = [y, gates], R holds R_gates."""

    gate_recurrence_in_R = True

    @staticmethod
    def recurrent_input(carry: Carry) -> Array:
        return jnp.concatenate([carry[1], carry[2]], axis=-1)


@register(
    "lstm", "LSTM of Greff et al. 2017; variant= V|NIG|NFG|NOG|NIAF|NOAF|NP|CIFG|FGR|standard"
)
def _lstm(hidden_size: int, variant: str | LSTMSpec = "V", **spec_overrides: Any) -> LSTM:
    spec = variant if isinstance(variant, LSTMSpec) else preset(variant, **spec_overrides)
    return LSTM(hidden_size, spec)
