# %% [markdown]
# # 06 · Text, attention, anomalies, video
#
# Four classic uses of recurrent networks, each on data that ships offline:
#
# 1. **Text classification**: which testament a King James verse comes from, an LSTM
#    classifier against a Transformer with the same number of parameters and the same
#    training budget ("RNN or Transformer?");
# 2. **Sequence to sequence with attention**: spelling KJV words backwards, and the
#    attention map that shows how the decoder reads the source;
# 3. **Anomaly detection**: an LSTM autoencoder on electricity demand with injected faults,
#    scored by precision and recall;
# 4. **ConvLSTM**: next-frame prediction of bouncing digits, frames predicted against true.

# %%
import json
import os
import re
import tempfile
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import rnnlab as rl
from rnnlab.data import kjv

SMALL = os.environ.get("RNNLAB_NOTEBOOK_SMALL") == "1"
plt.rcParams.update({"figure.dpi": 72})


def fit(loss_fn, params, batches, lr=3e-3):
    """Adam on ``loss_fn(params, *batch)`` over an iterable of batches; the loss per step."""
    opt = optax.adam(lr)
    state = opt.init(params)

    @jax.jit
    def step(params, state, *batch):
        loss, g = jax.value_and_grad(loss_fn)(params, *batch)
        g = optax.clip_by_global_norm(5.0).update(g, optax.EmptyState())[0]
        updates, state = opt.update(g, state, params)
        return optax.apply_updates(params, updates), state, loss

    losses = []
    for batch in batches:
        params, state, loss = step(params, state, *batch)
        losses.append(float(loss))
    return params, losses


def padded(ds, idx, T):
    """Token ids (B, T) zero-padded, lengths (B,), labels (B,)."""
    x = np.zeros((len(idx), T), np.int32)
    for j, i in enumerate(idx):
        x[j, : len(ds.inputs[i])] = ds.inputs[i]
    return (
        x,
        np.minimum(ds.lengths[idx], T).astype(np.int32),
        np.asarray([ds.targets[i] for i in idx]),
    )


# %% [markdown]
# ## 1 · Old or New Testament? LSTM against a parameter-matched Transformer
# `kjv.load_testaments` draws verses of each testament at random and splits them 60/20/20
# (verses of one book land in every split: this measures style, not memorised books). Both
# models read characters, embed them, and pool over the valid steps; the Transformer's width
# is chosen by `d_model_for_params` so that both have the same number of parameters. Same
# optimiser, learning rate, batches and number of steps.

# %%
PER_CLASS, MAX_LEN, EPOCHS = (300, 80, 2) if SMALL else (1000, 120, 4)
tx = kjv.load_testaments(per_class=PER_CLASS, max_len=MAX_LEN)
V = len(tx.train.meta["vocab"])
print(
    {k: len(d) for k, d in tx._asdict().items()},
    "verses; e.g.",
    repr(tx.train.meta["text"][0][:80]),
)

rnn = rl.models.RNNClassifier(vocab=V, num_classes=2, embed=32, hidden=64, pooling="mean")
n_rnn = rl.models.count_params(rnn)
d = rl.models.d_model_for_params(n_rnn, vocab=V, num_classes=2, num_layers=2, max_len=MAX_LEN)
tfm = rl.models.TransformerClassifier(
    vocab=V, num_classes=2, d_model=d, num_layers=2, max_len=MAX_LEN
)
n_tfm = rl.models.count_params(tfm)
print(f"LSTM classifier: {n_rnn} parameters; Transformer (d_model={d}, 2 layers): {n_tfm}")


def batches(ds, epochs, B=32, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(ds))
        for s in range(0, len(order) - B + 1, B):
            yield padded(ds, order[s : s + B], MAX_LEN)


def accuracy(module, params, ds):
    x, L, y = padded(ds, np.arange(len(ds)), MAX_LEN)
    logits = module.apply(params, x, L)
    return float(np.mean(np.argmax(logits, -1) == y))


text_rows = {}
for name, module in (("LSTM", rnn), ("Transformer", tfm)):
    params = module.init(jax.random.PRNGKey(0), *padded(tx.train, np.arange(2), MAX_LEN)[:2])

    def loss_fn(p, x, L, y, module=module):
        logits = module.apply(p, x, L)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    t0 = time.perf_counter()
    params, losses = fit(loss_fn, params, batches(tx.train, EPOCHS))
    text_rows[name] = {
        "params": rl.models.count_params(module),
        "test accuracy": accuracy(module, params, tx.test),
        "seconds": time.perf_counter() - t0,
        "curve": losses,
    }
    print(
        f"{name:12s} test accuracy {text_rows[name]['test accuracy']:.3f}, {text_rows[name]['seconds']:.0f} s"
    )
majority = max(np.mean(np.asarray(tx.test.targets) == c) for c in (0, 1))
print(f"majority class: {majority:.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
for name, r in text_rows.items():
    c = np.convolve(r["curve"], np.ones(10) / 10, mode="valid")
    ax.plot(c, label=f"{name} ({r['params']} params): test acc {r['test accuracy']:.3f}")
ax.set(xlabel="step", ylabel="train loss (smoothed)", title="same budget, same size")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 2 · Seq2seq with Bahdanau attention: spelling words backwards
# Source: a KJV word (3-8 letters); target: the same letters reversed. The decoder attends
# over the encoder's outputs at every step; for reversal the attention should run along
# the anti-diagonal.

# %%
words = sorted({w.lower() for w in re.findall(r"\b[A-Za-z]{3,8}\b", kjv.load_text()[:400_000])})
rng = np.random.default_rng(0)
rng.shuffle(words)
test_words, train_words = words[:300], words[300:]
PAD, BOS, EOS = 0, 1, 2
enc = {c: i + 3 for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")}
dec = {i: c for c, i in enc.items()}
S = 8


def encode_words(ws):
    src = np.zeros((len(ws), S), np.int32)
    tin = np.zeros((len(ws), S + 1), np.int32)
    tout = np.zeros((len(ws), S + 1), np.int32)
    for j, w in enumerate(ws):
        ids = [enc[c] for c in w]
        src[j, : len(ids)] = ids
        rev = ids[::-1]
        tin[j, : len(rev) + 1] = [BOS, *rev]
        tout[j, : len(rev) + 1] = [*rev, EOS]
    lengths = np.asarray([len(w) for w in ws], np.int32)
    return src, lengths, tin, tout, (np.arange(S + 1)[None] <= lengths[:, None]).astype(np.float32)


s2s = rl.models.Seq2Seq(src_vocab=29, tgt_vocab=29, hidden=64, embed=32, attention="bahdanau")
STEPS = 300 if SMALL else 1500


def s2s_batches():
    r = np.random.default_rng(1)
    for _ in range(STEPS):
        yield encode_words([train_words[i] for i in r.integers(0, len(train_words), 64)])


def s2s_loss(p, src, L, tin, tout, mask):
    return rl.models.sequence_loss(s2s.logits(p, src, L, tin), tout, mask)


t0 = time.perf_counter()
s2s_params, s2s_curve = fit(s2s_loss, s2s.init(jax.random.PRNGKey(0)), s2s_batches(), lr=5e-3)
src, L, _, tout, mask = encode_words(test_words)
out = np.asarray(s2s.greedy(s2s_params, src, L, S + 1))
exact = float(np.mean([np.array_equal(o[: l + 1], t[: l + 1]) for o, t, l in zip(out, tout, L)]))
print(
    f"{STEPS} steps in {time.perf_counter() - t0:.0f} s; test words reversed exactly: {exact:.1%}"
)
for w, o in zip(test_words[:5], out[:5]):
    print(f"  {w:10s} -> {''.join(dec.get(int(i), '') for i in o if i > 2)}")

# %% [markdown]
# The attention weights of one test word, recomputed from the trained parameters with the
# model's own encoder and decoder steps (`encode`, `decode_step`).


# %%
def attention_map(params, word):
    src, L, _, _, _ = encode_words([word])
    e = s2s.encode(params, jnp.asarray(src), jnp.asarray(L))
    state, tok, rows = e["state"], jnp.array([BOS]), []
    for _ in range(len(word) + 1):
        s_prev = s2s.rnn_cell.recurrent_input(state[0])
        score = jnp.tanh(e["keys"] + (s_prev @ params["W_s"])[:, None, :]) @ params["v"]
        rows.append(np.asarray(rl.models.seq2seq.masked_softmax(score, e["mask"]))[0, : len(word)])
        state, logits = s2s.decode_step(params, e, state, tok)
        tok = jnp.argmax(logits, -1)
    return np.stack(rows)


word = max(test_words[:50], key=len)
A = attention_map(s2s_params, word)
fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(A, cmap="Greys", vmin=0, vmax=1)
ax.set_xticks(range(len(word)), list(word))
ax.set_yticks(range(len(word) + 1), [*word[::-1], "<eos>"])
ax.set(xlabel="source letter", ylabel="output step", title=f"attention, '{word}'")
plt.show()
anti_diagonal = float(np.mean(A[np.arange(len(word)), np.arange(len(word))[::-1]]))

# %% [markdown]
# ## 3 · LSTM autoencoder: faults in electricity demand
# Windows of one day (48 half-hours) of standardised Taylor demand. The autoencoder is
# trained on the first 60 days (normal data). Into the last 24 days we inject three kinds of
# fault: spikes, level shifts and flat lines (a stuck sensor). A window is flagged when its
# reconstruction error exceeds the 99th percentile of the training windows' errors.

# %%
y = rl.data.taylor.load_series()
train_y, test_y = y[: 60 * 48], y[60 * 48 :]
mu, sd = train_y.mean(), train_y.std()  # fitted on the normal training days only
z_train, z_test = (train_y - mu) / sd, (test_y - mu) / sd
W = 48
rng = np.random.default_rng(0)
faulty = z_test.copy()
fault_at = np.zeros(len(z_test), bool)
kinds = []
for k, start in enumerate(rng.choice(np.arange(0, len(z_test) - 24, 24), 8, replace=False)):
    kind = ("spike", "shift", "flat")[k % 3]
    span = {"spike": 1, "shift": 12, "flat": 16}[kind]
    if kind == "spike":
        faulty[start] += 3.0
    elif kind == "shift":
        faulty[start : start + span] += 1.0
    else:
        faulty[start : start + span] = faulty[start]
    fault_at[start : start + span] = True
    kinds.append((kind, start))


def day_windows(z, stride):
    starts = np.arange(0, len(z) - W + 1, stride)
    return np.stack([z[s : s + W] for s in starts])[..., None].astype(np.float32), starts


x_tr, _ = day_windows(z_train, 4)
x_te, starts = day_windows(faulty, 12)
labels = np.array([fault_at[s : s + W].any() for s in starts])
ae = rl.models.LSTMAutoencoder(features=1, hidden=32)
AE_STEPS = 200 if SMALL else 1000


def ae_batches():
    r = np.random.default_rng(2)
    for _ in range(AE_STEPS):
        yield (x_tr[r.integers(0, len(x_tr), 32)],)


t0 = time.perf_counter()
ae_params, ae_curve = fit(ae.loss, ae.init(jax.random.PRNGKey(0)), ae_batches())
threshold = rl.models.fit_threshold(np.asarray(ae.score(ae_params, x_tr)), 0.99)
scores_te = np.asarray(ae.score(ae_params, x_te))
flags = np.asarray(rl.models.flag(scores_te, threshold))
tp = int((flags & labels).sum())
precision = tp / max(int(flags.sum()), 1)
recall = tp / max(int(labels.sum()), 1)
print(
    f"{AE_STEPS} steps in {time.perf_counter() - t0:.0f} s; {labels.sum()} of {len(labels)} test windows hold a fault"
)
print(
    f"precision {precision:.2f}, recall {recall:.2f} (threshold: 99th percentile of training scores)"
)

fig, axes = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True)
axes[0].plot(faulty * sd + mu, "k", lw=0.6)
for kind, s in kinds:
    axes[0].axvspan(s, s + {"spike": 1, "shift": 12, "flat": 16}[kind], color="C3", alpha=0.4)
axes[0].set(ylabel="MW", title="test days with injected faults (red)")
axes[1].plot(starts + W / 2, scores_te, "C0.-", ms=3, label="window score")
axes[1].axhline(threshold, color="C3", ls="--", label="threshold")
axes[1].plot((starts + W / 2)[labels], scores_te[labels], "rx", label="window with a fault")
axes[1].set(yscale="log", xlabel="half-hour", ylabel="reconstruction MSE")
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 4 · ConvLSTM: next frames of bouncing digits
# `moving_digits` moves one or two scikit-learn digits across a 16x16 canvas; the ConvLSTM
# (`FramePredictor` through the training engine) predicts each next frame. Baselines: copy
# the last frame, and each pixel's mean.

# %%
frames = {"num_sequences": (128, 32, 32) if SMALL else (512, 128, 128), "length": 10}
cfg = rl.Config(
    data=rl.DataConfig("moving_digits", options=frames, batch_size=16),
    model=rl.ModelConfig("convlstm", 8 if SMALL else 16),
    optim=rl.OptimConfig(name="adam", lr=3e-3),
    loop=rl.LoopConfig(epochs=2 if SMALL else 6, progress=False),
)
workdir = tempfile.mkdtemp(prefix="rnnlab-convlstm-")
t0 = time.perf_counter()
r = rl.train(cfg, workdir=workdir)
vd = rl.data.load("moving_digits", **frames)
base = rl.data.moving_digits.baselines(vd.test, vd.train)
print(f"{time.perf_counter() - t0:.0f} s; test {r.test}; baselines {base}")

# %%
_, model, params = rl.train.load(workdir)
objective = rl.train.problem.problem(vd.train).objective
x = np.stack(vd.test.inputs[:4])
out = np.asarray(model.apply({"params": params}, x, vd.test.lengths[:4])).reshape(x.shape)
pred = 1 / (1 + np.exp(-out)) if objective == "bernoulli" else out
fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for t in range(8):
    axes[0, t].imshow(vd.test.targets[0][t, ..., 0], cmap="Greys", vmin=0, vmax=1)
    axes[1, t].imshow(np.clip(pred[0, t, ..., 0], 0, 1), cmap="Greys", vmin=0, vmax=1)
    axes[0, t].set_title(f"t={t + 1}", fontsize=8)
for ax in axes.ravel():
    ax.set_xticks([]), ax.set_yticks([])
axes[0, 0].set_ylabel("true")
axes[1, 0].set_ylabel("predicted")
plt.show()
convlstm_mse = float(np.mean(np.sum((pred[0] - vd.test.targets[0]) ** 2, axis=(1, 2, 3))))
copy_mse = float(np.mean(np.sum((vd.test.inputs[0] - vd.test.targets[0]) ** 2, axis=(1, 2, 3))))
print(
    f"first test sequence, squared error per frame: ConvLSTM {convlstm_mse:.2f}, copy-last {copy_mse:.2f}"
)
pixels = int(np.prod(vd.test.inputs[0].shape[1:]))
print(
    f"whole test set, MSE per pixel: ConvLSTM {r.test['loss']:.4f}, copy-last {base['copy_last_mse'] / pixels:.4f}"
)

# %%
result = {
    "text_accuracy": {k: v["test accuracy"] for k, v in text_rows.items()},
    "text_params": {k: v["params"] for k, v in text_rows.items()},
    "majority": float(majority),
    "seq2seq_exact": exact,
    "attention_anti_diagonal": anti_diagonal,
    "anomaly_precision": precision,
    "anomaly_recall": recall,
    "convlstm_test": r.test,
    "frame_baselines": base,
    "convlstm_first_mse": convlstm_mse,
    "copy_first_mse": copy_mse,
    "convlstm_test_mse_per_pixel": r.test["loss"],
    "copy_last_mse_per_pixel": base["copy_last_mse"] / pixels,
}
print("RESULT", json.dumps(result, default=float))
