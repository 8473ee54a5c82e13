"""A sweep experiment for the tests: the Odyssey space over three variants on a tiny config.

With ``--executor rnnlab.sweep.testing:fake_run_queue`` nothing trains; with the engine's
``run_queue`` it trains a few epochs on the sine task.
"""

from rnnlab.sweep import Sweep, odyssey

PRESETS = ("smoke", "small")


def base_config() -> dict:
    return {
        "data": {
            "name": "sine",
            "options": {"length": 16, "num_train": 32, "num_valid": 16, "num_test": 16},
            "batch_size": 16,
        },
        "model": {"cell": "lstm", "hidden": 32, "cell_options": {"variant": "V"}},
        "optim": {"name": "sgd", "lr": 1e-3, "momentum": 0.9, "nesterov": True, "noise_std": 0.0},
        "loop": {"epochs": 4, "metric": "loss", "seed": 0, "progress": False},
    }


def get_sweep(preset: str = "smoke") -> Sweep:
    trials = {"smoke": 12, "small": 6}[preset]
    space = odyssey(("V", "NIG", "CIFG"))
    return Sweep(config=base_config(), space=space, trials=trials, seed=7, slots=3)
