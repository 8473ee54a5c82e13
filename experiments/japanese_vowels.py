"""Japanese Vowels speaker classification (9 speakers, 12 LPC cepstra per frame).

An LSTM reads each utterance (7-29 frames) and classifies it from its last output;
selected on validation classification error, reported on test.

Run:   rnnlab train experiments/japanese_vowels.py --workdir runs/japanese_vowels
Expect: early stopping after 16 epochs (best epoch 7): validation error 5.6% (3 of 54),
test error 3.2% (12 of 370), in 31 s wall on 2 busy CPU cores (mostly compiling).
"""

from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig


def get_config() -> Config:
    return Config(
        data=DataConfig(
            name="japanese_vowels", batch_size=16, pad_multiple=32, eval_batch_size=512
        ),
        model=ModelConfig(cell="lstm", hidden=32),
        optim=OptimConfig(name="adam", lr=0.01, clip_norm=1.0),
        loop=LoopConfig(epochs=20, patience=8, metric="error", seed=0),
    )
