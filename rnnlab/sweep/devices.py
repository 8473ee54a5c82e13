"""Which worker processes a sweep starts on this machine, and with what environment.

On CPU the measured best layout is one single-threaded worker per core (``--workers K``;
default 1). On GPU it is one worker per device: each worker sees only its own device through
``CUDA_VISIBLE_DEVICES`` and keeps XLA's default threading. The backend is decided without
initialising JAX in the coordinator (which would take GPU memory the workers need):
``--devices 0,1`` or a ``CUDA_VISIBLE_DEVICES`` listing several devices means GPU; otherwise
a short subprocess asks JAX, unless ``JAX_PLATFORMS`` says CPU or no GPU plugin is installed.

Every worker also gets JAX's persistent compilation cache (``compile_cache_env``), by default
this user's ``~/.cache/rnnlab/xla``: much of a short CPU sweep's wall time is compiling
(benchmarks/README.md, 3c), and with the cache a program compiled once on this machine (same
shapes, JAX version and flags) is loaded by every later worker: after a kill, in the next
study of the same experiment, by the other workers. An entry cut short by kill -9 is
recompiled with a warning.

``worker_envs`` is the pure decision; ``detect`` looks at the machine.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

CPU_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_SINGLE_THREAD_FLAG = "--xla_cpu_multi_thread_eigen=false"


def single_threaded_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` for a worker that should use one CPU thread (one worker per core)."""
    out = dict(env)
    flags = out.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        out["XLA_FLAGS"] = f"{flags} {_SINGLE_THREAD_FLAG}".strip()
    for name in CPU_THREAD_VARS:
        out.setdefault(name, "1")
    return out


#: Programs that compile faster than this are not worth a file (the small per-shape helpers).
CACHE_MIN_COMPILE_SECONDS = "0.5"
#: A size limit turns on the cache's file lock, so workers never read a half-written entry.
CACHE_MAX_BYTES = str(4 << 30)


def cache_folder(compile_cache: bool | str) -> str | None:
    """The compilation cache folder: True this user's (``$XDG_CACHE_HOME`` or ``~/.cache``,
    then ``rnnlab/xla``), a path that folder, False none."""
    if compile_cache is True:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        return os.path.join(base, "rnnlab", "xla")
    return os.path.abspath(os.path.expanduser(compile_cache)) if compile_cache else None


def compile_cache_env(env: Mapping[str, str], folder: str | None) -> dict[str, str]:
    """``env`` with JAX's persistent compilation cache in ``folder`` (None: unchanged).
    Settings the user made in ``env`` win."""
    out = dict(env)
    if folder is None:
        return out
    out.setdefault("JAX_COMPILATION_CACHE_DIR", folder)
    out.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", CACHE_MIN_COMPILE_SECONDS)
    out.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", CACHE_MAX_BYTES)
    return out


def parse_devices(text: str | None) -> list[str]:
    """``"0,1"`` -> ``["0", "1"]``; empty or ``-1`` (CUDA's "none") -> ``[]``."""
    text = (text or "").strip()
    if not text or text == "-1":
        return []
    ids = [part.strip() for part in text.split(",")]
    if any(not part for part in ids):
        raise ValueError(f"--devices expects device ids like 0,1, got {text!r}.")
    return ids


def worker_envs(
    workers: int | None,
    backend: str,
    visible_devices: Sequence[str],
    env: Mapping[str, str] | None = None,
) -> list[dict[str, str]]:
    """The environment of each worker process to start.

    GPU (``backend == "gpu"`` with devices): ``workers`` defaults to one per device; fewer
    workers than devices split them (each worker shards its population over its share); more
    share them round-robin without preallocating GPU memory. CPU: ``workers`` defaults to 1;
    several are made single-threaded.
    """
    base = dict(env or {})
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}.")
    devices = list(visible_devices)
    if backend == "gpu" and devices:
        k = workers or len(devices)
        if k <= len(devices):
            share, extra = divmod(len(devices), k)
            groups, start = [], 0
            for i in range(k):
                n = share + (i < extra)
                groups.append(devices[start : start + n])
                start += n
            return [{**base, "CUDA_VISIBLE_DEVICES": ",".join(g)} for g in groups]
        return [
            {
                **base,
                "CUDA_VISIBLE_DEVICES": devices[i % len(devices)],
                "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
            }
            for i in range(k)
        ]
    k = workers or 1
    return [single_threaded_env(base) if k > 1 else dict(base) for _ in range(k)]


def _gpu_plugin_installed() -> bool:
    if importlib.util.find_spec("jax_plugins") is not None:
        return True
    return bool(importlib.metadata.entry_points(group="jax_plugins"))


def _probe(env: Mapping[str, str]) -> tuple[str, int]:
    """(JAX's default backend, its local device count) in a short-lived subprocess."""
    code = "import jax; print(jax.default_backend(), jax.local_device_count())"
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "XLA_PYTHON_CLIENT_PREALLOCATE": "false"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        backend, count = out.stdout.split()[-2:]
        return backend, int(count)
    except (OSError, subprocess.SubprocessError, ValueError):
        return "cpu", 1


def detect(
    devices: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[str, list[str]]:
    """(backend, device ids to hand out) for this machine; ``devices`` is ``--devices``."""
    env = dict(os.environ if env is None else env)
    asked = parse_devices(devices)
    if asked:
        return "gpu", asked
    listed = parse_devices(env.get("CUDA_VISIBLE_DEVICES"))
    if len(listed) > 1:
        return "gpu", listed
    platforms = env.get("JAX_PLATFORMS", "").lower()
    if platforms and not any(p in platforms for p in ("cuda", "gpu", "rocm")):
        return "cpu", []
    if not _gpu_plugin_installed():
        return "cpu", []
    backend, count = _probe(env)
    if backend != "gpu":
        return "cpu", []
    return "gpu", listed or [str(i) for i in range(count)]
