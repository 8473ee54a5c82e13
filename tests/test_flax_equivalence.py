"""rnnlab against Flax: the NP ("standard") LSTM equals ``flax.linen.LSTMCell`` and
``gru_reset_after`` equals ``flax.linen.GRUCell`` given the same weights, and ``FlaxCell`` runs
any rnnlab cell inside ``flax.linen.RNN`` / ``flax.linen.Bidirectional`` with the numbers of
``rnnlab.rnn``. Float64 to ~1e-10 and float32 to ~1e-6.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab as rl
from tests import reference as ref
from tests._util import carry_leaves, random_params

B, T, D, H = 3, 6, 3, 4
LENGTHS = (6, 4, 1)


@pytest.fixture(params=["float64", "float32"])
def dtype(request):
    """The dtype of the comparison; float64 runs inside jax.enable_x64 (see conftest.py)."""
    if request.param == "float32":
        yield jnp.float32
    else:
        with jax.enable_x64(True):
            yield jnp.float64


def _tol(dtype):
    if dtype == jnp.float64:
        return {"rtol": 1e-10, "atol": 1e-12}
    return {"rtol": 1e-5, "atol": 1e-6}


def _random_like(tree, seed, dtype, scale=0.5):
    """Random values (biases included) for every leaf of a Flax params tree."""
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda a: jnp.asarray(rng.normal(0, scale, a.shape), dtype), tree)


def _x(seed, dtype, t=T):
    return jnp.asarray(np.random.default_rng(seed).normal(size=(B, t, D)), dtype)


def _lstm_from_flax(p):
    """flax.linen.LSTMCell params -> rnnlab LSTM params (column blocks z, i, f, o; flax's
    "g" is our block input z; flax keeps the bias on the hidden Dense)."""
    order = ("g", "i", "f", "o")
    return {
        "W": jnp.concatenate([p[f"i{k}"]["kernel"] for k in order], axis=1),
        "R": jnp.concatenate([p[f"h{k}"]["kernel"] for k in order], axis=1),
        "b": jnp.concatenate([p[f"h{k}"]["bias"] for k in order]),
    }


def _gru_from_flax(p):
    """flax.linen.GRUCell params -> rnnlab reset-after GRU params (blocks r, z, n)."""
    return {
        "W": jnp.concatenate([p[f"i{k}"]["kernel"] for k in "rzn"], axis=1),
        "b": jnp.concatenate([p[f"i{k}"]["bias"] for k in "rzn"]),
        "R": jnp.concatenate([p[f"h{k}"]["kernel"] for k in "rzn"], axis=1),
        "b_hn": p["hn"]["bias"],
    }


CASES = {
    "lstm-NP": (lambda dt: nn.LSTMCell(H, param_dtype=dt), ("lstm", {"variant": "NP"})),
    "gru_reset_after": (lambda dt: nn.GRUCell(H, param_dtype=dt), ("gru_reset_after", {})),
}


@pytest.mark.parametrize("case", list(CASES))
def test_equals_flax_cell(case, dtype):
    make_flax, (name, opts) = CASES[case]
    flax_cell = make_flax(dtype)
    cell = rl.cells.get(name, H, **opts)
    convert = _lstm_from_flax if name == "lstm" else _gru_from_flax
    x = _x(0, dtype)
    shapes = flax_cell.init(
        jax.random.PRNGKey(0),
        flax_cell.initialize_carry(jax.random.PRNGKey(0), x[:, 0].shape),
        x[:, 0],
    )
    fparams = {"params": _random_like(shapes["params"], 1, dtype)}
    params = convert(fparams["params"])
    assert jax.tree.map(jnp.shape, params) == jax.tree.map(
        jnp.shape, jax.eval_shape(functools.partial(cell.init, input_size=D), jax.random.PRNGKey(0))
    )
    rng = np.random.default_rng(2)
    carry0 = jax.tree.map(
        lambda a: jnp.asarray(rng.uniform(-0.8, 0.8, a.shape), dtype),
        cell.initial_carry((B,), dtype),
    )
    tol = _tol(dtype)

    # One step, with a non-zero carry. Flax's LSTM carry is (c, h), like ours.
    want_carry, want_y = jax.jit(flax_cell.apply)(fparams, carry0, x[:, 0])
    got_carry, got_y = jax.jit(lambda p, c, x: rl.cells.step(cell, p, c, cell.project(p, x)))(
        params, carry0, x[:, 0]
    )
    assert got_y.dtype == dtype
    np.testing.assert_allclose(np.asarray(got_y), np.asarray(want_y), **tol)
    for g, w in zip(jax.tree.leaves(got_carry), jax.tree.leaves(want_carry), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), **tol)

    # A padded batch through flax.linen.RNN (which stops each carry at its length).
    lengths = jnp.asarray(LENGTHS)
    flax_rnn = nn.RNN(flax_cell, return_carry=True)
    want_carry, want_y = jax.jit(flax_rnn.apply)(
        {"params": {"cell": fparams["params"]}}, x, initial_carry=carry0, seq_lengths=lengths
    )
    got_y, got_carry = jax.jit(lambda p, x, n, c: rl.rnn(cell, p, x, lengths=n, initial_carry=c))(
        params, x, lengths, carry0
    )
    for b, n in enumerate(LENGTHS):
        np.testing.assert_allclose(np.asarray(got_y[b, :n]), np.asarray(want_y[b, :n]), **tol)
        assert np.all(np.asarray(got_y[b, n:]) == 0)
    for g, w in zip(jax.tree.leaves(got_carry), jax.tree.leaves(want_carry), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), **tol)

    # And both equal the float64 reference.
    if dtype == jnp.float64:
        ref_y, ref_carry = ref.run_batch(cell, params, x, LENGTHS, initial_carry=carry0)
        np.testing.assert_allclose(np.asarray(got_y), ref_y, **tol)
        for g, w in zip(carry_leaves(got_carry), ref_carry, strict=True):
            np.testing.assert_allclose(g, w, **tol)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_flax_cell_in_flax_rnn_equals_rnnlab_rnn(name, dtype):
    cell = rl.cells.get(name, H)  # lstm: the vanilla V preset, with peepholes
    x, lengths = _x(3, dtype), jnp.asarray(LENGTHS)
    module = nn.RNN(rl.cells.FlaxCell(cell, param_dtype=dtype), return_carry=True)
    carry0 = cell.initial_carry((B,), dtype)  # see test_flax_cell_default_carry_in_float64
    variables = jax.eval_shape(module.init, jax.random.PRNGKey(4), x, initial_carry=carry0)
    assert set(variables["params"]["cell"]["cell"]) == set(
        jax.eval_shape(functools.partial(cell.init, input_size=D), jax.random.PRNGKey(0))
    )
    params = random_params(cell, 5, D) if dtype == jnp.float64 else None
    if params is None:
        params = _random_like(variables["params"]["cell"]["cell"], 5, dtype, scale=0.4)
    variables = {"params": {"cell": {"cell": params}}}
    carry, y = jax.jit(module.apply)(variables, x, initial_carry=carry0, seq_lengths=lengths)
    want_y, want_carry = jax.jit(lambda p, x, n: rl.rnn(cell, p, x, lengths=n))(params, x, lengths)
    tol = _tol(dtype)
    for b, n in enumerate(LENGTHS):
        np.testing.assert_allclose(np.asarray(y[b, :n]), np.asarray(want_y[b, :n]), **tol)
    for g, w in zip(jax.tree.leaves(carry), jax.tree.leaves(want_carry), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), **tol)


def test_flax_cell_in_flax_bidirectional_equals_rnnlab(dtype):
    cell = rl.cells.get("lstm", H, variant="CIFG")
    x, lengths = _x(6, dtype), jnp.asarray(LENGTHS)
    carry0 = cell.initial_carry((B,), dtype)

    def rnn():
        return nn.RNN(rl.cells.FlaxCell(cell, param_dtype=dtype), return_carry=True)

    module = nn.Bidirectional(rnn(), rnn(), return_carry=True)
    variables = jax.eval_shape(
        module.init, jax.random.PRNGKey(7), x, initial_carry=(carry0, carry0)
    )
    variables = {"params": _random_like(variables["params"], 8, dtype, scale=0.4)}
    (c_fwd, c_bwd), y = jax.jit(module.apply)(
        variables, x, initial_carry=(carry0, carry0), seq_lengths=lengths
    )
    p_fwd = variables["params"]["forward_rnn"]["cell"]["cell"]
    p_bwd = variables["params"]["backward_rnn"]["cell"]["cell"]
    ours = rl.Recurrent(cell, bidirectional=True)
    want_y, ((w_fwd, w_bwd),) = jax.jit(ours.apply)(
        {"params": {"layer0_fwd": p_fwd, "layer0_bwd": p_bwd}}, x, lengths
    )
    tol = _tol(dtype)
    for b, n in enumerate(LENGTHS):
        np.testing.assert_allclose(np.asarray(y[b, :n]), np.asarray(want_y[b, :n]), **tol)
    for got, want in ((c_fwd, w_fwd), (c_bwd, w_bwd)):
        for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), **tol)
    # The two directions really differ (each is checked, not one twice).
    assert not np.allclose(np.asarray(y[..., :H]), np.asarray(y[..., H:]))


def test_standard_is_np():
    """ "standard" (what flax.linen.LSTMCell computes) is the NP preset: the same cell."""
    assert rl.cells.get("lstm", H, variant="standard") == rl.cells.get("lstm", H, variant="NP")
    assert rl.cells.PRESETS["standard"] == rl.cells.PRESETS["NP"]
    assert not rl.cells.PRESETS["NP"].peepholes


def test_flax_cell_default_carry_in_float64(x64):
    cell = rl.cells.get("gru", H)
    module = nn.RNN(rl.cells.FlaxCell(cell, param_dtype=jnp.float64))
    x = _x(9, jnp.float64)
    variables = module.init(jax.random.PRNGKey(0), x)
    y = module.apply(variables, x)
    want, _ = rl.rnn(cell, variables["params"]["cell"]["cell"], x)
    np.testing.assert_allclose(np.asarray(y), np.asarray(want), rtol=1e-12)
