"""Optuna trials as a pandas DataFrame, and each parameter's sampling space.

One row per trial: ``number``, ``state``, ``value`` (the best validation metric, as the study
stored it), ``params_<name>`` per hyperparameter, ``test_<m>`` / ``valid_<m>`` per metric in the
trial's ``test`` / ``valid`` user attributes, ``diverged``, ``seconds``, ``epochs_trained``,
``best_epoch``, ``datetime_start`` and ``user_attrs_<key>`` for any other attribute.

The space a parameter was sampled in decides where fANOVA measures variance (Hutter, Hoos &
Leyton-Brown 2014 assume the uniform product measure of the *sampling* space): it is read from
``study.user_attrs["rnnlab"]["space"]`` when the study was made by rnnlab, else from the Optuna
distributions (``log=True`` -> log10 space). Kinds and their model coordinate z:

==========================  ===============================  ============================
kind                        sampled as                       z
==========================  ===============================  ============================
``uniform``                 U[low, high]                     x
``log_uniform``             logU[low, high]                  log10 x
``int``                     uniform integers low..high       x on [low-1/2, high+1/2]
``log_int``                 round(logU[low-1/2, high+1/2])   log10 x
``one_minus_log_uniform``   1 - logU[1-high, 1-low]          log10(1 - x)
``categorical``             uniform over ``choices``         index of the choice
==========================  ===============================  ============================

For ``one_minus_log_uniform`` (momentum in Greff et al. 2017: 1 - logU[0.01, 1]) ``low`` and
``high`` bound the parameter itself (0 and 0.99); bounds with ``high >= 1`` are read as the
bounds of ``1 - x`` instead, since ``log10(1 - 1)`` does not exist.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

KINDS = ("uniform", "log_uniform", "int", "log_int", "one_minus_log_uniform", "categorical")
LOG_KINDS = ("log_uniform", "log_int")

# Columns every frame has, whatever the study.
BASE_COLUMNS = (
    "number",
    "state",
    "value",
    "diverged",
    "seconds",
    "epochs_trained",
    "best_epoch",
    "datetime_start",
)
_KNOWN_ATTRS = ("test", "valid", "diverged", "seconds", "epochs_trained", "best_epoch")


@dataclass(frozen=True)
class ParamSpace:
    """One hyperparameter's sampling space; ``to_model`` maps values to the fANOVA coordinate."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = field(default=())

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(
                f"parameter {self.name!r}: unknown space kind {self.kind!r}; "
                f"expected one of {', '.join(KINDS)}"
            )
        if self.kind == "categorical":
            if not self.choices:
                raise ValueError(f"parameter {self.name!r}: categorical space needs choices")
        elif self.low is None or self.high is None or not self.low <= self.high:
            raise ValueError(f"parameter {self.name!r}: bad bounds low={self.low} high={self.high}")

    @property
    def categorical(self) -> bool:
        return self.kind == "categorical"

    @property
    def log_axis(self) -> bool:
        """Whether plots of this parameter want a log x axis."""
        return self.kind in LOG_KINDS

    def _one_minus_bounds(self) -> tuple[float, float]:
        """Bounds of ``1 - x`` for ``one_minus_log_uniform``."""
        lo, hi = float(self.low), float(self.high)
        if hi >= 1.0:  # given as the bounds of 1 - x
            return lo, hi
        return 1.0 - hi, 1.0 - lo

    @property
    def domain(self) -> tuple[float, float]:
        """The interval of the model coordinate (categoricals: index range)."""
        if self.categorical:
            return -0.5, len(self.choices) - 0.5
        lo, hi = float(self.low), float(self.high)
        if self.kind == "uniform":
            return lo, hi
        if self.kind == "log_uniform":
            return math.log10(lo), math.log10(hi)
        if self.kind == "int":
            return lo - 0.5, hi + 0.5
        if self.kind == "log_int":
            return math.log10(max(lo - 0.5, 1e-12)), math.log10(hi + 0.5)
        a, b = self._one_minus_bounds()
        return math.log10(a), math.log10(b)

    @property
    def degenerate(self) -> bool:
        """True when the space holds a single value (nothing to explain)."""
        if self.categorical:
            return len(self.choices) < 2
        return self.low == self.high

    def to_model(self, x: Iterable[Any]) -> np.ndarray:
        """Values of the parameter -> model coordinate (float array; NaN where missing)."""
        if self.categorical:
            index = {_key(c): i for i, c in enumerate(self.choices)}
            return np.array([index.get(_key(v), np.nan) for v in x], dtype=np.float64)
        v = np.asarray(list(x), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind in ("log_uniform", "log_int"):
                z = np.log10(v)
            elif self.kind == "one_minus_log_uniform":
                z = np.log10(1.0 - v)
            else:
                z = v
        lo, hi = self.domain
        return np.where(np.isfinite(z), np.clip(z, lo, hi), np.nan)

    def from_model(self, z: np.ndarray) -> np.ndarray:
        """Model coordinate -> parameter value (continuous kinds only)."""
        z = np.asarray(z, dtype=np.float64)
        if self.kind in ("log_uniform", "log_int"):
            return 10.0**z
        if self.kind == "one_minus_log_uniform":
            return 1.0 - 10.0**z
        return z

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        if self.categorical:
            d["choices"] = [_jsonable(c) for c in self.choices]
        else:
            d["low"], d["high"] = self.low, self.high
        return d


def _key(v: Any) -> str:
    """A hashable identity for a categorical choice (choices may be None, bools, numbers)."""
    return f"{type(v).__name__}:{v!r}" if not isinstance(v, str) else v


def _jsonable(v: Any) -> Any:
    return v if v is None or isinstance(v, bool | int | float | str) else str(v)


def space_from_distribution(name: str, dist: optuna.distributions.BaseDistribution) -> ParamSpace:
    """The space an Optuna distribution samples (``log=True`` -> log kinds)."""
    D = optuna.distributions
    if isinstance(dist, D.CategoricalDistribution):
        return ParamSpace(name, "categorical", choices=tuple(dist.choices))
    if isinstance(dist, D.IntDistribution):
        return ParamSpace(name, "log_int" if dist.log else "int", dist.low, dist.high)
    if isinstance(dist, D.FloatDistribution):
        return ParamSpace(name, "log_uniform" if dist.log else "uniform", dist.low, dist.high)
    raise TypeError(f"parameter {name!r}: unsupported distribution {type(dist).__name__}")


def space_from_dict(name: str, d: Mapping[str, Any]) -> ParamSpace:
    """One entry of ``study.user_attrs["rnnlab"]["space"]``."""
    kind = d.get("kind")
    if kind == "categorical":
        return ParamSpace(name, kind, choices=tuple(d.get("choices", ())))
    return ParamSpace(name, str(kind), d.get("low"), d.get("high"))


def rnnlab_attrs(study: optuna.Study) -> dict[str, Any]:
    """``study.user_attrs["rnnlab"]`` or ``{}`` for studies rnnlab did not make."""
    attrs = study.user_attrs.get("rnnlab")
    return attrs if isinstance(attrs, dict) else {}


def study_space(
    study: optuna.Study | None, trials: Iterable[optuna.trial.FrozenTrial] = ()
) -> dict[str, ParamSpace]:
    """Each parameter's space: rnnlab's record first, then the trials' distributions."""
    space: dict[str, ParamSpace] = {}
    if study is not None:
        for name, d in (rnnlab_attrs(study).get("space") or {}).items():
            if isinstance(d, Mapping):
                space[name] = space_from_dict(name, d)
    for t in trials:
        for name, dist in t.distributions.items():
            if name not in space:
                space[name] = space_from_distribution(name, dist)
            elif (
                space[name].categorical
                and isinstance(dist, optuna.distributions.CategoricalDistribution)
                and len(dist.choices) > len(space[name].choices)
            ):
                space[name] = ParamSpace(name, "categorical", choices=tuple(dist.choices))
    return space


def trials_frame(
    study_or_trials: optuna.Study | Iterable[optuna.trial.FrozenTrial],
    space: Mapping[str, ParamSpace] | None = None,
) -> pd.DataFrame:
    """All trials (any state) as a DataFrame; ``df.attrs["space"]`` holds the parameter spaces.

    ``df.attrs["params"]`` lists the parameter names, ``df.attrs["test_metrics"]`` the metric
    names found in the trials' ``test`` attributes, ``df.attrs["rnnlab"]`` the study's rnnlab
    attributes (``{}`` when absent).
    """
    study = study_or_trials if isinstance(study_or_trials, optuna.Study) else None
    trials = study.get_trials(deepcopy=False) if study is not None else list(study_or_trials)
    if space is None:
        space = study_space(study, trials)
    names = list(space)
    rows = []
    test_metrics: list[str] = []
    for t in trials:
        ua = t.user_attrs
        row: dict[str, Any] = {
            "number": t.number,
            "state": t.state.name,
            "value": float(t.values[0]) if t.values else np.nan,  # first objective
            "diverged": bool(ua.get("diverged", False)),
            "seconds": _float(ua.get("seconds")),
            "epochs_trained": _float(ua.get("epochs_trained")),
            "best_epoch": _float(ua.get("best_epoch")),
            "datetime_start": t.datetime_start,
        }
        if np.isnan(row["seconds"]) and t.datetime_start and t.datetime_complete:
            row["seconds"] = (t.datetime_complete - t.datetime_start).total_seconds()
        for name in names:
            row[f"params_{name}"] = t.params.get(name, None)
        for prefix in ("test", "valid"):
            d = ua.get(prefix)
            if isinstance(d, Mapping):
                for m, v in d.items():
                    row[f"{prefix}_{m}"] = _float(v)
                    if prefix == "test" and m not in test_metrics:
                        test_metrics.append(m)
        for k, v in ua.items():
            if k not in _KNOWN_ATTRS:
                row[f"user_attrs_{k}"] = v
        rows.append(row)
    df = pd.DataFrame(rows, columns=None if rows else list(BASE_COLUMNS))
    for name in names:  # a parameter column even when no trial has it
        if f"params_{name}" not in df:
            df[f"params_{name}"] = None
    df.attrs["space"] = dict(space)
    df.attrs["params"] = names
    df.attrs["test_metrics"] = test_metrics
    df.attrs["rnnlab"] = rnnlab_attrs(study) if study is not None else {}
    return df


def learning_curves(
    study_or_trials: optuna.Study | Iterable[optuna.trial.FrozenTrial],
) -> pd.DataFrame:
    """Intermediate values (the validation metric per epoch) in long form: number, step, value."""
    if isinstance(study_or_trials, optuna.Study):
        trials = study_or_trials.get_trials(deepcopy=False)
    else:
        trials = list(study_or_trials)
    rows = [
        (t.number, int(s), float(v))
        for t in trials
        for s, v in sorted(t.intermediate_values.items())
    ]
    return pd.DataFrame(rows, columns=["number", "step", "value"])


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return np.nan
