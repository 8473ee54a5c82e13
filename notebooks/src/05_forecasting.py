# %% [markdown]
# # 05 · Honest forecasting: electricity demand and stock prices, walk-forward
#
# Forecasting tutorials often leak the future into training: a scaler fitted on the whole
# series, windows that straddle the train/test boundary, a single lucky split. Here every
# number comes from a **walk-forward** evaluation (`rnnlab.data.forecasting`):
#
# - each fold is train | valid | test in time order; later folds move the test window forward;
# - the scaler (mean, std) is fitted on the fold's **training window only**;
# - a window's targets lie inside one segment; its inputs are past values only;
# - the LSTM is compared with the baselines a forecaster must beat: **persistence** (the last
#   value) and **seasonal naive** (the value one season ago).
#
# Two series that ship offline with pmdarima: Taylor's half-hourly electricity demand (day
# ahead, 48 steps) and daily Microsoft closing prices (next day).

# %%
import json
import os

import matplotlib.pyplot as plt
import numpy as np

import rnnlab as rl
from rnnlab.data import forecasting as fc

SMALL = os.environ.get("RNNLAB_NOTEBOOK_SMALL") == "1"
FOLDS = 1 if SMALL else 3
EPOCHS = 3 if SMALL else 15
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (10, 3)})


def predict(result, splits, split="test"):
    """The trained model's forecasts of one split, back on the original scale."""
    ds = getattr(splits, split)
    model = rl.models.build(result.config.model, ds.targets[0].size, "sequence_regression")
    x = np.stack(ds.inputs)
    z = np.asarray(model.apply({"params": result.params}, x, ds.lengths))
    return z * ds.meta["std"] + ds.meta["mean"], x[..., 0] * ds.meta["std"] + ds.meta["mean"]


# %% [markdown]
# ## Electricity demand: one day ahead from the last two days
# Folds of one week each of validation and test, the training window growing before them.

# %%
y_mw = rl.data.taylor.load_series()
wf = {"series": "taylor", "n_folds": FOLDS, "input_length": 96, "horizon": 48, "stride": 4}
folds = fc.walk_forward_folds(len(y_mw), n_folds=FOLDS, test=7 * 48, valid=7 * 48)
fig, ax = plt.subplots()
ax.plot(y_mw, "k", lw=0.5)
for k, f in enumerate(folds):
    ax.axvspan(*f.valid, color="C1", alpha=0.15 + 0.1 * k)
    ax.axvspan(*f.test, color="C2", alpha=0.15 + 0.1 * k)
ax.set(
    xlabel="half-hour",
    ylabel="MW",
    title="Taylor demand; valid (orange) and test (green) weeks of each fold",
)
plt.show()

# %%
rows, sq_taylor = [], {"LSTM": [], "persistence": [], "seasonal naive (yesterday)": []}
for k in range(FOLDS):
    config = rl.Config(
        data=rl.DataConfig("walk_forward", options={**wf, "fold": k}, batch_size=32),
        model=rl.ModelConfig("lstm", 32),
        optim=rl.OptimConfig(name="adam", lr=3e-3),
        loop=rl.LoopConfig(epochs=EPOCHS, patience=5, progress=False),
    )
    r = rl.train(config)
    splits = rl.data.load("walk_forward", **wf, fold=k)
    pred, x = predict(r, splits)
    true = np.stack(splits.test.targets) * splits.test.meta["std"] + splits.test.meta["mean"]
    row = {
        "fold": k,
        "LSTM": fc.scores(pred, true)["rmse"],
        "persistence": fc.scores(fc.persistence(x, 48), true)["rmse"],
        "seasonal naive (yesterday)": fc.scores(fc.seasonal_naive(x, 48, 48), true)["rmse"],
    }
    rows.append(row)
    for name, p in (
        ("LSTM", pred),
        ("persistence", fc.persistence(x, 48)),
        ("seasonal naive (yesterday)", fc.seasonal_naive(x, 48, 48)),
    ):
        sq_taylor[name].append(np.mean((p - true) ** 2, axis=1))
    print({k2: (round(v) if k2 != "fold" else v) for k2, v in row.items()}, "RMSE in MW")
taylor_rmse = {m: float(np.mean([r[m] for r in rows])) for m in rows[0] if m != "fold"}
print("mean over folds:", {m: round(v) for m, v in taylor_rmse.items()})

# %%
i = 0  # the first test window (a forecast made at the end of the day before)
fig, ax = plt.subplots()
t = np.arange(96 + 48)
ax.plot(t[:96], x[i], "k", label="input (two days)")
ax.plot(t[96:], true[i], "k--", label="truth")
ax.plot(t[96:], pred[i], "C0", label="LSTM")
ax.plot(t[96:], fc.seasonal_naive(x, 48, 48)[i], "C1", label="yesterday")
ax.plot(t[96:], fc.persistence(x, 48)[i], "C7", label="persistence")
ax.set(xlabel="half-hour", ylabel="MW", title="day-ahead forecast, last fold")
ax.legend(ncol=5, fontsize=8)
plt.show()

# %% [markdown]
# ## Microsoft daily prices: the next day
# The `msft` dataset gives daily log returns r_t = log(c_t / c_{t-1}) since 2000, walk-forward
# with a test year (250 trading days) per fold. The model reads the last 20 returns and
# predicts the next one; a return forecast is a price forecast c^_t = c_{t-1} exp(r^_t).
# Persistence of the price is a predicted return of zero. The seasonal-naive baseline repeats
# the return of one week (5 trading days) earlier.

# %%
ms = {"n_folds": FOLDS, "input_length": 20, "horizon": 1}
rows_ms, sq_msft = [], {"LSTM": [], "persistence": [], "seasonal naive (5 days)": []}
for k in range(FOLDS):
    config = rl.Config(
        data=rl.DataConfig("msft", options={**ms, "fold": k}, batch_size=64),
        model=rl.ModelConfig("lstm", 16),
        optim=rl.OptimConfig(name="adam", lr=1e-3),
        loop=rl.LoopConfig(epochs=EPOCHS, patience=5, progress=False),
    )
    r = rl.train(config)
    splits = rl.data.load("msft", **ms, fold=k)
    m = splits.test.meta
    ret_pred, ret_x = predict(r, splits)
    t0 = m["target_start"]
    prev, close = m["prev_close"][t0], m["close"][t0]
    price = {
        "LSTM": prev * np.exp(ret_pred[:, 0]),
        "persistence": prev,
        "seasonal naive (5 days)": prev * np.exp(fc.seasonal_naive(ret_x, 1, 5)[:, 0]),
    }
    row = {"fold": k, "test year ends": str(m["dates"][t0[-1]])}
    row |= {name: fc.scores(p, close)["rmse"] for name, p in price.items()}
    row["LSTM direction accuracy"] = float(
        np.mean(np.sign(ret_pred[:, 0]) == np.sign(np.log(close / prev)))
    )
    rows_ms.append(row)
    for name, p in price.items():
        sq_msft[name].append((p - close) ** 2)
    print({k2: (round(v, 4) if isinstance(v, float) else v) for k2, v in row.items()}, "RMSE in $")
msft_rmse = {n: float(np.mean([r[n] for r in rows_ms])) for n in price}
print("mean over folds:", {n: round(v, 4) for n, v in msft_rmse.items()})

# %%
fig, ax = plt.subplots()
last = slice(-60, None)
dates = m["dates"][t0][last]
ax.plot(dates, close[last], "k.-", label="close")
ax.plot(dates, price["LSTM"][last], "C0", label="LSTM")
ax.plot(dates, price["persistence"][last], "C7", label="persistence")
ax.set(ylabel="$", title="MSFT, last 60 test days: next-day forecasts")
ax.legend()
fig.autofmt_xdate()
plt.show()

# %% [markdown]
# ## Does the LSTM beat the baselines?
# The cell below states it from the numbers above (mean RMSE over the folds).

# %%
from scipy import stats


def verdict(name, rmse, sq, unit):
    """Against the best baseline, with a paired t-test on the per-window squared errors
    (a Diebold-Mariano test without the autocorrelation correction)."""
    best = min((k for k in rmse if k != "LSTM"), key=rmse.get)
    gain = 1 - rmse["LSTM"] / rmse[best]
    p = stats.ttest_rel(np.concatenate(sq["LSTM"]), np.concatenate(sq[best])).pvalue
    if gain > 0 and p < 0.05:
        word = "beats"
    elif gain > 0:
        word = "is not distinguishable from (slightly ahead of)"
    else:
        word = "does NOT beat"
    return (
        f"{name}: the LSTM {word} the best baseline, {best}: RMSE {rmse['LSTM']:.4g} vs "
        f"{rmse[best]:.4g} {unit} ({100 * gain:+.1f} %, paired test p = {p:.2g})."
    )


print(verdict("Electricity demand, day ahead", taylor_rmse, sq_taylor, "MW"))
print(verdict("MSFT, next-day close", msft_rmse, sq_msft, "$"))

# %% [markdown]
# How to read this. Electricity demand has strong daily and weekly patterns: "same as
# yesterday" is already a strong forecast (persistence of the last half-hour is not), and the
# LSTM has to learn more than yesterday's shape to beat it; with a small model and a few
# epochs it may or may not, and the cell above says which on this run. A large stock's
# next-day price is close to a random walk: the last price is nearly the best forecast there
# is, and whatever edge an LSTM shows over it is a fraction of a percent (often the average
# drift of the training years) and not significant. A tutorial whose LSTM "predicts" a stock
# curve almost perfectly is plotting a persistence forecast shifted by a day, or a leak.

# %%
result = {
    "taylor_rmse_mw": taylor_rmse,
    "msft_rmse_usd": msft_rmse,
    "taylor_lstm_beats_persistence": taylor_rmse["LSTM"] < taylor_rmse["persistence"],
    "msft_lstm_beats_persistence": msft_rmse["LSTM"] < msft_rmse["persistence"],
}
print("RESULT", json.dumps(result))
