"""Electricity demand forecasting (Taylor's half-hourly series): one week in (336 steps),
the next day out (48 values) from the LSTM's last output; standardised MSE, selected on
validation (RMSE in MW = sqrt(MSE) * 5613).

Run:   rnnlab train experiments/taylor.py --workdir runs/taylor
Expect: after 10 epochs (best epoch 8) validation MSE 0.128, test MSE 0.099 (test RMSE
about 1770 MW; predicting the mean gives MSE about 1), in 21 s wall on 2 busy CPU cores.
"""

from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig


def get_config() -> Config:
    return Config(
        data=DataConfig(name="taylor", options={"stride": 4}, batch_size=32, eval_batch_size=256),
        model=ModelConfig(cell="lstm", hidden=32),
        optim=OptimConfig(name="adam", lr=0.003, clip_norm=1.0),
        loop=LoopConfig(epochs=10, metric="loss", seed=0),
    )
