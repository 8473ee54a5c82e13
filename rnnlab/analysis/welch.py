"""Welch's t-test of each LSTM variant against the vanilla LSTM (Greff et al. 2017, Fig. 3).

For a variant sample a (n_a trials) and the vanilla sample b (n_b), on the test metric at each
trial's best validation epoch (Welch 1947; Satterthwaite 1946):

    d = mean(a) - mean(b),   se^2 = s_a^2 / n_a + s_b^2 / n_b,   t = d / se,
    df = se^4 / ((s_a^2/n_a)^2 / (n_a - 1) + (s_b^2/n_b)^2 / (n_b - 1)),
    p = 2 P(T_df > |t|),     CI_(1-alpha)(d) = d -/+ t_(1-alpha/2, df) se.

Effect size: Hedges' g = J * d / s_pooled with s_pooled^2 = ((n_a-1) s_a^2 + (n_b-1) s_b^2) /
(n_a + n_b - 2) and the small-sample correction J = 1 - 3 / (4 (n_a + n_b) - 9).

Two subsets, as the paper shows them: all trials, and the best 10 % of each variant's trials by
validation value (ceil(0.1 n), at least 2). Significance at ``alpha`` (0.05 in the paper). Holm's
step-down correction across the family of tests (Holm 1979) is an *addition to the paper*,
which reports uncorrected p-values: sort the m p-values, p_(k) -> max_{i<=k} min(1, (m-i+1)
p_(i)). With the metric "lower is better", d > 0 means the variant is worse than vanilla.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

VANILLA = "V"
# The paper's order of the variants (vanilla first); others follow alphabetically.
ODYSSEY_ORDER = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")
SUBSETS = ("all", "top10")


def welch(a: Sequence[float], b: Sequence[float], alpha: float = 0.05) -> dict[str, float]:
    """Welch's t-test of mean(a) vs mean(b): t, df, p, diff, CI, Hedges' g, means, sizes."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    na, nb = len(a), len(b)
    out: dict[str, float] = {
        "n": na,
        "n_ref": nb,
        "mean": float(a.mean()) if na else math.nan,
        "mean_ref": float(b.mean()) if nb else math.nan,
        "std": float(a.std(ddof=1)) if na > 1 else math.nan,
        "std_ref": float(b.std(ddof=1)) if nb > 1 else math.nan,
    }
    out["diff"] = out["mean"] - out["mean_ref"]
    nan_keys = ("t", "df", "p", "ci_low", "ci_high", "hedges_g")
    if na < 2 or nb < 2:
        return out | dict.fromkeys(nan_keys, math.nan)
    va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
    se2 = va + vb
    if se2 == 0:
        return out | dict.fromkeys(nan_keys, math.nan)
    se = math.sqrt(se2)
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    t = out["diff"] / se
    p = float(2 * stats.t.sf(abs(t), df))
    q = float(stats.t.ppf(1 - alpha / 2, df))
    sp2 = ((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2)
    J = 1 - 3 / (4 * (na + nb) - 9)
    g = J * out["diff"] / math.sqrt(sp2) if sp2 > 0 else math.nan
    return out | {
        "t": float(t),
        "df": float(df),
        "p": p,
        "ci_low": out["diff"] - q * se,
        "ci_high": out["diff"] + q * se,
        "hedges_g": float(g),
    }


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaNs stay NaN and do not count in the family)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adj)
    return out


def top_fraction(
    df: pd.DataFrame, fraction: float = 0.1, by: str = "value", lower_is_better: bool = True
) -> pd.DataFrame:
    """The best ``fraction`` of rows by ``by``: ceil(fraction n) rows, at least 2."""
    k = min(len(df), max(2, math.ceil(fraction * len(df))))
    return df.nsmallest(k, by) if lower_is_better else df.nlargest(k, by)


def variant_order(variants: Sequence[Any], reference: str = VANILLA) -> list[str]:
    """The reference first, then the paper's order, then the rest alphabetically."""
    vs = {str(v) for v in variants}
    known = [v for v in ODYSSEY_ORDER if v in vs and v != reference]
    rest = sorted(vs - set(known) - {reference})
    return ([reference] if reference in vs else []) + known + rest


def welch_table(
    df: pd.DataFrame,
    metric: str,
    *,
    variant: str = "params_variant",
    dataset: str | None = None,
    reference: str = VANILLA,
    alpha: float = 0.05,
    top: float = 0.1,
    correction: str | None = None,
    lower_is_better: bool = True,
) -> pd.DataFrame:
    """One row per (dataset, variant != reference, subset) with the :func:`welch` numbers.

    ``df``: usable trials (a :func:`~rnnlab.analysis.frame.trials_frame` filtered to finished
    trials with a finite ``metric`` column and ``value``). ``dataset``: a column grouping
    the trials into datasets (None: one dataset, named "all"). ``correction="holm"`` adds
    ``p_holm`` over all rows and bases ``significant`` on it; ``significant_raw`` is always the
    paper's uncorrected decision. ``lower_is_better`` (a minimised study) decides the top
    10 % by validation value and whether a positive difference reads "worse".
    """
    if correction not in (None, "holm"):
        raise ValueError(f"unknown correction {correction!r}; expected None or 'holm'")
    rows = []
    groups = df.groupby(dataset, sort=True) if dataset else [("all", df)]
    for ds, g in groups:
        ref_all = g[g[variant].astype(str) == reference]
        if ref_all.empty:
            continue
        subsets = {"all": ref_all, "top10": top_fraction(ref_all, top, "value", lower_is_better)}
        for v in variant_order(g[variant].unique(), reference)[1:]:
            gv = g[g[variant].astype(str) == v]
            best = top_fraction(gv, top, "value", lower_is_better)
            for name, sub in (("all", gv), ("top10", best)):
                r = welch(sub[metric], subsets[name][metric], alpha)
                rows.append({"dataset": ds, "variant": v, "subset": name, **r})
    cols = ["dataset", "variant", "subset"]
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=[*cols, "p", "significant", "significant_raw"])
    out["alpha"] = alpha
    out["significant_raw"] = out["p"] < alpha
    if correction == "holm":
        out["p_holm"] = holm(out["p"].to_numpy())
        out["significant"] = out["p_holm"] < alpha
    else:
        out["significant"] = out["significant_raw"]
    worse = out["diff"] > 0 if lower_is_better else out["diff"] < 0
    better = out["diff"] < 0 if lower_is_better else out["diff"] > 0
    out["direction"] = np.where(worse, "worse", np.where(better, "better", ""))
    return out
