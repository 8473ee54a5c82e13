"""Which workers a sweep starts: one per GPU with its own CUDA_VISIBLE_DEVICES and XLA's
threads, single-threaded CPU workers otherwise (the decision only: no GPU here)."""

from __future__ import annotations

import os

import pytest

from rnnlab.cli import main
from rnnlab.sweep.devices import (
    cache_folder,
    compile_cache_env,
    detect,
    parse_devices,
    worker_envs,
)
from tests.sweep.conftest import EXPERIMENT, FAKE

SINGLE = "--xla_cpu_multi_thread_eigen=false"


def test_one_worker_per_gpu_by_default():
    envs = worker_envs(None, "gpu", ["0", "1", "2", "3"], {"PATH": "/bin", "XLA_FLAGS": "--x=1"})
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1", "2", "3"]
    for e in envs:
        assert e["PATH"] == "/bin" and e["XLA_FLAGS"] == "--x=1"  # no CPU threading flags
        assert "OMP_NUM_THREADS" not in e and "XLA_PYTHON_CLIENT_PREALLOCATE" not in e
    # ids as CUDA_VISIBLE_DEVICES listed them, not renumbered
    assert [e["CUDA_VISIBLE_DEVICES"] for e in worker_envs(None, "gpu", ["4", "6"])] == ["4", "6"]


def test_fewer_workers_split_the_gpus_more_share_them():
    split = worker_envs(2, "gpu", ["0", "1", "2", "3", "4"])
    assert [e["CUDA_VISIBLE_DEVICES"] for e in split] == ["0,1,2", "3,4"]
    shared = worker_envs(3, "gpu", ["0", "1"])
    assert [e["CUDA_VISIBLE_DEVICES"] for e in shared] == ["0", "1", "0"]
    assert all(e["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" for e in shared)


def test_cpu_workers_are_single_threaded_when_several():
    assert worker_envs(None, "cpu", [], {"A": "1"}) == [{"A": "1"}]
    assert worker_envs(1, "cpu", []) == [{}]
    envs = worker_envs(3, "cpu", [], {"XLA_FLAGS": "--x=1"})
    assert len(envs) == 3
    for e in envs:
        assert e["XLA_FLAGS"] == f"--x=1 {SINGLE}" and e["OMP_NUM_THREADS"] == "1"
        assert "CUDA_VISIBLE_DEVICES" not in e
    # a GPU backend with no devices to hand out is laid out like CPU
    assert len(worker_envs(2, "gpu", [])) == 2
    with pytest.raises(ValueError, match="at least 1"):
        worker_envs(0, "cpu", [])


def test_detect_decides_without_starting_jax():
    assert detect("2,3", {}) == ("gpu", ["2", "3"])
    assert detect(None, {"CUDA_VISIBLE_DEVICES": "0,1"}) == ("gpu", ["0", "1"])
    assert detect(None, {"JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": "0"}) == ("cpu", [])
    assert detect(None, {"CUDA_VISIBLE_DEVICES": "-1"}) == ("cpu", [])  # no GPU plugin here
    assert parse_devices(" 0, 1 ") == ["0", "1"] and parse_devices("") == []
    with pytest.raises(ValueError, match="device ids like 0,1"):
        parse_devices("0,,1")


def test_bad_devices_are_one_line_errors(capsys, tmp_path):
    argv = ["sweep", EXPERIMENT, "--storage", str(tmp_path / "s.db"), "--executor", FAKE]
    assert main([*argv, "--devices", "0,,1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rnnlab sweep: error: --devices expects device ids like 0,1, got '0,,1'."]
    assert not (tmp_path / "s.db").exists()  # refused before the study was made


def test_workers_share_this_users_compilation_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder(True) == str(tmp_path / "rnnlab" / "xla")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_folder(True) == os.path.expanduser("~/.cache/rnnlab/xla")
    assert cache_folder("~/c") == os.path.expanduser("~/c") and cache_folder(False) is None
    env = compile_cache_env({"A": "1"}, "/c")
    assert env["JAX_COMPILATION_CACHE_DIR"] == "/c" and env["A"] == "1"
    assert float(env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) > 0
    assert int(env["JAX_COMPILATION_CACHE_MAX_SIZE"]) > 0  # a limit turns on the file lock
    assert (
        compile_cache_env({"JAX_COMPILATION_CACHE_DIR": "/mine"}, "/c")["JAX_COMPILATION_CACHE_DIR"]
        == "/mine"
    )  # the user's setting wins
    assert compile_cache_env({"A": "1"}, None) == {"A": "1"}


def test_a_gpu_worker_with_several_devices_shards_its_populations(monkeypatch):
    import jax

    from rnnlab import train
    from rnnlab.sweep import engine

    assert engine.default_executor() is train.run_queue  # CPU: one device per worker
    monkeypatch.setattr(jax, "devices", lambda: ["gpu0", "gpu1"])
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    executor = engine.default_executor()
    assert executor.func is train.run_queue and executor.keywords == {"devices": ["gpu0", "gpu1"]}
    monkeypatch.setattr(jax, "devices", lambda: ["gpu0"])
    assert engine.default_executor() is train.run_queue
