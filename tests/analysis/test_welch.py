"""Welch's t-test against scipy and a hand computation; Holm against a worked example."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rnnlab.analysis.welch import holm, top_fraction, variant_order, welch, welch_table


def test_welch_matches_scipy_and_hand_df():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 2.0, 23)
    b = rng.normal(0.0, 0.5, 41)
    r = welch(a, b, alpha=0.05)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert r["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert r["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert r["df"] == pytest.approx(ref.df, rel=1e-12)
    ci = ref.confidence_interval(0.95)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert r["diff"] == pytest.approx(a.mean() - b.mean())


def test_welch_df_by_hand():
    # a: mean 2, s^2 = 1 (n=3); b: mean 7, s^2 = 10 (n=4).
    a = [1.0, 2.0, 3.0]
    b = [3.0, 5.0, 9.0, 11.0]  # mean 7, sum of squares 16+4+4+16 = 40 -> s^2 = 40/3
    va, vb = 1.0 / 3, (40 / 3) / 4
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    t = (2 - 7) / math.sqrt(va + vb)
    r = welch(a, b)
    assert r["df"] == pytest.approx(df, rel=1e-12)
    assert r["t"] == pytest.approx(t, rel=1e-12)
    # Hedges' g: pooled s^2 = (2*1 + 3*40/3)/5 = 42/5; J = 1 - 3/(4*7 - 9)
    g = (1 - 3 / 19) * (2 - 7) / math.sqrt(42 / 5)
    assert r["hedges_g"] == pytest.approx(g, rel=1e-12)


def test_welch_degenerate_samples_give_nan():
    r = welch([1.0], [1.0, 2.0])
    assert math.isnan(r["t"]) and math.isnan(r["p"])
    r = welch([1.0, 1.0], [1.0, 1.0])
    assert math.isnan(r["p"])


def test_holm_worked_example():
    # Sorted 0.005, 0.01, 0.03, 0.04 (m=4): 4*0.005=0.02, 3*0.01=0.03, 2*0.03=0.06,
    # 1*0.04=0.04 -> monotone 0.06.
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # NaN stays out of the family; values cap at 1.
    out = holm([0.5, float("nan"), 0.6])
    assert out[0] == pytest.approx(1.0) and out[2] == pytest.approx(1.0)
    assert math.isnan(out[1])


def test_top_fraction_and_order():
    df = pd.DataFrame({"value": np.arange(35.0)[::-1]})
    top = top_fraction(df, 0.1)
    assert sorted(top["value"]) == [0.0, 1.0, 2.0, 3.0]  # ceil(3.5) = 4
    assert len(top_fraction(df.head(5), 0.1)) == 2  # at least two
    assert sorted(top_fraction(df, 0.1, lower_is_better=False)["value"]) == [31, 32, 33, 34]
    assert variant_order(["CIFG", "zz", "V", "NFG"]) == ["V", "NFG", "CIFG", "zz"]


def test_welch_table_rows_and_holm_flag():
    rng = np.random.default_rng(1)
    rows = []
    for v, mu in (("V", 0.0), ("NFG", 1.0), ("CIFG", 0.0)):
        for _ in range(30):
            t = rng.normal(mu, 0.3)
            rows.append({"params_variant": v, "value": t + rng.normal(0, 0.01), "test_loss": t})
    df = pd.DataFrame(rows)
    w = welch_table(df, "test_loss", correction="holm")
    assert list(zip(w["variant"], w["subset"])) == [
        ("NFG", "all"),
        ("NFG", "top10"),
        ("CIFG", "all"),
        ("CIFG", "top10"),
    ]
    nfg = w[(w.variant == "NFG") & (w.subset == "all")].iloc[0]
    ref = stats.ttest_ind(
        df[df.params_variant == "NFG"].test_loss,
        df[df.params_variant == "V"].test_loss,
        equal_var=False,
    )
    assert nfg["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert bool(nfg["significant"]) and nfg["direction"] == "worse"
    assert w["p_holm"].to_numpy() == pytest.approx(holm(w["p"].to_numpy()))
    # top10 uses each variant's best 3 of 30 by validation value
    top = w[(w.variant == "NFG") & (w.subset == "top10")].iloc[0]
    assert top["n"] == 3 and top["n_ref"] == 3
    with pytest.raises(ValueError, match="correction"):
        welch_table(df, "test_loss", correction="bonferroni")
