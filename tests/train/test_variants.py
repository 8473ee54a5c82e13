"""The switchable LSTM computes each Odyssey variant it covers (float64, against the NumPy
reference forward and the variant's own gradients backward), and the variants other than FGR
share one program key per hidden bucket."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab as rl
from rnnlab.cells.lstm import LSTMSpec, switch_values
from rnnlab.train import Config, ModelConfig, program_key, variants
from tests import reference as ref
from tests._util import carry_leaves, random_carry, random_params

pytestmark = pytest.mark.usefixtures("x64")

B, T, D, H = 3, 6, 3, 4
LENGTHS = (6, 4, 1)


def _union_params(cell, params):
    union = rl.cells.get("lstm", H, switchable=True)
    template = jax.eval_shape(lambda: union.init(jax.random.PRNGKey(0), D, jnp.float64))
    placed, mask = variants.embed(jax.device_get(params), template, cell.spec, H)
    return union, jax.tree.map(jnp.asarray, placed), mask


@pytest.mark.parametrize("variant", variants.UNION_VARIANTS)
def test_switchable_lstm_computes_each_variant(variant):
    """Forward to ~1e-10 against the float64 reference of the variant; backward, the union's
    gradients at the variant's parameters equal the variant's own, and are zero on the parts
    the variant lacks and on the switches."""
    cell = rl.cells.get("lstm", H, variant=variant)
    params = random_params(cell, 1, D)
    union, placed, mask = _union_params(cell, params)
    carry0 = random_carry(cell, 2, B)
    rng = np.random.default_rng(3)
    x, w_y = jnp.asarray(rng.normal(size=(B, T, D))), jnp.asarray(rng.normal(size=(B, T, H)))
    lengths = jnp.asarray(LENGTHS)

    def loss(c, p):
        y, carry = rl.rnn(c, p, x, initial_carry=carry0, lengths=lengths)
        return jnp.sum(y * w_y) + sum(jnp.sum(leaf) for leaf in jax.tree.leaves(carry)), (y, carry)

    @jax.jit
    def run(params, placed):
        return jax.grad(lambda p: loss(cell, p), has_aux=True)(params), jax.grad(
            lambda p: loss(union, p), has_aux=True
        )(placed)

    (grad, _), (grad_union, (y, carry)) = run(params, placed)

    want_y, want_carry = ref.run_batch(cell, params, x, LENGTHS, initial_carry=carry0)
    np.testing.assert_allclose(np.asarray(y), want_y, rtol=1e-10, atol=1e-12)
    for got, want in zip(carry_leaves(carry), want_carry, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)

    back = variants.extract(jax.device_get(grad_union), params, cell.spec, H)
    assert set(back) == set(grad)
    for k in grad:
        np.testing.assert_allclose(back[k], np.asarray(grad[k]), rtol=1e-12, atol=1e-13)
    for k, g in jax.device_get(grad_union).items():
        np.testing.assert_array_equal(g * (1 - mask[k]), 0.0)
    np.testing.assert_array_equal(mask["switches"], 0.0)
    np.testing.assert_array_equal(placed["switches"], switch_values(cell.spec))


def test_embed_places_blocks_and_extract_inverts_it():
    cell = rl.cells.get("lstm", H, variant="NIG")  # blocks z, f, o -> union 0, 2, 3
    params = jax.device_get(random_params(cell, 4, D))
    _, placed, mask = _union_params(cell, params)
    W = np.asarray(placed["W"])
    for lone_block, union_block in ((0, 0), (1, 2), (2, 3)):
        np.testing.assert_array_equal(
            W[:, union_block * H : (union_block + 1) * H],
            params["W"][:, lone_block * H : (lone_block + 1) * H],
        )
    np.testing.assert_array_equal(W[:, H : 2 * H], 0.0)
    np.testing.assert_array_equal(mask["W"][:, H : 2 * H], 0.0)
    np.testing.assert_array_equal(mask["p_i"], 0.0)
    back = variants.extract(jax.device_get(placed), params, cell.spec, H)
    jax.tree.map(np.testing.assert_array_equal, back, params)


def _config(hidden, **options):
    return Config(model=ModelConfig("lstm", hidden, cell_options=options))


def test_variants_share_one_program_key_per_bucket():
    """Eight variants at hidden sizes of bucket 24 share one key; FGR, another forget bias and
    a custom spec keep their own; without padding every variant keeps its own."""
    union = [
        _config(h, variant=v) for h, v in zip(range(17, 25), variants.UNION_VARIANTS, strict=True)
    ]
    assert len({program_key(c) for c in union}) == 1
    assert program_key(_config(24, variant="standard")) == program_key(union[0])
    others = [
        _config(20, variant="FGR"),
        _config(20, variant="NIG", forget_bias=2.0),
        _config(20, variant="NIG", peepholes=False),
        _config(48, variant="NIG"),
    ]
    keys = {program_key(c) for c in others}
    assert len(keys) == 4 and program_key(union[0]) not in keys
    assert len({program_key(c, pad=False) for c in union}) == 8


def test_switchable_spec_has_every_part():
    with pytest.raises(ValueError, match="switchable LSTM has every part"):
        LSTMSpec(switchable=True, input_gate=False)
    with pytest.raises(ValueError, match="FGR"):
        switch_values(rl.cells.PRESETS["FGR"])
    assert rl.cells.get("lstm", H, switchable=True).n_blocks == 4
