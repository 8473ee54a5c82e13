"""Over 4 fake CPU devices: the population axis sharded, and one model's batch split
(data parallelism), give the numbers of one device."""

import functools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent(
    """
    import json
    import jax
    import numpy as np
    from rnnlab.train import Config, train, train_population

    assert len(jax.devices()) == 4, jax.devices()
    cfg = Config.from_dict({
        "data": {"name": "sine", "batch_size": 8, "options": {"length": 12, "min_length": 8,
                 "num_train": 32, "num_valid": 16, "num_test": 16}},
        "model": {"cell": "gru", "hidden": 8},
        "optim": {"lr": 0.1, "noise_std": 0.05},
        "loop": {"epochs": 2, "progress": False},
    })
    hp = {"lr": np.array([0.3, 0.05, 1e30, 0.1, 0.2, 0.01], np.float32)}
    out = {}
    for name, devices in (("plain", None), ("sharded", jax.devices())):
        r = train_population(cfg, hp, [0, 1, 2, 3, 4, 5], strategy="map", devices=devices or ())
        out[name] = {"best": r.best_metric.tolist(), "test": r.test["loss"].tolist(),
                     "div": r.diverged.tolist(),
                     "hist": [[h["valid_loss"] for h in t.history] for t in r]}
    one = cfg.override({"optim.noise_std": 0.0, "loop.epochs": 3})
    for name, c, devices in (
        ("one", one, ()),
        ("data_parallel", one, jax.devices()),
        ("one_b6", one.override({"data.batch_size": 6}), ()),
        ("b6_devices", one.override({"data.batch_size": 6}), jax.devices()),
    ):
        r = train(c, devices=devices)
        out[name] = {"best": r.best_metric, "test": r.test["loss"],
                     "hist": [h["train_loss"] for h in r.history]}
    print("RESULT" + json.dumps(out))
    """
)


@functools.cache
def _run_script() -> dict:
    """The script's numbers, run once for both tests."""
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


def test_sharded_population_equals_unsharded():
    out = _run_script()
    plain, sharded = out["plain"], out["sharded"]
    assert plain["div"] == sharded["div"] == [False, False, True, False, False, False]
    for key in ("best", "test"):
        np.testing.assert_allclose(
            np.array(sharded[key], float), np.array(plain[key], float), rtol=1e-5, atol=1e-6
        )
    assert len(sharded["hist"]) == 6
    for a, b in zip(sharded["hist"], plain["hist"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_data_parallel_model_equals_one_device():
    """Batch 8 over 4 devices: 2 sequences of lengths 8-12 each, so the parts' step counts
    differ and the gradient is their count-weighted mean; batch 6 does not split over 4 and
    trains in the sharded slot layout (one live slot of 4)."""
    out = _run_script()
    for a, b in (("data_parallel", "one"), ("b6_devices", "one_b6")):
        np.testing.assert_allclose(out[a]["hist"], out[b]["hist"], rtol=1e-5)
        np.testing.assert_allclose(out[a]["best"], out[b]["best"], rtol=1e-5)
        np.testing.assert_allclose(out[a]["test"], out[b]["test"], rtol=1e-5)
    assert out["one"]["hist"][0] != out["one_b6"]["hist"][0]  # the two batch sizes differ
