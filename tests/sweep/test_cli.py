"""The commands: --help everywhere, one-line errors with exit 2, passwords never shown,
status and export, and the experiment files' presets."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from rnnlab.cli import build_parser, main
from rnnlab.sweep import experiment, plan, redact, resolve
from rnnlab.sweep.storage import StorageError, open_storage
from rnnlab.sweep.worker import STORAGE_ENV, worker_command
from tests.sweep.conftest import EXPERIMENT, FAKE, ROOT


@pytest.mark.parametrize(
    "argv",
    [["sweep", "--help"], ["study", "--help"], ["study", "export", "--help"]],
)
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(argv)
    assert e.value.code == 0
    assert "usage: rnnlab" in capsys.readouterr().out


def test_worker_help():
    out = subprocess.run(
        [sys.executable, "-m", "rnnlab.sweep", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert out.returncode == 0 and "--study" in out.stdout


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(("rnnlab sweep: error: ", "rnnlab study: error: "))
    return err


def test_one_line_errors(capsys, tmp_path):
    assert "not found" in _error(capsys, ["sweep", str(tmp_path / "nope.py")])
    assert "no preset 'huge'" in _error(capsys, ["sweep", EXPERIMENT, "--preset", "huge"])
    err = _error(
        capsys, ["sweep", EXPERIMENT, "--set", "model.hiden=3", "--storage", str(tmp_path / "x.db")]
    )
    assert "model.hiden" in err
    assert "key=value" in _error(capsys, ["sweep", EXPERIMENT, "--set", "oops"])
    assert "no study database" in _error(capsys, ["study", "export", str(tmp_path / "none.db")])
    assert "name a study" in _error(capsys, ["sweep", "status"])


def test_passwords_are_redacted_everywhere(capsys, tmp_path):
    url = "postgresql://alice:hunter2@127.0.0.1:1/db"
    assert redact(url) == "postgresql://alice:***@127.0.0.1:1/db"
    assert redact(f"could not connect to {url}: refused", url).count("hunter2") == 0
    assert redact("password hunter2 was wrong", url) == "password *** was wrong"
    assert redact("mysql+pymysql://bob:p%40ss@h/db") == "mysql+pymysql://bob:***@h/db"
    assert redact("sqlite:///runs/x/study.db") == "sqlite:///runs/x/study.db"
    spec = resolve(url, "s")
    assert "hunter2" not in spec.display
    with pytest.raises(StorageError) as e:
        open_storage(spec)
    assert "hunter2" not in str(e.value) and "alice:***@" in str(e.value)
    err = _error(capsys, ["sweep", EXPERIMENT, "--storage", url, "--executor", FAKE])
    assert "hunter2" not in err and "cannot open study storage" in err
    # workers get the URL from the environment, never on their command line
    cmd = worker_command("s", executor=FAKE, slots=2, run_dir="r", lease_seconds=5)
    assert "hunter2" not in " ".join(cmd) and STORAGE_ENV


def test_wrong_password_on_a_real_server_is_redacted(postgres_url, capsys):
    from tests.sweep.conftest import PG_PASSWORD

    bad = postgres_url.replace(PG_PASSWORD, "wrong-Secret-9")
    err = _error(capsys, ["sweep", EXPERIMENT, "--storage", bad, "--executor", FAKE])
    assert "wrong-Secret-9" not in err and PG_PASSWORD not in err
    assert "password authentication failed" in err


def test_sweep_status_and_export(tmp_path, capsys, worker_env):
    db = str(tmp_path / "study.db")
    code = main(
        [
            "sweep",
            EXPERIMENT,
            "--preset",
            "small",
            "--storage",
            db,
            "--executor",
            FAKE,
            "--no-progress",
            "--lease",
            "5",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "6 planned" in out and "done 6/6" in out
    assert main(["sweep", "status", "--storage", db]) == 0
    assert "done 6/6 · running 0" in capsys.readouterr().out
    # the same command again reruns nothing
    assert (
        main(
            [
                "sweep",
                EXPERIMENT,
                "--preset",
                "small",
                "--storage",
                db,
                "--executor",
                FAKE,
                "--no-progress",
            ]
        )
        == 0
    )
    assert "6 done, 0 enqueued" in capsys.readouterr().out
    # a changed config is refused in one line
    err = _error(
        capsys,
        [
            "sweep",
            EXPERIMENT,
            "--preset",
            "small",
            "--storage",
            db,
            "--set",
            "loop.epochs=3",
            "--executor",
            FAKE,
        ],
    )
    assert "loop.epochs: 4 -> 3" in err
    out_csv = str(tmp_path / "t.csv")
    assert main(["study", "export", db, "--out", out_csv]) == 0
    with open(out_csv) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    assert {"lr", "hidden", "momentum", "noise_std", "variant", "key", "test_loss"} <= set(rows[0])


@pytest.mark.parametrize("name", ["odyssey_jsb", "odyssey_vowels", "odyssey_digits_ctc"])
def test_odyssey_experiments_plan(name):
    path = os.path.join(ROOT, "experiments", f"{name}.py")
    for preset in ("smoke", "quick"):
        sweep, _ = experiment.load(path, preset)
        trials = plan(sweep.config_dict(), sweep.space, sweep.trials, sweep.seed)
        cfg = trials[0].config
        assert cfg["optim"]["name"] == "sgd" and cfg["optim"]["nesterov"] is True
    assert len(trials) == sweep.trials >= 36 and len({t.params["variant"] for t in trials}) == 9
    assert sweep.config_dict()["data"]["batch_size"] == 1  # quick: online updates, as the paper
    full, _ = experiment.load(path, "full")
    assert full.trials == 1800 and full.space.num_cells() == 9
    assert full.config_dict()["data"]["batch_size"] == 1


def test_the_live_display_reads_the_study_at_most_a_fiftieth_of_the_time():
    from rnnlab.sweep.display import Live

    live = Live(10, enabled=False)
    assert live.wait(0.01) == live.poll == 1.0  # a small study: once a second
    assert live.wait(2.5) == 125.0  # a read of 2.5 s: the next one 125 s later
