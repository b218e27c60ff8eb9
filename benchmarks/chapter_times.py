"""Time every chapter (or the ones named) and report wall time and the kernel's peak memory.

    .venv/bin/python benchmarks/chapter_times.py [chapters/x.ipynb ...]

Each notebook is executed once, in a fresh kernel, exactly as the book build does. The table goes to
stdout; budgets are checked here and reported, never asserted in a timed test.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient

# Run the chapters in this interpreter's environment (its python3 kernel), as `make` does.
os.environ.setdefault("JUPYTER_PATH", os.path.join(sys.prefix, "share", "jupyter"))
os.environ.setdefault("JAX_PLATFORMS", "cpu")

# Budgets from the issues: seconds of wall time on 2 CPU cores, and peak kernel memory in GB.
BUDGETS = {
    "wide_networks": (45, 1.5),
    "gd_step_size": (60, None),
    "natural_gradient": (60, None),
    "two_timescales": (90, None),
    "momentum": (60, None),
    "pinn": (90, None),
}

PEAK_RSS = (
    "import resource, sys\n"
    "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def run(path: str) -> tuple[float, float]:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_RSS))
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(path)}})
    t0 = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - t0
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    kb = float(text.split("PEAK_RSS_KB")[1].split()[0])
    return wall, kb / 1024**2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*")
    args = ap.parse_args()
    paths = args.notebooks or sorted(glob.glob("chapters/*.ipynb"))
    print(f"{'chapter':<22} {'wall s':>8} {'budget s':>9} {'peak GB':>8} {'budget GB':>10}  verdict")
    over = 0
    for p in paths:
        name = os.path.splitext(os.path.basename(p))[0]
        wall, gb = run(p)
        bt, bm = BUDGETS.get(name, (None, None))
        ok = (bt is None or wall <= bt) and (bm is None or gb <= bm)
        over += not ok
        print(f"{name:<22} {wall:8.1f} {bt if bt else '-':>9} {gb:8.2f} {bm if bm else '-':>10}  "
              f"{'within budget' if ok else 'OVER BUDGET'}", flush=True)
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
