"""`rnnlab demo`: the README's main job trains and beats the trivial model."""

import math

from rnnlab import cli, demo


def test_demo_trains_lstm_beyond_uniform_guess(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path))
    rows = demo.compare(["lstm"], hidden=16, epochs=10, limit=20, lr=3e-2)
    uniform = 88 * math.log(2)  # NLL per step of p = 1/2 for every key
    assert rows[0]["cell"] == "lstm"
    assert 0 < rows[0]["test_nll"] < 0.5 * uniform
    assert cli.main(["cells"]) == 0
    assert "CIFG" in capsys.readouterr().out
