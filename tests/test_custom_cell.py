"""The cell of docs/add_your_own_cell.md: it exists, matches its float64 reference, trains,
and a study of it against the vanilla LSTM can be analysed."""

import importlib.util
import math
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rnnlab as rl
from rnnlab import analysis

PATH = Path(__file__).parent.parent / "examples" / "janet.py"


def _load():
    if "janet" in sys.modules:
        return sys.modules["janet"]
    spec = importlib.util.spec_from_file_location("janet", PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["janet"] = mod
    spec.loader.exec_module(mod)
    return mod


def reference(p, x_BTD, beta=1.0):
    """The guide's equations in float64 NumPy."""
    W, R, b = (np.asarray(p[k], np.float64) for k in ("W", "R", "b"))
    H = R.shape[0]
    h = np.zeros((x_BTD.shape[0], H))
    ys = []
    for t in range(x_BTD.shape[1]):
        a = x_BTD[:, t] @ W + h @ R + b
        s, c = a[:, :H], np.tanh(a[:, H:])
        h = h / (1 + np.exp(-s)) + (1 - 1 / (1 + np.exp(-(s - beta)))) * c
        ys.append(h)
    return np.stack(ys, 1)


def test_the_guide_cell_is_short_registered_and_exact(x64):
    assert len(PATH.read_text().splitlines()) < 50
    _load()
    assert "janet" in rl.cells.available()
    cell = rl.cells.get("janet", 5)
    p = cell.init(jax.random.PRNGKey(0), 3, jnp.float64)
    x = np.random.default_rng(0).normal(size=(2, 7, 3))
    y, _ = rl.rnn(cell, p, jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(y), reference(p, x), rtol=1e-12, atol=1e-12)
    lengths = jnp.asarray([7, 4])  # padding: zero outputs past each length
    y, _ = rl.rnn(cell, p, jnp.asarray(x), lengths=lengths)
    assert np.all(np.asarray(y)[1, 4:] == 0)
    np.testing.assert_allclose(np.asarray(y)[1, :4], reference(p, x[1:, :4])[0], rtol=1e-12)
    g = jax.grad(lambda q: jnp.sum(rl.rnn(cell, q, jnp.asarray(x))[0] ** 2))(p)  # custom VJP
    g_ad = jax.grad(
        lambda q: jnp.sum(
            rl.Recurrent(cell, custom_vjp=False).apply(
                {"params": {"layer0_fwd": q}}, jnp.asarray(x)
            )[0]
            ** 2
        )
    )(p)
    for k in g:
        np.testing.assert_allclose(g[k], g_ad[k], rtol=1e-10, atol=1e-12)


def test_the_guide_cell_trains_and_its_study_is_analysed(tmp_path):
    _load()
    base = rl.Config(
        data=rl.DataConfig("sine", options={"num_train": 64, "num_valid": 32, "length": 30}),
        model=rl.ModelConfig("janet", 16),
        optim=rl.OptimConfig(name="adam", lr=1e-2),
        loop=rl.LoopConfig(epochs=3, progress=False),
    )
    rng = np.random.default_rng(0)
    params, trials = [], []
    for variant, cell in (("V", "lstm"), ("JANET", "janet")):
        for _ in range(3):
            p = {"lr": float(10 ** rng.uniform(-2.5, -1.5)), "variant": variant}
            cfg = base.override({"model.cell": cell, "optim.lr": p["lr"]})
            params.append(p)
            trials.append(rl.Trial(cfg, seed=len(trials)))
    results = rl.train_trials(trials)
    untrained = rl.train(base.override({"loop.epochs": 0}))
    janet = [r for p, r in zip(params, results) if p["variant"] == "JANET"]
    assert all(r.best_metric < 0.8 * untrained.best_metric for r in janet)
    space = {
        "lr": {"kind": "log_uniform", "low": 10**-2.5, "high": 10**-1.5},
        "variant": {"kind": "categorical", "choices": ["V", "JANET"]},
    }
    study = analysis.create_study(
        f"sqlite:///{tmp_path}/study.db", "janet-vs-v", space, dataset="sine"
    )
    analysis.record(study, params, results)
    a = analysis.analyze(analysis.open_study(f"{tmp_path}/study.db"))
    assert a.counts()["usable"] == 6
    row = a.welch[(a.welch["variant"] == "JANET") & (a.welch["subset"] == "all")]
    assert len(row) == 1 and math.isfinite(float(row["mean"].iloc[0]))
    out = analysis.write_report(a, str(tmp_path / "report"))
    assert (tmp_path / "report" / "report.html").exists() and out
    assert study.trials[0].user_attrs["test"]["loss"] == pytest.approx(results[0].test["loss"])
