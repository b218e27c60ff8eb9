"""One training loop for every method: ``jit`` + ``lax.scan``, returning a :class:`Trace`.

The loop records at every step ``k = 0..steps``: the loss ``1/2 ||r||^2``, ``||r||``, the largest
per-neuron movement ``max_r ||theta_r(k) - theta_r(0)||`` (rows of the leading axis of each
parameter array), and the fraction of activation patterns that differ from those at ``k = 0``
(when the problem defines patterns). Optionally every ``gram_every`` steps it records the extreme
eigenvalues of the current Gram ``J J^T``, and, with ``record=f``, whatever ``f(theta, problem)``
returns (the whole residual vector, its projection on fixed eigenvectors, ...): the book's one loop
serves every per-step record a chapter asks for.

A run that produces NaN or infinity is not drawn as NaN: the loop freezes the last finite
parameters, marks every later record NaN, and :attr:`Trace.first_nonfinite` says at which step
it diverged.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from .optim import Optimizer
from .problem import Problem


class Trace(NamedTuple):
    """What a run recorded. Arrays are NumPy; index ``k`` is the state after ``k`` steps.

    ``records`` is ``None`` unless :func:`run` was given ``record=f``; then it is ``f``'s output
    stacked over ``k = 0..steps`` (a NumPy array, or a pytree of them), NaN from the step where the
    run diverged on.
    """

    loss: np.ndarray
    residual_norm: np.ndarray
    max_move: np.ndarray
    flip_fraction: np.ndarray
    gram_steps: np.ndarray
    lambda_min: np.ndarray
    lambda_max: np.ndarray
    first_nonfinite: int
    theta: Any
    name: str
    records: Any = None

    @property
    def steps(self) -> int:
        return len(self.loss) - 1

    @property
    def diverged(self) -> bool:
        """True if some step produced a non-finite parameter or residual."""
        return self.first_nonfinite >= 0

    @property
    def relative_loss(self) -> np.ndarray:
        """``L(k) / L(0)``."""
        return self.loss / self.loss[0]

    def summary(self) -> str:
        """One line: method, steps, final loss, or the step where the run diverged."""
        if self.diverged:
            return (f"{self.name}: diverged at step {self.first_nonfinite} (last finite loss "
                    f"{self.loss[self.first_nonfinite - 1]:.3e})")
        return f"{self.name}: {self.steps} steps, loss {self.loss[0]:.3e} -> {self.loss[-1]:.3e}"

    def require_finite(self) -> "Trace":
        """Return self, or raise ``FloatingPointError`` naming the step where the run diverged."""
        if self.diverged:
            raise FloatingPointError(self.summary())
        return self


def _all_finite(tree) -> jax.Array:
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def _max_move(theta, theta0) -> jax.Array:
    def per_leaf(t, t0):
        diff = (t - t0).reshape(t.shape[0], -1) if t.ndim else jnp.abs(t - t0).reshape(1, 1)
        return jnp.max(jnp.linalg.norm(diff, axis=1))

    moves = jax.tree_util.tree_map(per_leaf, theta, theta0)
    return jnp.max(jnp.stack(jax.tree_util.tree_leaves(moves)))


@partial(jax.jit, static_argnames=("opt_static", "prob_static", "steps", "gram_every", "extra"))
def _run(theta0, hyper, data, *, opt_static, prob_static, steps, gram_every, extra):
    init, step = opt_static
    problem = prob_static._replace(data=data)
    nan = jnp.array(jnp.nan, dtype=jnp.result_type(float))
    pat0 = problem.patterns(theta0, data) if problem.patterns is not None else None

    def record(theta, r, k, bad):
        loss = 0.5 * jnp.vdot(r, r)
        rnorm = jnp.sqrt(2 * loss)
        move = _max_move(theta, theta0)
        if pat0 is not None:
            flips = jnp.mean(problem.patterns(theta, data) != pat0)
        else:
            flips = nan
        if gram_every:
            def eigs(th):
                ev = jnp.linalg.eigvalsh(problem.H(th))
                return ev[0], ev[-1]

            lmin, lmax = jax.lax.cond(k % gram_every == 0, eigs, lambda th: (nan, nan), theta)
        else:
            lmin = lmax = nan
        out = jnp.stack([loss, rnorm, move, flips, lmin, lmax]).astype(nan.dtype)
        more = None if extra is None else jax.tree_util.tree_map(
            lambda x: jnp.where(bad, nan, jnp.asarray(x, dtype=nan.dtype)), extra(theta, problem))
        return jnp.where(bad, nan, out), more

    def check(theta, k, bad, first_bad):
        # The residual at theta_k, computed once: the record uses it, and XLA shares its forward
        # pass with the step's gradient at the same theta. A finite theta_k whose loss overflows
        # marks step k as the divergence and falls back to theta_{k-1}, the last finite state.
        r = problem.r(theta)
        ok = jnp.isfinite(jnp.vdot(r, r))
        first_bad = jnp.where(~ok & ~bad, k, first_bad)
        bad = bad | ~ok
        return r, bad, first_bad

    def body(carry, k):
        theta, prev, state, bad, first_bad = carry
        r, bad_here, first_bad = check(theta, k, bad, first_bad)
        rec = record(theta, r, k, bad_here)
        new_theta, new_state = step(theta, state, problem, hyper)
        ok = _all_finite(new_theta)
        first_bad = jnp.where(~ok & ~bad_here, k + 1, first_bad)
        keep = bad_here | ~ok
        # a run whose loss overflowed at theta_k (params finite) keeps theta_{k-1}
        theta_keep = jax.tree_util.tree_map(
            lambda a, b: jnp.where(bad_here & ~bad, b, a), theta, prev)
        nxt = jax.tree_util.tree_map(lambda a, b: jnp.where(keep, a, b), theta_keep, new_theta)
        state = jax.tree_util.tree_map(lambda a, b: jnp.where(keep, a, b), state, new_state)
        return (nxt, theta_keep, state, keep, first_bad), rec

    state0 = init(theta0, problem, hyper)
    carry0 = (theta0, theta0, state0, jnp.array(False), jnp.array(-1))
    (theta, prev, _, bad, first_bad), (recs, more) = jax.lax.scan(body, carry0, jnp.arange(steps))
    r, bad_end, first_bad = check(theta, jnp.asarray(steps), bad, first_bad)
    theta = jax.tree_util.tree_map(lambda a, b: jnp.where(bad_end & ~bad, b, a), theta, prev)
    last, last_more = record(theta, r, jnp.asarray(steps), bad_end)
    if extra is not None:
        more = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b[None]]), more, last_more)
    return jnp.concatenate([recs, last[None]]), more, theta, first_bad


def run(optimizer: Optimizer, problem: Problem, theta0, steps: int, *, gram_every: int = 0,
        record=None) -> Trace:
    """Run ``steps`` iterations of ``optimizer`` on ``problem`` from ``theta0``.

    Args:
      optimizer: an :class:`~twolayer.optim.Optimizer` (e.g. ``twolayer.optim.gd(0.5)``).
      problem: a :class:`~twolayer.problem.Problem` (e.g. ``twolayer.models.regression(...)``).
      theta0: the initial parameters (for the two-layer net, ``net.W``).
      steps: number of iterations, >= 1.
      gram_every: if > 0, record the extreme eigenvalues of ``J J^T`` every ``gram_every`` steps.
      record: optional function ``f(theta, problem) -> array (or pytree of arrays)`` evaluated at
        every ``k = 0..steps``; its outputs, stacked, are ``Trace.records``. Pass a function defined
        once (module level or a variable you reuse): the loop compiles once per function object.

    Returns:
      A :class:`Trace`. The loop compiles once per (method, problem type, shapes, steps) and is
      reused for new data, seeds and hyperparameters of the same shapes.

    Raises:
      ValueError: if ``steps`` is not a positive whole number, ``gram_every`` is negative,
        ``record`` is not callable, or ``theta0`` is not finite.

    Example:
      >>> tr = run(optim.gd(0.5), prob, net.W, 100, record=lambda th, p: p.r(th))
      >>> tr.records.shape    # (101, n): the residual vector after every step
    """
    steps = _checks.positive_int("steps", steps)
    if isinstance(gram_every, bool) or not isinstance(gram_every, (int, np.integer)) or gram_every < 0:
        raise ValueError(f"gram_every must be a whole number >= 0 (0 = never), got {gram_every!r}.")
    if record is not None and not callable(record):
        raise ValueError(f"record must be a function (theta, problem) -> array, got {record!r}.")
    for leaf in jax.tree_util.tree_leaves(theta0):
        _checks.finite("theta0", leaf)
    recs, more, theta, first_bad = _run(
        theta0, optimizer.hyper, problem.data,
        opt_static=(optimizer.init, optimizer.step), prob_static=problem.static,
        steps=steps, gram_every=int(gram_every), extra=record,
    )
    recs = np.asarray(recs)
    gsteps = np.arange(0, steps + 1, gram_every) if gram_every else np.zeros(0, dtype=int)
    return Trace(
        loss=recs[:, 0], residual_norm=recs[:, 1], max_move=recs[:, 2], flip_fraction=recs[:, 3],
        gram_steps=gsteps, lambda_min=recs[gsteps, 4], lambda_max=recs[gsteps, 5],
        first_nonfinite=int(first_bad), theta=theta, name=optimizer.name,
        records=None if more is None else jax.tree_util.tree_map(np.asarray, more),
    )
