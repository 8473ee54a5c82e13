"""Shared fixtures.

float64: tests that compare against the float64 NumPy references use the ``x64`` fixture
(``pytestmark = pytest.mark.usefixtures("x64")``). It enters ``jax.enable_x64(True)``, a
context manager that switches 64-bit mode on for the current thread only and restores the
previous setting on exit, around each single test. We do not call
``jax.config.update("jax_enable_x64", True)`` at import: under pytest-xdist every module a
worker collects shares one process, so a global switch would silently turn other modules'
default float32 arrays into float64 (and their dtype checks and speed with them), depending on
which worker collected what. Arrays must therefore be created inside the tests, not at module
import. jit caches are keyed on the x64 setting, so compiled functions do not leak either.
"""

from __future__ import annotations

import jax
import pytest


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield
