"""Cells by name: ``get("lstm", hidden_size=128, variant="CIFG")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rnnlab.cells.base import Cell

_REGISTRY: dict[str, tuple[Callable[..., Cell], str]] = {}


def register(name: str, description: str) -> Callable:
    """Decorator: make a cell factory ``f(hidden_size, **kwargs) -> Cell`` available by name."""

    def wrap(factory: Callable[..., Cell]) -> Callable[..., Cell]:
        if name in _REGISTRY:
            raise ValueError(f"a cell named {name!r} is already registered.")
        _REGISTRY[name] = (factory, description)
        return factory

    return wrap


def available() -> dict[str, str]:
    """Registered cell names with a one-line description each."""
    return {name: desc for name, (_, desc) in sorted(_REGISTRY.items())}


def get(name: str, hidden_size: int, **kwargs: Any) -> Cell:
    """Build the cell registered as ``name`` with ``hidden_size`` units."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown cell {name!r}; available cells: {', '.join(available())}.")
    if not isinstance(hidden_size, int) or hidden_size < 1:
        raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}.")
    factory, _ = _REGISTRY[name]
    try:
        return factory(hidden_size, **kwargs)
    except TypeError as e:
        raise TypeError(f"bad options for cell {name!r}: {e}") from None
