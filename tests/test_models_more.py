"""Issue-6 models, each trained on a small task to a stated accuracy (optax Adam, own loop)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rnnlab.models import (
    LSTMAutoencoder,
    RNNClassifier,
    Seq2Seq,
    TransformerClassifier,
    count_params,
    d_model_for_params,
    fit_threshold,
    flag,
    pool,
    sequence_loss,
)


def train(loss_fn, params, batches, lr):
    """Adam on ``loss_fn(params, *batch)``; returns the params and the last loss."""
    opt = optax.adam(lr)

    @jax.jit
    def step(params, state, *batch):
        loss, g = jax.value_and_grad(loss_fn)(params, *batch)
        updates, state = opt.update(g, state)
        return optax.apply_updates(params, updates), state, loss

    state = opt.init(params)
    for batch in batches:
        params, state, loss = step(params, state, *batch)
    return params, float(loss)


# ---- seq2seq: reverse digit strings ---------------------------------------------------
def reverse_batch(rng, n, lo=3, hi=5):
    """Digits 3..12 (0 pad, 1 bos, 2 eos); target = reversed source, then eos."""
    L = rng.integers(lo, hi + 1, n)
    src = np.zeros((n, hi), np.int32)
    tin = np.zeros((n, hi + 1), np.int32)
    tout = np.zeros((n, hi + 1), np.int32)
    for b in range(n):
        d = rng.integers(3, 13, L[b])
        src[b, : L[b]] = d
        tin[b, 0], tin[b, 1 : L[b] + 1] = 1, d[::-1]
        tout[b, : L[b]], tout[b, L[b]] = d[::-1], 2
    return src, L, tin, tout, np.arange(hi + 1)[None] <= L[:, None]


def exact_match(pred, tout, L):
    return np.mean([(pred[b, : L[b] + 1] == tout[b, : L[b] + 1]).all() for b in range(len(L))])


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_seq2seq_learns_to_reverse(attention):
    model = Seq2Seq(13, 13, hidden=48, embed=16, attention=attention)
    rng = np.random.default_rng(0)
    params, _ = train(
        lambda p, s, L, ti, to, m: sequence_loss(model.logits(p, s, L, ti), to, m),
        model.init(jax.random.PRNGKey(0)),
        (reverse_batch(rng, 64) for _ in range(200)),
        1e-2,
    )
    src, L, _, tout, _ = reverse_batch(np.random.default_rng(1), 300)  # held out
    greedy = np.asarray(jax.jit(model.greedy, static_argnums=3)(params, src, L, 6))
    acc = exact_match(greedy, tout, L)
    assert acc >= 0.9, acc
    if attention == "bahdanau":
        beam = jax.jit(model.beam_search, static_argnums=(3, 4))
        toks3, _ = beam(params, src, L, 6, 3)
        assert exact_match(np.asarray(toks3), tout, L) >= acc - 0.01
        # A beam of one is greedy decoding; its score is the greedy sequence's log-prob.
        toks1, s1 = beam(params, src[:20], L[:20], 6, 1)
        np.testing.assert_array_equal(np.asarray(toks1), greedy[:20])
        tin = np.concatenate([np.ones((20, 1), np.int32), greedy[:20, :-1]], 1)
        logp = jax.nn.log_softmax(model.logits(params, src[:20], L[:20], tin), -1)
        ref = np.take_along_axis(np.asarray(logp), greedy[:20, :, None], -1)[..., 0]
        done = np.cumsum(greedy[:20] == 2, 1) - (greedy[:20] == 2) > 0  # after the first eos
        np.testing.assert_allclose(np.asarray(s1), np.where(done, 0, ref).sum(1), rtol=1e-4)


def test_seq2seq_attention_ignores_padding():
    model = Seq2Seq(13, 13, hidden=8, embed=4, attention="luong")
    params = model.init(jax.random.PRNGKey(0))
    src = np.array([[3, 4, 5, 0, 0]], np.int32)
    noisy = np.array([[3, 4, 5, 9, 7]], np.int32)  # same length, garbage in the padding
    tin = np.array([[1, 5, 4]], np.int32)
    a = model.logits(params, src, np.array([3]), tin)
    b = model.logits(params, noisy, np.array([3]), tin)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)


# ---- autoencoder: anomalies in sine windows -------------------------------------------
def sine_windows(rng, n, T=32):
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(T)[None, :]
    x = np.sin(2 * np.pi * t / 16 + phase) + 0.05 * rng.standard_normal((n, T))
    return x[..., None].astype(np.float32)


def inject(rng, x):
    """A spike of +-(1.5..2.5) at one random step, or a flat segment of 8 steps."""
    x = x.copy()
    for b in range(len(x)):
        t = rng.integers(4, x.shape[1] - 10)
        if b % 2:
            x[b, t, 0] += rng.choice([-1, 1]) * rng.uniform(1.5, 2.5)
        else:
            x[b, t : t + 8, 0] = x[b, t, 0]
    return x


def test_autoencoder_flags_injected_anomalies():
    model = LSTMAutoencoder(features=1, hidden=32)
    rng = np.random.default_rng(0)
    train_x = sine_windows(rng, 512)
    params, loss = train(
        model.loss,
        model.init(jax.random.PRNGKey(0)),
        ((train_x[rng.integers(0, 512, 64)],) for _ in range(400)),
        1e-2,
    )
    score = jax.jit(model.score)
    threshold = fit_threshold(score(params, train_x), quantile=0.99)
    test_rng = np.random.default_rng(1)
    normal = sine_windows(test_rng, 200)
    anomalous = inject(test_rng, sine_windows(test_rng, 200))
    recall = np.mean(np.asarray(flag(score(params, anomalous), threshold)))
    false_alarms = np.mean(np.asarray(flag(score(params, normal), threshold)))
    assert recall >= 0.8, (recall, loss)
    assert false_alarms <= 0.05, false_alarms


def test_autoencoder_score_is_reconstruction_mse():
    model = LSTMAutoencoder(features=2, hidden=4)
    params = model.init(jax.random.PRNGKey(0))
    x = np.random.default_rng(0).standard_normal((3, 5, 2)).astype(np.float32)
    rec = np.asarray(model.reconstruct(params, x))
    np.testing.assert_allclose(
        np.asarray(model.score(params, x)), ((rec - x) ** 2).mean((1, 2)), rtol=1e-6
    )
    assert fit_threshold(np.arange(101.0), 0.9) == pytest.approx(90.0)
    with pytest.raises(ValueError, match="quantile"):
        fit_threshold(np.arange(3.0), 1.0)


# ---- classifier -----------------------------------------------------------------------
def test_pooling_respects_lengths():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((3, 6, 4))
    L = np.array([6, 2, 1])
    for how in ("mean", "max", "last"):
        got = np.asarray(pool(jnp.asarray(h), jnp.asarray(L), how))
        for b in range(3):
            valid = h[b, : L[b]]
            ref = {"mean": valid.mean(0), "max": valid.max(0), "last": valid[-1]}[how]
            np.testing.assert_allclose(got[b], ref, rtol=1e-6)
    got = np.asarray(pool(jnp.asarray(h), jnp.asarray(L), "last", bidirectional=True))
    np.testing.assert_allclose(got[1], np.concatenate([h[1, 1, :2], h[1, 0, 2:]]), rtol=1e-6)


def marker_batch(rng, n, T=16, vocab=10):
    """Label: does token 3 occur within the length? The padding is random tokens (3 too)."""
    L = rng.integers(4, T + 1, n)
    toks = rng.integers(4, vocab, (n, T))
    y = rng.integers(0, 2, n)
    for b in range(n):
        if y[b]:
            toks[b, rng.integers(0, L[b])] = 3
        toks[b, L[b] :] = rng.integers(0, vocab, T - L[b])
    return toks.astype(np.int32), L.astype(np.int32), y.astype(np.int32)


def xent(logits, y):
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


@pytest.mark.parametrize("model", ["rnn", "transformer"])
def test_classifier_detects_marker_token(model):
    if model == "rnn":
        net = RNNClassifier(10, 2, embed=16, hidden=32, pooling="max", bidirectional=True)
    else:
        net = TransformerClassifier(10, 2, d_model=32, num_heads=4, num_layers=1, max_len=16)
    rng = np.random.default_rng(0)
    toks, L, _ = marker_batch(rng, 2)
    params = net.init(jax.random.PRNGKey(0), toks, L)
    params, _ = train(
        lambda p, t, L_, y: xent(net.apply(p, t, L_), y),
        params,
        (marker_batch(rng, 64) for _ in range(250)),
        3e-3,
    )
    toks, L, y = marker_batch(np.random.default_rng(1), 500)
    acc = np.mean(np.argmax(np.asarray(jax.jit(net.apply)(params, toks, L)), -1) == y)
    assert acc >= 0.95, acc


# ---- transformer: next step of an arithmetic sequence ---------------------------------
def progression_batch(rng, n, T=12, vocab=16):
    """x_{t+1} = x_t + k (mod vocab), k in 1..3 drawn per sequence."""
    start = rng.integers(0, vocab, (n, 1))
    k = rng.integers(1, 4, (n, 1))
    seq = (start + k * np.arange(T + 1)[None]) % vocab
    return seq[:, :-1].astype(np.int32), seq[:, 1:].astype(np.int32)


def test_causal_transformer_learns_next_step():
    net = TransformerClassifier(
        16, 16, d_model=32, num_heads=4, num_layers=2, max_len=12, causal=True, output="per_step"
    )
    rng = np.random.default_rng(0)
    params = net.init(jax.random.PRNGKey(0), progression_batch(rng, 2)[0])
    params, _ = train(
        lambda p, x, y: xent(net.apply(p, x), y),
        params,
        (progression_batch(rng, 64) for _ in range(300)),
        3e-3,
    )
    x, y = progression_batch(np.random.default_rng(1), 300)
    pred = np.argmax(np.asarray(jax.jit(net.apply)(params, x)), -1)
    acc = np.mean(pred[:, 1:] == y[:, 1:])  # from t = 1 on, the step k is known
    assert acc >= 0.95, acc


def test_causal_mask_hides_the_future():
    net = TransformerClassifier(16, 16, d_model=16, num_heads=2, causal=True, output="per_step")
    x = np.random.default_rng(0).integers(0, 16, (2, 10)).astype(np.int32)
    params = net.init(jax.random.PRNGKey(0), x)
    x2 = x.copy()
    x2[:, 6:] = (x2[:, 6:] + 1) % 16
    a, b = net.apply(params, x), net.apply(params, x2)
    np.testing.assert_allclose(np.asarray(a[:, :6]), np.asarray(b[:, :6]), rtol=1e-5, atol=1e-6)
    assert np.abs(np.asarray(a[:, 6:] - b[:, 6:])).max() > 1e-3


def test_d_model_for_params_hits_the_target():
    kw = dict(vocab=100, num_classes=5, num_heads=4, num_layers=2, max_len=64)
    for target in (20_000, 100_000):
        d = d_model_for_params(target, **kw)
        assert d % 4 == 0
        n = count_params(TransformerClassifier(d_model=d, **kw))
        for other in (d - 4, d + 4):  # no neighbouring width is closer
            m = count_params(TransformerClassifier(d_model=other, **kw))
            assert abs(n - target) <= abs(m - target)
        assert abs(n - target) / target < 0.1
