"""The price of the recurrent loops' run-time trip count: one LSTM training step (forward
and hand-written backward) whose loops run a static T steps (``lax.scan``, what ``rnn`` does
without ``lengths``) against the same loops with the trip count known only at run time
(``fori_loop`` to ``steps_bound(lengths)``, what ``rnn`` does with ``lengths``), with every
sequence T steps long so both do the same steps. Best of 7 rounds, rounds interleaved.

    python benchmarks/probe_trip_count.py
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab import cells
from rnnlab.recurrent import scan
from rnnlab.recurrent.sequence import prepare_sequence


def step_fn(cell, params, x_BTD, dynamic: bool):
    lengths_B = jnp.full((x_BTD.shape[0],), x_BTD.shape[1], jnp.int32)

    def loss(p):
        x_TBD, n_B, mask_TB, carry0 = prepare_sequence(
            cell, p, x_BTD, lengths_B, None, False, False
        )
        fused, fp = cell.fuse_recurrence(p)
        steps = scan.steps_bound(n_B) if dynamic else None
        _, y_TBH = scan._recur_custom(fused, False, 1, fp, carry0, x_TBD, mask_TB, None, steps)
        return jnp.sum(y_TBH)

    f = jax.jit(jax.grad(loss))
    jax.block_until_ready(f(params))
    return f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shapes", default="1x64x48,1x64x128,1x64x184,32x100x128", help="BxTxH,...")
    ap.add_argument("--features", type=int, default=88)
    args = ap.parse_args()
    print("| B | T | H | static trip count ms | run-time trip count ms | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for shape in args.shapes.split(","):
        B, T, H = (int(v) for v in shape.split("x"))
        cell = cells.get("lstm", hidden_size=H)
        params = cell.init(jax.random.PRNGKey(0), args.features)
        x = jnp.asarray(np.random.default_rng(0).normal(size=(B, T, args.features)), jnp.float32)
        fs = {d: step_fn(cell, params, x, d) for d in (False, True)}
        best = dict.fromkeys(fs, float("inf"))
        reps = 100 if B == 1 else 10
        for _ in range(7):
            for d, f in fs.items():
                t0 = time.perf_counter()
                for _ in range(reps):
                    out = f(params)
                jax.block_until_ready(out)
                best[d] = min(best[d], (time.perf_counter() - t0) / reps * 1e3)
        print(
            f"| {B} | {T} | {H} | {best[False]:.3f} | {best[True]:.3f} | "
            f"{best[True] / best[False]:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
