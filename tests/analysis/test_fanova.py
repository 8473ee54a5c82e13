"""fANOVA against decompositions known exactly (research notes B.4) and against Optuna's evaluator.

For f = a x1 + b x2 + c x1 x2 on U[0,1]^2: V1 = (a + c/2)^2 / 12, V2 = (b + c/2)^2 / 12,
V12 = c^2 / 144. T1 = x1 + 2 x2 + x1 x2 gives F1 = 27/103, F2 = 75/103, F12 = 1/103; the product
x1 x2 gives F1 = F2 = 3/7, F12 = 1/7. Ishigami (a=7, b=0.1, U[-pi, pi]^3) has F13 = 0.2437.
"""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest

from rnnlab.analysis.fanova import fit_fanova
from rnnlab.analysis.frame import ParamSpace

N = 1000
U01 = {k: ParamSpace(k, "uniform", 0.0, 1.0) for k in ("x1", "x2", "x3", "x4")}


def _uniform(names, n=N, seed=0, lo=0.0, hi=1.0):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(lo, hi, n) for k in names}


def _t1(X):
    return X["x1"] + 2 * X["x2"] + X["x1"] * X["x2"]


def _means(f):
    out = {k: v[0] for k, v in f.main().items()}
    out |= {"|".join(k): v[0] for k, v in f.pairs().items()}
    return out


@pytest.fixture(scope="module")
def t1():
    X = _uniform(["x1", "x2", "x3"])
    return X, fit_fanova(X, _t1(X), U01)


def test_t1_main_effects_inert_and_small_interaction(t1):
    _, f = t1
    m = _means(f)
    assert m["x1"] == pytest.approx(27 / 103, abs=0.03)
    assert m["x2"] == pytest.approx(75 / 103, abs=0.03)
    assert m["x3"] < 0.01
    assert m["x1|x3"] < 0.01 and m["x2|x3"] < 0.01
    assert m["x1|x2"] < 1 / 103 + 0.02  # trees invent a little interaction: bound from above
    assert f.oob_r2 > 0.95
    assert f.n_trials == N and f.n_trees == 32
    # std across trees is reported and small
    assert 0 < f.main()["x1"][1] < 0.05
    inter = f.interactions()[0]
    assert inter == pytest.approx(1 - m["x1"] - m["x2"] - m["x3"])


def test_large_interaction_is_found():
    X = _uniform(["x1", "x2", "x3"], seed=1)
    f = fit_fanova(X, X["x1"] * X["x2"], U01)
    m = _means(f)
    assert m["x1"] == pytest.approx(3 / 7, abs=0.03)
    assert m["x2"] == pytest.approx(3 / 7, abs=0.03)
    assert m["x1|x2"] == pytest.approx(1 / 7, abs=0.03)
    assert m["x3"] < 0.01
    # the interaction-only marginal is (x1 - 1/2)(x2 - 1/2)
    pm = f.pair_marginal("x1", "x2", interaction_only=True, n=12)
    true = np.outer(pm["xp"] - 0.5, pm["xq"] - 0.5)
    assert np.corrcoef(pm["mean"].ravel(), true.ravel())[0, 1] > 0.9


def test_ishigami_interaction_x1_x3():
    rng = np.random.default_rng(2)
    X = {k: rng.uniform(-np.pi, np.pi, 2000) for k in ("x1", "x2", "x3")}
    y = np.sin(X["x1"]) + 7 * np.sin(X["x2"]) ** 2 + 0.1 * X["x3"] ** 4 * np.sin(X["x1"])
    sp = {k: ParamSpace(k, "uniform", -np.pi, np.pi) for k in X}
    m = _means(fit_fanova(X, y, sp, n_trees=16))
    assert m["x1|x3"] == pytest.approx(0.2437, abs=0.05)
    assert m["x1|x3"] > 3 * max(m["x1|x2"], m["x2|x3"])
    assert m["x1"] == pytest.approx(0.3139, abs=0.05)


def test_invariant_to_column_order(t1):
    X, f = t1
    Xp = {k: X[k] for k in ("x3", "x2", "x1")}
    g = fit_fanova(Xp, _t1(X), U01)
    a, b = _means(f), _means(g)
    for k in ("x1", "x2", "x3"):
        assert b[k] == pytest.approx(a[k], abs=0.02)
    assert b["x2|x1"] == pytest.approx(a["x1|x2"], abs=0.02)


def test_added_inert_column_changes_nothing(t1):
    X, f = t1
    X4 = X | {"x4": np.random.default_rng(9).uniform(0, 1, N)}
    g = fit_fanova(X4, _t1(X), U01)
    a, b = _means(f), _means(g)
    for k in ("x1", "x2"):
        assert b[k] == pytest.approx(a[k], abs=0.02)
    assert b["x4"] < 0.01


def _log_test(n=N, seed=3):
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-6, -2, n)
    x2 = rng.uniform(-2, 2, n)
    return {"lr": lr, "x2": x2}, np.log10(lr) + x2


def test_log_scale():
    X, y = _log_test()
    log_space = {
        "lr": ParamSpace("lr", "log_uniform", 1e-6, 1e-2),
        "x2": ParamSpace("x2", "uniform", -2, 2),
    }
    m = _means(fit_fanova(X, y, log_space))
    assert m["lr"] == pytest.approx(0.5, abs=0.03)
    assert m["x2"] == pytest.approx(0.5, abs=0.03)
    # the same trials measured in linear lr space (Optuna's and automl/fanova's default)
    lin = log_space | {"lr": ParamSpace("lr", "uniform", 1e-6, 1e-2)}
    assert _means(fit_fanova(X, y, lin))["lr"] < 0.2


def test_one_minus_log_uniform_momentum():
    rng = np.random.default_rng(4)
    m = 1 - 10 ** rng.uniform(-2, 0, N)
    x2 = rng.uniform(0, 2, N)
    sp = {
        "momentum": ParamSpace("momentum", "one_minus_log_uniform", 0.0, 0.99),
        "x2": ParamSpace("x2", "uniform", 0, 2),
    }
    out = _means(fit_fanova({"momentum": m, "x2": x2}, np.log10(1 - m) + x2, sp))
    assert out["momentum"] == pytest.approx(0.5, abs=0.03)
    # bounds given as those of 1 - momentum mean the same space
    sp2 = sp | {"momentum": ParamSpace("momentum", "one_minus_log_uniform", 0.01, 1.0)}
    assert sp2["momentum"].domain == pytest.approx(sp["momentum"].domain)


def test_categorical_marginalised_jointly():
    rng = np.random.default_rng(5)
    cat = rng.choice(["a", "b", "c"], N)
    x = rng.uniform(0, 1, N)
    y = np.array([{"a": 0.0, "b": 1.0, "c": 5.0}[c] for c in cat]) + 3 * x
    sp = {"cat": ParamSpace("cat", "categorical", choices=("a", "b", "c")), "x": U01["x1"]}
    f = fit_fanova({"cat": cat, "x": x}, y, sp)
    v_cat, v_x = 14 / 3, 9 / 12  # variance of {0,1,5} uniform; of 3 U[0,1]
    m = _means(f)
    assert m["cat"] == pytest.approx(v_cat / (v_cat + v_x), abs=0.03)
    assert m["x"] == pytest.approx(v_x / (v_cat + v_x), abs=0.03)
    marg = f.marginal("cat")
    assert list(marg["x"]) == ["a", "b", "c"]
    assert marg["mean"] == pytest.approx([1.5, 2.5, 6.5], abs=0.1)


def test_marginal_prediction_and_spread(t1):
    _, f = t1
    m = f.marginal("x1", np.linspace(0.1, 0.9, 9))
    assert m["mean"] == pytest.approx(1.5 * m["x"] + 1, abs=0.08)  # a_1 = x1 + 1 + x1/2
    assert m["per_tree"].shape == (32, 9) and np.all(m["std"] > 0)
    pm = f.pair_marginal("x1", "x2", n=5)
    assert pm["mean"].shape == (5, 5)


def test_pure_noise_has_low_oob_r2():
    X = _uniform(["x1", "x2"], n=300, seed=6)
    y = np.random.default_rng(7).normal(size=300)
    assert fit_fanova(X, y, U01, n_trees=16).oob_r2 < 0.2


def test_too_few_rows():
    with pytest.raises(ValueError, match="at least 2"):
        fit_fanova({"x1": [0.5]}, [1.0], U01)


def test_main_effects_match_optuna_on_log_transformed_copy():
    """Optuna's FanovaImportanceEvaluator (main effects, linear space) on trials whose log
    parameters were replaced by their log10 must agree with rnnlab's fANOVA in log space (with
    the same forest settings the two agree to rounding; the bound allows other forests)."""
    X, y = _log_test(n=400, seed=8)
    X["x3"] = np.random.default_rng(10).uniform(0, 1, 400)
    y = y + 2 * X["x3"]  # F = 0.444, 0.444, 0.111
    sp = {
        "lr": ParamSpace("lr", "log_uniform", 1e-6, 1e-2),
        "x2": ParamSpace("x2", "uniform", -2, 2),
        "x3": U01["x3"],
    }
    ours = {k: v[0] for k, v in fit_fanova(X, y, sp, n_trees=32, max_features=1.0).main().items()}
    D = optuna.distributions
    dists = {
        "lr": D.FloatDistribution(-6, -2),
        "x2": D.FloatDistribution(-2, 2),
        "x3": D.FloatDistribution(0, 1),
    }
    study = optuna.create_study()
    for i in range(400):
        params = {
            "lr": float(np.log10(X["lr"][i])),
            "x2": float(X["x2"][i]),
            "x3": float(X["x3"][i]),
        }
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=dists, value=float(y[i]))
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's experimental-feature warnings
        theirs = optuna.importance.get_param_importances(
            study,
            evaluator=optuna.importance.FanovaImportanceEvaluator(n_trees=32, seed=0),
            normalize=False,
        )
    for k in ("lr", "x2", "x3"):
        assert ours[k] == pytest.approx(theirs[k], abs=0.03), (k, ours, theirs)


def test_cell_sums_equal_direct_marginals():
    """The difference-array sums over the trees' grids equal a_U evaluated leaf by leaf at the
    cell midpoints, for continuous, log and categorical parameters and all their pairs."""
    import itertools

    from rnnlab.analysis import fanova as F

    rng = np.random.default_rng(11)
    n = 400
    X = {
        "x1": rng.uniform(0, 1, n),
        "x2": 10 ** rng.uniform(-3, 0, n),
        "c": rng.choice(["a", "b", "c"], n),
        "d": rng.choice(["u", "v"], n),
    }
    y = X["x1"] * np.log10(X["x2"]) + (X["c"] == "b") * X["x1"] + (X["d"] == "u") * (X["c"] == "c")
    sp = {
        "x1": U01["x1"],
        "x2": ParamSpace("x2", "log_uniform", 1e-3, 1),
        "c": ParamSpace("c", "categorical", choices=("a", "b", "c")),
        "d": ParamSpace("d", "categorical", choices=("u", "v")),
    }
    f = fit_fanova(X, y, sp, n_trees=4)
    for t in f.trees:
        assert t.w.prod(1).sum() == pytest.approx(1.0)  # leaf measures partition the space
        for i in range(4):
            mid = t.cells[i][0]
            assert F._on_cells(t, i, F._others(t, (i,))) == pytest.approx(F._marg1(t, i, mid))
        for i, j in itertools.combinations(range(4), 2):
            direct = F._marg2(t, i, j, t.cells[i][0], t.cells[j][0])
            assert F._on_cells2(t, i, j, F._others(t, (i, j))) == pytest.approx(direct)
