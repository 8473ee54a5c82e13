"""Odyssey variants in one program: a trial's LSTM variant placed in the switchable LSTM.

The switchable LSTM (``LSTMSpec(switchable=True)``, ``rnnlab.cells.lstm``) has every part of
the vanilla LSTM -- column blocks z, i, f, o and peepholes p_i, p_f, p_o -- and a
``switches`` parameter that selects the parts a model uses. Trials of V, NIG, NFG, NOG,
NIAF, NOAF, NP and CIFG (``UNION_VARIANTS``, with one forget-gate bias) therefore share a
program. FGR does not: its nine extra H x H matrices would double every trial's cost.

A trial is initialised alone as its own variant, then ``embed`` places each of its LSTM
layers in the switchable LSTM at the same size: its column blocks go to the union's block
positions (NIG's z, f, o to 0, 2, 3; CIFG's z, i, o to 0, 1, 3), its peepholes to theirs,
and ``switches`` to the variant's values. Absent blocks and peepholes are zero with mask 0
(their gradients are zero too: the update never selects them), and the switches have mask
0, so neither gradients nor updates (weight decay) change them. ``rnnlab.train.padding``
then pads the result to the bucket size; ``extract`` undoes the placement.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rnnlab import cells
from rnnlab.cells.lstm import PRESETS, LSTMSpec, switch_values
from rnnlab.models.config import ModelConfig

UNION_VARIANTS = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG")
_COVERED = frozenset({*(PRESETS[v] for v in UNION_VARIANTS), LSTMSpec(switchable=True)})
_BLOCKS = ("z", "i", "f", "o")  # the switchable LSTM's column blocks, in order
_MATRICES = ("W", "b", "R")  # parameters whose last axis holds the column blocks


def variant_of(model: ModelConfig) -> LSTMSpec | None:
    """The spec of ``model``'s cell when the switchable LSTM covers it (one of
    ``UNION_VARIANTS`` or the switchable LSTM itself, any forget-gate bias), else None."""
    if model.cell != "lstm":
        return None
    spec = cells.get(model.cell, model.hidden, **model.cell_options).spec
    return spec if dataclasses.replace(spec, forget_bias=1.0) in _COVERED else None


def union_model(model: ModelConfig, spec: LSTMSpec) -> ModelConfig:
    """``model`` with its LSTM variant ``spec`` replaced by the switchable LSTM."""
    options = {"switchable": True, "forget_bias": spec.forget_bias}
    return dataclasses.replace(model, cell_options=options)


def is_union(model: ModelConfig) -> bool:
    """Whether ``model``'s cell is the switchable LSTM."""
    return model.cell == "lstm" and bool(model.cell_options.get("switchable", False))


def _columns(spec: LSTMSpec, h: int) -> np.ndarray:
    """The union's columns (of 4 h) that hold the variant's column blocks, in its order."""
    positions = [_BLOCKS.index(name) for name in ("z", *spec.gates)]
    return (np.asarray(positions)[:, None] * h + np.arange(h)[None, :]).ravel()


def _embed_cell(lone: dict, spec: LSTMSpec, h: int) -> tuple[dict, dict]:
    cols = _columns(spec, h)
    params, mask = {}, {}
    for name in _MATRICES:
        x = np.asarray(lone[name])
        params[name] = np.zeros((*x.shape[:-1], 4 * h), x.dtype)
        params[name][..., cols] = x
        mask[name] = np.zeros_like(params[name])
        mask[name][..., cols] = 1
    dtype = params["W"].dtype
    for gate in "ifo":
        name = f"p_{gate}"
        present = name in lone
        params[name] = np.asarray(lone[name]) if present else np.zeros(h, dtype)
        mask[name] = np.full(h, float(present), dtype)
    params["switches"] = switch_values(spec).astype(dtype)
    mask["switches"] = np.zeros_like(params["switches"])
    return params, mask


def _extract_cell(union: dict, lone: dict, spec: LSTMSpec, h: int) -> dict:
    cols = _columns(spec, h)
    return {
        name: np.asarray(union[name])[..., cols] if name in _MATRICES else np.asarray(union[name])
        for name in lone
    }


def _is_cell(node: Any) -> bool:
    return isinstance(node, dict) and "switches" in node


def embed(lone: Any, template: Any, spec: LSTMSpec, h: int) -> tuple[Any, Any]:
    """(``lone`` model parameters with every LSTM layer of variant ``spec`` placed in the
    switchable LSTM, mask: 1 where a real parameter sits), at the lone hidden size ``h``.
    ``template`` is the union model's parameter tree (any size): its layers holding
    ``switches`` are the LSTM layers; every other parameter is kept with mask 1."""
    if _is_cell(template):
        return _embed_cell(lone, spec, h)
    if isinstance(template, dict):
        pairs = {k: embed(lone[k], template[k], spec, h) for k in template}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    x = np.asarray(lone)
    return x, np.ones_like(x)


def extract(union: Any, lone: Any, spec: LSTMSpec, h: int) -> Any:
    """The parameters of variant ``spec`` inside the union model's ``union`` (at size ``h``),
    shaped like ``lone`` (a parameter tree or its shapes): the inverse of ``embed``."""
    if _is_cell(union):
        return _extract_cell(union, lone, spec, h)
    if isinstance(union, dict):
        return {k: extract(union[k], lone[k], spec, h) for k in lone}
    return np.asarray(union)
