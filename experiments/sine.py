"""Noisy sine next-value prediction with a small LSTM.

Run:   rnnlab train experiments/sine.py --workdir runs/sine
Options: --cell gru --hidden 64 --epochs 30 --set optim.name=adam --set optim.lr=0.003
Expect: with the defaults below (about 25 s on 2 busy CPU cores, 20 epochs) the validation
MSE falls from about 0.5 (predicting 0) to about 0.026 (test about 0.027). Noise floor: the
targets carry noise of variance 0.01, and the noisy inputs add more, so about 0.015-0.02 is
the best reachable.
"""

from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig


def get_config() -> Config:
    return Config(
        data=DataConfig(
            "sine",
            {
                "length": 60,
                "min_length": 40,
                "noise_std": 0.1,
                "num_train": 512,
                "num_valid": 128,
                "num_test": 128,
            },
            batch_size=32,
        ),
        model=ModelConfig("lstm", 32),
        optim=OptimConfig(name="adam", lr=3e-3, clip_norm=1.0),
        loop=LoopConfig(epochs=20, patience=5, seed=0),
    )
