"""Synthetic tasks: shapes, determinism, targets."""

import numpy as np
import pytest

from rnnlab.data import synthetic as tasks


@pytest.mark.parametrize("name", sorted(tasks.TASKS))
def test_deterministic_and_seed_dependent(name):
    a, b, c = (tasks.make(name, s, 6) for s in (3, 3, 4))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.x, c.x)
    assert a.x.dtype == np.float32 and a.lengths.dtype == np.int32
    assert a.x.shape[0] == a.lengths.shape[0] == a.y.shape[0] == 6
    # inputs are zero past each length
    T = a.x.shape[1]
    pad = np.arange(T)[None, :] >= a.lengths[:, None]
    assert np.all(a.x[pad] == 0)


def test_sine_next_value_and_lengths():
    b = tasks.sine(0, 8, length=50, min_length=30, noise_std=0.0)
    assert b.x.shape == (8, 50, 1) and b.y.shape == (8, 50, 1)
    assert b.lengths.min() >= 30 and b.lengths.max() <= 50 and len(set(b.lengths)) > 1
    for i in range(8):
        n = b.lengths[i]
        np.testing.assert_array_equal(b.x[i, 1:n, 0], b.y[i, : n - 1, 0])


def test_adding_target_is_marked_sum():
    b = tasks.adding(1, 200, T=100)
    assert b.x.shape == (200, 110, 2) and b.y.shape == (200, 1)
    assert b.lengths.min() >= 100 and b.lengths.max() <= 110
    marked = b.x[..., 1] == 1.0
    assert np.all(marked.sum(1) == 2)
    first = np.argmax(marked, axis=1)
    assert np.all(first < 10)
    np.testing.assert_allclose(b.y[:, 0], 0.5 + (b.x[..., 0] * marked).sum(1) / 4, rtol=1e-6)
    assert np.all(b.y >= 0) and np.all(b.y <= 1)
    for i in range(200):  # end markers
        n = b.lengths[i]
        assert b.x[i, n - 1, 1] == -1.0 and b.x[i, 0, 1] in (-1.0, 1.0)
        assert np.all(np.flatnonzero(marked[i]) < 49)


@pytest.mark.parametrize("n_rel", [2, 3])
def test_temporal_order_class_is_xy_order(n_rel):
    b = tasks.temporal_order(2, 50, n_relevant=n_rel)
    sym = np.argmax(b.x, -1)
    for i in range(50):
        n = b.lengths[i]
        assert sym[i, 0] == 6 and sym[i, n - 1] == 7 and np.all(b.x[i, :n].sum(-1) == 1)
        rel = [s for s in sym[i, :n] if s in (4, 5)]
        assert len(rel) == n_rel
        assert b.y[i] == int("".join(str(s - 4) for s in rel), 2)
    assert set(b.y) == set(range(2**n_rel))


def test_copy_targets_repeat_inputs_after_delimiter():
    b = tasks.copy(0, 5, seq_len=4, delay=6, n_symbols=3)
    assert b.x.shape == (5, 14, 5) and b.y.shape == (5, 14)
    sym = np.argmax(b.x, -1)
    np.testing.assert_array_equal(b.y[:, -4:], sym[:, :4])
    assert np.all(b.y[:, :-4] == 0) and np.all(sym[:, 4 + 6 - 1] == 4)


def test_piano_roll_next_frame():
    b = tasks.piano_roll(0, 3, length=20)
    assert b.x.shape == (3, 20, 88)
    np.testing.assert_array_equal(b.x[:, 1:], b.y[:, :-1])
    assert set(np.unique(b.x)) <= {0.0, 1.0}
