import pytest

from rnnlab.train import TrainConfig


@pytest.fixture
def tiny():
    """A config that compiles and trains in seconds: GRU(8) on short noisy sines."""
    return TrainConfig(
        task="sine",
        task_kwargs={"length": 12, "min_length": 8},
        num_train=32,
        num_valid=16,
        num_test=16,
        cell="gru",
        hidden=8,
        batch_size=8,
        epochs=3,
        lr=0.1,
        noise_std=0.05,
        progress=False,
    )
