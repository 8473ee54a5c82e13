"""MGU, MUT, IndRNN, layer-norm LSTM, minGRU/minLSTM, LRU, zoneout and ConvLSTM against
float64 NumPy references written from the papers' equations.

Each reference is a per-step Python loop over one unpadded sequence; the library runs a padded
batch through ``rnnlab.rnn`` (or ``parallel_rnn`` / ``conv_lstm``) and must match it to ~1e-10,
with outputs exactly zero past each length and the carry taken at the last valid step.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab as rl
from rnnlab.cells.convlstm import conv_lstm
from rnnlab.recurrent import linear_scan, parallel_rnn, sequential_linear_scan


@pytest.fixture(autouse=True)
def _float64():
    with jax.enable_x64(True):
        yield


B, T, D, H = 3, 6, 4, 5
LENGTHS = np.array([6, 4, 1])
TOL = 1e-10


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def ln(z, eps=1e-5):
    mu = z.mean(-1, keepdims=True)
    return (z - mu) / np.sqrt(((z - mu) ** 2).mean(-1, keepdims=True) + eps)


# ---- references: one step of each cell, from the papers ----------------------------------
def ref_mgu(p, h, x):
    Wf, Wh = p["W"][:, :H], p["W"][:, H:]
    f = sig(x @ Wf + h @ p["R"] + p["b"][:H])
    n = np.tanh(x @ Wh + (f * h) @ p["U_h"] + p["b"][H:])
    h = (1 - f) * h + f * n
    return h, h


def ref_mut(variant):
    def step(p, h, x):
        Wz, Wr, Wh = (p["W"][:, k * H : (k + 1) * H] for k in range(3))
        bz, br, bh = (p["b"][k * H : (k + 1) * H] for k in range(3))
        if variant == 1:
            z = sig(x @ Wz + bz)
            r = sig(x @ Wr + h @ p["R"] + br)
            n = np.tanh((r * h) @ p["U_h"] + np.tanh(x @ Wh + bh))
        elif variant == 2:
            z = sig(x @ Wz + h @ p["R"][:, :H] + bz)
            r = sig(x @ Wr + h @ p["R"][:, H:] + br)
            n = np.tanh((r * h) @ p["U_h"] + x @ Wh + bh)
        else:
            z = sig(x @ Wz + np.tanh(h) @ p["U_z"] + bz)
            r = sig(x @ Wr + h @ p["R"] + br)
            n = np.tanh((r * h) @ p["U_h"] + x @ Wh + bh)
        h = n * z + h * (1 - z)
        return h, h

    return step


def ref_indrnn(p, h, x):
    h = np.maximum(x @ p["W"] + p["u"] * h + p["b"], 0.0)
    return h, h


def ref_ln_lstm(per_gate):
    def norm(z):
        return ln(z.reshape(4, H)).reshape(-1) if per_gate else ln(z)

    def step(p, carry, x):
        c, h = carry
        a = norm(x @ p["W"]) * p["gain_x"] + norm(h @ p["R"]) * p["gain_h"] + p["b"]
        g, i, f, o = np.split(a, 4)
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(ln(c) * p["gain_c"] + p["bias_c"])
        return (c, h), h

    return step


def ref_lstm_v(p, carry, x):
    """Greff et al. (2017) vanilla LSTM with peepholes, blocks [z, i, f, o]."""
    c, h = carry
    a = x @ p["W"] + h @ p["R"] + p["b"]
    az, ai, af, ao = np.split(a, 4)
    i = sig(ai + p["p_i"] * c)
    f = sig(af + p["p_f"] * c)
    c = np.tanh(az) * i + c * f
    o = sig(ao + p["p_o"] * c)
    h = np.tanh(c) * o
    return (c, h), h


def ref_mingru(p, h, x):
    z = sig(x @ p["W"][:, :H] + p["b"][:H])
    n = x @ p["W"][:, H:] + p["b"][H:]
    h = (1 - z) * h + z * n
    return h, h


def ref_minlstm(p, h, x):
    f = sig(x @ p["W"][:, :H] + p["b"][:H])
    i = sig(x @ p["W"][:, H : 2 * H] + p["b"][H : 2 * H])
    n = x @ p["W"][:, 2 * H :] + p["b"][2 * H :]
    h = f / (f + i) * h + i / (f + i) * n
    return h, h


def ref_lru(p, carry, u):
    """Orvieto et al. (2023) eq. 7; the skip is D * u (width H) or u S (any width)."""
    N = p["nu_log"].shape[0]
    lam = np.exp(-np.exp(p["nu_log"]) + 1j * np.exp(p["theta_log"]))
    Bc = p["W"][:, :N] + 1j * p["W"][:, N : 2 * N]  # (D, N): B^T
    Cc = p["C_re"] + 1j * p["C_im"]  # (N, H): C^T
    x = carry[0] + 1j * carry[1]
    x = lam * x + np.exp(p["gamma_log"]) * (u @ Bc)
    skip = p["D"] * u if "D" in p else u @ p["W"][:, 2 * N :]
    y = np.real(x @ Cc) + skip
    return (x.real, x.imag), y


# ---- harness ------------------------------------------------------------------------------
def perturbed_params(cell, key, input_size, scale=0.3):
    """The cell's init plus noise on every entry, so gains/biases/peepholes all matter."""
    return perturb(cell.init(key, input_size, jnp.float64), scale)


def perturb(tree, scale=0.3, seed=99):
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda v: jnp.asarray(v + scale * rng.standard_normal(v.shape)), tree)


def jit_rnn(run=None, **static):
    """rnnlab.rnn (or another runner) jitted with the cell and options static: one compile
    instead of one per primitive in eager mode."""
    run = rl.rnn if run is None else run

    @functools.partial(jax.jit, static_argnums=0)
    def f(cell, params, x, lengths, carry0):
        return run(cell, params, x, lengths=lengths, initial_carry=carry0, **static)

    return f


def to_np(tree):
    return jax.tree.map(np.asarray, tree)


def random_carry(cell, seed=5):
    return perturb(cell.initial_carry((B,), jnp.float64), 0.5, seed)


def run_reference(step, params, x_BTD, carry0, lengths):
    p = to_np(params)
    ys = np.zeros((*x_BTD.shape[:2], H))
    carries = []
    for b in range(x_BTD.shape[0]):
        carry = jax.tree.map(lambda c, b=b: np.asarray(c)[b], carry0)
        for t in range(lengths[b]):
            carry, ys[b, t] = step(p, carry, np.asarray(x_BTD[b, t]))
        carries.append(carry)
    carry_B = jax.tree.map(lambda *cs: np.stack(cs), *carries)
    return ys, carry_B


def assert_tree_close(a, b, tol=TOL):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


CASES = {
    "mgu": (lambda: rl.cells.get("mgu", H), ref_mgu),
    "mut1": (lambda: rl.cells.get("mut1", H), ref_mut(1)),
    "mut2": (lambda: rl.cells.get("mut2", H), ref_mut(2)),
    "mut3": (lambda: rl.cells.get("mut3", H), ref_mut(3)),
    "indrnn": (lambda: rl.cells.get("indrnn", H), ref_indrnn),
    "layernorm_lstm": (lambda: rl.cells.get("layernorm_lstm", H), ref_ln_lstm(True)),
    "layernorm_lstm_fused": (
        lambda: rl.cells.get("layernorm_lstm", H, per_gate=False),
        ref_ln_lstm(False),
    ),
    "mingru": (lambda: rl.cells.get("mingru", H), ref_mingru),
    "minlstm": (lambda: rl.cells.get("minlstm", H), ref_minlstm),
    "lru": (lambda: rl.cells.get("lru", H, state_size=7), ref_lru),
    "lru_projected": (lambda: rl.cells.get("lru", H, state_size=7), ref_lru),
}
NO_RECURRENT_MATRIX = ("indrnn", "mingru", "minlstm", "lru", "lru_projected")


def make_inputs(cell, name):
    d = H if name == "lru" else D  # lru_projected: D != H, skip through a dense S
    params = perturbed_params(cell, jax.random.PRNGKey(0), d)
    x = jnp.asarray(np.random.default_rng(1).standard_normal((B, T, d)))
    return params, x


@pytest.mark.parametrize("name", list(CASES))
def test_cell_matches_numpy_reference(name):
    make, ref = CASES[name]
    cell = make()
    params, x = make_inputs(cell, name)
    carry0 = random_carry(cell)
    # hoist=True here; the gradient test below runs hoist=False (the CPU default).
    y, carry = jit_rnn(hoist=True)(cell, params, x, jnp.asarray(LENGTHS), carry0)
    y_ref, carry_ref = run_reference(ref, params, x, carry0, LENGTHS)
    np.testing.assert_allclose(np.asarray(y), y_ref, rtol=TOL, atol=TOL)
    assert_tree_close(carry, carry_ref)
    assert np.all(np.asarray(y)[2, 1:] == 0.0)  # exactly zero past the length


def loss_grads(cell, params, x, carry0, run=None, **static):
    """Gradients of a loss of all outputs and the final carry w.r.t. params, x and carry0."""
    f = jit_rnn(run, **static).__wrapped__

    @jax.jit
    def grads(params, x, carry0):
        def loss(params, x, carry0):
            y, carry = f(cell, params, x, jnp.asarray(LENGTHS), carry0)
            w = jnp.cos(jnp.arange(y.size, dtype=y.dtype)).reshape(y.shape)
            return jnp.sum(w * y) + sum(jnp.sum(jnp.sin(c)) for c in jax.tree.leaves(carry))

        return jax.grad(loss, argnums=(0, 1, 2))(params, x, carry0)

    return grads(params, x, carry0)


@pytest.mark.parametrize("name", list(CASES))
def test_custom_vjp_equals_autodiff(name):
    make, _ = CASES[name]
    cell = make()
    params, x = make_inputs(cell, name)
    carry0 = random_carry(cell)
    g_custom = loss_grads(cell, params, x, carry0, custom_vjp=True, hoist=False)
    g_auto = loss_grads(cell, params, x, carry0, custom_vjp=False, hoist=True)
    assert_tree_close(g_custom, g_auto)
    assert float(jnp.abs(g_auto[1]).max()) > 0.0


@pytest.mark.parametrize("name", NO_RECURRENT_MATRIX)
def test_elementwise_cells_have_no_recurrent_matrix(name):
    cell = CASES[name][0]()
    params, x = make_inputs(cell, name)
    assert not rl.cells.has_recurrent_matrix(params)
    assert all(v.size > 0 for v in jax.tree.leaves(params))
    with pytest.raises(ValueError, match="no recurrent matrix"):
        rl.rnn(cell, params, x, recurrent_mask=jnp.ones((B, H)))


def test_lru_skip_is_diagonal_at_width_h_and_dense_otherwise():
    cell = rl.cells.get("lru", H, state_size=7)
    square = cell.init(jax.random.PRNGKey(0), H)
    assert square["W"].shape == (H, 14) and square["D"].shape == (H,)
    projected = cell.init(jax.random.PRNGKey(0), D)
    assert projected["W"].shape == (D, 14 + H) and "D" not in projected


# ---- parallel scans -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "reverse"),
    [("mingru", False), ("minlstm", True), ("lru", False), ("lru", True), ("lru_projected", True)],
)
def test_parallel_scan_equals_sequential(name, reverse):
    make, _ = CASES[name]
    cell = make()
    params, x = make_inputs(cell, name)
    carry0 = random_carry(cell)
    lengths = jnp.asarray(LENGTHS)
    y_seq, c_seq = jit_rnn(reverse=reverse)(cell, params, x, lengths, carry0)
    y_par, c_par = jit_rnn(parallel_rnn, reverse=reverse)(cell, params, x, lengths, carry0)
    np.testing.assert_allclose(np.asarray(y_par), np.asarray(y_seq), rtol=TOL, atol=TOL)
    assert_tree_close(c_par, c_seq)
    assert np.all(np.asarray(y_par)[2, 1:] == 0.0)
    g_seq = loss_grads(cell, params, x, carry0, reverse=reverse)
    g_par = loss_grads(cell, params, x, carry0, parallel_rnn, reverse=reverse)
    assert_tree_close(g_par, g_seq, tol=1e-9)


def test_linear_scan_matches_loop():
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(3), 3)
    a = jax.random.uniform(k1, (50, 2, 3), jnp.float64)
    b = jax.random.normal(k2, (50, 2, 3), jnp.float64)
    h0 = jax.random.normal(k3, (2, 3), jnp.float64)
    h, ref = np.asarray(h0), []
    a_np, b_np = np.asarray(a), np.asarray(b)
    for t in range(50):
        h = a_np[t] * h + b_np[t]
        ref.append(h)
    np.testing.assert_allclose(np.asarray(linear_scan(a, b, h0)), np.stack(ref), rtol=1e-12)
    np.testing.assert_allclose(
        np.asarray(sequential_linear_scan(a, b, h0)), np.stack(ref), rtol=1e-12
    )


def test_lru_init_ring_and_normalisation():
    cell = rl.cells.get("lru", 64, r_min=0.9, r_max=0.99, max_phase=0.5)
    p = cell.init(jax.random.PRNGKey(0), 64, jnp.float64)
    mod = np.exp(-np.exp(np.asarray(p["nu_log"])))
    assert mod.min() >= 0.9 - 1e-12 and mod.max() <= 0.99 + 1e-12
    assert np.exp(np.asarray(p["theta_log"])).max() <= 0.5
    np.testing.assert_allclose(np.exp(np.asarray(p["gamma_log"])), np.sqrt(1 - mod**2))


def test_parallel_rejects_nonlinear_cell():
    cell = rl.cells.get("gru", H)
    params = cell.init(jax.random.PRNGKey(0), D)
    with pytest.raises(TypeError, match="not a linear recurrence"):
        parallel_rnn(cell, params, jnp.zeros((1, 2, D)))


# ---- zoneout ------------------------------------------------------------------------------
def test_zoneout_train_and_test_modes_match_reference():
    rates = (0.3, 0.1)
    cell = rl.cells.get("zoneout", H, cell="lstm", rates=rates)
    assert cell.noise_size == 2 * H
    x = jax.random.normal(jax.random.PRNGKey(1), (B, T, D), jnp.float64)
    params = perturbed_params(cell, jax.random.PRNGKey(0), D)
    assert params["W"].shape[0] == D  # the wrapped cell's parameters, nothing added
    carry0 = random_carry(cell)
    for key in (jax.random.PRNGKey(7), None):
        x_aug = cell.with_noise(x, key)
        d = np.asarray(x_aug[..., D:])
        if key is None:
            np.testing.assert_array_equal(d[..., :H], 0.3)
            np.testing.assert_array_equal(d[..., H:], 0.1)
        else:
            assert set(np.unique(d)) == {0.0, 1.0}
            assert abs(d[..., :H].mean() - 0.3) < 0.15
        y, carry = jit_rnn()(cell, params, x_aug, jnp.asarray(LENGTHS), carry0)

        def step(p, carry, xd):
            (c, h), _ = ref_lstm_v(p, carry, xd[:D])
            dc, dh = xd[D : D + H], xd[D + H :]
            c = dc * carry[0] + (1 - dc) * c
            h = dh * carry[1] + (1 - dh) * h
            return (c, h), h

        y_ref, carry_ref = run_reference(step, params, x_aug, carry0, LENGTHS)
        np.testing.assert_allclose(np.asarray(y), y_ref, rtol=TOL, atol=TOL)
        assert_tree_close(carry, carry_ref)


@pytest.mark.parametrize("inner", ["gru", "indrnn"])
def test_zoneout_custom_vjp_equals_autodiff(inner):
    cell = rl.cells.get("zoneout", H, cell=inner, rates=0.2)
    params = perturb(cell.init(jax.random.PRNGKey(0), D, jnp.float64))
    x_aug = cell.with_noise(
        jax.random.normal(jax.random.PRNGKey(1), (B, T, D)), jax.random.PRNGKey(2)
    )
    carry0 = cell.initial_carry((B,), jnp.float64)
    g_custom, g_auto = (
        loss_grads(cell, params, x_aug, carry0, custom_vjp=c) for c in (True, False)
    )
    assert_tree_close(g_custom, g_auto)
    # The same key gives the same masks; another key other masks.
    x = jnp.ones((2, 4, D))
    k = jax.random.PRNGKey(5)
    np.testing.assert_array_equal(cell.with_noise(x, k), cell.with_noise(x, k))
    assert not np.array_equal(cell.with_noise(x, k), cell.with_noise(x, jax.random.PRNGKey(6)))


def test_recurrent_layer_feeds_zoneout_masks():
    cell = rl.cells.get("zoneout", H, cell="lstm", rates=0.4)
    x = jax.random.normal(jax.random.PRNGKey(1), (B, T, D), jnp.float64)
    layer = rl.Recurrent(cell, bidirectional=True)
    variables = layer.init(jax.random.PRNGKey(0), x, jnp.asarray(LENGTHS))
    params = variables["params"]["layer0_fwd"]
    assert params["W"].shape[0] == D
    # deterministic: the expectation d = p
    y, _ = layer.apply(variables, x, jnp.asarray(LENGTHS))
    y_ref, _ = rl.rnn(cell, params, cell.with_noise(x, None), lengths=jnp.asarray(LENGTHS))
    np.testing.assert_allclose(np.asarray(y[..., :H]), np.asarray(y_ref), rtol=TOL, atol=TOL)

    def train(seed):
        rngs = {"dropout": jax.random.PRNGKey(seed)}
        return np.asarray(
            layer.apply(variables, x, jnp.asarray(LENGTHS), deterministic=False, rngs=rngs)[0]
        )

    y1, y1_again, y2 = train(1), train(1), train(2)
    np.testing.assert_array_equal(y1, y1_again)
    assert not np.allclose(y1, y2) and not np.allclose(y1, np.asarray(y))
    assert np.all(y1[2, 1:] == 0.0)  # still zero past the length


def test_zoneout_in_flax_rnn_takes_the_noise_features():
    cell = rl.cells.get("zoneout", H, cell="gru", rates=0.3)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, T, D), jnp.float32)
    x_aug = cell.with_noise(x, None)  # float32: flax.linen.RNN builds its carry in float32
    rnn = nn.RNN(rl.cells.FlaxCell(cell))
    variables = rnn.init(jax.random.PRNGKey(0), x_aug)
    params = variables["params"]["cell"]["cell"]
    assert params["W"].shape[0] == D
    y_ref, _ = rl.rnn(cell, params, x_aug)
    np.testing.assert_allclose(rnn.apply(variables, x_aug), y_ref, rtol=1e-5, atol=1e-6)


def test_zoneout_refuses_cells_it_cannot_wrap():
    with pytest.raises(ValueError, match="rates"):
        rl.cells.get("zoneout", 4, cell="lstm", rates=(0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="recurrent state"):
        rl.cells.get("zoneout", 4, cell="convlstm")
    with pytest.raises(ValueError, match="recurrent state"):
        rl.cells.get("zoneout", 4, cell="lru")


# ---- ConvLSTM -----------------------------------------------------------------------------
def conv_same_np(x_HWC, k):
    kh, kw = k.shape[:2]
    xp = np.pad(x_HWC, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    out = np.zeros((*x_HWC.shape[:2], k.shape[3]))
    for dy in range(kh):
        for dx in range(kw):
            out += xp[dy : dy + x_HWC.shape[0], dx : dx + x_HWC.shape[1]] @ k[dy, dx]
    return out


def ref_convlstm(p, carry, x):
    c, h = carry
    a = conv_same_np(x, p["W"]) + conv_same_np(h, p["R"]) + p["b"]
    ai, af, ac, ao = np.split(a, 4, axis=-1)
    i = sig(ai + p["p_i"] * c)
    f = sig(af + p["p_f"] * c)
    c = f * c + i * np.tanh(ac)
    o = sig(ao + p["p_o"] * c)
    return (c, o * np.tanh(c)), o * np.tanh(c)


def test_convlstm_matches_numpy_reference_and_gradients():
    F, frame, Cin = 3, (5, 4), 2
    cell = rl.cells.get("convlstm", F, kernel_size=(3, 3))
    params = cell.init(jax.random.PRNGKey(0), (*frame, Cin), jnp.float64)
    params = perturb(params)
    x = jnp.asarray(np.random.default_rng(1).standard_normal((2, 4, *frame, Cin)))
    lengths = np.array([4, 2])

    def loss(q):
        y, carry = conv_lstm(cell, q, x, lengths=jnp.asarray(lengths))
        return jnp.sum(jnp.sin(y)), (y, carry)

    value_and_grad = jax.jit(jax.value_and_grad(loss, has_aux=True))  # one compile for all
    (_, (y, (c, h))), g = value_and_grad(params)
    p = to_np(params)
    for b in range(2):
        carry = (np.zeros((*frame, F)), np.zeros((*frame, F)))
        for t in range(lengths[b]):
            carry, y_ref = ref_convlstm(p, carry, np.asarray(x[b, t]))
            np.testing.assert_allclose(np.asarray(y[b, t]), y_ref, rtol=TOL, atol=TOL)
        np.testing.assert_allclose(np.asarray(c[b]), carry[0], rtol=TOL, atol=TOL)
        np.testing.assert_allclose(np.asarray(h[b]), carry[1], rtol=TOL, atol=TOL)
    assert np.all(np.asarray(y[1, 2:]) == 0.0)
    # Autodiff gradient against central differences along a random direction.
    direction = jax.tree.map(lambda v: jnp.cos(jnp.arange(v.size).reshape(v.shape) * 1.3), params)
    eps = 1e-5
    plus = value_and_grad(jax.tree.map(lambda v, d: v + eps * d, params, direction))[0][0]
    minus = value_and_grad(jax.tree.map(lambda v, d: v - eps * d, params, direction))[0][0]
    directional = sum(
        jnp.sum(a * d) for a, d in zip(jax.tree.leaves(g), jax.tree.leaves(direction))
    )
    np.testing.assert_allclose(float(directional), float((plus - minus) / (2 * eps)), rtol=1e-6)


# ---- integration --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["layernorm_lstm"])
def test_flax_wrappers_run_new_cells(name):
    cell = rl.cells.get(name, H)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, T, H), jnp.float64)
    layer = rl.Recurrent(cell)
    variables = layer.init(jax.random.PRNGKey(0), x)
    y, _ = layer.apply(variables, x)
    y_ref, _ = rl.rnn(cell, variables["params"]["layer0_fwd"], x)
    np.testing.assert_allclose(np.asarray(y), np.asarray(y_ref), rtol=TOL, atol=TOL)
    # flax.linen.RNN builds its carry in float32 (FlaxCell.initialize_carry has no dtype).
    x32 = x.astype(jnp.float32)
    rnn = nn.RNN(rl.cells.FlaxCell(cell))
    v2 = rnn.init(jax.random.PRNGKey(0), x32)
    y2 = rnn.apply(v2, x32)
    y2_ref, _ = rl.rnn(cell, v2["params"]["cell"]["cell"], x32)
    np.testing.assert_allclose(np.asarray(y2), np.asarray(y2_ref), rtol=1e-5, atol=1e-6)


def test_registry_names_and_errors():
    for name in [
        "mgu",
        "mut1",
        "mut2",
        "mut3",
        "indrnn",
        "layernorm_lstm",
        "zoneout",
        "mingru",
        "minlstm",
        "lru",
        "convlstm",
    ]:
        assert name in rl.cells.available()
    with pytest.raises(ValueError, match="MUT variant"):
        rl.cells.MUT(4, variant=4)
