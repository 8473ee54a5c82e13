"""The live sweep display: trials done / running / failed / diverged, best so far, ETA.

On a terminal one line is redrawn in place every second; otherwise (a log file, CI) a line is
printed every 30 s and whenever the done count changes by a tenth of the plan.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def status_line(summary: dict[str, Any], planned: int, eta: float | None = None) -> str:
    """``done 12/90 · running 8 · failed 0 · diverged 3 · best 8.41 (#17) · ETA 3m20s``."""
    parts = [
        f"done {summary['done']}/{planned}",
        f"running {summary['running']}",
        f"waiting {summary['waiting']}",
        f"failed {summary['failed']}",
        f"diverged {summary['diverged']}",
    ]
    if summary.get("requeued"):
        parts.append(f"requeued {summary['requeued']}")
    best = summary.get("best")
    if best is not None:
        parts.append(f"best {best['value']:.4g} (#{best['number']})")
    if eta is not None:
        parts.append(f"ETA {format_duration(eta)}")
    return " · ".join(parts)


class Live:
    """Progress of one ``rnnlab sweep`` run; ``update`` with a queue summary."""

    def __init__(self, planned: int, *, enabled: bool = True, stream: TextIO | None = None):
        self.planned = planned
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.period = 1.0 if self.tty else 30.0  # seconds between printed lines
        self.poll = 1.0  # seconds between looks at the study, at least
        self.start = time.monotonic()
        self.done0: int | None = None
        self.last_print = 0.0
        self.last_done = -1

    def eta(self, done: int) -> float | None:
        if self.done0 is None or done <= self.done0:
            return None
        rate = (done - self.done0) / (time.monotonic() - self.start)
        return (self.planned - done) / rate if rate > 0 else None

    def wait(self, read_seconds: float) -> float:
        """Seconds until the next look at the study, given that the last one took
        ``read_seconds``: at least ``poll``, and 50 times the read, so that the display
        takes under 2% of a core from the workers however large the study grows."""
        return max(self.poll, 50.0 * read_seconds)

    def update(self, summary: dict[str, Any]) -> None:
        if self.done0 is None:
            self.done0 = summary["done"]
        if not self.enabled:
            return
        line = status_line(summary, self.planned, self.eta(summary["done"]))
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
        elif now - self.last_print >= self.period or summary["done"] - self.last_done >= max(
            1, self.planned // 10
        ):
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last_print, self.last_done = now, summary["done"]

    def finish(self, summary: dict[str, Any]) -> None:
        if not self.enabled:
            return
        took = format_duration(time.monotonic() - self.start)
        end = "\n" if self.tty else ""
        self.stream.write(f"{end}{status_line(summary, self.planned)} · took {took}\n")
        self.stream.flush()


def results_table(trials: Sequence[Any], by: str, metric: str) -> str:
    """A Markdown table per value of the param ``by`` (e.g. the LSTM variant): complete and
    diverged trials, best and median test ``metric`` (at each trial's best validation
    epoch) and the best validation value."""
    from optuna.trial import TrialState

    groups: dict[Any, list] = {}
    for t in trials:
        if t.state == TrialState.COMPLETE and by in t.params:
            groups.setdefault(t.params[by], []).append(t)
    lines = [
        f"| {by} | trials | diverged | best test {metric} | median test {metric} | best valid |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key in sorted(groups, key=str):
        ts = groups[key]
        test = [t.user_attrs.get("test", {}).get(metric, math.nan) for t in ts]
        test = [v for v in test if math.isfinite(v)]
        valid = [t.value for t in ts if t.value is not None and math.isfinite(t.value)]
        diverged = sum(bool(t.user_attrs.get("diverged")) for t in ts)
        best = f"{min(test):.3f}" if test else "-"
        median = f"{statistics.median(test):.3f}" if test else "-"
        best_valid = f"{min(valid):.3f}" if valid else "-"
        lines.append(f"| {key} | {len(ts)} | {diverged} | {best} | {median} | {best_valid} |")
    return "\n".join(lines)
