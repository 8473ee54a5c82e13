"""The recurrent layer: padding, reverse, bidirectional, stacks, truncated BPTT, recurrent
dropout, jit/grad/vmap, and the error messages of bad input.

Numbers are compared with the float64 NumPy reference (tests/reference.py), which runs each
sequence of a padded batch alone, on its valid part only.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab as rl
from tests import reference as ref
from tests._util import CELL_IDS, CELLS, carry_leaves, make_cell, random_carry, random_params

pytestmark = pytest.mark.usefixtures("x64")

B, T, D, H = 3, 9, 3, 4
LENGTHS = (9, 5, 0)
TOL = {"rtol": 1e-10, "atol": 1e-12}


def _x(seed: int, b: int = B, t: int = T, d: int = D) -> jnp.ndarray:
    return jnp.asarray(np.random.default_rng(seed).normal(size=(b, t, d)))


def _variables(layer: rl.Recurrent, seed: int) -> dict:
    """Random float64 params for every (layer, direction) of ``layer``, checked against the
    names and shapes that ``layer.init`` creates."""
    names = [
        (f"layer{n}_{d}", n)
        for n in range(layer.num_layers)
        for d in (("fwd", "bwd") if layer.bidirectional else ("fwd",))
    ]
    width = H * (2 if layer.bidirectional and layer.merge == "concat" else 1)
    params = {
        name: random_params(layer.cell, seed + k, D if n == 0 else width)
        for k, (name, n) in enumerate(names)
    }
    shapes = jax.eval_shape(layer.init, jax.random.PRNGKey(0), jnp.zeros((B, T, D)))["params"]
    assert jax.tree.map(lambda a: a.shape, dict(shapes)) == jax.tree.map(lambda a: a.shape, params)
    return {"params": params}


def _assert_carries(got, want):
    for g, w in zip(carry_leaves(got), want, strict=True):
        np.testing.assert_allclose(g, w, **TOL)


LAYER_CONFIGS = {
    "forward": {},
    "reverse-only": None,  # rl.rnn(reverse=True): Recurrent has no backward-only mode
    "bidir-concat": {"bidirectional": True},
    "bidir-sum": {"bidirectional": True, "merge": "sum"},
    "2-layer": {"num_layers": 2},
    "2-layer-bidir": {"num_layers": 2, "bidirectional": True},
}
LAYER_CELLS = [c for c in CELLS if c[0] in ("lstm-V", "gru")]


@pytest.mark.parametrize("config", list(LAYER_CONFIGS))
@pytest.mark.parametrize(("cid", "name", "opts"), LAYER_CELLS, ids=[c[0] for c in LAYER_CELLS])
def test_padded_batch_equals_reference_run_alone(cid, name, opts, config):
    """Outputs, zeros past each length and the carry at each last valid step."""
    cell = make_cell(name, opts, H)
    x, lengths = _x(1), jnp.asarray(LENGTHS)
    if LAYER_CONFIGS[config] is None:
        params = random_params(cell, 2, D)
        y, carry = jax.jit(lambda p, x, n: rl.rnn(cell, p, x, lengths=n, reverse=True))(
            params, x, lengths
        )
        want_y, want_carry = ref.run_batch(cell, params, x, LENGTHS, reverse=True)
        carries, want_carries = [carry], [want_carry]
    else:
        layer = rl.Recurrent(cell, **LAYER_CONFIGS[config])
        variables = _variables(layer, 2)
        y, carries = jax.jit(layer.apply)(variables, x, lengths)
        want_y, want_carries = ref.run_recurrent(
            cell, variables["params"], x, LENGTHS, **LAYER_CONFIGS[config]
        )
        if layer.bidirectional:
            carries = [c for pair in carries for c in pair]
            want_carries = [c for pair in want_carries for c in pair]
    np.testing.assert_allclose(np.asarray(y), want_y, **TOL)
    for b, n in enumerate(LENGTHS):
        assert np.all(np.asarray(y)[b, n:] == 0.0)  # exactly zero past the length
    assert len(carries) == len(want_carries)
    for got, want in zip(carries, want_carries):
        _assert_carries(got, want)
    # The zero-length sequence keeps the zero initial carry.
    for got in carries:
        assert all(np.all(leaf[2] == 0.0) for leaf in carry_leaves(got))


@pytest.mark.parametrize("config", ["bidir-concat", "2-layer"])
def test_padded_batch_equals_library_run_alone(config):
    """The library on a padded batch equals the library on each sequence alone (batch 1,
    no padding, no lengths)."""
    cell = make_cell("lstm", {"variant": "V"}, H)
    layer = rl.Recurrent(cell, **LAYER_CONFIGS[config])
    variables = _variables(layer, 3)
    x, lengths = _x(4), (9, 6, 2)
    apply = jax.jit(layer.apply)
    y, carries = apply(variables, x, jnp.asarray(lengths))
    for b, n in enumerate(lengths):
        y_b, carries_b = apply(variables, x[b : b + 1, :n])
        np.testing.assert_allclose(np.asarray(y[b, :n]), np.asarray(y_b[0]), **TOL)
        for got, want in zip(jax.tree.leaves(carries), jax.tree.leaves(carries_b), strict=True):
            np.testing.assert_allclose(np.asarray(got[b]), np.asarray(want[0]), **TOL)


def test_time_major_and_unroll_match_reference():
    cell = make_cell("lstm", {"variant": "FGR"}, H)
    params, x = random_params(cell, 5, D), _x(6)
    carry0 = random_carry(cell, 7, B)
    f = jax.jit(
        lambda p, x, n, c: rl.rnn(
            cell, p, x, lengths=n, initial_carry=c, time_major=True, unroll=4, reverse=True
        )
    )
    y_TBH, carry = f(params, jnp.swapaxes(x, 0, 1), jnp.asarray(LENGTHS), carry0)
    want_y, want_carry = ref.run_batch(cell, params, x, LENGTHS, initial_carry=carry0, reverse=True)
    assert y_TBH.shape == (T, B, H)
    np.testing.assert_allclose(np.swapaxes(np.asarray(y_TBH), 0, 1), want_y, **TOL)
    _assert_carries(carry, want_carry)


def test_reverse_within_lengths():
    x = jnp.asarray(np.random.default_rng(8).normal(size=(T, 4, 2)))
    lengths = jnp.asarray([9, 4, 1, 0])
    once = np.asarray(rl.reverse_within_lengths(x, lengths))
    want = np.array(x)
    for b, n in enumerate([9, 4, 1, 0]):
        want[:n, b] = np.asarray(x)[:n, b][::-1]
    np.testing.assert_array_equal(once, want)  # valid part reversed, padding stays put
    twice = rl.reverse_within_lengths(jnp.asarray(once), lengths)
    np.testing.assert_array_equal(np.asarray(twice), np.asarray(x))  # an involution
    np.testing.assert_array_equal(
        np.asarray(rl.reverse_within_lengths(x, None)), np.asarray(x)[::-1]
    )


def test_step_noise_does_not_depend_on_padding():
    key = jax.random.PRNGKey(5)
    long, short = rl.recurrent.step_normal(key, (3, 9, 2)), rl.recurrent.step_normal(key, (3, 4, 2))
    np.testing.assert_array_equal(np.asarray(long)[:, :4], np.asarray(short))
    assert float(jnp.abs(long[0] - long[1]).max()) > 0  # rows get their own noise
    np.testing.assert_array_equal(  # batch 1: the plain draw (earlier runs unchanged)
        np.asarray(rl.recurrent.step_normal(key, (1, 9, 2))),
        np.asarray(jax.random.normal(key, (1, 9, 2), jnp.float32)),
    )


def test_step_bits_do_not_depend_on_padding():
    key = jax.random.PRNGKey(5)
    bits = partial(rl.recurrent.step_bernoulli, key, 0.5)
    long, short = bits((3, 9, 8)), bits((3, 4, 8))
    np.testing.assert_array_equal(np.asarray(long)[:, :4], np.asarray(short))
    assert np.asarray(long[0] != long[1]).any()  # rows get their own bits
    np.testing.assert_array_equal(  # batch 1: the plain draw
        np.asarray(bits((1, 9, 8))),
        np.asarray(jax.random.bernoulli(key, 0.5, (1, 9, 8))),
    )


@pytest.mark.parametrize(("cell_name", "options"), [("lstm", {}), ("zoneout", {"rates": 0.3})])
def test_dropout_between_layers_does_not_depend_on_padding(cell_name, options):
    """A batch padded to 9 steps and the same batch cut to its longest sequence (4 steps)
    get the same outputs on the real steps under dropout between layers (and zoneout's
    per-step bits): the masks of a step do not depend on T."""
    layer = rl.Recurrent(make_cell(cell_name, options, H), num_layers=2, dropout=0.4)
    variables = _variables(layer, 3)
    x, lengths = _x(8), jnp.asarray([4, 2, 3])
    run = partial(layer.apply, deterministic=False, rngs={"dropout": jax.random.PRNGKey(9)})
    y_long, c_long = run(variables, x, lengths)
    y_short, c_short = run(variables, x[:, :4], lengths)
    np.testing.assert_allclose(np.asarray(y_long)[:, :4], np.asarray(y_short), **TOL)
    np.testing.assert_array_equal(np.asarray(y_long)[:, 4:], 0.0)
    for got, want in zip(jax.tree.leaves(c_long), jax.tree.leaves(c_short), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), **TOL)


def test_truncated_bptt_chunks_equal_one_run():
    """Two chunks with the carry passed on equal one run over the whole sequence."""
    cell = make_cell("lstm", {"variant": "CIFG"}, H)
    layer = rl.Recurrent(cell, num_layers=2)
    variables = _variables(layer, 9)
    x, lengths, cut = _x(10), np.array([9, 5, 2]), 4
    apply = jax.jit(layer.apply)
    y, carries = apply(variables, x, jnp.asarray(lengths))
    len1, len2 = np.clip(lengths, 0, cut), np.clip(lengths - cut, 0, T - cut)
    y1, c1 = apply(variables, x[:, :cut], jnp.asarray(len1))
    y2, c2 = apply(variables, x[:, cut:], jnp.asarray(len2), c1)
    np.testing.assert_allclose(np.concatenate([y1, y2], axis=1), np.asarray(y), **TOL)
    for got, want in zip(jax.tree.leaves(c2), jax.tree.leaves(carries), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), **TOL)


# ---------------------------------------------------------------------------------------------
# Variational recurrent dropout.
# ---------------------------------------------------------------------------------------------


def _mask_revealing_run(keep: float, *, batch=4, time=5, hidden=6, bidirectional=False, seed=0):
    """ReLU RNN with W = 0, b = 0, R = I started from h_0 = 1: then h_t = m ⊙ h_{t-1}, so the
    outputs reveal the recurrent mask m at every step (y_t = m^t for a constant mask)."""
    cell = rl.cells.get("rnn", hidden, activation="relu")
    layer = rl.Recurrent(cell, bidirectional=bidirectional, recurrent_dropout=1.0 - keep)
    p = {
        "W": jnp.zeros((1, hidden)),
        "b": jnp.zeros((hidden,)),
        "R": jnp.eye(hidden, dtype=jnp.float64),
    }
    names = ("fwd", "bwd") if bidirectional else ("fwd",)
    variables = {"params": {f"layer0_{d}": p for d in names}}
    ones = jnp.ones((batch, hidden))
    carry0 = ((ones, ones),) if bidirectional else (ones,)
    apply = jax.jit(layer.apply, static_argnames="deterministic")
    y, _ = apply(
        variables,
        jnp.zeros((batch, time, 1)),
        initial_carry=carry0,
        deterministic=False,
        rngs={"dropout": jax.random.PRNGKey(seed)},
    )
    return np.asarray(y)


def test_recurrent_dropout_mask_constant_over_time_and_differs_across_sequences():
    keep = 0.5
    y = _mask_revealing_run(keep)
    m = y[:, 0]  # y_1 = m ⊙ h_0 = m
    assert set(np.unique(m)) == {0.0, 1.0 / keep}  # inverted dropout scaling
    t = np.arange(1, y.shape[1] + 1)[None, :, None]
    np.testing.assert_array_equal(y, m[:, None, :] ** t)  # the same mask at every step
    assert len({row.tobytes() for row in m}) == m.shape[0]  # one mask per sequence


def test_recurrent_dropout_differs_between_directions():
    y = _mask_revealing_run(0.5, bidirectional=True)
    m_fwd, m_bwd = y[:, 0, :6], y[:, -1, 6:]
    assert set(np.unique(m_bwd)) == {0.0, 2.0}
    np.testing.assert_array_equal(y[:, :, 6:], m_bwd[:, None, :] ** np.arange(5, 0, -1)[:, None])
    assert not np.array_equal(m_fwd, m_bwd)


def test_recurrent_dropout_keep_rate():
    keep = 0.7
    m = _mask_revealing_run(keep, batch=64, time=1, hidden=64, seed=3)[:, 0]
    np.testing.assert_allclose(np.unique(m), [0.0, 1.0 / keep], rtol=1e-15)
    frac = float(np.mean(m > 0))
    assert abs(frac - keep) < 4 * np.sqrt(keep * (1 - keep) / m.size)  # ~4 sigma
    assert float(np.mean(m)) == pytest.approx(1.0, abs=0.05)  # E[m] = 1


def test_recurrent_dropout_equals_explicit_mask_run():
    """Recurrent(recurrent_dropout=p) on an LSTM equals rl.rnn with the mask it drew and the
    reference with that mask. The mask is read off the mask-revealing ReLU run with the same
    "dropout" rng and the same (B, H) shape (the draw depends only on rng, shape and rate)."""
    keep, batch, time, hidden = 0.5, 4, 5, 6
    m = _mask_revealing_run(keep, batch=batch, time=time, hidden=hidden, seed=11)[:, 0]
    cell = rl.cells.get("lstm", hidden, variant="V")
    layer = rl.Recurrent(cell, recurrent_dropout=1.0 - keep)
    params = random_params(cell, 12, D)
    x = _x(13, batch, time)
    y, (carry,) = jax.jit(layer.apply, static_argnames="deterministic")(
        {"params": {"layer0_fwd": params}},
        x,
        deterministic=False,
        rngs={"dropout": jax.random.PRNGKey(11)},
    )
    run = jax.jit(lambda p, x, m: rl.rnn(cell, p, x, recurrent_mask=m)[0])
    y_mask = run(params, x, jnp.asarray(m))
    np.testing.assert_allclose(np.asarray(y), np.asarray(y_mask), **TOL)
    want_y, want_carry = ref.run_batch(cell, params, x, recurrent_mask=m)
    np.testing.assert_allclose(np.asarray(y), want_y, **TOL)
    _assert_carries(carry, want_carry)
    y_plain = run(params, x, jnp.ones_like(jnp.asarray(m)))
    assert not np.allclose(np.asarray(y), np.asarray(y_plain))  # the mask did something


def test_dropout_off_gives_exactly_the_plain_result():
    cell = make_cell("gru", {}, H)
    plain = rl.Recurrent(cell, num_layers=2)
    variables = _variables(plain, 14)
    x, lengths = _x(15), jnp.asarray(LENGTHS)
    y0, c0 = jax.jit(plain.apply)(variables, x, lengths)
    noisy = dataclasses.replace(plain, dropout=0.3, recurrent_dropout=0.5)
    y1, c1 = jax.jit(noisy.apply, static_argnames="deterministic")(
        variables, x, lengths, deterministic=True
    )
    zero = dataclasses.replace(plain, dropout=0.0, recurrent_dropout=0.0)
    y2, c2 = jax.jit(zero.apply, static_argnames="deterministic")(
        variables, x, lengths, deterministic=False
    )
    for y, c in ((y1, c1), (y2, c2)):
        np.testing.assert_array_equal(np.asarray(y), np.asarray(y0))
        for a, b in zip(jax.tree.leaves(c), jax.tree.leaves(c0), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    y3, _ = jax.jit(noisy.apply, static_argnames="deterministic")(
        variables, x, lengths, deterministic=False, rngs={"dropout": jax.random.PRNGKey(0)}
    )
    assert not np.allclose(np.asarray(y3), np.asarray(y0))
    for b, n in enumerate(LENGTHS):
        assert np.all(np.asarray(y3)[b, n:] == 0.0)


# ---------------------------------------------------------------------------------------------
# jit, grad and vmap over a population, on every registered cell.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cid", "name", "opts"), CELLS, ids=CELL_IDS)
def test_vmap_population_jit_grad_equals_loop(cid, name, opts):
    """jit(vmap(value_and_grad)) over a population of parameter sets equals a Python loop
    over the members: outputs against the reference, gradients against its finite
    differences."""
    cell = make_cell(name, opts, H)
    P, lengths = 3, (9, 4, 1)
    population = [random_params(cell, 20 + k, D) for k in range(P)]
    stacked = jax.tree.map(lambda *a: jnp.stack(a), *population)
    x = _x(16)
    w = np.random.default_rng(17).normal(size=(B, T, H))

    def loss(params, x, lengths):
        y, carry = rl.rnn(cell, params, x, lengths=lengths)
        return jnp.sum(y * w) + jnp.sum(cell.recurrent_input(carry)), y

    fv = jax.jit(jax.vmap(jax.value_and_grad(loss, has_aux=True), in_axes=(0, None, None)))
    (values, ys), grads = fv(stacked, x, jnp.asarray(lengths))
    rng, eps = np.random.default_rng(18), 1e-6
    for k, params in enumerate(population):
        p = {key: np.array(v) for key, v in params.items()}

        def ref_loss(p=p):
            y, carry = ref.run_batch(cell, p, x, lengths)
            r = carry[1] if isinstance(cell, rl.cells.LSTM) else carry[0]
            return np.sum(y * w) + np.sum(r), y

        value, want_y = ref_loss()
        np.testing.assert_allclose(np.asarray(ys[k]), want_y, **TOL)
        assert float(values[k]) == pytest.approx(value, rel=1e-10)
        for key, arr in p.items():
            idx = tuple(int(rng.integers(n)) for n in arr.shape)
            old = arr[idx]
            arr[idx] = old + eps
            up = ref_loss()[0]
            arr[idx] = old - eps
            down = ref_loss()[0]
            arr[idx] = old
            fd = (up - down) / (2 * eps)
            assert float(grads[key][(k, *idx)]) == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_steps_bound_is_one_trip_count_for_all_batched_rows():
    """Under vmap the loop bound is the longest length over every row (one trip count, so
    the vmapped loop needs no per-row predicate)."""
    bound = rl.recurrent.scan.steps_bound
    lengths_PB = jnp.asarray([[3, 1], [6, 2], [0, 0]])
    assert int(bound(lengths_PB[0])) == 3
    np.testing.assert_array_equal(np.asarray(jax.vmap(bound)(lengths_PB)), [6, 6, 6])
    cell = make_cell("lstm", {}, H)
    params, x_PBTD = random_params(cell, 1, D), jnp.stack([_x(2, b=2)] * 3)
    run = jax.vmap(lambda x, n: rl.rnn(cell, params, x, lengths=n)[0])
    text = str(jax.make_jaxpr(run)(x_PBTD, lengths_PB))
    assert "while" in text and "reduce_or" not in text


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_vmap_over_batches_of_other_lengths_equals_each_alone(name):
    """Members with their own batches and lengths (all shorter than T, one all padding),
    run as one vmapped program whose loops stop at the longest of all, equal each member run
    alone, forward and backward (custom VJP), with the loops over all T steps (autodiff)."""
    cell = make_cell(name, {}, H)
    params = random_params(cell, 30, D)
    x_PBTD = jnp.stack([_x(31 + k) for k in range(3)])
    lengths_PB = jnp.asarray([[5, 2, 1], [3, 3, 0], [0, 0, 0]])
    w = np.random.default_rng(34).normal(size=(B, T, H))

    def loss(params, x, lengths, custom_vjp):
        y, carry = rl.rnn(cell, params, x, lengths=lengths, custom_vjp=custom_vjp)
        return jnp.sum(y * w) + jnp.sum(cell.recurrent_input(carry))

    grad = jax.value_and_grad(loss)
    batched = jax.jit(jax.vmap(partial(grad, custom_vjp=True), in_axes=(None, 0, 0)))
    values, grads = batched(params, x_PBTD, lengths_PB)
    alone = jax.jit(grad, static_argnums=3)
    for k in range(3):
        value, g = alone(params, x_PBTD[k], lengths_PB[k], False)
        assert float(values[k]) == pytest.approx(float(value), rel=1e-12)
        for key in g:
            np.testing.assert_allclose(np.asarray(grads[key][k]), np.asarray(g[key]), **TOL)
    assert all(float(jnp.abs(grads[key][2]).max()) == 0.0 for key in grads)


# ---------------------------------------------------------------------------------------------
# Clear errors.
# ---------------------------------------------------------------------------------------------


def test_unknown_cell_name():
    with pytest.raises(ValueError, match=r"unknown cell 'lstmm'; available cells: .*lstm"):
        rl.cells.get("lstmm", 4)


def test_unknown_variant():
    with pytest.raises(ValueError, match=r"unknown LSTM variant 'XYZ'; choose one of .*CIFG"):
        rl.cells.get("lstm", 4, variant="XYZ")


def test_variant_names_are_case_insensitive():
    assert rl.cells.get("lstm", 4, variant="cifg").spec == rl.cells.PRESETS["CIFG"]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"variant": "CIFG", "input_gate": False}, r"CIFG .* needs the input gate"),
        ({"variant": "CIFG", "forget_gate": False}, r"CIFG replaces the forget gate"),
        (
            {"variant": "FGR", "input_gate": False, "forget_gate": False, "output_gate": False},
            r"FGR adds recurrence between gates; a cell without gates",
        ),
    ],
    ids=["CIFG-without-input-gate", "CIFG-without-forget-gate", "FGR-without-gates"],
)
def test_impossible_variant_combination(overrides, match):
    with pytest.raises(ValueError, match=match):
        rl.cells.get("lstm", 4, **overrides)


def test_bad_cell_options():
    with pytest.raises(TypeError, match=r"bad options for cell 'gru'"):
        rl.cells.get("gru", 4, variant="V")
    with pytest.raises(ValueError, match=r"hidden_size must be a positive integer, got 0"):
        rl.cells.get("gru", 0)
    with pytest.raises(ValueError, match=r"unknown activation 'sigmoid'"):
        rl.cells.get("rnn", 4, activation="sigmoid")


@pytest.fixture
def small():
    cell = rl.cells.get("gru", H)
    return cell, random_params(cell, 0, D), _x(0)


def test_wrong_input_feature_size(small):
    cell, params, _ = small
    with pytest.raises(ValueError, match=r"input has 5 features but the cell was initialised "):
        rl.rnn(cell, params, _x(0, d=5))


def test_input_not_3d(small):
    cell, params, x = small
    with pytest.raises(ValueError, match=r"expected inputs of shape \(batch, time, features\)"):
        rl.rnn(cell, params, x[0])


@pytest.mark.parametrize(
    ("lengths", "error", "match"),
    [
        ([9, 10, 1], ValueError, r"lengths must lie in \[0, 9\] .* got min 1, max 10"),
        ([9, -1, 1], ValueError, r"lengths must lie in \[0, 9\] .* got min -1, max 9"),
        ([9, 1], ValueError, r"lengths must have shape \(batch,\) = \(3,\), got \(2,\)"),
        ([[9, 1, 1]], ValueError, r"lengths must have shape \(batch,\)"),
        ([9.0, 1.0, 1.0], TypeError, r"lengths must be integers, got dtype float"),
    ],
    ids=["longer-than-T", "negative", "wrong-length", "wrong-rank", "float"],
)
def test_bad_lengths(small, lengths, error, match):
    cell, params, x = small
    with pytest.raises(error, match=match):
        rl.rnn(cell, params, x, lengths=np.asarray(lengths))
    layer = rl.Recurrent(cell)
    with pytest.raises(error, match=match):
        layer.apply({"params": {"layer0_fwd": params}}, x, np.asarray(lengths))


def test_recurrent_layer_option_errors(small):
    cell, params, x = small
    variables = {"params": {"layer0_fwd": params}}
    with pytest.raises(ValueError, match=r"merge must be 'concat' or 'sum', got 'mean'"):
        rl.Recurrent(cell, merge="mean").apply(variables, x)
    with pytest.raises(ValueError, match=r"recurrent_dropout must be in \[0, 1\), got 1.0"):
        rl.Recurrent(cell, recurrent_dropout=1.0).apply(variables, x)
    with pytest.raises(ValueError, match=r"initial_carry needs one entry per layer \(1\), got 2"):
        rl.Recurrent(cell).apply(variables, x, None, (None, None))


@pytest.mark.parametrize("name", ["mingru", "minlstm", "lru"])
def test_recurrent_parallel_scan_equals_sequential(name):
    """Recurrent(scan="parallel") runs the associative scan and gives the sequential numbers."""
    cell = rl.cells.get(name, 5)
    x_BTD = jnp.asarray(np.random.default_rng(0).normal(size=(3, 9, 4)), jnp.float32)
    len_B = jnp.array([9, 4, 1])
    seq = rl.Recurrent(cell, num_layers=2, bidirectional=True)
    par = rl.Recurrent(cell, num_layers=2, bidirectional=True, scan="parallel")
    variables = seq.init(jax.random.PRNGKey(0), x_BTD, len_B)
    (y_seq, c_seq), (y_par, c_par) = (
        seq.apply(variables, x_BTD, len_B),
        par.apply(variables, x_BTD, len_B),
    )
    np.testing.assert_allclose(y_par, y_seq, rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(c_par), jax.tree.leaves(c_seq)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="unknown scan"):
        rl.Recurrent(cell, scan="fast").init(jax.random.PRNGKey(0), x_BTD, len_B)


@pytest.mark.parametrize("name", ["indrnn", "mingru", "lru"])
def test_recurrent_dropout_refused_for_cells_without_recurrent_matrix(name):
    cell = rl.cells.get(name, 5)
    x_BTD = jnp.zeros((2, 3, 4))
    variables = rl.Recurrent(cell).init(jax.random.PRNGKey(0), x_BTD)
    assert "R" not in variables["params"]["layer0_fwd"]
    with pytest.raises(ValueError, match="recurrent_dropout acts on the recurrent matmul"):
        rl.Recurrent(cell, recurrent_dropout=0.2).apply(variables, x_BTD)
