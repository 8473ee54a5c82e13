"""Read W&B offline run files (``run-<id>.wandb``: 32 KiB blocks of CRC-framed protobuf
records) into what a test checks: group, name, config, history rows, summary, exit code."""

from __future__ import annotations

import glob
import json
import os
import struct

BLOCK = 32768
HEADER = 7  # ":W&B", magic 0xBEE1, version


def _records(path: str):
    from wandb.proto import wandb_internal_pb2 as pb

    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b":W&B", path
    pos, buf = HEADER, b""
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:
            pos += left
            continue
        _, n, kind = struct.unpack("<IHB", data[pos : pos + 7])
        buf = data[pos + 7 : pos + 7 + n] if kind in (1, 2) else buf + data[pos + 7 : pos + 7 + n]
        pos += 7 + n
        if kind in (1, 4):  # a full record, or the last piece of one
            record = pb.Record()
            record.ParseFromString(buf)
            yield record


def _item_key(item) -> str:
    return "/".join(item.nested_key) if item.nested_key else item.key


def offline_runs(wandb_dir: str) -> list[dict]:
    """Every offline run under ``wandb_dir``."""
    out = []
    paths = glob.glob(os.path.join(wandb_dir, "**", "run-*.wandb"), recursive=True)
    for path in sorted({os.path.realpath(p) for p in paths}):  # not again via latest-run
        run = {"path": path, "history": [], "summary": {}, "exit": None}
        for r in _records(path):
            kind = r.WhichOneof("record_type")
            if kind == "run":
                run["group"], run["name"] = r.run.run_group, r.run.display_name
                run["project"] = r.run.project
                run["config"] = {
                    u.key: json.loads(u.value_json)
                    for u in r.run.config.update
                    if u.key != "_wandb"
                }
            elif kind == "history":
                row = {_item_key(i): json.loads(i.value_json) for i in r.history.item}
                run["history"].append({k: v for k, v in row.items() if not k.startswith("_")})
            elif kind == "summary":
                for i in r.summary.update:
                    if not _item_key(i).startswith("_"):
                        run["summary"][_item_key(i)] = json.loads(i.value_json)
            elif kind == "exit":
                run["exit"] = r.exit.exit_code
        out.append(run)
    return out
