"""A trial's initial parameters drawn without compiling per hidden size (``step.initializer``)
equal the compiled ``step.init_params`` bit for bit."""

import jax
import numpy as np
import pytest

from rnnlab import data
from rnnlab.cells import registry
from rnnlab.train import Config, DataConfig, ModelConfig, optim, problem, step

SPLITS = data.load("sine", length=12, min_length=8, num_train=32, num_valid=16, num_test=16)
SCHEMES = [("normal", True), ("uniform", False), ("normal", False), ("glorot", True)]


def _check(cell: str, options: dict, scheme: str, orthogonal: bool, hidden: int) -> None:
    model = ModelConfig(
        cell,
        hidden,
        cell_options=options,
        num_layers=2,
        init=scheme,
        init_std=0.1,
        orthogonal_recurrent=orthogonal,
    )
    program = step.make_program(
        Config(data=DataConfig("sine", {}, batch_size=8), model=model),
        problem.problem(SPLITS.train),
    )
    sample = problem.batch(SPLITS.train, np.zeros(1, np.int64), 12)
    want = jax.device_get(jax.jit(lambda s: step.init_params(program, s, sample))(3))
    got = step.initializer(program, sample)(3)
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        assert g.dtype == w.dtype and np.array_equal(g, w)


@pytest.mark.parametrize(
    ("cell", "options", "scheme", "orthogonal"),
    [
        ("lstm", {"variant": "FGR"}, "normal", True),  # the Odyssey's init
        ("lstm", {"variant": "NIG"}, "uniform", False),
        ("gru", {}, "normal", False),
        ("gru", {}, "glorot", True),  # not element-wise: compiled whole
    ],
)
def test_initializer_equals_compiled_init(cell, options, scheme, orthogonal):
    for hidden in (5, 13):
        _check(cell, options, scheme, orthogonal, hidden)


@pytest.mark.slow
@pytest.mark.parametrize("cell", sorted(set(registry.available()) - {"convlstm"}))
def test_initializer_equals_compiled_init_for_every_cell(cell):
    for scheme, orthogonal in SCHEMES[:2]:
        _check(cell, {}, scheme, orthogonal, 7)


def test_a_matrix_is_the_prefix_of_a_longer_flat_draw():
    """What the cut relies on: threefry's counter is the element's flat index."""
    key = jax.random.PRNGKey(11)
    for shape in [(3, 7), (88, 148), (1, 1)]:
        n = shape[0] * shape[1]
        for scheme in ("normal", "uniform"):
            want = np.asarray(optim._init_matrix(key, shape, scheme, 0.1))
            longer = np.asarray(optim._init_matrix(key, (4 * n + 3,), scheme, 0.1))
            np.testing.assert_array_equal(longer[:n].reshape(shape), want)
