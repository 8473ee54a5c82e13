# %% [markdown]
# # 03 · Populations: many models in one compiled program
#
# Hyperparameter studies train hundreds of small recurrent networks. Trained one by one, each
# model pays for its own Python loop, its own dispatches and (in a fresh process) its own
# compilation. rnnlab's trial engine trains **P trials in one program**: the training step is
# a pure function `train_step(program, state, batch, hparams)` whose hyperparameters are an
# explicit argument, mapped over the trials. Each trial still has its own data order, its own
# early stopping and its own divergence flag, and its numbers equal training it alone.
#
# Below: a population of learning rates against the same models one by one (wall time and
# learning curves), then a population of *mixed hidden sizes*.

# %%
import json
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import rnnlab as rl

SMALL = os.environ.get("RNNLAB_NOTEBOOK_SMALL") == "1"
P = 8 if SMALL else 32
ALONE = 2 if SMALL else 4  # trials also trained one by one (the rest is extrapolated)
EPOCHS = 2 if SMALL else 12
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (9, 3)})

config = rl.Config(
    data=rl.DataConfig("sine", options={"num_train": 256, "num_valid": 64}, batch_size=16),
    model=rl.ModelConfig("lstm", hidden=32),
    optim=rl.OptimConfig(name="adam"),
    loop=rl.LoopConfig(epochs=EPOCHS, progress=False),
)
lrs = np.logspace(-3.5, -1.0, P)
seeds = np.arange(P)

# %% [markdown]
# ## P trials at once

# %%
t0 = time.perf_counter()
pop = rl.train_population(config, {"lr": lrs}, seeds=seeds)
t_pop_cold = time.perf_counter() - t0
t0 = time.perf_counter()  # the same program again (other seeds): compiled already
rl.train_population(config, {"lr": lrs}, seeds=seeds + P)
t_pop = time.perf_counter() - t0
print(
    f"{P} trials together: {t_pop_cold:.1f} s with compilation, {t_pop:.1f} s warm; "
    f"default strategy on this machine: {rl.train.default_strategy(config.data.batch_size).value}"
)

# %% [markdown]
# ## The same trials one by one
# `rl.train` of one config per call, as a plain loop over learning rates would do. The first
# call compiles; later calls of the same program in this process reuse it. We time a few warm
# calls and extrapolate to all P (each costs about the same). In a fresh process per trial
# (a shell loop over `rnnlab train`) every trial would also pay the first call's compilation.

# %%
alone, t_alone = [], []
t0 = time.perf_counter()
alone.append(rl.train(config.override({"optim.lr": float(lrs[0]), "loop.seed": int(seeds[0])})))
t_cold = time.perf_counter() - t0
for i in range(1, ALONE + 1):
    t0 = time.perf_counter()
    alone.append(rl.train(config.override({"optim.lr": float(lrs[i]), "loop.seed": int(seeds[i])})))
    t_alone.append(time.perf_counter() - t0)
per_trial = float(np.median(t_alone))
print(
    f"one by one: first {t_cold:.1f} s (compiles), then {np.round(t_alone, 2)} s each "
    f"-> {P} trials ~ {per_trial * P:.1f} s warm, ~ {t_cold * P:.0f} s in fresh processes"
)
print(
    f"population vs one by one, both warm: {per_trial * P / t_pop:.2f}x; "
    f"vs a fresh process per trial: {t_cold * P / t_pop_cold:.1f}x"
)
same = max(abs(a.best_metric - pop[i].best_metric) for i, a in enumerate(alone))
print(f"largest difference in best valid MSE, alone vs in the population: {same:.2e}")

# %% [markdown]
# How to read the two ratios. Against a warm loop in one process, a population on 2 CPU
# cores is about as fast per epoch: the same arithmetic is done, and `lax.map` over models
# mostly saves Python dispatch. What it removes is everything per trial that is not
# arithmetic: compilation, process start, data loading; a loop of fresh `rnnlab train`
# processes pays those P times. On an accelerator (`vmap`), P small models fill a device
# that one small model leaves mostly idle.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
axes[0].bar(
    [
        "one by one\nfresh processes",
        "one by one\nwarm",
        f"population\nP={P}, cold",
        f"population\nP={P}, warm",
    ],
    [t_cold * P, per_trial * P, t_pop_cold, t_pop],
    color=["C7", "C7", "C0", "C0"],
)
axes[0].set(ylabel="wall time (s)", title=f"{P} LSTMs on 2 CPU cores")
cmap = plt.cm.viridis
for t, lr in zip(pop.trials, lrs):
    c = cmap(np.log(lr / lrs[0]) / np.log(lrs[-1] / lrs[0]))
    axes[1].plot([h["valid_loss"] for h in t.history], color=c, lw=1)
for a in alone:
    axes[1].plot([h["valid_loss"] for h in a.history], "k:", lw=2)
axes[1].set(
    xlabel="epoch",
    ylabel="valid MSE",
    yscale="log",
    title="population (colour: lr); dotted: trained alone",
)
plt.show()

# %% [markdown]
# ## Mixed hidden sizes in one program
# Hidden size changes the shapes, so it is structural. `rl.train_trials` still trains trials
# of different sizes together: each trial is initialised alone at its size and embedded in
# its *bucket*'s size (16, 24, 32, 48, 64, ...) with the padded weights held at exactly zero
# by a gradient mask, so its numbers equal training it at its own size. Trials are grouped by
# bucket; a freed slot takes the next trial at the next epoch boundary.

# %%
rng = np.random.default_rng(0)
hidden = [16, 20, 24] if SMALL else [int(h) for h in np.round(np.geomspace(12, 64, 16))]
trials = [
    rl.Trial(
        config.override({"model.hidden": h, "optim.lr": float(10 ** rng.uniform(-2.5, -1.5))}),
        seed=i,
    )
    for i, h in enumerate(hidden)
]
print("buckets:", sorted({rl.train.hidden_bucket(h) for h in hidden}))
t0 = time.perf_counter()
mixed = rl.train_trials(trials, slots=8)
print(f"{len(trials)} trials of sizes {hidden} in {time.perf_counter() - t0:.1f} s")
check = rl.train(trials[1].config.override({"loop.seed": trials[1].seed}))
print(
    f"hidden={hidden[1]} alone: {check.best_metric:.6f}, in its bucket: {mixed[1].best_metric:.6f}"
)

fig, ax = plt.subplots(figsize=(6, 3))
ax.scatter(hidden, [r.best_metric for r in mixed], c=[np.log10(t.config.optim.lr) for t in trials])
ax.set(
    xscale="log",
    yscale="log",
    xlabel="hidden units",
    ylabel="best valid MSE",
    title="mixed sizes (colour: log10 lr)",
)
plt.show()

# %%
result = {
    "population_seconds": t_pop,
    "population_cold_seconds": t_pop_cold,
    "one_by_one_fresh_seconds": t_cold * P,
    "one_by_one_seconds": per_trial * P,
    "speedup": per_trial * P / t_pop,
    "max_alone_vs_population_diff": same,
    "mixed_alone_diff": abs(check.best_metric - mixed[1].best_metric),
}
print("RESULT", json.dumps(result))
