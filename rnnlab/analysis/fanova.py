"""Functional ANOVA over a random forest (Hutter, Hoos & Leyton-Brown, ICML 2014).

Hyperparameters theta = (theta_1..theta_d) live on the product of their *sampling* spaces with the
uniform product measure mu (log10 for log-uniform parameters, log10(1 - x) for momentum sampled
as 1 - logU, the choice index for categoricals; see :mod:`rnnlab.analysis.frame`). A forest of
scikit-learn regression trees is fitted to (theta, y). Each tree t is piecewise constant on leaf
boxes R_L with values c_L; with w_L = mu(R_L):

    f_0 = sum_L w_L c_L,            V = sum_L w_L (c_L - f_0)^2,
    a_U(theta_U) = integral of t(theta_U, theta_-U) dmu(theta_-U)
                 = sum_L 1[theta_U in R_L,U] c_L prod_{j not in U} mu_j(R_L,j),
    V_U^tot = integral of (a_U - f_0)^2 dmu(theta_U)
            (exact: a_U is constant on the grid of the tree's own thresholds),
    V_U = V_U^tot - sum_{W strict non-empty subset of U} V_W     (clipped at 0),
    F_U = V_U / V.

F_U is computed per tree and reported as mean and standard deviation across trees (as
automl/fanova's ``quantify_importance`` does), for every parameter and every pair; the share
left to interactions is 1 - sum_j F_j. A categorical parameter is one-hot encoded for the trees
and its columns are marginalised jointly: mu puts mass 1/K on each of the K one-hot points (not
on the cube of column values). The forest's out-of-bag R^2 says how far to trust the numbers.

Marginal predictions a_j on a grid (and a_jk on a grid of pairs, total or interaction-only
a_jk - a_j - a_k + f_0) come with their spread across trees, as in Greff et al. 2017, Fig. 4
and Fig. 6. The algorithm follows research notes B.3; its known answers (B.4) are in the tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from rnnlab.analysis.frame import ParamSpace


@dataclass
class _Tree:
    """One fitted tree reduced to what fANOVA needs."""

    c: np.ndarray  # (L,) leaf values
    w: np.ndarray  # (L, P) measure of each leaf's side along each parameter
    f0: float
    var: float
    cells: list[tuple[np.ndarray, np.ndarray]]  # per parameter: (midpoints, sizes) in model space
    ind: list[Any]  # per parameter: z (n,) -> (n, L) bool, z in model coordinates
    # per parameter: continuous -> (first, stop) cell index of each leaf's interval (the leaf
    # covers cells first..stop-1 of the grid above); categorical -> (K, L) membership
    span: list[tuple[np.ndarray, np.ndarray] | np.ndarray]


@dataclass
class Fanova:
    """A fitted fANOVA: fractions per tree, and marginals on demand.

    ``fractions[(p,)]`` / ``fractions[(p, q)]``: array over the trees with non-zero variance.
    """

    params: list[str]
    space: dict[str, ParamSpace]
    n_trials: int
    n_trees: int
    oob_r2: float
    fractions: dict[tuple[str, ...], np.ndarray]
    trees: list[_Tree] = field(repr=False)
    target: str = "y"

    # ---------------------------------------------------------------- fractions
    def main(self) -> dict[str, tuple[float, float]]:
        """Main-effect fraction of each parameter: (mean, std) across trees."""
        return {p: _mean_std(self.fractions[(p,)]) for p in self.params}

    def pairs(self) -> dict[tuple[str, str], tuple[float, float]]:
        """Pure pairwise-interaction fraction of each pair: (mean, std) across trees."""
        return {k: _mean_std(v) for k, v in self.fractions.items() if len(k) == 2}

    def interactions(self) -> tuple[float, float]:
        """1 - sum of main effects (all interactions, any order): (mean, std) across trees."""
        mains = sum(self.fractions[(p,)] for p in self.params) if self.params else np.zeros(1)
        return _mean_std(1.0 - np.asarray(mains))

    def higher_order(self) -> tuple[float, float]:
        """1 - sum of mains - sum of pairs (interactions of three or more parameters)."""
        tot = sum(v for v in self.fractions.values()) if self.fractions else np.zeros(1)
        return _mean_std(1.0 - np.asarray(tot))

    def summary(self) -> dict[str, Any]:
        """JSON-able: main, pairs ("a|b"), interactions, higher_order, oob_r2, counts, space."""

        def ms(t):
            return {"mean": t[0], "std": t[1]}

        return {
            "target": self.target,
            "main": {p: ms(v) for p, v in self.main().items()},
            "pairs": {"|".join(k): ms(v) for k, v in self.pairs().items()},
            "interactions": ms(self.interactions()),
            "higher_order": ms(self.higher_order()),
            "oob_r2": self.oob_r2,
            "n_trials": self.n_trials,
            "n_trees": self.n_trees,
            "space": {p: self.space[p].to_dict() for p in self.params},
        }

    # ---------------------------------------------------------------- marginals
    def grid(self, p: str, n: int = 50) -> np.ndarray:
        """Model-space grid for ``p``: all choice indices, or ``n`` points over the domain."""
        s = self.space[p]
        if s.categorical:
            return np.arange(len(s.choices), dtype=np.float64)
        lo, hi = s.domain
        return np.linspace(lo, hi, n)

    def marginal(self, p: str, z: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """a_p on the grid ``z`` (model space): per tree, mean and std across trees.

        Returns ``{"z", "x" (parameter values; choices for categoricals), "per_tree", "mean",
        "std"}``.
        """
        i = self.params.index(p)
        z = self.grid(p) if z is None else np.asarray(z, dtype=np.float64)
        per = np.stack([_marg1(t, i, z) for t in self.trees])
        return {
            "z": z,
            "x": self._values(p, z),
            "per_tree": per,
            "mean": per.mean(0),
            "std": per.std(0),
        }

    def pair_marginal(
        self,
        p: str,
        q: str,
        zp: np.ndarray | None = None,
        zq: np.ndarray | None = None,
        *,
        interaction_only: bool = False,
        n: int = 30,
    ) -> dict[str, np.ndarray]:
        """a_pq on the grid zp x zq (mean, std across trees); ``interaction_only`` subtracts
        the main effects: a_pq - a_p - a_q + f_0."""
        i, j = self.params.index(p), self.params.index(q)
        zp = self.grid(p, n) if zp is None else np.asarray(zp, dtype=np.float64)
        zq = self.grid(q, n) if zq is None else np.asarray(zq, dtype=np.float64)
        per = []
        for t in self.trees:
            a = _marg2(t, i, j, zp, zq)
            if interaction_only:
                a = a - _marg1(t, i, zp)[:, None] - _marg1(t, j, zq)[None, :] + t.f0
            per.append(a)
        per_a = np.stack(per)
        return {
            "zp": zp,
            "zq": zq,
            "xp": self._values(p, zp),
            "xq": self._values(q, zq),
            "per_tree": per_a,
            "mean": per_a.mean(0),
            "std": per_a.std(0),
        }

    def _values(self, p: str, z: np.ndarray) -> np.ndarray:
        s = self.space[p]
        if s.categorical:
            return np.array([s.choices[int(k)] for k in z], dtype=object)
        return s.from_model(z)


def fit_fanova(
    X: Mapping[str, Sequence[Any]],
    y: Sequence[float],
    space: Mapping[str, ParamSpace],
    *,
    params: Sequence[str] | None = None,
    n_trees: int = 32,
    seed: int = 0,
    max_features: float = 0.7,
    min_samples_leaf: int = 1,
    max_depth: int | None = None,
    pairs: bool = True,
    target: str = "y",
) -> Fanova:
    """Fits the forest on parameter values ``X[name]`` (natural units) and target ``y``.

    ``params``: the parameters to use, in this order (default: the keys of ``X``).
    Rows with a missing parameter or a non-finite ``y`` are dropped; parameters whose space
    holds one value are left out. ``max_features`` is the fraction of (one-hot) columns each
    split considers (0.7, as automl/fanova).
    """
    names = list(params) if params is not None else list(X)
    missing = [p for p in names if p not in space]
    if missing:
        raise ValueError(f"no sampling space given for {', '.join(missing)}")
    names = [p for p in names if not space[p].degenerate]
    yv = np.asarray(y, dtype=np.float64)
    Z = (
        np.column_stack([space[p].to_model(X[p]) for p in names])
        if names
        else np.zeros((len(yv), 0))
    )
    ok = np.isfinite(yv) & np.all(np.isfinite(Z), axis=1)
    Z, yv = Z[ok], yv[ok]
    if len(yv) < 2:
        raise ValueError(f"fANOVA needs at least 2 trials with finite values, got {len(yv)}")
    spaces = [space[p] for p in names]
    enc, groups = _encode(Z, spaces)
    if enc.shape[1] == 0:
        enc = np.zeros((len(yv), 1))
    forest = RandomForestRegressor(
        n_estimators=n_trees,
        max_features=max_features,
        min_samples_leaf=min_samples_leaf,
        max_depth=max_depth,
        bootstrap=True,
        random_state=seed,
    ).fit(enc, yv)
    trees = [_reduce(est.tree_, groups, spaces) for est in forest.estimators_]
    fractions = _fractions(trees, names, pairs)
    return Fanova(
        params=names,
        space={p: space[p] for p in names},
        n_trials=len(yv),
        n_trees=n_trees,
        oob_r2=_oob_r2(forest, enc, yv),
        fractions=fractions,
        trees=trees,
        target=target,
    )


# -------------------------------------------------------------------- internals
def _mean_std(a: np.ndarray) -> tuple[float, float]:
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return float("nan"), float("nan")
    return float(a.mean()), float(a.std())


def _encode(Z: np.ndarray, spaces: list[ParamSpace]) -> tuple[np.ndarray, list[list[int]]]:
    """Model coordinates -> tree columns (categoricals one-hot); columns of each parameter."""
    cols, groups, k = [], [], 0
    for i, s in enumerate(spaces):
        if s.categorical:
            K = len(s.choices)
            cols.append(np.eye(K)[Z[:, i].astype(int)])
            groups.append(list(range(k, k + K)))
            k += K
        else:
            cols.append(Z[:, i : i + 1])
            groups.append([k])
            k += 1
    enc = np.hstack(cols) if cols else np.zeros((len(Z), 0))
    return enc, groups


def _reduce(tree, groups: list[list[int]], spaces: list[ParamSpace]) -> _Tree:
    """Leaf boxes of a sklearn tree -> leaf values, per-parameter measures and indicators."""
    n, ncol = tree.node_count, tree.n_features
    feat, thr = tree.feature, tree.threshold
    left, right = tree.children_left, tree.children_right
    lo = np.full((n, ncol), -np.inf)
    hi = np.full((n, ncol), np.inf)
    for i in range(n):  # children always come after their parent
        f = feat[i]
        if f >= 0:
            lo[left[i]], hi[left[i]] = lo[i], hi[i]
            lo[right[i]], hi[right[i]] = lo[i], hi[i]
            hi[left[i], f] = min(hi[i, f], thr[i])
            lo[right[i], f] = max(lo[i, f], thr[i])
    leaf = left < 0
    LO, HI = lo[leaf], hi[leaf]
    c = tree.value[leaf].reshape(-1).astype(np.float64)
    ws, cells, inds, spans = [], [], [], []
    for g, s in zip(groups, spaces):
        if s.categorical:
            K = len(g)
            E = np.eye(K)
            M = np.all(
                (LO[None, :, g] < E[:, None, :]) & (E[:, None, :] <= HI[None, :, g]), axis=2
            )  # (K, L): choice k falls in leaf L
            ws.append(M.mean(0))
            cells.append((np.arange(K, dtype=np.float64), np.full(K, 1.0 / K)))
            inds.append(_cat_indicator(M))
            spans.append(M)
        else:
            j = g[0]
            a, b = s.domain
            ws.append((np.clip(HI[:, j], a, b) - np.clip(LO[:, j], a, b)) / (b - a))
            t = np.unique(thr[feat == j])
            t = t[(t > a) & (t < b)]
            edges = np.concatenate([[a], t, [b]])
            cells.append((0.5 * (edges[1:] + edges[:-1]), np.diff(edges) / (b - a)))
            inds.append(_cont_indicator(LO[:, j], HI[:, j]))
            first = np.searchsorted(edges, np.clip(LO[:, j], a, b))
            stop = np.searchsorted(edges, np.clip(HI[:, j], a, b))
            spans.append((first, stop))
    w = np.column_stack(ws) if ws else np.ones((len(c), 0))
    mass = w.prod(1)
    f0 = float(mass @ c)
    var = float(mass @ (c - f0) ** 2)
    return _Tree(c=c, w=w, f0=f0, var=var, cells=cells, ind=inds, span=spans)


def _cont_indicator(lo: np.ndarray, hi: np.ndarray):
    def ind(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)[:, None]
        return (lo[None, :] < z) & (z <= hi[None, :])

    return ind


def _cat_indicator(M: np.ndarray):
    def ind(z: np.ndarray) -> np.ndarray:
        return M[np.asarray(z).astype(int)]

    return ind


def _others(t: _Tree, keep: tuple[int, ...]) -> np.ndarray:
    """c_L times the measure of leaf L along every parameter not in ``keep``."""
    mask = np.ones(t.w.shape[1], dtype=bool)
    mask[list(keep)] = False
    return t.c * t.w[:, mask].prod(1)


def _marg1(t: _Tree, i: int, z: np.ndarray) -> np.ndarray:
    return t.ind[i](z).astype(np.float64) @ _others(t, (i,))


def _marg2(t: _Tree, i: int, j: int, zi: np.ndarray, zj: np.ndarray) -> np.ndarray:
    v = _others(t, (i, j))
    return (t.ind[i](zi) * v[None, :]) @ t.ind[j](zj).T.astype(np.float64)


def _on_cells(t: _Tree, i: int, v: np.ndarray) -> np.ndarray:
    """sum_L v_L 1[cell k of parameter i lies in leaf L], for every cell k of the tree's grid."""
    sp = t.span[i]
    if isinstance(sp, np.ndarray):  # categorical membership (K, L)
        return sp.astype(np.float64) @ v
    first, stop = sp
    acc = np.zeros(len(t.cells[i][0]) + 1)
    np.add.at(acc, first, v)  # difference array: +v where the span starts, -v where it ends
    np.add.at(acc, stop, -v)
    return np.cumsum(acc)[:-1]


def _on_cells2(t: _Tree, i: int, j: int, v: np.ndarray) -> np.ndarray:
    """The same on the grid of cells of the pair (i, j): an (s_i, s_j) array."""
    si, sj = t.span[i], t.span[j]
    if isinstance(si, np.ndarray):
        return np.stack([_on_cells(t, j, v * row) for row in si])
    if isinstance(sj, np.ndarray):
        return np.stack([_on_cells(t, i, v * row) for row in sj], axis=1)
    (a, b), (c, d) = si, sj
    acc = np.zeros((len(t.cells[i][0]) + 1, len(t.cells[j][0]) + 1))
    np.add.at(acc, (a, c), v)  # 2-D difference array of the leaf rectangles
    np.add.at(acc, (a, d), -v)
    np.add.at(acc, (b, c), -v)
    np.add.at(acc, (b, d), v)
    return np.cumsum(np.cumsum(acc, 0), 1)[:-1, :-1]


def _fractions(
    trees: list[_Tree], names: list[str], pairs: bool
) -> dict[tuple[str, ...], np.ndarray]:
    """Per-tree F_j and F_jk (trees with zero variance skipped)."""
    P = len(names)
    out: dict[tuple[str, ...], list[float]] = {(p,): [] for p in names}
    if pairs:
        for a, b in itertools.combinations(names, 2):
            out[(a, b)] = []
    for t in trees:
        if not t.var > 1e-14 * max(1.0, t.f0**2):
            continue
        vmain = np.zeros(P)
        for i in range(P):
            size = t.cells[i][1]
            vmain[i] = size @ (_on_cells(t, i, _others(t, (i,))) - t.f0) ** 2
            out[(names[i],)].append(vmain[i] / t.var)
        if pairs:
            for i, j in itertools.combinations(range(P), 2):
                a = _on_cells2(t, i, j, _others(t, (i, j)))
                vtot = t.cells[i][1] @ (a - t.f0) ** 2 @ t.cells[j][1]
                out[(names[i], names[j])].append(max(vtot - vmain[i] - vmain[j], 0.0) / t.var)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _oob_r2(forest: RandomForestRegressor, X: np.ndarray, y: np.ndarray) -> float:
    """Out-of-bag R^2 over the trials that at least one tree left out."""
    n = len(y)
    total, count = np.zeros(n), np.zeros(n)
    for est, idx in zip(forest.estimators_, forest.estimators_samples_):
        out = np.ones(n, dtype=bool)
        out[idx] = False
        if out.any():
            total[out] += est.predict(X[out])
            count[out] += 1
    ok = count > 0
    if ok.sum() < 2:
        return float("nan")
    yo, pred = y[ok], total[ok] / count[ok]
    ss = float(((yo - yo.mean()) ** 2).sum())
    return float(1.0 - ((yo - pred) ** 2).sum() / ss) if ss > 0 else float("nan")
