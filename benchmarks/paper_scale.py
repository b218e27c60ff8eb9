"""Run every chapter at the papers' sizes and record what happened (issue: "the paper scale, for real").

    .venv/bin/python benchmarks/paper_scale.py [chapters/x.ipynb ...] [--limit 900]

Each chapter is executed once, in a fresh kernel, with ``TWOLAYER_SCALE=paper``, exactly as
``make paper`` executes it for the book. For each chapter the script records the sizes it ran at
(the ``paper=`` argument of every ``config.pick`` call in its code), its wall time, the kernel's peak
memory, how many ``assert`` statements ran and held, and whether it finished within the limit
(15 minutes by default), the kernel's CPU seconds and the load average before and after, the
machine, the date and the git commit (``+changes`` when the chapter or ``src`` had
uncommitted edits); then the versions. The record is written to
``benchmarks/paper_scale.json`` (committed: the status page shows it next to the quick-scale
table of the current build). A chapter that fails or runs over the limit is recorded as such;
nothing is asserted here, the script exits 1 if any chapter failed or ran over.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import glob
import json
import os
import platform
import re
import subprocess
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

os.environ.setdefault("JUPYTER_PATH", os.path.join(sys.prefix, "share", "jupyter"))
os.environ.setdefault("JAX_PLATFORMS", "cpu")

RECORD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paper_scale.json")
PEAK_RSS = (
    "import resource\n"
    "_u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print('PEAK_RSS_KB', _u.ru_maxrss, 'CPU_S', _u.ru_utime + _u.ru_stime)"
)


def paper_sizes(nb) -> dict[str, str]:
    """``{target: paper value}`` for every ``target = config.pick(quick=..., paper=...)`` in the code."""
    sizes = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join(l for l in cell.source.splitlines() if not l.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.AST)):
                continue
            for call in ast.walk(node.value):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "pick"):
                    paper = next((k.value for k in call.keywords if k.arg == "paper"),
                                 call.args[1] if len(call.args) > 1 else None)
                    if paper is not None:
                        name = ", ".join(ast.unparse(t) for t in node.targets)
                        sizes[name] = ast.unparse(paper)
    return sizes


def asserts_in(cell) -> int:
    return sum(1 for l in cell.source.splitlines() if l.lstrip().startswith("assert "))


def run_one(path: str, limit: float) -> dict:
    nb = nbformat.read(path, as_version=4)
    sizes = paper_sizes(nb)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_RSS))
    client = NotebookClient(nb, timeout=int(limit), kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(path)}})
    status, error = "passed", ""
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        client.execute()
    except CellTimeoutError:
        status, error = "over the limit", f"a cell ran longer than {limit:.0f} s"
    except CellExecutionError as exc:
        status, error = "failed", str(exc).strip().splitlines()[-1][:300]
    wall = time.perf_counter() - t0
    if status == "passed" and wall > limit:
        status = "over the limit"
    ran = [c for c in nb.cells[:-1] if c.cell_type == "code" and c.get("execution_count") is not None]
    failed_cell = next((c for c in ran if any(o.get("output_type") == "error" for o in c.outputs)), None)
    if failed_cell is not None:
        err = next(o for o in failed_cell.outputs if o.get("output_type") == "error")
        where = nb.cells.index(failed_cell)
        error = re.sub(r"\x1b\[[0-9;]*m", "", f"cell {where}: {err.get('ename')}: {err.get('evalue')}")[:300]
    held = sum(asserts_in(c) for c in ran if c is not failed_cell)
    peak = cpu = None
    if status == "passed":
        text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
        peak = round(float(text.split("PEAK_RSS_KB")[1].split()[0]) / 1024**2, 2)
        cpu = round(float(text.split("CPU_S")[1].split()[0]), 1)
    # The kernel's CPU seconds (all its threads) and the 1-minute load average before and after:
    # on a shared machine the wall time is inflated, the CPU time much less so.
    load = [round(load0, 1), round(os.getloadavg()[0], 1)]
    return {"chapter": os.path.splitext(os.path.basename(path))[0], "status": status,
            "wall_s": round(wall, 1), "cpu_s": cpu, "load": load, "peak_gb": peak, "asserts_held": held,
            "asserts_total": sum(asserts_in(c) for c in nb.cells if c.cell_type == "code"), "sizes": sizes, "error": error,
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")}


def commit(path: str) -> str:
    """The short commit the run used, with ``+changes`` if the chapter or the package differed."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", path, "src"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import jax  # noqa: PLC0415  (the kernel's JAX is the same installation)

    from twolayer import config  # noqa: PLC0415

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": usable, "jax_devices": [str(d) for d in jax.devices()],
            "versions": {k: v for k, v in config.versions().items() if k not in ("scale", "float64")}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--limit", type=float, default=900.0, help="seconds per chapter (default 900)")
    ap.add_argument("--out", default=RECORD, help="where to write the record (JSON)")
    args = ap.parse_args()
    os.environ["TWOLAYER_SCALE"] = "paper"
    paths = args.notebooks or sorted(glob.glob("chapters/*.ipynb"))
    rows, host = [], machine()
    print(f"{'chapter':<20} {'status':<15} {'wall s':>8} {'CPU s':>8} {'peak GB':>8} {'asserts':>9}")
    for p in paths:
        row = run_one(p, args.limit)
        row["commit"] = commit(p)
        row["machine"] = f"{host['cpu']}, {host['cores']} cores, {', '.join(host['jax_devices'])}"
        rows.append(row)
        print(f"{row['chapter']:<20} {row['status']:<15} {row['wall_s']:8.1f} "
              f"{row['cpu_s'] if row['cpu_s'] is not None else '-':>8} "
              f"{row['peak_gb'] if row['peak_gb'] is not None else '-':>8} "
              f"{row['asserts_held']:>4}/{row['asserts_total']:<4}", flush=True)
        if row["error"]:
            print(f"    {row['error']}")
    record = {"scale": "paper", "limit_s": args.limit, "versions": host["versions"], "chapters": rows}
    if args.notebooks and os.path.exists(args.out):
        # A partial run updates its chapters and keeps the others' latest record.
        old = json.load(open(args.out))
        keep = [r for r in old.get("chapters", []) if r["chapter"] not in {r2["chapter"] for r2 in rows}]
        record["chapters"] = sorted(keep + rows, key=lambda r: r["chapter"])
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    print(f"record written to {args.out}")
    return 0 if all(r["status"] == "passed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
