"""The figures of Greff et al. 2017 ("LSTM: A Search Space Odyssey") from an :class:`Analysis`.

* :func:`fig_variants` (Fig. 3): per-variant box plots of the test metric, all trials and the
  best 10 % by validation; boxes 25th-75th percentile, whiskers the full range, red line the
  median, red dot the mean, every trial a grey point; variants significantly different from
  the vanilla LSTM (Welch, :mod:`rnnlab.analysis.welch`) drawn blue with thick lines.
* :func:`fig_marginals` (Fig. 4): fANOVA's predicted marginal metric (blue) and training time
  (green, right axis) against learning rate, hidden size and input noise, mean +- std across
  trees.
* :func:`fig_importance` (Fig. 5): fraction of variance per hyperparameter and the remainder
  left to interactions, for the metric and for time (error bars: std across trees).
* :func:`fig_pair` (Fig. 6): learning rate x hidden size marginal, total and interaction-only.
* :func:`fig_curves`: validation curves (Optuna intermediate values) of chosen trials.

Figures are built on :class:`matplotlib.figure.Figure` without pyplot (no global backend is
changed; files render with Agg) and returned, so a notebook can show them; :func:`save` writes
PNG and SVG.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from rnnlab.analysis.fanova import Fanova
from rnnlab.analysis.welch import top_fraction, variant_order

BLUE, RED, GREEN, GREY = "#1f4e9c", "#c0392b", "#2e8b57", "#808080"


def save(fig: Figure, out_dir: str, stem: str) -> list[str]:
    """Writes ``stem.png`` (120 dpi) and ``stem.svg``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(out_dir, f"{stem}.{ext}")
        fig.savefig(path, dpi=120, bbox_inches="tight", metadata=_metadata(ext))
        paths.append(path)
    return paths


def _metadata(ext: str) -> dict:
    # Reproducible files: no creation date in SVG/PNG metadata.
    return {"Date": None} if ext == "svg" else {"Software": None}


def fig_variants(
    df: pd.DataFrame,
    metric: str,
    welch: pd.DataFrame,
    *,
    variant: str = "params_variant",
    reference: str = "V",
    metric_label: str = "test metric",
    lower_is_better: bool = True,
    seed: int = 0,
) -> Figure:
    """Fig. 3: box plots per variant, top row all trials, bottom row the best 10 %."""
    rng = np.random.default_rng(seed)
    d = df[df[variant].notna()].copy()
    d[variant] = d[variant].astype(str)
    order = variant_order(d[variant].unique(), reference)
    fig = Figure(figsize=(max(5.0, 0.8 * len(order) + 1.5), 7.0))
    axes = fig.subplots(2, 1)
    for ax, subset, title in zip(axes, ("all", "top10"), ("all trials", "best 10 % by validation")):
        data = []
        for v in order:
            g = d[d[variant] == v]
            if subset == "top10":
                g = top_fraction(g, 0.1, "value", lower_is_better)
            data.append(g[metric].to_numpy(dtype=np.float64))
        sig = set()
        if welch is not None and len(welch):
            w = welch[(welch["subset"] == subset) & welch["significant"].astype(bool)]
            sig = set(w["variant"])
        bp = ax.boxplot(
            data,
            whis=(0, 100),
            widths=0.6,
            showmeans=True,
            patch_artist=True,
            medianprops={"color": RED, "linewidth": 1.5},
            meanprops={"marker": "o", "markerfacecolor": RED, "markeredgecolor": RED, "ms": 5},
        )
        ax.set_xticks(range(1, len(order) + 1), order)
        for i, v in enumerate(order):
            on = v in sig
            color, lw = (BLUE, 2.5) if on else ("black", 1.0)
            bp["boxes"][i].set(facecolor="white", edgecolor=color, linewidth=lw)
            for part in ("whiskers", "caps"):
                for line in bp[part][2 * i : 2 * i + 2]:
                    line.set(color=color, linewidth=lw)
            x = i + 1 + rng.uniform(-0.18, 0.18, len(data[i]))
            ax.scatter(x, data[i], s=6, color=GREY, alpha=0.5, zorder=0, linewidths=0)
        ax.set_title(f"{metric_label}: {title}", fontsize=10)
        ax.set_ylabel(metric_label)
        ax.grid(axis="y", alpha=0.3)
    fig.text(
        0.5,
        0.0,
        "blue, thick: mean significantly different from " + reference + " (Welch's t-test)",
        ha="center",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def fig_marginals(
    fa: Fanova,
    ft: Fanova | None,
    params: Sequence[str],
    *,
    metric_label: str = "metric",
    title: str = "",
) -> Figure:
    """Fig. 4: predicted marginal metric (left axis) and time (right axis) +- std across trees."""
    params = [p for p in params if p in fa.params]
    fig = Figure(figsize=(4.0 * max(1, len(params)), 3.4))
    axes = np.atleast_1d(fig.subplots(1, max(1, len(params))))
    for ax, p in zip(axes, params):
        s = fa.space[p]
        m = fa.marginal(p)
        x = np.arange(len(m["x"])) if s.categorical else m["x"]
        _band(ax, x, m["mean"], m["std"], BLUE, s.categorical)
        ax.set_xlabel(p)
        ax.set_ylabel(metric_label, color=BLUE)
        if s.categorical:
            ax.set_xticks(x, [str(c) for c in m["x"]])
        elif s.log_axis:
            ax.set_xscale("log")
            _log_labels(ax.xaxis, m["x"])
        if ft is not None and p in ft.params:
            mt = ft.marginal(p)
            tx = np.arange(len(mt["x"])) if s.categorical else mt["x"]
            ax2 = ax.twinx()
            _band(ax2, tx, mt["mean"], mt["std"], GREEN, s.categorical)
            ax2.set_ylabel("training time (s)", color=GREEN)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _band(ax, x, mean, std, color, categorical):
    if categorical:
        ax.errorbar(x, mean, yerr=std, fmt="o", color=color, capsize=4)
    else:
        ax.plot(x, mean, color=color)
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)


def fig_importance(fa: Fanova, ft: Fanova | None = None, *, title: str = "") -> Figure:
    """Fig. 5: main-effect fractions and the interaction remainder, metric and time."""
    fits = [("metric", fa)] + ([("training time", ft)] if ft is not None else [])
    fig = Figure(figsize=(5.0 * len(fits), 0.45 * (len(fa.params) + 1) + 1.5))
    axes = np.atleast_1d(fig.subplots(1, len(fits)))
    for ax, (name, f) in zip(axes, fits):
        main = f.main()
        labels = [*main, "interactions"]
        mean = [main[p][0] for p in main] + [f.interactions()[0]]
        std = [main[p][1] for p in main] + [f.interactions()[1]]
        y = np.arange(len(labels))[::-1]
        colors = [BLUE] * len(main) + [GREY]
        ax.barh(y, mean, xerr=std, color=colors, alpha=0.85, capsize=3)
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 1)
        ax.set_xlabel("fraction of variance")
        r2 = f"{f.oob_r2:.2f}" if np.isfinite(f.oob_r2) else "n/a"
        ax.set_title(f"{name} (OOB R² {r2}, n={f.n_trials})", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_pair(fa: Fanova, p: str, q: str, *, title: str = "", n: int = 30) -> Figure:
    """Fig. 6: marginal of the pair (p, q), total (left) and interaction-only (right)."""
    fig = Figure(figsize=(10.0, 4.0))
    axes = fig.subplots(1, 2)
    for ax, inter, name in zip(axes, (False, True), ("total", "interaction only")):
        m = fa.pair_marginal(p, q, interaction_only=inter, n=n)
        xp, xq = _axis(fa, p, m["xp"]), _axis(fa, q, m["xq"])
        mesh = ax.pcolormesh(
            _edges(xp, fa.space[p].log_axis),
            _edges(xq, fa.space[q].log_axis),
            m["mean"].T,
            cmap="RdBu_r" if inter else "viridis",
            shading="flat",
        )
        if inter:
            lim = float(np.nanmax(np.abs(m["mean"]))) or 1.0
            mesh.set_clim(-lim, lim)
        fig.colorbar(mesh, ax=ax)
        for ax_set, axis, s, xs in (
            (ax.set_xscale, ax.xaxis, fa.space[p], m["xp"]),
            (ax.set_yscale, ax.yaxis, fa.space[q], m["xq"]),
        ):
            if s.log_axis:
                ax_set("log")
                _log_labels(axis, xs)
        if fa.space[p].categorical:
            ax.set_xticks(xp, [str(c) for c in m["xp"]])
        if fa.space[q].categorical:
            ax.set_yticks(xq, [str(c) for c in m["xq"]])
        ax.set_xlabel(p)
        ax.set_ylabel(q)
        ax.set_title(name, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _log_labels(axis, x: np.ndarray) -> None:
    """Plain-number labels on a log axis that spans less than two decades (e.g. hidden size)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size and np.log10(x.max() / x.min()) < 2:
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def _axis(fa: Fanova, p: str, x: np.ndarray) -> np.ndarray:
    return np.arange(len(x), dtype=np.float64) if fa.space[p].categorical else x.astype(np.float64)


def _edges(x: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around grid points (geometric midpoints on a log axis)."""
    if len(x) == 1:
        return np.array([x[0] - 0.5, x[0] + 0.5])
    z = np.log10(x) if log else x
    mid = 0.5 * (z[1:] + z[:-1])
    e = np.concatenate([[z[0] - (mid[0] - z[0])], mid, [z[-1] + (z[-1] - mid[-1])]])
    return 10.0**e if log else e


def fig_curves(
    curves: pd.DataFrame,
    labels: dict[int, str],
    *,
    ylabel: str = "validation metric",
) -> Figure:
    """Validation curves of the trials in ``labels`` (trial number -> legend label)."""
    fig = Figure(figsize=(6.5, 4.0))
    ax = fig.subplots()
    vals = []
    for num, label in labels.items():
        c = curves[curves["number"] == num].sort_values("step")
        if c.empty:
            continue
        y = c["value"].to_numpy(dtype=np.float64)
        ax.plot(c["step"], y, label=label, linewidth=1.2)
        vals.append(y[np.isfinite(y)])
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    allv = np.concatenate(vals) if vals else np.array([])
    if allv.size > 4:  # keep diverging spikes from flattening the rest
        lo, hi = np.quantile(allv, [0.0, 0.95])
        if hi > lo and allv.max() > lo + 3 * (hi - lo):
            ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.1 * (hi - lo))
    if labels and vals:
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
