"""The report of one analysed study: report.html, report.md, summary.json, the figures.

report.html is self-contained (every figure embedded as a base64 PNG ``data:`` URI, no external
file, script or font) and every string that comes from the study (its name, parameter names
and values, variant names, attribute values, notes) is HTML-escaped. The storage is shown
redacted (no password; :func:`rnnlab.analysis.storage.redact`). summary.json holds every number
the tables show; :func:`format_table` is the terminal summary.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from typing import Any

import numpy as np

from rnnlab.analysis import plots
from rnnlab.analysis.analyze import FIG4_PARAMS, FIG6_PAIR, VARIANT, Analysis
from rnnlab.analysis.fanova import Fanova
from rnnlab.analysis.welch import variant_order

# Defence in depth behind the escaping: the page may load nothing and run no script.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
tr.sig td{font-weight:bold;color:#1f4e9c}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
.note{color:#666;font-size:.9em}
"""


# ------------------------------------------------------------------------------ figures
def make_figures(a: Analysis, out_dir: str) -> dict[str, dict[str, Any]]:
    """Writes every figure the analysis supports; returns {stem: {"title", "png", "svg"}}."""
    figs: dict[str, dict[str, Any]] = {}

    def keep(stem, fig, title, caption):
        png, svg = plots.save(fig, out_dir, stem)
        figs[stem] = {"title": title, "caption": caption, "png": png, "svg": svg}

    if a.welch is not None:
        keep(
            "fig3_variants",
            plots.fig_variants(
                a.usable,
                a.metric,
                a.welch,
                variant=f"params_{VARIANT}",
                reference=a.reference,
                metric_label=a.metric_label,
                lower_is_better=a.lower_is_better,
            ),
            "Fig. 3: variants against the vanilla LSTM",
            "Boxes 25th-75th percentile, whiskers full range, red line median, red dot mean, "
            "grey points trials; blue, thick: significantly different from "
            f"{a.reference} at alpha={a.alpha}"
            + (" after Holm correction." if a.correction == "holm" else "."),
        )
    fa, ft, who = a.plot_fanova()
    if fa is not None:
        p4 = [p for p in FIG4_PARAMS if p in fa.params and not fa.space[p].categorical]
        if not p4:
            p4 = _top_params(fa, 3)
        if p4:
            keep(
                "fig4_marginals",
                plots.fig_marginals(fa, ft, p4, metric_label=a.metric_label, title=who),
                "Fig. 4: predicted marginal metric and training time",
                f"fANOVA marginals ({who}); blue: {a.metric_label}, green: training time; "
                "shaded: std across trees.",
            )
        keep(
            "fig5_importance",
            plots.fig_importance(fa, ft, title=who),
            "Fig. 5: fraction of variance per hyperparameter",
            f"Main-effect fractions ({who}) and the remainder due to interactions; error bars: "
            "std across trees.",
        )
        pair = _pair(fa)
        if pair is not None:
            keep(
                "fig6_pair",
                plots.fig_pair(fa, *pair, title=f"{who}: {pair[0]} x {pair[1]}"),
                f"Fig. 6: {pair[0]} x {pair[1]}",
                f"Predicted {a.metric_label} over the pair (left) and its interaction-only part "
                "a_pq - a_p - a_q + f_0 (right).",
            )
    labels = _curve_trials(a)
    if labels and a.curves is not None and len(a.curves):
        keep(
            "learning_curves",
            plots.fig_curves(a.curves, labels, ylabel="validation value"),
            "Learning curves",
            "Intermediate values (validation metric per epoch) of "
            + ("the best trial of each variant." if a.welch is not None else "the best trials."),
        )
    return figs


def _top_params(fa: Fanova, k: int) -> list[str]:
    main = fa.main()
    cont = [p for p in fa.params if not fa.space[p].categorical]
    return sorted(cont, key=lambda p: -np.nan_to_num(main[p][0]))[:k]


def _pair(fa: Fanova) -> tuple[str, str] | None:
    if all(p in fa.params for p in FIG6_PAIR):
        return FIG6_PAIR
    pairs = {k: v for k, v in fa.pairs().items()}
    if not pairs:
        return None
    return max(pairs, key=lambda k: np.nan_to_num(pairs[k][0]))


def _curve_trials(a: Analysis) -> dict[int, str]:
    u = a.usable
    if u.empty:
        return {}
    lower = a.lower_is_better
    if a.welch is not None:
        vcol = f"params_{VARIANT}"
        out = {}
        for v in variant_order(u[vcol].dropna().astype(str).unique(), a.reference):
            g = u[u[vcol].astype(str) == v]
            best = g.nsmallest(1, "value") if lower else g.nlargest(1, "value")
            out[int(best["number"].iloc[0])] = f"{v} #{int(best['number'].iloc[0])}"
        return out
    best = u.nsmallest(8, "value") if lower else u.nlargest(8, "value")
    return {int(n): f"#{int(n)}" for n in best["number"]}


# ------------------------------------------------------------------------------ formatting
def _f(x: Any, nd: int = 4) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return str(int(x))
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "–"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.{max(1, nd - 1)}e}"
    return f"{v:.{nd}g}" if abs(v) >= 1 else f"{v:.{nd}f}"


def _p(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    return f"{v:.2e}" if v < 1e-3 else f"{v:.4f}"


def welch_rows(a: Analysis) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, rows (strings) and significance flags of the Welch table."""
    head = [
        "variant",
        "subset",
        "n",
        f"mean {a.metric_label}",
        f"mean {a.reference}",
        "diff",
        "CI low",
        "CI high",
        "t",
        "df",
        "p",
    ]
    if a.correction == "holm":
        head.append("p (Holm)")
    head += ["Hedges' g", "significant"]
    rows, sig = [], []
    if a.welch is None:
        return head, rows, sig
    for r in a.welch.to_dict("records"):
        row = [
            str(r["variant"]),
            str(r["subset"]),
            _f(r["n"]),
            _f(r["mean"]),
            _f(r["mean_ref"]),
            _f(r["diff"]),
            _f(r["ci_low"]),
            _f(r["ci_high"]),
            _f(r["t"], 3),
            _f(r["df"], 3),
            _p(r["p"]),
        ]
        if a.correction == "holm":
            row.append(_p(r["p_holm"]))
        s = bool(r["significant"])
        row += [_f(r["hedges_g"], 3), (f"yes ({r['direction']})" if s else "no")]
        rows.append(row)
        sig.append(s)
    return head, rows, sig


def fanova_rows(f: Fanova, k_pairs: int = 10) -> tuple[list[str], list[list[str]]]:
    """Header and rows: main effects, the top pairs, interaction remainder."""
    head = ["parameter(s)", "fraction (mean)", "std across trees"]
    rows = [
        [p, _f(m), _f(s)]
        for p, (m, s) in sorted(f.main().items(), key=lambda kv: -np.nan_to_num(kv[1][0]))
    ]
    pairs = sorted(f.pairs().items(), key=lambda kv: -np.nan_to_num(kv[1][0]))[:k_pairs]
    rows += [[f"{a} × {b}", _f(m), _f(s)] for (a, b), (m, s) in pairs]
    m, s = f.interactions()
    rows.append(["all interactions (1 − Σ main)", _f(m), _f(s)])
    return head, rows


# ------------------------------------------------------------------------------ html
def _e(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _table_html(head, rows, sig=None, left=1) -> str:
    h = "".join(f'<th class="{"l" if i < left else ""}">{_e(c)}</th>' for i, c in enumerate(head))
    thead = f"<thead><tr>{h}</tr></thead>" if any(head) else ""
    body = []
    for i, r in enumerate(rows):
        cls = ' class="sig"' if sig and sig[i] else ""
        cells = "".join(
            f'<td class="{"l" if j < left else ""}">{_e(c)}</td>' for j, c in enumerate(r)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _img_html(fig: dict[str, Any]) -> str:
    with open(fig["png"], "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    return (
        f'<figure><img alt="{_e(fig["title"])}" src="data:image/png;base64,{data}">'
        f'<figcaption class="note">{_e(fig["caption"])} '
        f"(files: {_e(os.path.basename(fig['png']))}, {_e(os.path.basename(fig['svg']))})"
        "</figcaption></figure>"
    )


def _study_rows(a: Analysis) -> list[list[str]]:
    rn = a.frame.attrs.get("rnnlab", {})
    rows = [
        ["study", a.study_name],
        ["storage", a.storage],
        ["direction", a.direction],
        ["metric analysed", a.metric_label],
        ["dataset", a.dataset or "–"],
        ["alpha", _f(a.alpha)],
        [
            "correction",
            "Holm (an addition to the paper)" if a.correction == "holm" else "none (as the paper)",
        ],
    ]
    for k in ("config_hash", "git", "seed"):
        if k in rn:
            rows.append([k, str(rn[k])])
    rows.append(
        [
            "parameters",
            ", ".join(f"{p} ({a.frame.attrs['space'][p].kind})" for p in a.frame.attrs["params"]),
        ]
    )
    return rows


def render_html(a: Analysis, figs: dict[str, dict[str, Any]]) -> str:
    """The self-contained report page."""
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>rnnlab analysis: {_e(a.study_name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Study {_e(a.study_name)}</h1>",
        _table_html(["", ""], _study_rows(a), left=2),
        "<h2>Trials</h2>",
        _table_html(["state", "trials"], [[k, str(v)] for k, v in a.counts().items()]),
    ]
    if a.welch is not None:
        head, rows, sig = welch_rows(a)
        parts += [
            f"<h2>Welch's t-tests against {_e(a.reference)}</h2>",
            "<p class=\"note\">Two-sided Welch's t-test of each variant's mean "
            f"{_e(a.metric_label)} against {_e(a.reference)}; df by Welch-Satterthwaite; CI is "
            f"the {_e(_f(100 * (1 - a.alpha), 3))} % "
            "interval of the difference of means (variant − reference); effect size Hedges' g "
            "(pooled SD, small-sample corrected). Subsets: all usable trials, and the best 10 % of "
            "each variant by validation value. "
            + (
                "Holm's correction across all rows is an addition to Greff et al. 2017, which "
                "reports uncorrected tests."
                if a.correction == "holm"
                else "Uncorrected, as the paper."
            )
            + "</p>",
            _table_html(head, rows, sig, left=2),
        ]
    if "fig3_variants" in figs:
        parts.append(_img_html(figs["fig3_variants"]))
    for label, f in (
        ("test metric", a.fanova),
        ("training time", a.fanova_time),
        (f"test metric, variant {a.reference}", a.fanova_ref),
        (f"training time, variant {a.reference}", a.fanova_ref_time),
    ):
        if f is None:
            continue
        head, rows = fanova_rows(f)
        r2 = _f(f.oob_r2, 3)
        parts += [
            f"<h2>fANOVA: {_e(label)}</h2>",
            f'<p class="note">{_e(f.target)}; {f.n_trials} trials, {f.n_trees} trees, '
            f"out-of-bag R² {_e(r2)}; fractions of variance in each parameter's sampling space "
            f"({_e(', '.join(f'{p}: {f.space[p].kind}' for p in f.params))}).</p>",
            _table_html(head, rows),
        ]
    if a.fanova_by_variant:
        ps = sorted({p for f in a.fanova_by_variant.values() for p in f.params})
        head = ["variant", "n", "OOB R²", *ps, "interactions"]
        rows = []
        for v, f in a.fanova_by_variant.items():
            main = f.main()
            rows.append(
                [
                    v,
                    str(f.n_trials),
                    _f(f.oob_r2, 3),
                    *[_f(main[p][0]) if p in main else "–" for p in ps],
                    _f(f.interactions()[0]),
                ]
            )
        parts += ["<h2>fANOVA main effects per variant</h2>", _table_html(head, rows)]
    for stem in ("fig4_marginals", "fig5_importance", "fig6_pair", "learning_curves"):
        if stem in figs:
            parts += [f"<h2>{_e(figs[stem]['title'])}</h2>", _img_html(figs[stem])]
    if a.notes:
        parts += ["<h2>Notes</h2><ul>", *[f"<li>{_e(n)}</li>" for n in a.notes], "</ul>"]
    parts.append(
        '<p class="note">Made by <code>rnnlab analyze</code>; every number is in summary.json.</p>'
    )
    parts.append("</body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------ markdown
def _md_cell(s: Any) -> str:
    return html.escape(str(s), quote=False).replace("|", "\\|").replace("\n", " ")


def _table_md(head, rows) -> str:
    lines = [
        "| " + " | ".join(_md_cell(h) for h in head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def render_md(a: Analysis, figs: dict[str, dict[str, Any]]) -> str:
    """report.md: the same tables, figures linked as files next to it."""
    out = [
        f"# Study {_md_cell(a.study_name)}",
        "",
        _table_md(["", ""], _study_rows(a)),
        "",
        "## Trials",
        "",
        _table_md(["state", "trials"], [[k, str(v)] for k, v in a.counts().items()]),
        "",
    ]
    if a.welch is not None:
        head, rows, sig = welch_rows(a)
        rows = [
            [f"**{c}**" if s and j == 0 else c for j, c in enumerate(r)] for r, s in zip(rows, sig)
        ]
        out += [
            f"## Welch's t-tests against {_md_cell(a.reference)}",
            "",
            _table_md(head, rows),
            "",
        ]
        if a.correction == "holm":
            out += ["Holm's correction is an addition to Greff et al. 2017.", ""]
    for label, f in (
        ("test metric", a.fanova),
        ("training time", a.fanova_time),
        (f"test metric, variant {a.reference}", a.fanova_ref),
    ):
        if f is None:
            continue
        head, rows = fanova_rows(f)
        out += [
            f"## fANOVA: {_md_cell(label)}",
            "",
            f"{f.n_trials} trials, {f.n_trees} trees, out-of-bag R² {_f(f.oob_r2, 3)}.",
            "",
            _table_md(head, rows),
            "",
        ]
    for fig in figs.values():
        out += [
            f"## {_md_cell(fig['title'])}",
            "",
            f"![{_md_cell(fig['title'])}]({os.path.basename(fig['png'])})",
            "",
            _md_cell(fig["caption"]),
            "",
        ]
    if a.notes:
        out += ["## Notes", ""] + [f"- {_md_cell(n)}" for n in a.notes] + [""]
    return "\n".join(out)


# ------------------------------------------------------------------------------ terminal
def format_table(a: Analysis) -> str:
    """The terminal summary: counts, Welch table, fANOVA main effects."""

    def table(head, rows):
        w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

        def line(r):
            return "  ".join(
                str(c).rjust(w[i]) if i else str(c).ljust(w[i]) for i, c in enumerate(r)
            )

        return "\n".join([line(head), line(["-" * x for x in w]), *map(line, rows)])

    c = a.counts()
    out = [
        f"study {a.study_name} ({a.storage}): {c['total']} trials, {c['complete']} complete, "
        f"{c['failed']} failed, {c['diverged']} diverged; metric: {a.metric_label}"
    ]
    if a.welch is not None:
        head, rows, _ = welch_rows(a)
        keep = [0, 1, 2, 3, 5, 10] + ([11] if a.correction == "holm" else []) + [len(head) - 1]
        out += [
            "",
            f"Welch's t-test against {a.reference} (alpha={a.alpha})",
            table([head[i] for i in keep], [[r[i] for i in keep] for r in rows]),
        ]
    if a.fanova is not None:
        head, rows = fanova_rows(a.fanova, k_pairs=3)
        out += [
            "",
            f"fANOVA of {a.metric_label} (OOB R² {_f(a.fanova.oob_r2, 3)})",
            table(head, rows),
        ]
    for n in a.notes:
        out.append(f"note: {n}")
    return "\n".join(out)


# ------------------------------------------------------------------------------ all
def write_report(a: Analysis, out_dir: str) -> dict[str, Any]:
    """Writes figures, report.html, report.md and summary.json to ``out_dir``; returns the
    summary (with ``"plots"``: figure stems -> file names)."""
    os.makedirs(out_dir, exist_ok=True)
    figs = make_figures(a, out_dir)
    summary = a.summary()
    summary["plots"] = {
        k: {"png": os.path.basename(v["png"]), "svg": os.path.basename(v["svg"])}
        for k, v in figs.items()
    }
    with open(os.path.join(out_dir, "report.html"), "w", encoding="utf-8") as fh:
        fh.write(render_html(a, figs))
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as fh:
        fh.write(render_md(a, figs))
    with open(os.path.join(out_dir, "summary.json"), "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=2, allow_nan=False)
    return summary
