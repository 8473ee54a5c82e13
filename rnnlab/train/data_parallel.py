"""One model's step spread over several devices by splitting its batch, with no collective.

Each device d computes the loss mean l_d over its n_d counted elements (valid steps, or
sequences) and its gradient g_d; the step then uses the full batch's

    l = sum_d n_d l_d / sum_d n_d,    g = sum_d n_d g_d / sum_d n_d,

which is the full batch's mean loss and gradient up to the order of floating-point sums.
The host dispatches the per-device programs, each on its own device and thread, and copies
their outputs to the first device, which applies the update (``jax.device_put`` copies, no
all-reduce: XLA:CPU's all-reduce rendezvous deadlocked in this setting, benchmarks/README.md).

On CPU this is how one model uses more than one core: ``jax.config.update(
"jax_num_cpu_devices", 2)`` before JAX starts gives two XLA CPU devices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np


def split(tree: Any, n: int, axis: int = 0) -> list[Any]:
    """``tree`` cut into ``n`` equal parts along ``axis`` of every leaf (an empty leaf, such
    as a (P, 0) label-length array, is kept whole in every part)."""

    def size(a: Any) -> int:
        return np.shape(a)[axis]

    sizes = {size(a) for a in jax.tree.leaves(tree) if np.size(a)}
    bad = [s for s in sizes if s % n]
    if bad:
        raise ValueError(
            f"a batch of {bad[0]} cannot be split evenly over {n} devices; "
            f"use a batch size that is a multiple of {n}."
        )

    def part(i: int) -> Any:
        def cut(a):
            if not np.size(a):
                return a
            k = size(a) // n
            return a[(slice(None),) * axis + (slice(i * k, (i + 1) * k),)]

        return jax.tree.map(cut, tree)

    return [part(i) for i in range(n)]


def map_devices(
    f: Callable[..., Any], devices: Sequence[Any], shared: Any, parts: Sequence[Any]
) -> list[Any]:
    """[f(shared, parts[d]) computed on devices[d]], every output copied to ``devices[0]``.

    The calls are dispatched one after another without waiting, so the devices compute at
    the same time; ``f`` should be jitted."""
    if len(parts) != len(devices):
        raise ValueError(f"{len(parts)} parts for {len(devices)} devices.")
    outs = [
        f(jax.device_put(shared, dev), jax.device_put(part, dev))
        for dev, part in zip(devices, parts)
    ]
    return [jax.device_put(o, devices[0]) for o in outs]


def weighted_mean(values: Sequence[Any], counts: Sequence[Any]) -> Any:
    """sum_d counts[d] values[d] / sum_d counts[d], leaf by leaf (jittable)."""
    total = sum(counts)
    scale = [c / jax.numpy.maximum(total, 1e-30) for c in counts]
    return jax.tree.map(lambda *vs: sum(s * v for s, v in zip(scale, vs)), *values)
