"""Splitting a batch over devices and recombining the parts' means (one device here; the
4-device training run is in test_sharding.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.train import data_parallel


def test_split_cuts_every_leaf_and_keeps_empty_ones():
    x = np.arange(2 * 6 * 3).reshape(2, 6, 3)
    tree = {"x": x, "lengths": np.arange(12).reshape(2, 6), "y_lengths": np.zeros((2, 0))}
    parts = data_parallel.split(tree, 3, axis=1)
    assert len(parts) == 3
    np.testing.assert_array_equal(np.concatenate([p["x"] for p in parts], axis=1), x)
    np.testing.assert_array_equal(parts[1]["lengths"], [[2, 3], [8, 9]])
    assert all(p["y_lengths"].shape == (2, 0) for p in parts)


def test_split_refuses_an_uneven_batch():
    with pytest.raises(ValueError, match="batch of 6 cannot be split evenly over 4 devices"):
        data_parallel.split(np.zeros((6, 2)), 4)


def test_weighted_mean_of_part_means_is_the_whole_mean():
    rng = np.random.default_rng(0)
    values = rng.normal(size=10)
    cuts = [(0, 3), (3, 10)]  # parts of 3 and 7 elements
    means = [{"a": jnp.float32(values[a:b].mean())} for a, b in cuts]
    counts = [jnp.float32(b - a) for a, b in cuts]
    out = jax.jit(data_parallel.weighted_mean)(means, counts)
    np.testing.assert_allclose(out["a"], values.mean(), rtol=1e-6)
    plain = np.mean([m["a"] for m in means])
    assert abs(plain - values.mean()) > 1e-3  # an unweighted mean would differ


def test_map_devices_applies_f_per_part():
    f = jax.jit(lambda w, x: w * x.sum())
    parts = [np.arange(3.0), np.arange(3.0, 6.0)]
    devices = jax.devices()[:1] * 2  # the same device twice stands in for two
    out = data_parallel.map_devices(f, devices, jnp.float32(2.0), parts)
    np.testing.assert_allclose([float(o) for o in out], [6.0, 24.0])
    with pytest.raises(ValueError, match="3 parts for 2 devices"):
        data_parallel.map_devices(f, devices, 1.0, parts + parts[:1])
