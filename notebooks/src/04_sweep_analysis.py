# %% [markdown]
# # 04 · Analysing a sweep: per-variant boxes, Welch tests, fANOVA
#
# Greff et al. (2017) compared eight LSTM variants by random search: every variant gets the
# same number of trials with hyperparameters drawn from the same space, and the test errors
# are compared with Welch's t-test against the vanilla LSTM; fANOVA (Hutter et al. 2014)
# then says how much of the variance each hyperparameter (and each pair) explains.
#
# **Where the study comes from.** This notebook builds a small study itself, with the trial
# engine: a few trials per variant on the first 10 chorales of each JSB split, trained with
# `rl.train_trials` and written into an Optuna SQLite study with the same conventions as
# `rnnlab sweep` (value = best validation NLL, user attributes `test`, `seconds`, ...). It
# is far too small for conclusions about the variants (the paper ran 200 trials per variant
# and dataset, each to convergence); it shows the analysis. To analyse a real sweep instead,
# point `STUDY` at its `study.db`: everything after the first section works on any study.

# %%
import io
import json
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import rnnlab as rl
from rnnlab import analysis

SMALL = os.environ.get("RNNLAB_NOTEBOOK_SMALL") == "1"
STUDY = os.environ.get("RNNLAB_STUDY")  # an existing study.db to analyse instead
VARIANTS = ["V", "NFG", "CIFG"] if SMALL else ["V", "NFG", "NOAF", "CIFG"]
PER_VARIANT = 3 if SMALL else 6
EPOCHS = 2 if SMALL else 5
plt.rcParams.update({"figure.dpi": 72})


def show(fig):
    """Display one of rnnlab.analysis.plots' figures (matplotlib Figure objects) as a PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72, bbox_inches="tight")
    display(Image(buf.getvalue()))


# %% [markdown]
# ## Build the study (skipped when `RNNLAB_STUDY` names one)
# The space: learning rate log-uniform, hidden size log-uniform integers, Gaussian input
# noise uniform, and the variant. Each trial is a `Trial(config, seed)`; trials of one
# variant and hidden bucket share a compiled program.

# %%
space = {
    "lr": {"kind": "log_uniform", "low": 1e-3, "high": 1e-1},
    "hidden": {"kind": "log_int", "low": 25 if SMALL else 17, "high": 32},
    "noise_std": {"kind": "uniform", "low": 0.0, "high": 0.5},
    "variant": {"kind": "categorical", "choices": VARIANTS},
}
# SMALL (the test suite) uses synthetic chord sequences of the same shape to stay fast.
data = (
    rl.DataConfig(
        "piano_roll", options={"num_train": 64, "num_valid": 32, "num_test": 32, "length": 32}
    )
    if SMALL
    else rl.DataConfig("jsb", options={"limit": 10}, batch_size=2)
)
base = rl.Config(
    data=data,
    model=rl.ModelConfig("lstm", 32),
    optim=rl.OptimConfig(name="adam"),
    loop=rl.LoopConfig(epochs=EPOCHS, progress=False),
)
if STUDY is None:
    rng = np.random.default_rng(0)
    params, trials = [], []
    for v in VARIANTS:
        for _ in range(PER_VARIANT):
            h = space["hidden"]
            p = {
                "lr": float(10 ** rng.uniform(-3, -1)),
                "hidden": round(
                    float(np.exp(rng.uniform(np.log(h["low"] - 0.5), np.log(h["high"] + 0.5))))
                ),
                "noise_std": float(rng.uniform(0.0, 0.5)),
                "variant": v,
            }
            p["hidden"] = min(max(p["hidden"], h["low"]), h["high"])
            cfg = base.override(
                {
                    "optim.lr": p["lr"],
                    "model.hidden": p["hidden"],
                    "optim.noise_std": p["noise_std"],
                    "model.cell_options.variant": v,
                }
            )
            params.append(p)
            trials.append(rl.Trial(cfg, seed=len(trials), key=str(len(trials))))
    t0 = time.perf_counter()
    results = rl.train_trials(trials, slots=PER_VARIANT)
    print(f"{len(trials)} trials trained in {time.perf_counter() - t0:.0f} s")
    path = os.path.join(tempfile.mkdtemp(prefix="rnnlab-study-"), "study.db")
    study = analysis.create_study(
        f"sqlite:///{path}", "jsb10-variants", space, dataset=base.data.name, config=base.to_dict()
    )
    analysis.record(study, params, results)
    STUDY = path
print("study:", STUDY)

# %% [markdown]
# ## Open it
# `open_study` takes a path or storage URL; `trials_frame` is one row per trial.

# %%
study = analysis.open_study(STUDY)
df = analysis.trials_frame(study)
df[
    [
        "number",
        "state",
        "value",
        "test_loss",
        "params_variant",
        "params_lr",
        "params_hidden",
        "params_noise_std",
        "seconds",
    ]
].head(8)

# %% [markdown]
# ## Per-variant test NLL and Welch tests against the vanilla LSTM
# `analyze` runs what the paper reports: Welch's t-test of every variant against V on the
# test metric, over all trials and over the best 10 % by validation value.

# %%
a = analysis.analyze(study)
show(analysis.plots.fig_variants(a.usable, a.metric, a.welch, metric_label=a.metric_label))
a.welch[a.welch["subset"] == "all"][
    ["variant", "n", "mean", "mean_ref", "diff", "p", "significant"]
]

# %% [markdown]
# ## fANOVA: which hyperparameters matter
# Fractions of the variance of the test NLL explained by each parameter alone and by each
# pair (random-forest fANOVA over the sampling space).

# %%
fa = a.fanova
print({k: round(v[0], 3) for k, v in fa.main().items()}, "(mean fraction over trees)")
print({f"{p} x {q}": round(v[0], 3) for (p, q), v in fa.pairs().items()})
show(analysis.plots.fig_importance(fa, a.fanova_time, title="variance explained"))

# %% [markdown]
# ## Marginals and the learning rate x hidden size interaction

# %%
fa_plot, ft_plot, label = a.plot_fanova()
show(
    analysis.plots.fig_marginals(
        fa_plot, ft_plot, ["lr", "hidden", "noise_std"], metric_label=a.metric_label, title=label
    )
)
show(analysis.plots.fig_pair(fa_plot, "lr", "hidden", title=f"lr x hidden ({label})"))

# %% [markdown]
# ## The whole report
# `write_report` writes report.html, report.md, summary.json and every figure; the command
# line does the same: `rnnlab analyze STUDY.db --out report/`.

# %%
out = tempfile.mkdtemp(prefix="rnnlab-report-")
summary = analysis.write_report(a, out)
print(sorted(os.listdir(out))[:10])
print(analysis.format_table(a)[:1500])

# %%
w = a.welch[a.welch["subset"] == "all"].set_index("variant")
result = {
    "trials": a.counts()["usable"],
    "variants": sorted(w.index.tolist()),
    "mean_test_nll": {v: float(x) for v, x in w["mean"].items()},
    "lr_main_fraction": float(fa.main()["lr"][0]),
    "report_files": len(os.listdir(out)),
}
print("RESULT", json.dumps(result))
