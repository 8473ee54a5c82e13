"""`rnnlab analyze` end to end on small synthetic studies in temporary SQLite / journal files."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import sqlite3

import numpy as np
import optuna
import pytest
from scipy import stats

from rnnlab.analysis.storage import open_study, redact, scrub
from rnnlab.cli import main
from tests.analysis._synth import EVIL, make_study

PER_VARIANT = 30


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["analyze", *map(str, argv)])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("analyze")
    db = d / "study.db"
    _, truth = make_study(f"sqlite:///{db}", per_variant=PER_VARIANT)
    out = d / "report"
    rc, stdout, stderr = run_cli(db, "--out", out, "--holm", "--trees", 16)
    assert rc == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    return {"db": db, "out": out, "truth": truth, "summary": summary, "stdout": stdout}


def test_summary_counts_and_keys(report):
    s, truth = report["summary"], report["truth"]
    assert s["trials"]["complete"] == truth["complete"] == 3 * PER_VARIANT
    assert s["trials"]["failed"] == truth["failed"]
    assert s["trials"]["diverged"] == truth["diverged"]
    assert set(s["welch"]) == {"NFG", "CIFG"}
    for v in s["welch"]:
        assert set(s["welch"][v]) == {"all", "top10"}
    f = s["fanova"]
    assert set(f["main"]) == {"lr", "hidden", "momentum", "noise_std", "variant", "tag"}
    assert {"mean", "std"} <= set(f["main"]["lr"])
    assert "lr|hidden" in f["pairs"] and {"mean", "std"} <= set(f["pairs"]["lr|hidden"])
    assert isinstance(f["oob_r2"], float)
    assert max(f["main"], key=lambda p: f["main"][p]["mean"]) == "lr"  # by construction
    assert s["fanova_time"]["main"]["hidden"]["mean"] > 0.5  # seconds ~ hidden
    assert s["welch_settings"]["correction"] == "holm"
    assert set(s["welch_by_dataset"]) == {"synthetic"}  # the study's rnnlab dataset
    assert "addition" in s["welch_settings"]["note"]


def test_summary_welch_numbers(report):
    s, truth = report["summary"], report["truth"]
    tests = {v: np.array([t for _, t in truth["test"][v]]) for v in truth["test"]}
    r = s["welch"]["NFG"]["all"]
    ref = stats.ttest_ind(tests["NFG"], tests["V"], equal_var=False)
    assert r["diff"] == pytest.approx(tests["NFG"].mean() - tests["V"].mean(), rel=1e-9)
    assert r["p"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert r["df"] == pytest.approx(ref.df, rel=1e-9)

    def best(v, k=3):  # best 10 % (3 of 30) by validation value
        pairs = sorted(truth["test"][v])
        return np.array([t for _, t in pairs[:k]])

    r = s["welch"]["NFG"]["top10"]
    ref = stats.ttest_ind(best("NFG"), best("V"), equal_var=False)
    assert r["n"] == 3 and r["p"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert r["significant"] and r["direction"] == "worse"  # NFG is 1.0 worse by construction
    ps = [s["welch"][v][k]["p"] for v in ("NFG", "CIFG") for k in ("all", "top10")]
    holm = [s["welch"][v][k]["p_holm"] for v in ("NFG", "CIFG") for k in ("all", "top10")]
    assert min(holm) == pytest.approx(min(1.0, 4 * min(ps)))


def test_html_embeds_every_image_and_escapes(report):
    out, s = report["out"], report["summary"]
    html = (out / "report.html").read_text()
    pngs = sorted(p for p in os.listdir(out) if p.endswith(".png"))
    assert {
        "fig3_variants",
        "fig4_marginals",
        "fig5_importance",
        "fig6_pair",
        "learning_curves",
    } == {p[:-4] for p in pngs}
    assert sorted(v["png"] for v in s["plots"].values()) == pngs
    for p in pngs:
        assert (out / p.replace(".png", ".svg")).is_file()
    srcs = re.findall(r'<img [^>]*src="([^"]*)"', html)
    assert len(srcs) == len(pngs)
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"(src|href)=\"(?!data:)", html)  # nothing external
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html  # the evil choice / attribute, shown escaped
    assert "<b>demo</b>" not in html and "&lt;b&gt;demo&lt;/b&gt;" in html
    md = (out / "report.md").read_text()
    assert "<script" not in md and "fig3_variants.png" in md


def test_terminal_table(report):
    text = report["stdout"]
    assert "Welch's t-test against V" in text and "NFG" in text and "fANOVA" in text
    assert "report.html" in text


def _journal(path):
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def test_study_without_variant_skips_welch(tmp_path):
    path = tmp_path / "plain.log"  # a journal file, and a study rnnlab did not make
    make_study(_journal(path), "plain", per_variant=20, variants=False, rnnlab_attrs=False)
    rc, _, err = run_cli(path, "--out", tmp_path / "r", "--trees", 8, "--quiet")
    assert rc == 0, err
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["welch"] == {} and any("variant" in n for n in s["notes"])
    assert "fig3_variants" not in s["plots"] and "fig5_importance" in s["plots"]
    assert s["fanova"]["space"]["lr"]["kind"] == "log_uniform"  # from the distribution's log flag


def test_journal_storage_and_study_choice(tmp_path):
    path = tmp_path / "journal.log"
    storage = _journal(path)
    make_study(storage, "one", per_variant=6)
    make_study(storage, "two", per_variant=6)
    rc, _, err = run_cli(path, "--out", tmp_path / "r2", "--trees", 4)
    assert rc == 2 and err.startswith("rnnlab analyze: error:") and err.count("\n") == 1
    assert "--study" in err and "one, two" in err
    rc, _, err = run_cli(path, "--study", "three", "--out", tmp_path / "r3")
    assert rc == 2 and "no study named 'three'" in err and "one, two" in err
    rc, _, err = run_cli(path, "--study", "two", "--out", tmp_path / "r4", "--trees", 4, "--quiet")
    assert rc == 0, err


def test_bad_inputs_exit_2(report, tmp_path):
    rc, _, err = run_cli(tmp_path / "missing.db", "--out", tmp_path / "x")
    assert rc == 2 and "no such file" in err
    rc, _, err = run_cli(report["db"], "--out", tmp_path / "x", "--metric", "accuracy")
    assert rc == 2 and "no test metric 'accuracy'" in err and "loss" in err
    rc, _, err = run_cli(report["db"], "--out", tmp_path / "x", "--alpha", "2")
    assert rc == 2 and "--alpha" in err
    rc, _, err = run_cli(f"sqlite:///{tmp_path}/nope.db", "--out", tmp_path / "x")
    assert rc == 2 and "no such SQLite file" in err
    other = tmp_path / "other.db"  # an SQLite file that is not Optuna's: left untouched
    sqlite3.connect(other).execute("CREATE TABLE t (a)").connection.commit()
    before = other.read_bytes()
    rc, _, err = run_cli(other, "--out", tmp_path / "x")
    assert rc == 2 and "not an Optuna storage" in err and other.read_bytes() == before
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    rc, _, err = run_cli(text, "--out", tmp_path / "x")
    assert rc == 2 and "no studies" in err and "journal" in err
    assert not (tmp_path / "x").exists()


def test_password_is_redacted(tmp_path):
    url = "postgresql://alice:s3cr%40t@127.0.0.1:1/odyssey?password=hunter2&sslmode=disable"
    shown = redact(url)
    assert "s3cr" not in shown and "hunter2" not in shown and "alice:***@127.0.0.1:1" in shown
    assert "sslmode=disable" in shown
    assert "s3cr" not in scrub(f"failed for {url} with s3cr@t and s3cr%40t", url)
    assert redact("study.db") == "study.db"
    rc, out, err = run_cli(url, "--out", tmp_path / "x")
    assert rc == 2 and err.startswith("rnnlab analyze: error: cannot open storage")
    assert "s3cr" not in err + out and "hunter2" not in err + out
    assert not (tmp_path / "x").exists()


def test_open_study_importable(report):
    study = open_study(str(report["db"]))
    assert study.study_name == "odyssey <b>demo</b>"
    assert EVIL in study.user_attrs["rnnlab"]["git"]
