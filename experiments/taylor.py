"""Electricity demand forecasting (Taylor's half-hourly series): one week in (336 steps),
the next day out (48 values) from the LSTM's last output; standardised MSE, selected on
validation (RMSE in MW = sqrt(MSE) * 5613).

Run:   rnnlab train experiments/taylor.py --workdir runs/taylor
Expect: after 10 epochs (best epoch 8) validation MSE 0.128, test MSE 0.099 (test RMSE
about 1770 MW; predicting the mean gives MSE about 1), in 21 s wall on 2 busy CPU cores.
"""

from rnnlab.train import TrainConfig


def get_config() -> TrainConfig:
    return TrainConfig(
        dataset="taylor",
        dataset_options={"stride": 4},
        cell="lstm",
        hidden=32,
        optimizer="adam",
        lr=3e-3,
        clip_norm=1.0,
        batch_size=32,
        eval_batch_size=256,
        epochs=10,
        metric="loss",
        seed=0,
    )
