"""Search spaces as data: what each hyperparameter's distribution is and where it goes.

A ``Space`` is a tuple of sampled ``Param``s plus a *cross* of categorical values (every
combination gets its own share of the trials, as the Odyssey searched each LSTM variant
separately). Each param names the dotted config path it sets (``"optim.lr"``), samples from a
``numpy.random.Generator``, and maps to the Optuna distribution the study records, so
optuna-dashboard and ``rnnlab.analysis`` read the study like any other.

Kinds (``Param.kind``):

    log_uniform             exp(U[log low, log high])
    uniform                 U[low, high]
    int                     integer uniform on [low, high]
    log_int                 round(exp(U[log(low - 1/2), log(high + 1/2)])), clipped to [low, high]
    categorical             uniform over ``choices``
    one_minus_log_uniform   1 - exp(U[log low, log high])  (the Odyssey's momentum: low=0.01,
                            high=1 gives momentum in [0, 0.99], dense near 0.99)

The Odyssey preset (Greff et al. 2017, "LSTM: A Search Space Odyssey", Sec. IV):

    learning rate    log-uniform [1e-6, 1e-2]
    hidden size      log-uniform [20, 200], integer (LSTM blocks per hidden layer)
    momentum         1 - log-uniform [0.01, 1]
    input noise std  uniform [0, 1] (Gaussian noise added to the inputs while training)
    optimiser        SGD with Nesterov momentum, step scaled by (1 - momentum) as PyLSTM does
    crossed with     the nine models V NIG NFG NOG NIAF NOAF NP CIFG FGR

What is verified and what is not (from the sources that could be read; see
``odyssey_protocol``): the four ranges, SGD with Nesterov-style momentum, random search with the
variants optimised separately, 200 trials per variant and dataset (5400 runs = 200 x 9 x 3) and
early stopping on the validation set are stated in the paper's abstract, its figure axes or
notes quoting it. Per-sequence (online) updates, at most 150 epochs, stopping after 15 epochs
without validation improvement and N(0, 0.1) initial weights are from memory of the paper and
not verified here; the PyLSTM (Greff's library) Nesterov step with the (1 - momentum) scaling
is verified in that code but not confirmed to be what the paper's runs used.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

KINDS = ("log_uniform", "uniform", "int", "log_int", "categorical", "one_minus_log_uniform")

VARIANTS = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")

#: The protocol as rnnlab runs it, each item with whether its source was checked.
odyssey_protocol = {
    "optimiser": ("SGD, Nesterov momentum", "verified"),
    "lr_scaled_by_one_minus_momentum": (True, "verified in PyLSTM code, not in the paper"),
    "batch_size": (1, "unverified: online updates, one sequence per step"),
    "epochs": (150, "unverified: maximum epochs"),
    "patience": (15, "unverified: epochs without validation improvement"),
    "init": ("normal(0, 0.1)", "unverified"),
    "selection": ("best validation epoch, test reported there", "verified"),
    "trials_per_variant": (200, "verified by the 5400-run arithmetic"),
}


def _round(x: float) -> float:
    """Round a sampled float to 12 significant digits so that its JSON text is canonical."""
    return float(f"{x:.12g}")


@dataclasses.dataclass(frozen=True)
class Param:
    """One sampled hyperparameter: its name (the Optuna param name), kind, bounds or
    choices, and the dotted config path it sets (defaults to the name)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    target: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"param {self.name!r}: unknown kind {self.kind!r}; one of {KINDS}.")
        if not self.target:
            object.__setattr__(self, "target", self.name)
        if self.kind == "categorical":
            if not self.choices:
                raise ValueError(f"param {self.name!r}: categorical needs choices.")
            object.__setattr__(self, "choices", tuple(self.choices))
            return
        if self.low is None or self.high is None or not self.low <= self.high:
            raise ValueError(
                f"param {self.name!r}: needs low <= high, got {self.low}, {self.high}."
            )
        if self.kind in ("log_uniform", "log_int", "one_minus_log_uniform") and self.low <= 0:
            raise ValueError(f"param {self.name!r}: {self.kind} needs low > 0, got {self.low}.")
        if self.kind == "one_minus_log_uniform" and self.high > 1:
            raise ValueError(f"param {self.name!r}: one_minus_log_uniform needs high <= 1.")
        if self.kind in ("int", "log_int"):
            object.__setattr__(self, "low", int(self.low))
            object.__setattr__(self, "high", int(self.high))

    def sample(self, rng: np.random.Generator) -> Any:
        """One value drawn with ``rng``."""
        k, lo, hi = self.kind, self.low, self.high
        if k == "categorical":
            return self.choices[int(rng.integers(len(self.choices)))]
        if k == "uniform":
            return _round(rng.uniform(lo, hi))
        if k == "log_uniform":
            return _round(min(hi, max(lo, math.exp(rng.uniform(math.log(lo), math.log(hi))))))
        if k == "one_minus_log_uniform":
            u = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            return _round(min(1.0 - lo, max(1.0 - hi, 1.0 - u)))
        if k == "int":
            return int(rng.integers(lo, hi + 1))
        # log_int: each integer gets the log-measure of [n - 1/2, n + 1/2]
        x = math.exp(rng.uniform(math.log(lo - 0.5 if lo > 0.5 else lo), math.log(hi + 0.5)))
        return int(min(hi, max(lo, round(x))))

    def distribution(self) -> Any:
        """The Optuna distribution recorded with each trial."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        k = self.kind
        if k == "categorical":
            return CategoricalDistribution(self.choices)
        if k == "uniform":
            return FloatDistribution(self.low, self.high)
        if k == "log_uniform":
            return FloatDistribution(self.low, self.high, log=True)
        if k == "one_minus_log_uniform":
            return FloatDistribution(1.0 - self.high, 1.0 - self.low)
        return IntDistribution(self.low, self.high, log=k == "log_int")

    def search_distribution(self) -> Any:
        """The Optuna distribution an adaptive sampler searches: the recorded one, except that
        ``one_minus_log_uniform`` is searched as log-uniform on ``1 - value`` (so TPE and QMC
        work where the Odyssey samples: densely near momentum 0.99)."""
        if self.kind == "one_minus_log_uniform":
            from optuna.distributions import FloatDistribution

            return FloatDistribution(self.low, self.high, log=True)
        return self.distribution()

    def to_search(self, value: Any) -> Any:
        """A value of this param in the searched space (``search_distribution``)."""
        if self.kind == "one_minus_log_uniform":
            return min(self.high, max(self.low, 1.0 - float(value)))
        return value

    def from_search(self, value: Any) -> Any:
        """A value from the searched space as this param's own: floats rounded to 12
        significant digits and clipped to the range, integers as int."""
        k, lo, hi = self.kind, self.low, self.high
        if k == "categorical":
            return value
        if k in ("int", "log_int"):
            return int(min(hi, max(lo, round(float(value)))))
        if k == "one_minus_log_uniform":
            return _round(min(1.0 - lo, max(1.0 - hi, 1.0 - float(value))))
        return _round(min(hi, max(lo, float(value))))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "target": self.target}
        if self.kind == "categorical":
            d["choices"] = list(self.choices)
        else:
            d["low"], d["high"] = self.low, self.high
        return d


@dataclasses.dataclass(frozen=True)
class Space:
    """Sampled params plus a cross of categorical params; trials are spread evenly over the
    cross's cells and sampled independently within each."""

    params: tuple[Param, ...] = ()
    cross: tuple[Param, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "cross", tuple(self.cross))
        names = [p.name for p in (*self.params, *self.cross)]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"space: param names used twice: {dup}.")
        for p in self.cross:
            if p.kind != "categorical":
                raise ValueError(f"space: crossed param {p.name!r} must be categorical.")

    def cells(self) -> Iterator[dict[str, Any]]:
        """Every combination of the crossed params, in order (one empty cell if none)."""
        for values in itertools.product(*(p.choices for p in self.cross)):
            yield {p.name: v for p, v in zip(self.cross, values)}

    def num_cells(self) -> int:
        return math.prod(len(p.choices) for p in self.cross)

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One value per sampled param (crossed ones not included)."""
        return {p.name: p.sample(rng) for p in self.params}

    def all_params(self) -> tuple[Param, ...]:
        return (*self.params, *self.cross)

    def distributions(self) -> dict[str, Any]:
        return {p.name: p.distribution() for p in self.all_params()}

    def search_distributions(self) -> dict[str, Any]:
        """What an adaptive sampler searches within a cell: the sampled (not crossed) params."""
        return {p.name: p.search_distribution() for p in self.params}

    def targets(self) -> dict[str, str]:
        return {p.name: p.target for p in self.all_params()}

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The study's ``user_attrs["rnnlab"]["space"]``: {name: {"kind", "low", "high" |
        "choices", "target", "crossed"}}."""
        out = {p.name: p.to_dict() for p in self.params}
        out.update({p.name: {**p.to_dict(), "crossed": True} for p in self.cross})
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Mapping[str, Any]]) -> Space:
        params, cross = [], []
        for name, spec in d.items():
            spec = dict(spec)
            crossed = spec.pop("crossed", False)
            if "choices" in spec:
                spec["choices"] = tuple(spec["choices"])
            (cross if crossed else params).append(Param(name=name, **spec))
        return cls(tuple(params), tuple(cross))

    def override(self, **params: Param) -> Space:
        """This space with some params replaced or added (by name)."""
        new = {p.name: p for p in self.params}
        new.update(params)
        return dataclasses.replace(self, params=tuple(new.values()))


def odyssey(variants: Sequence[str] = VARIANTS) -> Space:
    """The Odyssey search space, crossed with the given LSTM variants (see module docstring)."""
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown LSTM variants {unknown}; the Odyssey's are {list(VARIANTS)}.")
    return Space(
        params=(
            Param("lr", "log_uniform", 1e-6, 1e-2, target="optim.lr"),
            Param("hidden", "log_int", 20, 200, target="model.hidden"),
            Param("momentum", "one_minus_log_uniform", 0.01, 1.0, target="optim.momentum"),
            Param("noise_std", "uniform", 0.0, 1.0, target="optim.noise_std"),
        ),
        cross=(
            Param(
                "variant",
                "categorical",
                choices=tuple(variants),
                target="model.cell_options.variant",
            ),
        ),
    )


#: The Odyssey training options that are not sampled (nested config overrides).
ODYSSEY_OPTIM = {"optim.name": "sgd", "optim.nesterov": True, "optim.scale_lr_by_momentum": True}
