import pytest

from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig


@pytest.fixture
def tiny():
    """A config that compiles and trains in seconds: GRU(8) on short noisy sines."""
    return Config(
        data=DataConfig(
            "sine",
            {"length": 12, "min_length": 8, "num_train": 32, "num_valid": 16, "num_test": 16},
            batch_size=8,
        ),
        model=ModelConfig("gru", 8),
        optim=OptimConfig(lr=0.1, noise_std=0.05),
        loop=LoopConfig(epochs=3, progress=False),
    )
