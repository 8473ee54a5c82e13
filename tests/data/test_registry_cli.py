"""The dataset registry and the `rnnlab data` commands."""

import pytest

from rnnlab import data
from rnnlab.cli import main
from rnnlab.data import cli as data_cli

NAMES = ["jsb", "japanese_vowels", "japanese_vowels_framewise", "digits", "digits_ctc"]


def test_available_and_unknown_names():
    synthetic = {"sine", "adding", "temporal_order", "copy", "piano_roll"}
    names = {*NAMES, "kjv", "taylor", "moving_digits", "msft", "walk_forward"}
    assert names | synthetic == set(data.available())
    with pytest.raises(ValueError, match=r"unknown dataset 'timit'.*jsb.*taylor"):
        data.load("timit")
    with pytest.raises(ValueError, match="available"):
        data.info("nope")


def test_load_passes_options_and_fixed_kwargs():
    fw = data.load("japanese_vowels_framewise", seed=3)
    assert fw.train.target_kind == "frame"
    assert data.load("japanese_vowels").train.target_kind == "example"
    with pytest.raises(TypeError):
        data.load("digits", bogus=1)


def test_info_describes_sizes_lengths_and_task():
    d = data.info("digits_ctc", num_sequences=(30, 10, 10))
    assert d["sizes"] == {"train": 30, "valid": 10, "test": 10}
    assert d["input_dim"] == 8 and d["num_classes"] == 11
    assert 24 <= d["lengths"]["train"]["min"] <= d["lengths"]["train"]["mean"] <= 48
    assert 10 * 24 <= d["steps"]["valid"] <= 10 * 48
    assert "CTC" in d["task"] and d["metric"] and d["source"] and d["license"]


def test_jsb_info_from_a_small_build(cache):
    d = data.info("jsb", limit=1)
    assert d["sizes"] == {"train": 1, "valid": 1, "test": 1}
    assert d["input_shape"] == ("T", 88) and d["target_kind"] == "frame"
    assert d["lengths"]["train"] == {"min": 80, "mean": 80.0, "max": 80}


def test_cli_list_and_info(capsys, cache):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in data.available())
    assert main(["data", "info", "jsb", "-o", "limit=1", "-o", "resolution=eighth"]) == 0
    out = capsys.readouterr().out
    for word in ("task", "metric", "source", "licence", "train", "(T, 88) float32"):
        assert word in out
    assert "160 / 160.0 / 160" in out  # bwv1.6: 80 quarters, 160 eighths
    assert main(["data", "info", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'nope'; available: " in err and "jsb" in err


def test_parse_options():
    assert data_cli.parse_options(["limit=2", "resolution=eighth", "x=(1, 2)"]) == {
        "limit": 2,
        "resolution": "eighth",
        "x": (1, 2),
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        data_cli.parse_options(["limit"])
