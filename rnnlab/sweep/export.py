"""A study as a table: one row per trial with its params, results and rnnlab attributes.

``rows(study)`` gives plain dicts (columns: number, state, value, each param, key, seed,
diverged, seconds, epochs_trained, best_epoch, valid_<metric>, test_<metric>, checkpoint,
error); ``write(rows, path)`` writes CSV, or Parquet when the path ends in ``.parquet`` (needs
pyarrow).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any

_ATTRS = ("key", "seed", "diverged", "seconds", "epochs_trained", "best_epoch", "checkpoint")


def rows(study: Any) -> list[dict[str, Any]]:
    out = []
    for t in study.get_trials(deepcopy=False):
        row: dict[str, Any] = {"number": t.number, "state": t.state.name, "value": t.value}
        row.update(t.params)
        ua = t.user_attrs
        for k in _ATTRS:
            row[k] = ua.get(k)
        for part in ("valid", "test"):
            for metric, v in (ua.get(part) or {}).items():
                row[f"{part}_{metric}"] = v
        row["error"] = ua.get("error")
        row["datetime_start"] = t.datetime_start.isoformat() if t.datetime_start else None
        row["datetime_complete"] = t.datetime_complete.isoformat() if t.datetime_complete else None
        out.append(row)
    return out


def _columns(table: Sequence[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in table:
        cols.extend(k for k in r if k not in cols)
    return cols


def write(table: Sequence[dict[str, Any]], path: str) -> str:
    """Write ``table`` to ``path`` (CSV, or Parquet for ``.parquet``); returns the path."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    cols = _columns(table)
    if path.endswith(".parquet"):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise RuntimeError(
                "Parquet export needs pyarrow (pip install pyarrow); or write a .csv file."
            ) from None
        data = {c: [r.get(c) for r in table] for c in cols}
        pq.write_table(pa.table(data), path)
        return path
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in table:
            w.writerow(r)
    return path
