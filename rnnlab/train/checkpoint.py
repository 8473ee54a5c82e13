"""Checkpoints with orbax: the whole (population) train state after every epoch.

The state is saved as its flat list of leaves (host NumPy arrays), checkpoint step =
completed epochs; only the last checkpoint is kept (the best parameters are part of the
state, so "last" also holds "best"). ``run.json`` pins what was being trained, so resuming
with a different config fails loudly instead of silently mixing runs.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp


class Manager:
    def __init__(self, workdir: str | os.PathLike, signature: dict[str, Any]):
        self.workdir = os.path.abspath(os.fspath(workdir))
        os.makedirs(self.workdir, exist_ok=True)
        sig_path = os.path.join(self.workdir, "run.json")
        if os.path.exists(sig_path):
            with open(sig_path) as f:
                old = json.load(f)
            if old != signature:
                diff = sorted(
                    k
                    for k in set(old["config"]) | set(signature["config"])
                    if old["config"].get(k) != signature["config"].get(k)
                )
                raise ValueError(
                    f"{self.workdir} holds a different run (differs in config {diff} or in "
                    "hparams/seeds/strategy); use a new workdir or delete the old one."
                )
        else:
            with open(sig_path, "w") as f:
                json.dump(signature, f, indent=1)
        self._mngr = ocp.CheckpointManager(
            os.path.join(self.workdir, "checkpoints"),
            options=ocp.CheckpointManagerOptions(max_to_keep=1, create=True),
        )

    def save(self, epochs_done: int, host_state: Any, record: dict[str, Any]) -> None:
        leaves = jax.tree.leaves(host_state)
        self._mngr.save(
            epochs_done, args=ocp.args.StandardSave({str(i): x for i, x in enumerate(leaves)})
        )
        self._mngr.wait_until_finished()

    def restore(self, host_template: Any) -> tuple[int, Any] | None:
        """(completed epochs, state shaped like ``host_template``) or None."""
        step = self._mngr.latest_step()
        if step is None:
            return None
        leaves, treedef = jax.tree.flatten(host_template)
        abstract = {
            str(i): jax.ShapeDtypeStruct(np.shape(x), np.asarray(x).dtype)
            for i, x in enumerate(leaves)
        }
        got = self._mngr.restore(step, args=ocp.args.StandardRestore(abstract))
        return step, jax.tree.unflatten(
            treedef, [np.asarray(got[str(i)]) for i in range(len(leaves))]
        )

    def read_history(self, epochs_done: int) -> list[dict[str, Any]]:
        """Records of the completed epochs from metrics.jsonl; later lines (from an epoch
        that was interrupted before its checkpoint) are dropped from the file."""
        path = os.path.join(self.workdir, "metrics.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            recs = [json.loads(line) for line in f if line.strip()]
        recs = [r for r in recs if r["epoch"] < epochs_done]
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in recs)
        return [{k: v for k, v in r.items() if k != "seconds"} for r in recs]
