# %% [markdown]
# # 01 · Quickstart: an LSTM on the noisy sine wave
#
# The classic first recurrent model: read a noisy sine wave one value at a time and predict
# the next value. We load the data, train an LSTM with a progress bar, plot its predictions
# against the truth, train a GRU on the same data, and finally train a small *population*
# of LSTMs over learning rates in one compiled program. The last cell shows the command-line
# equivalents.
#
# Every notebook here reads `RNNLAB_NOTEBOOK_SMALL=1` (the test suite sets it) and then runs
# on tiny settings; without it the numbers below are the ones stored in this notebook.

# %%
import json
import os
import tempfile
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

import rnnlab as rl

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
SMALL = os.environ.get("RNNLAB_NOTEBOOK_SMALL") == "1"
EPOCHS = 3 if SMALL else 20
NUM_TRAIN = 256 if SMALL else 1024
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (9, 3)})
runs = tempfile.mkdtemp(prefix="rnnlab-quickstart-")

# %% [markdown]
# ## The data
# `sine` is one of rnnlab's datasets (synthetic tasks are datasets like JSB or KJV):
# s_t = a sin(2πt/p + φ) + ε_t with random amplitude, period in [10, 40] and phase, and
# Gaussian noise of std 0.1. Inputs are s_0..s_{T-1}, targets s_1..s_T.

# %%
options = {"num_train": NUM_TRAIN, "num_valid": 128, "num_test": 128}
splits = rl.data.load("sine", **options)
print(
    {k: len(d) for k, d in splits._asdict().items()},
    "sequences of",
    splits.train.lengths[0],
    "steps",
)
fig, ax = plt.subplots()
for i in range(3):
    ax.plot(splits.train.inputs[i][:, 0], lw=1)
ax.set(xlabel="t", ylabel="s_t", title="three training sequences")
plt.show()

# %% [markdown]
# ## Train an LSTM
# A `Config` has four frozen sections. `rl.train` returns a `TrialResult` (best validation
# loss and epoch, test metrics at that epoch, per-epoch history, best parameters) and, given
# a `workdir`, writes a resumable run folder.

# %%
config = rl.Config(
    data=rl.DataConfig("sine", options=options, batch_size=32),
    model=rl.ModelConfig("lstm", hidden=32),
    optim=rl.OptimConfig(name="adam", lr=1e-2),
    loop=rl.LoopConfig(epochs=EPOCHS),
)
t0 = time.perf_counter()
lstm = rl.train(config, workdir=f"{runs}/lstm")
print(
    f"LSTM: best valid MSE {lstm.best_metric:.4f} at epoch {lstm.best_epoch}, "
    f"test MSE {lstm.test['loss']:.4f}, {time.perf_counter() - t0:.0f} s"
)

# %% [markdown]
# ## Predictions against the truth
# `rl.train.load(workdir)` gives back the config, the Flax model and the best parameters.
# Two baselines put the number in context: predicting 0 (the mean) and *persistence*
# (the next value equals the current one).

# %%
cfg, model, params = rl.train.load(f"{runs}/lstm")
x = np.stack(splits.test.inputs)
y = np.stack(splits.test.targets)
lengths = splits.test.lengths
pred = np.asarray(model.apply({"params": params}, x, lengths))
mse = {
    "LSTM": float(np.mean((pred - y) ** 2)),
    "persistence": float(np.mean((x - y) ** 2)),
    "mean (0)": float(np.mean(y**2)),
}
print({k: round(v, 4) for k, v in mse.items()}, "(noise floor 0.01)")
fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
for ax, i in zip(axes, (0, 1)):
    ax.plot(y[i, :, 0], "k.", ms=3, label="truth (noisy)")
    ax.plot(pred[i, :, 0], "C1", label="LSTM")
    ax.set(xlabel="t", title=f"test sequence {i}")
axes[0].legend()
plt.show()

# %% [markdown]
# ## A GRU on the same data
# Only the model section changes; `override` takes dotted keys and checks their types.

# %%
gru = rl.train(config.override({"model.cell": "gru"}), workdir=f"{runs}/gru")
fig, ax = plt.subplots(figsize=(6, 3))
for name, r in (("LSTM", lstm), ("GRU", gru)):
    ax.plot([h["valid_loss"] for h in r.history], label=f"{name} (test {r.test['loss']:.4f})")
ax.set(xlabel="epoch", ylabel="valid MSE", yscale="log", title="learning curves")
ax.legend()
plt.show()

# %% [markdown]
# ## A population over learning rates
# `rl.train_population` trains P trials of one config in **one compiled program**, each
# with its own learning rate and seed; each trial's numbers equal training it alone.

# %%
P = 4 if SMALL else 12
lrs = np.logspace(-3.5, -1.5, P)
t0 = time.perf_counter()
pop = rl.train_population(config, {"lr": lrs}, seeds=np.arange(P))
print(f"{P} trials in {time.perf_counter() - t0:.0f} s; diverged: {int(pop.diverged.sum())}")
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].semilogx(lrs, pop.best_metric, "o-")
axes[0].set(xlabel="learning rate", ylabel="best valid MSE", yscale="log")
for t, lr in zip(pop.trials, lrs):
    axes[1].plot(
        [h["valid_loss"] for h in t.history],
        color=plt.cm.viridis(np.log(lr / lrs[0]) / np.log(lrs[-1] / lrs[0])),
    )
axes[1].set(xlabel="epoch", ylabel="valid MSE", yscale="log", title="colour: learning rate")
plt.show()

# %% [markdown]
# ## The same from the command line
#
# ```bash
# rnnlab train experiments/sine.py --workdir runs/sine             # this LSTM, resumable
# rnnlab train experiments/sine.py --cell gru --workdir runs/sine_gru
# rnnlab eval runs/sine --split test
# rnnlab sweep experiments/odyssey_jsb.py --preset smoke            # a random-search study
# rnnlab analyze runs/odyssey_jsb-smoke/study.db --out report/      # its Welch/fANOVA report
# ```
#
# `docs/cli.md` lists every subcommand; notebook 03 shows populations in depth and 04 the
# analysis of a study.

# %%
result = {
    "lstm_test_mse": lstm.test["loss"],
    "gru_test_mse": gru.test["loss"],
    "persistence_mse": mse["persistence"],
    "mean_mse": mse["mean (0)"],
    "best_population_lr": float(lrs[int(np.argmin(pop.best_metric))]),
}
print("RESULT", json.dumps(result))
