"""Analysis of studies: Welch tests against the vanilla LSTM, fANOVA, the Odyssey's figures.

For notebooks::

    from rnnlab import analysis
    study = analysis.open_study("runs/odyssey_jsb/study.db")
    df = analysis.trials_frame(study)            # one row per trial
    a = analysis.analyze(study)                  # Welch tables + fANOVA fits
    a.welch, a.fanova.main(), a.fanova.pairs()
    analysis.write_report(a, "report/")          # report.html, report.md, summary.json, figures
"""

from rnnlab.analysis.analyze import Analysis, analyze
from rnnlab.analysis.fanova import Fanova, fit_fanova
from rnnlab.analysis.frame import ParamSpace, learning_curves, study_space, trials_frame
from rnnlab.analysis.record import create_study, record
from rnnlab.analysis.report import format_table, write_report
from rnnlab.analysis.storage import open_study, redact
from rnnlab.analysis.welch import holm, welch, welch_table

__all__ = [
    "Analysis",
    "Fanova",
    "ParamSpace",
    "analyze",
    "create_study",
    "fit_fanova",
    "format_table",
    "holm",
    "learning_curves",
    "open_study",
    "record",
    "redact",
    "study_space",
    "trials_frame",
    "welch",
    "welch_table",
    "write_report",
]
