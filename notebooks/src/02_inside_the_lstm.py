# %% [markdown]
# # 02 · Inside the LSTM
#
# The vanilla LSTM of Greff et al. (2017, "LSTM: A Search Space Odyssey", eqs. 1-6), with
# y the block output, c the cell state, σ the logistic sigmoid and ⊙ the element-wise product:
#
# | | equation |
# |---|---|
# | block input | z_t = g(W_z x_t + R_z y_{t-1} + b_z) |
# | input gate | i_t = σ(W_i x_t + R_i y_{t-1} + p_i ⊙ c_{t-1} + b_i) |
# | forget gate | f_t = σ(W_f x_t + R_f y_{t-1} + p_f ⊙ c_{t-1} + b_f) |
# | cell | c_t = z_t ⊙ i_t + c_{t-1} ⊙ f_t |
# | output gate | o_t = σ(W_o x_t + R_o y_{t-1} + p_o ⊙ c_t + b_o) |
# | block output | y_t = h(c_t) ⊙ o_t |
#
# with g = h = tanh and diagonal peepholes p. Below: the code that computes it, the gates and
# the cell state of a trained LSTM on a real Bach chorale, what each Odyssey variant removes
# (switched off inside the trained network), vanishing and exploding gradients measured, and
# three ways of regularising recurrence.

# %%
import inspect
import json
import os
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import rnnlab as rl
from rnnlab.cells.lstm import LSTM, preset

SMALL = os.environ.get("RNNLAB_NOTEBOOK_SMALL") == "1"
EPOCHS = 2 if SMALL else 15
plt.rcParams.update({"figure.dpi": 72})
print(inspect.getsource(LSTM.update))

# %% [markdown]
# The step is one matmul `v = y_{t-1} @ R` (the layer does it; `u = x W + b` comes from
# `project`, hoisted out of the time loop or not) and element-wise work; a variant is the
# frozen `LSTMSpec` the code branches on.

# %%
print(preset("V"))
print(
    {
        name: [k for k, v in vars(preset(name)).items() if v != vars(preset("V"))[k]]
        for name in ("NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")
    }
)

# %% [markdown]
# ## A trained LSTM on JSB Chorales
# First chorales of each split (`limit=10`), next-step Bernoulli NLL over the 88 keys.

# %%
jsb = {"limit": 10}
config = rl.Config(
    data=rl.DataConfig("jsb", options=jsb, batch_size=2),
    model=rl.ModelConfig("lstm", 32),
    optim=rl.OptimConfig(name="adam", lr=1e-2),
    loop=rl.LoopConfig(epochs=EPOCHS, progress=False),
)
t0 = time.perf_counter()
res = rl.train(config)
print(
    f"valid NLL {res.best_metric:.2f} nats/step, test {res.test['loss']:.2f}; {time.perf_counter() - t0:.0f} s"
)
p = jax.tree.map(np.asarray, res.params)
cellp, head = p["Recurrent_0"]["layer0_fwd"], p["head"]
splits = rl.data.load("jsb", **jsb)
x = splits.valid.inputs[0].astype(np.float32)  # one chorale (T, 88)
print("chorale of", len(x), "quarter notes")

# %% [markdown]
# ## The equations, step by step, against the library
# A NumPy transcription of the table above; it must reproduce `rl.rnn`'s outputs.


# %%
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def trace(params, x_TD, H=32):
    """z, i, f, o, c, y of the vanilla LSTM at every step (NumPy)."""
    W, R, b = params["W"], params["R"], params["b"]
    c, y, out = np.zeros(H), np.zeros(H), {k: [] for k in "zifocy"}
    for x_t in x_TD:
        a = x_t @ W + y @ R + b
        az, ai, af, ao = np.split(a, 4)
        z = np.tanh(az)
        i = sigmoid(ai + params["p_i"] * c)
        f = sigmoid(af + params["p_f"] * c)
        c = z * i + c * f
        o = sigmoid(ao + params["p_o"] * c)
        y = np.tanh(c) * o
        for k, v in zip("zifocy", (z, i, f, o, c, y)):
            out[k].append(v)
    return {k: np.stack(v) for k, v in out.items()}


tr = trace(cellp, x)
y_lib, _ = rl.rnn(rl.cells.get("lstm", 32), cellp, jnp.asarray(x[None]))
print("max |y_numpy - y_rnnlab| =", float(np.max(np.abs(tr["y"] - np.asarray(y_lib[0])))))

# %%
fig, axes = plt.subplots(1, 5, figsize=(14, 3.2), sharey=True)
axes[0].imshow(x.T[::-1], aspect="auto", cmap="Greys", interpolation="nearest")
axes[0].set(title="input (piano roll)", xlabel="t", ylabel="key / unit")
for ax, k, title in zip(
    axes[1:], "ifoc", ("input gate i", "forget gate f", "output gate o", "cell state c")
):
    v = tr[k].T
    im = ax.imshow(
        v,
        aspect="auto",
        cmap="RdBu_r" if k == "c" else "viridis",
        vmin=-np.abs(v).max() if k == "c" else 0,
        vmax=np.abs(v).max() if k == "c" else 1,
        interpolation="nearest",
    )
    ax.set(title=title, xlabel="t")
    fig.colorbar(im, ax=ax, fraction=0.05)
plt.show()

# %% [markdown]
# ## What each variant removes, inside the trained network
# Each Odyssey variant switches one part off. Here we switch it off in the *trained* vanilla
# LSTM (the rows of a removed gate are deleted; the variant's cell computes the rest) and
# measure the validation NLL. This is not what training the variant would reach (notebook 04
# does that); it shows how much the trained network relies on each part.

# %%
H = 32
blocks = dict(zip("zifo", range(4)))


def without(params, drop):
    keep = [blocks[g] for g in "zifo" if g not in drop]
    cols = np.concatenate([np.arange(k * H, (k + 1) * H) for k in keep])
    q = {"W": params["W"][:, cols], "R": params["R"][:, cols], "b": params["b"][cols]}
    q.update({k: v for k, v in params.items() if k.startswith("p_") and k[2] not in drop})
    return q


drops = {"V": "", "NIG": "i", "NFG": "f", "NOG": "o", "NIAF": "", "NOAF": "", "NP": "", "CIFG": "f"}


vx = np.zeros((len(splits.valid), int(splits.valid.lengths.max()), 88), np.float32)
vy = np.zeros_like(vx)
for j, (xi, yi) in enumerate(zip(splits.valid.inputs, splits.valid.targets)):
    vx[j, : len(xi)], vy[j, : len(yi)] = xi, yi
vlen = splits.valid.lengths
valid_BT = np.arange(vx.shape[1])[None, :] < vlen[:, None]


def nll(cell, q):
    """Validation NLL per step (nats) of the cell with parameters q and the trained head."""
    h, _ = rl.rnn(cell, q, jnp.asarray(vx), lengths=jnp.asarray(vlen))
    logits = np.asarray(h) @ head["kernel"] + head["bias"]
    ll = vy * -np.logaddexp(0, -logits) + (1 - vy) * -np.logaddexp(0, logits)
    return -ll.sum(-1)[valid_BT].sum() / valid_BT.sum()


ablation, cstate = {}, {}
for name, drop in drops.items():
    cell = rl.cells.get("lstm", H, variant=name)
    q = without(cellp, drop)
    ablation[name] = nll(cell, q)
    cstate[name] = np.asarray(rl.rnn(cell, q, jnp.asarray(x[None]))[0][0])
print({k: round(float(v), 2) for k, v in ablation.items()}, "valid NLL, nats/step")
fig, axes = plt.subplots(1, 2, figsize=(12, 3))
axes[0].bar(list(ablation), list(ablation.values()), color=["C0"] + ["C7"] * (len(ablation) - 1))
axes[0].set(ylabel="valid NLL", yscale="log", title="the trained V with one part switched off")
for name in ("V", "NFG", "NOG", "NOAF"):
    axes[1].plot(np.linalg.norm(cstate[name], axis=1), label=name)
axes[1].set(xlabel="t", ylabel="|y_t|", title="block output norm on the same chorale")
axes[1].legend()
plt.show()

# %% [markdown]
# ## Vanishing gradients, measured
# Hochreiter's argument: in an Elman RNN the error flowing back k steps is multiplied by k
# Jacobians diag(tanh') Rᵀ and shrinks exponentially; the LSTM's cell state carries it
# through c_t = f_t c_{t-1} + ..., shrinking only by the forget gates (which start near
# σ(1) ≈ 0.73 and learn to stay open). We measure ‖∂ y_T / ∂ x_{T-k}‖ at initialisation on
# random input.

# %%
T, D, Hg = 100, 8, 64
x_rand = jax.random.normal(jax.random.PRNGKey(0), (1, T, D))


def lag_norms(cell, params):
    def last(x):
        y, _ = rl.rnn(cell, params, x)
        return jnp.sum(y[0, -1])

    g = jax.grad(last)(x_rand)[0]  # (T, D)
    return np.asarray(jnp.linalg.norm(g, axis=-1))[::-1]  # index = lag k


grad_lag = {}
for name, cell in (
    ("Elman RNN (tanh)", rl.cells.get("rnn", Hg)),
    ("LSTM", rl.cells.get("lstm", Hg)),
):
    grad_lag[name] = lag_norms(cell, cell.init(jax.random.PRNGKey(1), D))
elman = rl.cells.get("rnn", Hg)
pe = elman.init(jax.random.PRNGKey(1), D)
grad_lag["Elman RNN, R x 1.5"] = lag_norms(elman, {**pe, "R": 1.5 * pe["R"]})
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, g in grad_lag.items():
    ax.semilogy(g, label=name)
ax.set(xlabel="lag k", ylabel="‖∂y_T/∂x_{T-k}‖", title="gradient against lag (initialisation)")
ax.legend(fontsize=8)
plt.show()
print({k: f"{v[50] / v[1]:.1e}" for k, v in grad_lag.items()}, "gradient at lag 50 / lag 1")

# %% [markdown]
# ## Exploding gradients and clipping
# With a recurrent matrix scaled up (spectral radius > 1) the gradient can grow with the lag
# instead (the last curve above, while the units stay out of saturation). Clipping the
# global gradient norm bounds each update. A population of Elman RNNs on the adding problem,
# large learning rate, half of them clipped at norm 1 (`clip_norm` is a per-trial array):

# %%
clip_cfg = rl.Config(
    data=rl.DataConfig("adding", options={"num_train": 256, "T": 50}, batch_size=16),
    model=rl.ModelConfig("rnn", 32, init="normal", init_std=0.4, orthogonal_recurrent=False),
    optim=rl.OptimConfig(name="sgd", lr=0.5, momentum=0.9),
    loop=rl.LoopConfig(epochs=3 if SMALL else 20, progress=False),
)
clips = np.array([np.inf, np.inf, 1.0, 1.0])
pop = rl.train_population(clip_cfg, {"clip_norm": clips}, seeds=[0, 1, 0, 1])
fig, ax = plt.subplots(figsize=(6, 3))
for t, c in zip(pop.trials, clips):
    ax.plot(
        [h["train_loss"] for h in t.history],
        "C3" if np.isinf(c) else "C0",
        label=("no clipping" if np.isinf(c) else "clip_norm = 1")
        + (" (diverged)" if t.diverged else ""),
    )
ax.set(xlabel="epoch", ylabel="train MSE", yscale="log", title="Elman RNN, adding problem, lr 0.5")
ax.legend(fontsize=8)
plt.show()
for t, c, d, b in zip(range(4), clips, pop.diverged, pop.best_metric):
    print(f"trial {t}: clip_norm {c}, diverged {bool(d)}, best valid MSE {b:.4g}")

# %% [markdown]
# ## Dropout, variational recurrent dropout, zoneout
# Three regularisers on the same task and budget: dropout on the inputs (a new mask per
# step), variational recurrent dropout on y_{t-1} (one mask per sequence, Gal & Ghahramani
# 2016), and zoneout (each unit keeps its previous value with probability p, Krueger et al.
# 2016). Each changes the program, so `rl.train_trials` trains them one program after another.

# %%
reg = {
    "none": {},
    "input dropout 0.2": {"model.input_dropout": 0.2},
    "recurrent dropout 0.25": {"model.recurrent_dropout": 0.25},
    "zoneout 0.1": {"model.cell": "zoneout", "model.cell_options": {"cell": "lstm", "rates": 0.1}},
}
reg_epochs = {"loop.epochs": 1} if SMALL else {}
trials = [rl.Trial(config.override({**c, **reg_epochs}), seed=0) for c in reg.values()]
reg_res = rl.train_trials(trials)
fig, ax = plt.subplots(figsize=(6, 3))
for name, r in zip(reg, reg_res):
    ax.plot([h["valid_loss"] for h in r.history], label=f"{name}: test {r.test['loss']:.2f}")
ax.set(xlabel="epoch", ylabel="valid NLL", title="JSB (10 chorales per split)")
ax.legend(fontsize=8)
plt.show()

# %%
result = {
    "valid_nll": res.best_metric,
    "equations_match": float(np.max(np.abs(tr["y"] - np.asarray(y_lib[0])))),
    "ablation_nll": {k: float(v) for k, v in ablation.items()},
    "grad_ratio_lag50": {k: float(v[50] / v[1]) for k, v in grad_lag.items()},
    "clip_diverged": pop.diverged.tolist(),
    "regulariser_test_nll": {k: r.test["loss"] for k, r in zip(reg, reg_res)},
}
print("RESULT", json.dumps(result))
