"""Character-level language model on the King James Bible (first 200k characters).

Windows of 100 characters; the LSTM reads each character one-hot (63 symbols) and
predicts the next; the metric is bits per character, selected on validation.

Run:   rnnlab train experiments/kjv.py --workdir runs/kjv
Expect: after 8 epochs (still improving; best epoch 7) validation 2.57 bits per
character, test 2.70 (uniform over 63 symbols: 5.98), in 72 s wall on 2 busy CPU cores.
More epochs keep lowering it.
"""

from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig


def get_config() -> Config:
    return Config(
        data=DataConfig(
            name="kjv", options={"max_chars": 200000}, batch_size=32, eval_batch_size=256
        ),
        model=ModelConfig(cell="lstm", hidden=128),
        optim=OptimConfig(name="adam", lr=0.003, clip_norm=1.0),
        loop=LoopConfig(epochs=8, metric="bpc", seed=0),
    )
