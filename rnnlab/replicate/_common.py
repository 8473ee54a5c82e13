"""What every replication shares: presets, result files, the machine it ran on, predictions."""

from __future__ import annotations

import csv
import json
import os
import platform
import time
from collections.abc import Iterable, Sequence
from typing import Any

import jax
import numpy as np

PRESETS = ("smoke", "quick", "full")


def check_preset(preset: str) -> None:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")


def machine() -> dict[str, Any]:
    """The hardware and software a result was measured on."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    from rnnlab.train.run import versions

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_1min_at_start": round(load, 2),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def write_csv(path: str, rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` (dicts with the same keys) as a CSV file; floats with 6 significant digits."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if not rows:
        open(path, "w").close()
        return
    keys = list(rows[0])
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k)) for k in keys})


def _fmt(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return f"{float(v):.6g}"
    return v


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_json(path: str, obj: Any) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, default=_json_default)
        f.write("\n")


def read_json(path: str) -> Any:
    with open(path) as f:
        return json.load(f)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


_APPLY: dict[str, Any] = {}


def outputs(config: Any, params: Any, split: str = "test") -> tuple[np.ndarray, np.ndarray, Any]:
    """The model's raw outputs on every example of ``split`` of ``config``'s data, in dataset
    order: (outputs, targets, lengths) as NumPy arrays (per-sequence heads: (N, K))."""
    from rnnlab import data
    from rnnlab.train import hparams, step
    from rnnlab.train import problem as problem_mod

    key = hparams.program_key(config, pad=False)
    if key not in _APPLY:
        splits = data.load(config.data.name, **config.data.options)
        prob = problem_mod.problem(splits.train)
        program = step.make_program(config, prob)
        apply = jax.jit(
            lambda p, x, n: program.model.apply(
                {"params": p}, step.model_inputs(program, x), n, deterministic=True
            )
        )
        if len(_APPLY) > 8:
            _APPLY.clear()
        _APPLY[key] = (splits, apply)
    splits, apply = _APPLY[key]
    ds = getattr(splits, split)
    outs, ys, lens = [], [], []
    n = len(ds)
    bs = min(config.data.eval_batch_size, n)
    idx = np.arange(-(-n // bs) * bs) % n  # whole batches (one compiled shape), cut below
    T = problem_mod.batch_time(ds, idx, config.data.pad_multiple)
    for s in range(0, len(idx), bs):
        b = problem_mod.batch(ds, idx[s : s + bs], T)
        outs.append(np.asarray(apply(params, b.x, b.lengths)))
        ys.append(np.asarray(b.y))
        lens.append(np.asarray(b.lengths))
    return tuple(np.concatenate(a)[:n] for a in (outs, ys, lens))  # type: ignore[return-value]


def count_params(params: Any) -> int:
    return int(sum(np.size(x) for x in jax.tree.leaves(params)))


class Timer:
    """Wall-clock seconds since construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def markdown_table(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
