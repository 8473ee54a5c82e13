"""The whole analysis of one study as data: trial counts, Welch tests, fANOVA of metric and time.

:func:`analyze` runs what Greff et al. (2017) report per dataset: Welch's t-test of every
variant against the vanilla LSTM on the test metric (all trials and the best 10 % by
validation; :mod:`rnnlab.analysis.welch`), and fANOVA (:mod:`rnnlab.analysis.fanova`) of the test
metric and of training time over the study's parameters, for all usable trials (variant as a
categorical parameter), for the vanilla LSTM alone (the paper's Fig. 4 to 6) and per variant.
It works on any Optuna study: without a ``variant`` parameter the Welch part is skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from rnnlab.analysis.fanova import Fanova, fit_fanova
from rnnlab.analysis.frame import learning_curves, trials_frame
from rnnlab.analysis.welch import VANILLA, variant_order, welch_table

VARIANT = "variant"
# The paper's Fig. 4 parameters and Fig. 6 pair, when the study has them.
FIG4_PARAMS = ("lr", "hidden", "noise_std")
FIG6_PAIR = ("lr", "hidden")
MIN_FANOVA_TRIALS = 5


@dataclass
class Analysis:
    """Everything a report shows; every number in summary.json comes from here."""

    study_name: str
    storage: str  # redacted
    direction: str
    frame: pd.DataFrame
    usable: pd.DataFrame
    metric: str  # column of ``frame`` analysed (``test_<m>`` or ``value``)
    metric_label: str
    dataset: str | None
    alpha: float
    correction: str | None
    reference: str
    welch: pd.DataFrame | None
    fanova: Fanova | None = None
    fanova_time: Fanova | None = None
    fanova_ref: Fanova | None = None  # the reference variant alone (Fig. 4-6)
    fanova_ref_time: Fanova | None = None
    fanova_by_variant: dict[str, Fanova] = field(default_factory=dict)
    curves: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_variants(self) -> bool:
        return self.welch is not None

    @property
    def lower_is_better(self) -> bool:
        return self.direction != "MAXIMIZE"

    def counts(self) -> dict[str, int]:
        f = self.frame
        state = f["state"] if len(f) else pd.Series([], dtype=object)
        return {
            "total": len(f),
            "complete": int((state == "COMPLETE").sum()),
            "failed": int((state == "FAIL").sum()),
            "diverged": int(f["diverged"].astype(bool).sum()) if len(f) else 0,
            "pruned": int((state == "PRUNED").sum()),
            "running": int((state == "RUNNING").sum()),
            "waiting": int((state == "WAITING").sum()),
            "usable": len(self.usable),
        }

    def plot_fanova(self) -> tuple[Fanova | None, Fanova | None, str]:
        """The fits Fig. 4-6 show (the reference variant when there is one) and their label."""
        if self.fanova_ref is not None:
            return self.fanova_ref, self.fanova_ref_time, f"variant {self.reference}"
        return self.fanova, self.fanova_time, "all trials"

    def summary(self) -> dict[str, Any]:
        """The JSON-able summary (NaN and infinities become null)."""
        welch: dict[str, Any] = {}
        by_ds: dict[str, Any] = {}
        if self.welch is not None:
            for r in self.welch.to_dict("records"):
                d = {k: v for k, v in r.items() if k not in ("dataset", "variant", "subset")}
                ds = self.dataset if r["dataset"] == "all" and self.dataset else r["dataset"]
                by_ds.setdefault(str(ds), {}).setdefault(r["variant"], {})[r["subset"]] = d
            welch = next(iter(by_ds.values()), {})
        out = {
            "study": {
                "name": self.study_name,
                "storage": self.storage,
                "direction": self.direction,
                "metric": self.metric,
                "metric_label": self.metric_label,
                "dataset": self.dataset,
                "rnnlab": bool(self.frame.attrs.get("rnnlab")),
            },
            "trials": self.counts(),
            "welch": welch,
            "welch_by_dataset": by_ds,
            "welch_settings": {
                "reference": self.reference,
                "alpha": self.alpha,
                "correction": self.correction,
                "effect_size": "hedges_g",
                "subsets": {"all": "all usable trials", "top10": "best 10% by validation value"},
                "test": "Welch's t-test (two-sided), Welch-Satterthwaite df",
                "note": "Holm correction is an addition to Greff et al. 2017, which reports "
                "uncorrected p-values"
                if self.correction == "holm"
                else "uncorrected, as the paper",
            },
            "fanova": self.fanova.summary() if self.fanova else None,
            "fanova_time": self.fanova_time.summary() if self.fanova_time else None,
            "fanova_reference": self.fanova_ref.summary() if self.fanova_ref else None,
            "fanova_reference_time": (
                self.fanova_ref_time.summary() if self.fanova_ref_time else None
            ),
            "fanova_by_variant": {v: f.summary() for v, f in self.fanova_by_variant.items()},
            "notes": list(self.notes),
        }
        return _clean(out)


def choose_metric(df: pd.DataFrame, metric: str | None) -> tuple[str, str]:
    """The column to analyse and its label: ``test_<metric>``, else the study's value."""
    tests = df.attrs.get("test_metrics", [])
    if metric is not None:
        if metric in ("value", "valid"):
            return "value", "validation value"
        if metric not in tests:
            have = ", ".join(tests) if tests else "none"
            raise ValueError(f"no test metric {metric!r} in the trials (test metrics: {have})")
        return f"test_{metric}", f"test {metric}"
    preferred = df.attrs.get("rnnlab", {}).get("test_metric")
    for m in [preferred, "loss", *tests]:
        if m in tests:
            return f"test_{m}", f"test {m}"
    return "value", "validation value"


def analyze(
    study: optuna.Study,
    *,
    metric: str | None = None,
    alpha: float = 0.05,
    correction: str | None = None,
    reference: str = VANILLA,
    n_trees: int = 32,
    seed: int = 0,
    by_variant: bool = True,
    storage: str = "",
) -> Analysis:
    """Analyses ``study``; see the module docstring. ``storage`` is shown (redact it first)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    df = trials_frame(study)
    col, label = choose_metric(df, metric)
    if len(df):
        vals = pd.to_numeric(df["value"], errors="coerce")
        ok = (df["state"] == "COMPLETE") & np.isfinite(vals)
        if col != "value" and col in df:
            ok &= np.isfinite(pd.to_numeric(df[col], errors="coerce"))
        usable = df[ok].copy()
    else:
        usable = df.copy()
    direction = study.direction.name if len(study.directions) == 1 else "MULTI"
    rn = df.attrs.get("rnnlab", {})
    dataset = rn.get("dataset") if isinstance(rn.get("dataset"), str) else None
    notes: list[str] = []
    if direction == "MULTI":
        notes.append("multi-objective study: the first objective is analysed")
    if col == "value":
        notes.append("no test metric in the trials' user attributes: the validation value is used")

    space = df.attrs["space"]
    vcol = f"params_{VARIANT}"
    welch = None
    has_variant = VARIANT in space and vcol in usable and usable[vcol].notna().any()
    lower = direction != "MAXIMIZE"
    if has_variant:
        variants = usable[vcol].dropna().astype(str).unique()
        if reference not in variants:
            notes.append(f"no trials of the reference variant {reference!r}: Welch tests skipped")
        elif len(variants) < 2:
            notes.append("only one variant: Welch tests skipped")
        else:
            wdf = usable[usable[vcol].notna()].copy()
            wdf[vcol] = wdf[vcol].astype(str)
            welch = welch_table(
                wdf,
                col,
                variant=vcol,
                reference=reference,
                alpha=alpha,
                correction=correction,
                lower_is_better=lower,
            )
    else:
        notes.append("no 'variant' parameter: Welch tests skipped")

    a = Analysis(
        study_name=study.study_name,
        storage=storage,
        direction=direction,
        frame=df,
        usable=usable,
        metric=col,
        metric_label=label,
        dataset=dataset,
        alpha=alpha,
        correction=correction,
        reference=reference,
        welch=welch,
        notes=notes,
    )
    params = [p for p in df.attrs["params"] if f"params_{p}" in usable]
    kw = {"n_trees": n_trees, "seed": seed}
    a.fanova = _fit(a, usable, params, col, label, kw)
    a.fanova_time = _fit(a, usable, params, "seconds", "training time", kw)
    if has_variant:
        rest = [p for p in params if p != VARIANT]
        vs = usable[vcol].astype(str)
        for v in variant_order(vs.unique(), reference):
            sub = usable[vs == v]
            if len(sub) < MIN_FANOVA_TRIALS:
                continue
            f = _fit(a, sub, rest, col, f"{label} ({v})", kw, quiet=True)
            if f is None:
                continue
            if v == reference:
                a.fanova_ref = f
                a.fanova_ref_time = _fit(a, sub, rest, "seconds", f"time ({v})", kw, quiet=True)
            if by_variant:
                a.fanova_by_variant[v] = f
    a.curves = learning_curves(t for t in study.get_trials(deepcopy=False))
    return a


def _fit(a: Analysis, df, params, target, label, kw, quiet=False) -> Fanova | None:
    """fANOVA over the rows of ``df`` with every parameter present; None (with a note) if not."""
    if target not in df or not params:
        if not quiet:
            a.notes.append(f"fANOVA of {label} skipped: no parameters or no values")
        return None
    full = [p for p in params if df[f"params_{p}"].notna().all()]
    partial = sorted(set(params) - set(full))
    rows = df
    if partial:  # conditional parameters: keep the ones most trials have
        share = {p: df[f"params_{p}"].notna().mean() for p in partial}
        keep = [p for p in partial if share[p] >= 0.9]
        full += keep
        rows = df[df[[f"params_{p}" for p in full]].notna().all(axis=1)]
        dropped = sorted(set(partial) - set(keep))
        if dropped and not quiet:
            a.notes.append(
                f"fANOVA of {label}: parameters set in too few trials left out: "
                + ", ".join(dropped)
            )
    y = pd.to_numeric(rows[target], errors="coerce").to_numpy(dtype=np.float64)
    n_ok = int(np.isfinite(y).sum())
    if n_ok < MIN_FANOVA_TRIALS:
        if not quiet:
            a.notes.append(f"fANOVA of {label} skipped: {n_ok} trials with a value")
        return None
    space = a.frame.attrs["space"]
    order = [p for p in params if p in full]
    X = {p: rows[f"params_{p}"].tolist() for p in order}
    if not [p for p in order if not space[p].degenerate]:
        if not quiet:
            a.notes.append(f"fANOVA of {label} skipped: no parameter varies")
        return None
    return fit_fanova(X, y, space, params=order, target=label, **kw)


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf -> None, NumPy scalars -> Python, tuples -> lists."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, bool | int | float | str) or x is None:
        return x
    return str(x)
