"""report.html opened in a real headless Chromium: no console or load errors, every image drawn.

Needs the Debian package ``chromium`` (``apt-get install -y chromium``); skipped without it.
A probe script is put first in <head>, before the page's Content-Security-Policy (which
applies only to what follows it): it records error events (failed resources, script errors)
and console.error calls, and after load writes how many images decoded into the DOM that
``--dump-dom`` prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import optuna
import pytest

from rnnlab.analysis import analyze, write_report
from tests.analysis._synth import make_study

pytestmark = pytest.mark.slow

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__errors.push(t && t.tagName ? "resource " + t.tagName : "script " + e.message);
}, true);
(function () {
  var orig = console.error;
  console.error = function () {
    window.__errors.push("console " + Array.prototype.join.call(arguments, " "));
    orig.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var d = document.createElement("pre");
  d.id = "rnnlab-probe";
  d.textContent = JSON.stringify({images: imgs.length, broken: broken.length,
                                  errors: window.__errors});
  document.body.appendChild(d);
});
</script>"""


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _open(browser: str, page: str, profile: str) -> tuple[dict, str]:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        "--dump-dom",
        f"file://{page}",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    m = re.search(r'<pre id="rnnlab-probe">([^<]*)</pre>', r.stdout)
    assert m, f"no probe output (rc {r.returncode}): {r.stderr[-2000:]}"
    return json.loads(m.group(1).replace("&quot;", '"')), r.stderr


def _with_probe(html: str, extra: str = "") -> str:
    return html.replace("<head>", "<head>" + PROBE, 1).replace("</body>", extra + "</body>", 1)


def test_report_opens_cleanly_in_chromium(tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install -y chromium)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study, _ = make_study(None, per_variant=20)
    out = tmp_path / "report"
    summary = write_report(analyze(study, n_trees=8), str(out))
    html = (out / "report.html").read_text()
    page = tmp_path / "probed.html"
    page.write_text(_with_probe(html))
    res, stderr = _open(browser, str(page), str(tmp_path / "profile"))
    assert res["images"] == len(summary["plots"]) == 5
    assert res["broken"] == 0 and res["errors"] == [], res
    console = [ln for ln in stderr.splitlines() if "CONSOLE" in ln]
    assert not console, console

    # The probe can fail: a broken image and a blocked external load are seen.
    bad = tmp_path / "bad.html"
    bad.write_text(_with_probe(html, '<img src="data:image/png;base64,AAAA">'))
    res, _ = _open(browser, str(bad), str(tmp_path / "profile2"))
    assert res["broken"] == 1 and res["errors"], res
    assert os.path.getsize(out / "report.html") > 10_000
