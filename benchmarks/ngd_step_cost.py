"""Time one natural-gradient step: the n-by-n Gram solve against the p-by-p Fisher pseudo-inverse.

    .venv/bin/python benchmarks/ngd_step_cost.py [--n 50] [--d 10] [--m 400] [--repeats 5]

The two-layer ReLU net of the book (only ``W`` trained, ``p = m d`` parameters), ``n`` unit inputs
and Gaussian targets, float64 on the CPU. Three jitted steps from the same parameters:

- **GD**: ``W - eta J^T r`` (one forward pass and one ``J^T r`` product);
- **NGD, n x n**: ``W - eta J^T (J J^T)^-1 r`` as :func:`twolayer.natural.ngd` takes it (the Gram
  ``J J^T`` in closed form, one Cholesky solve of size ``n``, one ``J^T z`` product);
- **NGD, p x p**: ``W - eta (J^T J)^+ J^T r`` through :func:`twolayer.natural.fisher_direction`
  (forms the ``n x p`` Jacobian and the ``p x p`` Fisher, and takes an eigenvalue pseudo-inverse).

Every function is compiled and run twice before timing (warm-up); each time is the median over
``--repeats`` batches of the time per call (a fast step is called many times per batch, so that a
batch lasts about 50 ms), with ``block_until_ready``. The default ``p = 4000`` is a size where the
``p x p`` route still fits (a 128 MB matrix and an ``O(p^3)`` eigendecomposition); the n-by-n route
is what the chapter runs at ``p = 80 000`` and more. The script also checks that the two NGD steps
agree. The table goes to stdout; the budgets below are reported, not asserted (exit status 0 unless
the two NGD steps disagree). It runs in about 1.5 minutes on 2 CPU cores, almost all of it in the
``p x p`` eigendecompositions (about 5 s each at ``p = 4000``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from twolayer import data, models, natural, optim  # noqa: E402

#: Reported, not asserted: one NGD step (n x n) should cost at most this many GD steps ...
BUDGET_NGD_OVER_GD = 10.0
#: ... and the p x p route at least this many n x n NGD steps.
BUDGET_FISHER_OVER_NGD = 100.0


def _median_time(fn, args, repeats, batch_s=0.05):
    """Median and minimum seconds per call over ``repeats`` batches, after two warm-up calls.

    A fast step is called ``k`` times per batch, ``k`` chosen so that a batch lasts about
    ``batch_s`` seconds, so that microsecond steps are not timed at the resolution of the clock.
    """
    jax.block_until_ready(fn(*args))  # compile and warm up
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    k = max(1, int(batch_s / max(time.perf_counter() - t0, 1e-7)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(k):
            out = fn(*args)
        jax.block_until_ready(out)
        times.append((time.perf_counter() - t0) / k)
    return statistics.median(times), min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="training points")
    ap.add_argument("--d", type=int, default=10, help="input dimension")
    ap.add_argument("--m", type=int, default=400, help="width (p = m d parameters)")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per step (median reported)")
    args = ap.parse_args()
    n, d, m = args.n, args.d, args.m
    p = m * d
    eta = 0.5

    X = data.sphere(jax.random.key(0), n, d)
    y = data.gaussian_targets(jax.random.key(1), n)
    net = models.init(jax.random.key(2), m, d)
    prob = models.regression(net, X, y)
    natural.check_gram(prob, net.W)  # the n x n route needs a non-singular Gram
    static = prob.static

    gd, ngd = optim.gd(eta), natural.ngd(eta)

    @jax.jit
    def gd_step(W, dat):
        return gd.step(W, (), static._replace(data=dat), gd.hyper)[0]

    @jax.jit
    def ngd_step(W, dat):
        return ngd.step(W, (), static._replace(data=dat), ngd.hyper)[0]

    @jax.jit
    def fisher_step(W, dat):
        return W - eta * natural.fisher_direction(static._replace(data=dat), W)

    a = ngd_step(net.W, prob.data)
    b = fisher_step(net.W, prob.data)
    rel = float(jnp.linalg.norm(a - b) / jnp.linalg.norm(a - net.W))
    print(f"two-layer ReLU net, n = {n}, d = {d}, m = {m}: p = {p} parameters, float64, "
          f"{os.cpu_count()} cores, jax {jax.__version__}")
    print(f"the two NGD steps agree: ||W_nxn - W_pxp|| / ||W_nxn - W_0|| = {rel:.1e}")

    rows = [("GD step", gd_step), ("NGD, n x n Gram solve", ngd_step),
            ("NGD, p x p Fisher pinv", fisher_step)]
    times = {}
    for name, fn in rows:
        times[name] = _median_time(fn, (net.W, prob.data), args.repeats)
    t_gd = times["GD step"][0]
    t_ngd = times["NGD, n x n Gram solve"][0]
    print(f"\n{'step':24s} {'median s':>11s} {'min s':>11s} {'/ GD':>9s} {'/ NGD nxn':>10s}")
    for name, _ in rows:
        med, lo = times[name]
        print(f"{name:24s} {med:11.3e} {lo:11.3e} {med / t_gd:9.1f} {med / t_ngd:10.1f}")
    ngd_over_gd = t_ngd / t_gd
    fisher_over_ngd = times["NGD, p x p Fisher pinv"][0] / t_ngd
    print(f"\nflop estimates: GD ~ 2nmd = {2 * n * m * d:.1e}; NGD n x n ~ n^2 m + 2nmd + n^3/3 = "
          f"{n * n * m + 2 * n * m * d + n ** 3 / 3:.1e}; p x p ~ n p^2 + 9 p^3 = {n * p * p + 9 * p ** 3:.1e}")
    print(f"budget (reported, not asserted): NGD n x n / GD = {ngd_over_gd:.1f} "
          f"(<= {BUDGET_NGD_OVER_GD:g}: {'yes' if ngd_over_gd <= BUDGET_NGD_OVER_GD else 'NO'}); "
          f"p x p / n x n = {fisher_over_ngd:.0f} "
          f"(>= {BUDGET_FISHER_OVER_NGD:g}: {'yes' if fisher_over_ngd >= BUDGET_FISHER_OVER_NGD else 'NO'})")
    return 0 if rel < 1e-8 else 1


if __name__ == "__main__":
    sys.exit(main())
