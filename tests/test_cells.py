"""Every cell and LSTM preset against the float64 NumPy reference (tests/reference.py).

Forward: one step and whole sequences, to ~1e-10. Backward: jax.grad through ``rnnlab.rnn``
(custom VJP on/off, projection hoisted or not) against central finite differences of the
reference, and the hand-written VJP against autodiff to ~1e-12.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab as rl
from tests import reference as ref
from tests._util import CELL_IDS, CELLS, carry_leaves, make_cell, random_carry, random_params

pytestmark = pytest.mark.usefixtures("x64")

B, T, D, H = 3, 7, 3, 4
LENGTHS = (7, 4, 1)
FWD_TOL = {"rtol": 1e-10, "atol": 1e-12}


def _x(seed: int, b: int = B, t: int = T, d: int = D) -> jnp.ndarray:
    return jnp.asarray(np.random.default_rng(seed).normal(size=(b, t, d)))


def test_every_registered_cell_has_a_reference():
    """Core cells are referenced here, the others in test_cells_more.py."""
    from tests.test_cells_more import CASES

    cases = {name.removesuffix("_fused").removesuffix("_projected") for name in CASES}
    others = cases | {"zoneout", "convlstm"}
    assert {name for _, name, _ in CELLS} | others == set(rl.cells.available())
    assert set(rl.cells.PRESETS) <= {o.get("variant") for _, _, o in CELLS}


@pytest.mark.parametrize(("cid", "name", "opts"), CELLS, ids=CELL_IDS)
def test_step_and_sequence_match_reference(cid, name, opts):
    """One step from a non-zero carry, and a whole sequence (outputs and final carry)."""
    cell = make_cell(name, opts, H)
    params = random_params(cell, 1, D)
    carry0 = random_carry(cell, 2, B)
    x = _x(3)

    @jax.jit
    def run(params, carry0, x):
        one = rl.cells.step(cell, params, carry0, cell.project(params, x[:, 0]))
        return one, rl.rnn(cell, params, x, initial_carry=carry0)

    (step_carry, step_y), (y, carry) = run(params, carry0, x)

    w, step = ref.weights_and_step(cell, params)
    for b in range(B):
        want_carry, want_y = step(cell, w, ref.carry_row(carry0, b), np.asarray(x[b, 0]))
        np.testing.assert_allclose(np.asarray(step_y[b]), want_y, **FWD_TOL)
        for got, want in zip(carry_leaves(step_carry), want_carry, strict=True):
            np.testing.assert_allclose(got[b], want, **FWD_TOL)

    want_y, want_carry = ref.run_batch(cell, params, x, initial_carry=carry0)
    assert y.shape == (B, T, H) and y.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(y), want_y, **FWD_TOL)
    for got, want in zip(carry_leaves(carry), want_carry, strict=True):
        np.testing.assert_allclose(got, want, **FWD_TOL)


def _loss_weights(cell, seed):
    rng = np.random.default_rng(seed)
    w_y = rng.normal(size=(B, T, H))
    w_c = [rng.normal(size=leaf.shape) for leaf in carry_leaves(random_carry(cell, 0, B))]
    return w_y, w_c


def _rmask(cell, seed, keep=0.7):
    r = cell.recurrent_input(cell.initial_carry((B,), jnp.float64))
    return jnp.asarray((np.random.default_rng(seed).random(r.shape) < keep) / keep)


def _loss_grad(cell, w_y, w_c, argnums=(0, 1, 2), **rnn_kwargs):
    """grad of sum(y * w_y) + sum(carry * w_c) through rnnlab.rnn, as a function of
    (params, x, initial_carry, recurrent_mask, lengths).

    ``lengths`` is an argument, so it is traced under jit; closing over a concrete jax array
    hits a library bug (see test_concrete_lengths_closed_over_under_jit).
    """

    def loss(params, x, carry0, rmask, lengths):
        y, carry = rl.rnn(
            cell,
            params,
            x,
            initial_carry=carry0,
            recurrent_mask=rmask,
            lengths=lengths,
            **rnn_kwargs,
        )
        c_terms = sum(jnp.sum(c * w) for c, w in zip(jax.tree.leaves(carry), w_c))
        return jnp.sum(y * w_y) + c_terms

    return jax.grad(loss, argnums=argnums)


def _fd_coordinates(shape, rng, n):
    size = int(np.prod(shape))
    return [np.unravel_index(k, shape) for k in rng.choice(size, min(n, size), replace=False)]


def _finite_differences(cell, w_y, w_c, params, x, carry0, rmask, *, seed, n=3, **ref_kw):
    """Central differences of the reference loss at n random coordinates of every argument.

    Returns [(argument, key or None, index, value)].
    """
    rng, eps = np.random.default_rng(seed), 1e-6
    args = {
        "params": {k: np.array(v) for k, v in params.items()},
        "x": np.array(x),
        "carry": [np.array(c) for c in jax.tree.leaves(carry0)],
    }
    treedef = jax.tree.structure(carry0)

    def f():
        y, carry = ref.run_batch(
            cell,
            args["params"],
            args["x"],
            initial_carry=jax.tree.unflatten(treedef, args["carry"]),
            recurrent_mask=rmask,
            **ref_kw,
        )
        return np.sum(y * w_y) + sum(np.sum(c * w) for c, w in zip(carry, w_c))

    targets = [("params", k, v) for k, v in args["params"].items()]
    targets += [("x", None, args["x"])]
    targets += [("carry", j, c) for j, c in enumerate(args["carry"])]
    out = []
    for arg, key, arr in targets:
        for idx in _fd_coordinates(arr.shape, rng, n):
            old = arr[idx]
            arr[idx] = old + eps
            up = f()
            arr[idx] = old - eps
            down = f()
            arr[idx] = old
            out.append((arg, key, idx, (up - down) / (2 * eps)))
    return out, f()


# (custom_vjp, hoist, reverse): every mode, each direction once with each VJP, so that each
# pair (custom, autodiff) with equal hoist/reverse can also be compared to ~1e-12.
GRAD_MODES = [(True, True, True), (False, True, True), (True, False, False), (False, False, False)]


@pytest.mark.parametrize(("cid", "name", "opts"), CELLS, ids=CELL_IDS)
def test_gradients_match_finite_differences_of_reference(cid, name, opts):
    """d loss / d (params, x, initial carry) in every mode, with lengths (one of them 0), an
    initial carry and a recurrent mask; and the custom VJP equal to autodiff to ~1e-12."""
    cell = make_cell(name, opts, H)
    params = random_params(cell, 7, D)
    x, carry0, rmask = _x(8), random_carry(cell, 9, B), _rmask(cell, 10)
    w_y, w_c = _loss_weights(cell, 11)
    lengths = np.array((7, 0, 4))
    fds = {
        reverse: _finite_differences(
            cell, w_y, w_c, params, x, carry0, rmask, seed=12, lengths=lengths, reverse=reverse
        )[0]
        for reverse in (True, False)
    }

    # All four modes in one jitted program: one compilation instead of four (faster).
    @jax.jit
    def all_grads(params, x, carry0, rmask, lengths):
        return {
            (custom_vjp, hoist): _loss_grad(
                cell, w_y, w_c, custom_vjp=custom_vjp, hoist=hoist, reverse=reverse
            )(params, x, carry0, rmask, lengths)
            for custom_vjp, hoist, reverse in GRAD_MODES
        }

    grads = all_grads(params, x, carry0, rmask, jnp.asarray(lengths))
    for custom_vjp, hoist, reverse in GRAD_MODES:
        g_params, g_x, g_carry = grads[custom_vjp, hoist]
        got = {
            "params": g_params,
            "x": {None: g_x},
            "carry": dict(enumerate(jax.tree.leaves(g_carry))),
        }
        for arg, key, idx, want in fds[reverse]:
            g = float(np.asarray(got[arg][key])[idx])
            assert g == pytest.approx(want, rel=1e-6, abs=1e-8), (
                f"custom_vjp={custom_vjp} hoist={hoist} reverse={reverse} "
                f"d/d {arg}[{key}][{idx}]: {g} vs finite difference {want}"
            )
    for hoist in (True, False):
        flat_c, tree_c = jax.tree.flatten(grads[True, hoist])
        flat_a, tree_a = jax.tree.flatten(grads[False, hoist])
        assert tree_c == tree_a
        for c, a in zip(flat_c, flat_a):
            np.testing.assert_allclose(np.asarray(c), np.asarray(a), rtol=1e-12, atol=1e-13)
    # The zero-length sequence gets no gradient from x, and its carry passes straight through.
    np.testing.assert_array_equal(np.asarray(grads[True, True][1])[1], 0.0)
    for g, w in zip(jax.tree.leaves(grads[True, True][2]), w_c):
        np.testing.assert_allclose(np.asarray(g)[1], w[1], rtol=1e-13)


# Custom VJP vs autodiff without lengths / mask / carry (the mask-free code path), on cells
# whose update differs in structure.
PLAIN_CELLS = [c for c in CELLS if c[0] in ("lstm-FGR", "gru")]


@pytest.mark.parametrize(("cid", "name", "opts"), PLAIN_CELLS, ids=[c[0] for c in PLAIN_CELLS])
def test_custom_vjp_equals_autodiff_plain(cid, name, opts):
    cell = make_cell(name, opts, H)
    params, x = random_params(cell, 13, D), _x(14)
    w_y, w_c = _loss_weights(cell, 15)
    got, want = jax.jit(
        lambda p, x: [
            _loss_grad(cell, w_y, w_c, (0, 1), custom_vjp=c, hoist=True)(p, x, None, None, None)
            for c in (True, False)
        ]
    )(params, x)
    flat_got, tree_got = jax.tree.flatten(got)
    flat_want, tree_want = jax.tree.flatten(want)
    assert tree_got == tree_want
    for a, b in zip(flat_got, flat_want):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-13)
    assert min(np.abs(np.asarray(a)).max() for a in flat_got) > 1e-3  # no all-zero gradient


def test_custom_vjp_gradient_wrt_recurrent_mask_equals_autodiff():
    cell = make_cell("rnn", {}, H)
    params, x, rmask = random_params(cell, 16, D), _x(17), _rmask(cell, 18)
    w_y, w_c = _loss_weights(cell, 19)
    args = (params, x, None, rmask, None)
    (want,) = jax.jit(_loss_grad(cell, w_y, w_c, (3,), custom_vjp=False, hoist=True))(*args)
    assert np.abs(np.asarray(want)).max() > 1e-3
    (got,) = jax.jit(_loss_grad(cell, w_y, w_c, (3,), custom_vjp=True, hoist=True))(*args)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-12)


def test_v_with_zero_peepholes_equals_np():
    """Peepholes start at zero (test_lstm_init_layout_and_forget_bias), so V and NP compute
    the same function at initialisation: V with zero peepholes is NP with the same W, b, R."""
    v, n = rl.cells.get("lstm", H, variant="V"), rl.cells.get("lstm", H, variant="NP")
    params = random_params(v, 0, D)
    params |= {f"p_{g}": jnp.zeros(H) for g in "ifo"}
    np_params = {k: params[k] for k in ("W", "b", "R")}
    x = _x(17)
    (y_v, c_v), (y_n, c_n) = jax.jit(lambda p, q, x: (rl.rnn(v, p, x), rl.rnn(n, q, x)))(
        params, np_params, x
    )
    np.testing.assert_allclose(np.asarray(y_v), np.asarray(y_n), rtol=1e-14, atol=1e-15)
    for a, b in zip(c_v, c_n, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-14, atol=1e-15)
    init = functools.partial(n.init, input_size=D)
    assert set(jax.eval_shape(init, jax.random.PRNGKey(0))) == {"W", "b", "R"}


@pytest.mark.parametrize(
    ("variant", "forget_bias"), [("V", 1.0), ("FGR", 2.5), ("CIFG", 1.0), ("NOG", 1.0)]
)
def test_lstm_init_layout_and_forget_bias(variant, forget_bias):
    """Shapes of every parameter; biases zero except the forget gate's (1.0 by default)."""
    cell = rl.cells.get("lstm", H, variant=variant, forget_bias=forget_bias)
    gates = ref.lstm_gate_names(cell.spec)
    n = 1 + len(gates)
    shapes = jax.eval_shape(functools.partial(cell.init, input_size=D), jax.random.PRNGKey(0))
    want = {"W": (D, n * H), "b": (n * H,), "R": (H, n * H)}
    want |= {f"p_{g}": (H,) for g in gates if cell.spec.peepholes}
    if cell.spec.full_gate_recurrence:
        want["R_gates"] = (len(gates) * H, len(gates) * H)
    assert {k: v.shape for k, v in shapes.items()} == want
    if variant not in ("V", "FGR"):
        return  # the bias values need a real init (slow to compile); two variants suffice
    params = jax.jit(cell.init, static_argnums=1)(jax.random.PRNGKey(1), D)
    b = ref._blocks(np.asarray(params["b"]), ("z", *gates), H)
    for g, block in b.items():
        np.testing.assert_array_equal(block, forget_bias if g == "f" else 0.0)
    for g in gates:
        np.testing.assert_array_equal(np.asarray(params[f"p_{g}"]), 0.0)


def test_irnn_init_is_scaled_identity():
    cell = rl.cells.get("irnn", H, identity_scale=0.5)
    params = jax.jit(cell.init, static_argnums=1)(jax.random.PRNGKey(2), D)
    np.testing.assert_array_equal(np.asarray(params["R"]), 0.5 * np.eye(H))
    np.testing.assert_array_equal(np.asarray(params["b"]), 0.0)
    assert 0 < float(jnp.std(params["W"])) < 0.01


def test_concrete_lengths_closed_over_under_jit():
    cell = make_cell("rnn", {}, H)
    params, x = random_params(cell, 20, D), _x(21)
    lengths = jnp.array([7, 3, 0])
    got, _ = jax.jit(lambda p, x: rl.rnn(cell, p, x, lengths=lengths))(params, x)
    want, _ = ref.run_batch(cell, params, x, [7, 3, 0])
    np.testing.assert_allclose(np.asarray(got), want, **FWD_TOL)
