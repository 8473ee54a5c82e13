"""Optimisers against references: PyLSTM's Nesterov step, optax's Adam/AdamW, clipping,
schedules, plateau and early-stopping updates, initialisers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rnnlab.train import Config, OptimConfig, hparams, optim


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


# hyperparameters are float32 arrays in the state, so references agree to ~1e-8, not 1e-15
A = np.array([[3.0, 0.5], [0.5, 1.0]])


def _grad(theta):
    return A @ theta  # f = 0.5 theta^T A theta


class _Tx:
    """optim.update as an optax-style transformation (lr factor 1)."""

    def __init__(self, cfg: OptimConfig):
        self.cfg, self.hp = cfg, hparams.of(Config(optim=cfg))

    def init(self, params):
        return optim.init(self.cfg, self.hp, params)

    def update(self, g, state, params):
        return optim.update(self.cfg, self.hp, 1.0, g, state, params)


def _run(tx, theta0, steps):
    params, state, points = jnp.asarray(theta0), None, []
    state = tx.init(params)
    for _ in range(steps):
        points.append(np.asarray(params))
        updates, state = tx.update(jnp.asarray(_grad(np.asarray(params))), state, params)
        params = optax.apply_updates(params, updates)
    return np.array(points)


def test_odyssey_sgd_equals_pylstm_nesterov_step():
    lr, mu, theta0 = 0.1, 0.8, np.array([1.0, -2.0])
    # PyLSTM NesterovStep with scale_learning_rate=True; gradients taken at the look-ahead
    theta, v, points = theta0.copy(), np.zeros(2), []
    for _ in range(6):
        v *= mu
        theta += v
        points.append(theta.copy())
        dv = (1 - mu) * lr * _grad(theta)
        v -= dv
        theta -= dv
    cfg = OptimConfig(name="sgd", lr=lr, momentum=mu)
    np.testing.assert_allclose(_run(_Tx(cfg), theta0, 6), points, rtol=1e-7)


def test_sgd_unscaled_equals_optax_sgd_nesterov():
    cfg = OptimConfig(name="sgd", lr=0.05, momentum=0.7, scale_lr_by_momentum=False)
    theta0 = np.array([0.3, 2.0])
    want = _run(optax.sgd(0.05, momentum=0.7, nesterov=True), theta0, 5)
    np.testing.assert_allclose(_run(_Tx(cfg), theta0, 5), want, rtol=1e-7)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_adamw_equal_optax(name):
    cfg = OptimConfig(name=name, lr=0.01, b1=0.8, b2=0.95, weight_decay=0.1)
    ref = (
        optax.adamw(0.01, b1=0.8, b2=0.95, weight_decay=0.1)
        if name == "adamw"
        else optax.chain(optax.add_decayed_weights(0.1), optax.adam(0.01, b1=0.8, b2=0.95))
    )
    theta0 = np.array([1.0, 1.5])
    np.testing.assert_allclose(_run(_Tx(cfg), theta0, 5), _run(ref, theta0, 5), rtol=1e-7)


def test_clip_by_global_norm():
    cfg = OptimConfig(name="sgd", lr=1.0, momentum=0.0, clip_norm=1.0)
    tx = _Tx(cfg)
    g = {"a": jnp.array([6.0]), "b": jnp.array([8.0])}  # norm 10
    upd, _ = tx.update(g, tx.init(g), g)
    np.testing.assert_allclose(upd["a"], [-0.6])
    np.testing.assert_allclose(upd["b"], [-0.8])


def test_per_trial_hyperparameters_are_arrays_under_vmap():
    cfg = OptimConfig(name="sgd", momentum=0.5)
    base = hparams.of(Config(optim=cfg))
    lrs = jnp.array([0.1, 0.2, 0.4])
    p0 = jnp.array([1.0, -1.0])

    def one(lr):
        hp = base._replace(lr=lr)
        st = optim.init(cfg, hp, p0)
        upd, _ = optim.update(cfg, hp, 1.0, jnp.asarray(A) @ p0, st, p0)
        return upd

    upd_P = jax.vmap(one)(lrs)
    for i, lr in enumerate([0.1, 0.2, 0.4]):
        np.testing.assert_allclose(upd_P[i], -(1 - 0.5) * lr * 1.5 * (A @ np.array([1.0, -1.0])))


def test_warmup_cosine_schedule():
    cfg = OptimConfig(schedule="warmup_cosine", warmup_epochs=1, final_lr_fraction=0.1)
    f = optim.schedule(cfg, total_steps=30, steps_per_epoch=10)
    np.testing.assert_allclose([f(0), f(5), f(10)], [0.0, 0.5, 1.0], atol=1e-12)
    np.testing.assert_allclose(f(20), 0.1 + 0.9 * 0.5, rtol=1e-6)  # halfway through decay
    np.testing.assert_allclose(f(30), 0.1, rtol=1e-6)


def test_plateau_and_early_stopping_updates():
    scale, best, bad = 1.0, jnp.inf, 0
    seq = [1.0, 0.9, 0.95, 0.95, 0.8, 0.85, 0.85]
    scales = []
    for m in seq:
        scale, best, bad = optim.plateau_update(scale, best, bad, jnp.asarray(m), 0.5, 2)
        scales.append(float(scale))
    assert scales == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    best, bad, go = jnp.inf, 0, []
    for m in [1.0, 0.9, 0.95, 0.97, np.nan, 0.5]:
        _, best, bad, g = optim.early_stopping_update(best, bad, jnp.asarray(m), 2)
        go.append(bool(g))
    assert go == [True, True, True, False, False, True] and float(best) == 0.5


def test_initialisers():
    params = {"cell": {"W": jnp.zeros((40, 120)), "R": jnp.zeros((30, 120)), "b": jnp.ones(120)}}
    out = optim.init_params(params, jax.random.PRNGKey(0), "normal", 0.1, True)
    np.testing.assert_allclose(np.std(out["cell"]["W"]), 0.1, rtol=0.05)
    np.testing.assert_array_equal(out["cell"]["b"], 1.0)
    for k in range(4):
        blk = np.asarray(out["cell"]["R"][:, 30 * k : 30 * (k + 1)])
        np.testing.assert_allclose(blk.T @ blk, np.eye(30), atol=1e-5)
    he = optim.init_params(params, jax.random.PRNGKey(1), "he", 0.0, False)
    np.testing.assert_allclose(np.std(he["cell"]["R"]), np.sqrt(2 / 30), rtol=0.1)
    assert optim.init_params(params, jax.random.PRNGKey(0), "default", 0.0, True) is params
    with pytest.raises(ValueError, match="unknown init"):
        optim.init_params(params, jax.random.PRNGKey(0), "xavier2", 0.1, True)
