"""Build the notebooks from their sources in notebooks/src/ and, with --execute, run and save them.

    python notebooks/build.py                  # sources -> .ipynb (no outputs)
    python notebooks/build.py --execute 01 03  # run these top to bottom, store the outputs

A source is a Python file in the percent format: ``# %%`` starts a code cell and
``# %% [markdown]`` a markdown cell whose lines are comments (``# `` stripped).
"""

from __future__ import annotations

import argparse
import pathlib
import time

import nbformat

HERE = pathlib.Path(__file__).parent


def cells(text: str) -> list:
    out, kind, lines = [], None, []

    def flush():
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in lines)
            body = body.strip("\n")
            out.append(nbformat.v4.new_markdown_cell(body))
        elif kind == "code" and body:
            out.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    return out


def build(src: pathlib.Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells(src.read_text())
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--execute", nargs="*", default=None, help="prefixes of notebooks to run")
    ap.add_argument(
        "--sync", action="store_true", help="copy the sources into stored notebooks, keep outputs"
    )
    args = ap.parse_args()
    if args.sync:
        for src in sorted((HERE / "src").glob("*.py")):
            target = HERE / (src.stem + ".ipynb")
            nb, new = nbformat.read(target, as_version=4), build(src)
            kinds = [c.cell_type for c in nb.cells] == [c.cell_type for c in new.cells]
            if not kinds:
                raise SystemExit(f"{target.name}: cells differ from its source; execute it again")
            for old, cell in zip(nb.cells, new.cells):
                old.source = cell.source
            nbformat.write(nb, target)
        return
    for src in sorted((HERE / "src").glob("*.py")):
        nb = build(src)
        target = HERE / (src.stem + ".ipynb")
        if args.execute is not None and any(src.stem.startswith(p) for p in args.execute):
            from nbclient import NotebookClient

            t0 = time.perf_counter()
            NotebookClient(
                nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
            ).execute()
            print(f"{target.name}: executed in {time.perf_counter() - t0:.0f} s", flush=True)
        elif args.execute is not None and target.exists():
            continue  # keep the stored outputs of notebooks not asked for
        nbformat.write(nb, target)


if __name__ == "__main__":
    main()
