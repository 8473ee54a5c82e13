"""Every cell ``rnnlab cells`` lists trains through the engine, checkpoints included: one
short run per cell in a run folder, resumed from its checkpoint, and the loss goes down."""

import pytest

from rnnlab import cells
from rnnlab.train import Config, load, train

SINE = {"length": 10, "min_length": 6, "num_train": 32, "num_valid": 16, "num_test": 16}
FRAMES = {"num_sequences": [16, 8, 8], "length": [6, 8]}
# cells that need options or other data; the rest train on noisy sines as they are
SPECIAL = {
    "zoneout": {"model.cell_options": {"cell": "lstm", "rates": 0.1}},
    "mingru": {"model.scan": "parallel"},
    "minlstm": {"model.scan": "parallel"},
    "lru": {"model.scan": "parallel"},
    "convlstm": {"data.name": "moving_digits", "data.options": FRAMES, "model.hidden": 4},
}


def _config(name):
    base = Config.from_dict(
        {
            "data": {"name": "sine", "options": SINE, "batch_size": 8},
            "model": {"cell": name, "hidden": 8},
            "optim": {"name": "adam", "lr": 1e-2},
            "loop": {"epochs": 3, "progress": False},
        }
    )
    return base.override(SPECIAL.get(name, {}))


def test_special_cases_are_listed_cells():
    assert set(SPECIAL) <= set(cells.available())


@pytest.mark.parametrize("name", sorted(cells.available()))
def test_cell_trains_and_checkpoints(name, tmp_path):
    cfg = _config(name)
    first = train(cfg.override({"loop.epochs": 1}), tmp_path)
    res = train(cfg, tmp_path)  # resumed from the checkpoint, two more epochs
    assert res.epochs_trained == 3 and not res.diverged
    losses = [r["train_loss"] for r in res.history]
    assert losses[0] == first.history[0]["train_loss"]
    assert losses[-1] < losses[0]
    config, _, params = load(tmp_path)
    assert config == cfg
    assert all(x.size for x in __import__("jax").tree.leaves(params))
