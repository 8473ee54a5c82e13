"""Checkpoints with orbax: a state tree saved under readable names, one per leaf.

Leaves are named by their path in the tree (``params/layer0_fwd/W``,
``opt_state/1/0/trace/head/kernel``, ...), so a checkpoint can be read without the code
that wrote it. Step = completed epochs; only the last checkpoint is kept (the best
parameters are part of the state, so "last" also holds "best").
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp


def leaf_name(path: tuple) -> str:
    """A tree path as a slash-separated name."""
    parts = []
    for k in path:
        for attr in ("key", "name", "idx"):
            if hasattr(k, attr):
                parts.append(str(getattr(k, attr)))
                break
        else:
            parts.append(str(k))
    return "/".join(parts)


def named(tree: Any) -> dict[str, np.ndarray]:
    """{name: host array} for every leaf of ``tree``."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {leaf_name(p): np.asarray(x) for p, x in flat}


def unnamed(values: dict[str, Any], template: Any) -> Any:
    """A tree shaped like ``template`` with its leaves looked up by name in ``values``."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(template)
    missing = [leaf_name(p) for p, _ in flat if leaf_name(p) not in values]
    if missing:
        raise ValueError(f"checkpoint lacks {missing[:3]}...; it was written by other code.")
    return jax.tree.unflatten(treedef, [np.asarray(values[leaf_name(p)]) for p, _ in flat])


class Manager:
    """Save/restore named trees in ``directory`` (orbax, last step kept)."""

    def __init__(self, directory: str | os.PathLike):
        self._mngr = ocp.CheckpointManager(
            os.path.abspath(os.fspath(directory)),
            options=ocp.CheckpointManagerOptions(max_to_keep=1, create=True),
        )

    def latest(self) -> int | None:
        return self._mngr.latest_step()

    def save(self, step: int, tree: Any) -> None:
        self._mngr.save(step, args=ocp.args.StandardSave(named(tree)))
        self._mngr.wait_until_finished()

    def restore(self, template: Any, step: int | None = None) -> Any:
        """The tree of ``step`` (default the latest) shaped like ``template``."""
        step = self.latest() if step is None else step
        abstract = {k: jax.ShapeDtypeStruct(v.shape, v.dtype) for k, v in named(template).items()}
        return unnamed(self._mngr.restore(step, args=ocp.args.StandardRestore(abstract)), template)
