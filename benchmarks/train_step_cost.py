"""What one step of :func:`twolayer.train.run` costs, in units of one forward matrix product.

    .venv/bin/python benchmarks/train_step_cost.py [--steps 200] [--repeats 3]

A GD step on the two-layer net needs two products of the size of ``X W^T`` (``n x d`` times
``d x m``): the forward pass and ``J^T r``. Everything else the runner does per step (the loss,
the largest neuron movement, the activation-pattern flips, the finiteness checks) is ``O(nm)`` or
``O(md)``. This script times whole runs (compiled once, then the best of ``--repeats``) on

- Du et al.'s synthetic problem at the paper scale of the GD chapters: ``n = d = 1000``,
  ``m = 1024``, only ``W`` trained (closed-form Jacobian products), GD;
- Bu et al.'s digits problem at its paper scale: ``n = 600``, ``d = 64``, ``m = 3000``, all of
  ``W, b, a`` trained (autodiff), GD, heavy ball and NAG-C (NAG takes its gradient at the
  extrapolated point, not at the recorded iterate, so it needs one more forward pass),

and prints milliseconds per step and the ratio to one ``X W^T`` product. On Du's problem a ratio
near 2 means the loop does no redundant product; on Bu's (``d = 64``) the ``O(nm)`` elementwise
work of the bias and second layer is visible on top, and NAG pays one more forward pass. Timings
are printed, never asserted. About three minutes on 2 CPU cores.

Measured on the 2-core AMD EPYC machine (2026-12-03, best of 3, 200 steps), before and after the
runner stopped recomputing the residual after each step (commit 3598ed9): Du GD 3.4 -> 2.3 products
per step; Bu GD 5.4 -> 2.6, HB 5.5 -> 2.7, NAG-C 7.8 -> 4.1 (the per-step milliseconds vary by up to
2x with the machine's other load; the ratios are steadier). The momentum chapter's paper scale
went from 856 s to 611 s in ``paper_scale.py`` (553 s in ``make paper``).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

from twolayer import data, models, optim, train  # noqa: E402


def best_time(f, repeats: int, calls: int = 1) -> float:
    f()  # compile and warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if args.steps < 1 or args.repeats < 1:
        raise SystemExit("--steps and --repeats must be at least 1")
    forward = jax.jit(lambda X, W: X @ W.T)
    rows = []

    X = data.sphere(jax.random.key(0), 1000, 1000)
    y = data.gaussian_targets(jax.random.key(1), 1000)
    net = models.init(jax.random.key(2), 1024, 1000)
    prob = models.regression(net, X, y)
    mm = best_time(lambda: forward(X, net.W).block_until_ready(), args.repeats, 20)
    step = best_time(lambda: train.run(optim.gd(0.1), prob, net.W, args.steps).loss,
                     args.repeats) / args.steps
    rows.append(("Du n=d=1000, m=1024", "GD", step, mm))

    Xb, yb = data.digits_raw(jax.random.key(0), 600)
    theta = models.bu_init(jax.random.key(218), 3000, Xb.shape[1])
    prob_b = models.bu_regression(Xb, yb)
    mm_b = best_time(lambda: forward(Xb, theta["W"]).block_until_ready(), args.repeats, 20)
    for name, opt in (("GD", optim.gd(1e-3)), ("HB", optim.heavy_ball(1e-3, 0.5)),
                      ("NAG-C", optim.nesterov_c(1e-3, 3.0))):
        step = best_time(lambda: train.run(opt, prob_b, theta, args.steps).loss,
                         args.repeats) / args.steps
        rows.append(("Bu digits n=600, m=3000", name, step, mm_b))

    print(f"{'problem':26}{'method':>7}{'ms/step':>9}{'X W^T ms':>10}{'ratio':>7}")
    for prob_name, meth, step, mm in rows:
        print(f"{prob_name:26}{meth:>7}{step * 1e3:9.2f}{mm * 1e3:10.2f}{step / mm:7.1f}")


if __name__ == "__main__":
    main()
