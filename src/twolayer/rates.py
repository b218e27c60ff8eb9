"""Measured rates from traces, and the theorems' predicted rates and bounds."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks


class Fit(NamedTuple):
    """A straight-line fit ``log y = intercept + slope * x`` (or log-log for a power law)."""

    slope: float
    intercept: float
    n_points: int

    @property
    def factor(self) -> float:
        """``exp(slope)``: the per-step factor of a linear rate."""
        return float(np.exp(self.slope))


def _line(x, y) -> Fit:
    A = np.stack([x, np.ones_like(x)], axis=1)
    (slope, intercept), *_ = np.linalg.lstsq(A, y, rcond=None)
    return Fit(float(slope), float(intercept), int(len(x)))


def fit_linear_rate(values, window=None, floor: float = 1e-20) -> Fit:
    """Fit ``log values[k] = c + slope * k`` over ``k`` in ``window = (k0, k1)`` (inclusive-exclusive).

    Only finite entries above ``floor`` are used, so round-off at the end of a converged run does
    not bend the fit. ``fit.factor = exp(slope)`` is the measured factor per step.

    Raises:
      ValueError: if fewer than 2 usable points remain in the window.
    """
    v = np.asarray(values, dtype=float)
    _checks.ndim("values", v, 1)
    k0, k1 = (0, len(v)) if window is None else window
    if not (0 <= k0 < k1 <= len(v)):
        raise ValueError(f"window {window} must satisfy 0 <= k0 < k1 <= {len(v)} (the trace length).")
    k = np.arange(k0, k1)
    seg = v[k0:k1]
    ok = np.isfinite(seg) & (seg > floor)
    if ok.sum() < 2:
        raise ValueError(
            f"fewer than 2 finite values above {floor:g} in window {window}; cannot fit a rate."
        )
    return _line(k[ok].astype(float), np.log(seg[ok]))


def fit_power_law(x, y) -> Fit:
    """Fit ``log y = c + slope * log x``: ``slope`` is the exponent of ``y ~ x^slope``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} and {y.shape}.")
    if np.any(x <= 0) or np.any(y <= 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("a power-law fit needs finite, positive x and y.")
    if len(x) < 2:
        raise ValueError("a power-law fit needs at least 2 points.")
    return _line(np.log(x), np.log(y))


def gd_bound(initial: float, eta: float, lam0: float, steps: int) -> np.ndarray:
    """The GD theorems' bound ``initial * (1 - eta * lam0 / 2)^k`` for ``k = 0..steps``.

    It bounds ``||y - u(k)||^2`` (and so the loss, which is half of it) in Du et al. Thm 4.1 and
    in Xu et al.'s sharper version.
    """
    eta = _checks.positive("eta", eta)
    lam0 = _checks.positive("lambda_0", lam0)
    q = 1.0 - eta * lam0 / 2
    if q <= 0:
        raise ValueError(f"eta * lambda_0 / 2 = {eta * lam0 / 2:.3g} >= 1: outside the theorem.")
    return initial * q ** np.arange(steps + 1)


def linearized_loss_slope(eta: float, lam: float) -> float:
    """``2 log|1 - eta lam|``: the per-step slope of ``log L`` along an eigen-direction of ``H``."""
    return float(2 * np.log(abs(1 - eta * lam)))


def du_step(lam0: float, n: int, c: float = 1.0) -> float:
    """Du et al.'s step-size scale ``c lambda_0 / n^2`` (the theorem's constant is unspecified)."""
    return c * _checks.positive("lambda_0", lam0) / _checks.positive_int("n", n) ** 2


def xu_step(h_norm: float, c: float = 1.0) -> float:
    """Xu et al.'s step-size scale ``c / ||H_inf||``."""
    return c / _checks.positive("||H_inf||", h_norm)


def xu_theorem_step(h_norm: float, lam0: float) -> float:
    """The largest step of the book's statement of Xu et al.'s theorem: ``1/(||H_inf|| + lambda_0/4)``.

    The proof needs ``eta <= 1/lambda_max(H(k))`` while ``||H(k) - H_inf|| <= lambda_0/4``, so
    ``eta <= 1/(||H_inf|| + lambda_0/4)`` suffices. Since ``lambda_0 <= ||H_inf||`` it is at least
    ``4/(5 ||H_inf||)`` and below ``1/||H_inf||`` (:func:`xu_step`, the scale).

    Raises:
      ValueError: if either argument is not positive, or ``lambda_0 > ||H_inf||`` (impossible for
        the smallest and largest eigenvalue of one matrix).
    """
    h_norm = _checks.positive("||H_inf||", h_norm)
    lam0 = _checks.positive("lambda_0", lam0)
    if lam0 > h_norm * (1 + 1e-12):
        raise ValueError(
            f"lambda_0 = {lam0:.4g} exceeds ||H_inf|| = {h_norm:.4g}; pass the smallest and the "
            "largest eigenvalue of H_inf, in that order."
        )
    return 1.0 / (h_norm + lam0 / 4)


def steps_to(values, rel: float) -> int:
    """First ``k`` with ``values[k] <= rel * values[0]``; ``-1`` if never reached."""
    v = np.asarray(values, dtype=float)
    hit = np.flatnonzero(np.isfinite(v) & (v <= rel * v[0]))
    return int(hit[0]) if hit.size else -1


def first_violation(values, bound, rtol: float = 1e-6) -> int:
    """First ``k`` where ``values[k] > bound[k] * (1 + rtol)``; ``-1`` if the bound holds throughout.

    A non-finite value counts as a violation.
    """
    v = np.asarray(values, dtype=float)
    b = np.asarray(bound, dtype=float)
    if v.shape != b.shape:
        raise ValueError(f"values and bound must have the same shape, got {v.shape} and {b.shape}.")
    bad = np.flatnonzero(~np.isfinite(v) | (v > b * (1 + rtol)))
    return int(bad[0]) if bad.size else -1


def linearized_loss(H, r0, eta: float, steps: int) -> np.ndarray:
    """The linearised model's loss ``1/2 ||(I - eta H)^k r0||^2`` for ``k = 0..steps``, exactly.

    Freezing the Gram at ``H`` (e.g. ``H(W(0))``) and dropping the activation-flip drift, GD is
    ``r(k) = (I - eta H)^k r(0)``; in the eigenbasis ``H = V diag(mu) V^T`` with ``c = V^T r0``,
    ``L_lin(k) = 1/2 sum_i (1 - eta mu_i)^(2k) c_i^2``.
    """
    H = np.asarray(H, dtype=float)
    r0 = np.asarray(r0, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or r0.shape != (H.shape[0],):
        raise ValueError(f"H must be square and r0 match it, got shapes {H.shape} and {r0.shape}.")
    eta = _checks.positive("eta", eta)
    steps = _checks.positive_int("steps", steps) if steps else 0
    mu, V = np.linalg.eigh(H)
    c = V.T @ r0
    k = np.arange(steps + 1)[:, None]
    return 0.5 * np.sum((1 - eta * mu) ** (2 * k) * c**2, axis=1)


def linearized_steps_to(H, r0, eta: float, rel: float = 1e-6, max_steps: int = 10**9) -> int:
    """Smallest ``k`` with ``L_lin(k) <= rel * L_lin(0)`` under the linearised model (bisection).

    Returns ``-1`` if the linearised model does not get there within ``max_steps`` (for instance
    when ``eta >= 2 / lambda_max(H)``). For many step sizes on one ``H`` use
    :func:`linearized_steps_to_each`, which decomposes ``H`` once.
    """
    return int(linearized_steps_to_each(H, r0, [eta], rel, max_steps)[0])


def linearized_steps_to_each(H, r0, etas, rel: float = 1e-6, max_steps: int = 10**9) -> np.ndarray:
    """:func:`linearized_steps_to` for every step size in ``etas``, from one eigendecomposition of ``H``.

    ``H = V diag(mu) V^T`` is decomposed once (``O(n^3)``: about a second at ``n = 1000``); each step
    size then costs a bisection over ``k`` on ``1/2 sum_i (1 - eta mu_i)^(2k) c_i^2`` (``O(n)`` per
    probe). Returns an integer array, ``-1`` where ``max_steps`` is not enough.

    Raises:
      ValueError: if ``H`` is not square, ``r0`` does not match it, or a step size is not positive.
    """
    H = np.asarray(H, dtype=float)
    r0 = np.asarray(r0, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or r0.shape != (H.shape[0],):
        raise ValueError(f"H must be square and r0 match it, got shapes {H.shape} and {r0.shape}.")
    etas = [_checks.positive("eta", e) for e in np.atleast_1d(np.asarray(etas, dtype=float))]
    mu, V = np.linalg.eigh(H)
    c2 = (V.T @ r0) ** 2
    return np.array([_steps_to_from_spectrum(mu, c2, eta, rel, max_steps) for eta in etas],
                    dtype=int)


def _steps_to_from_spectrum(mu, c2, eta, rel, max_steps) -> int:
    def reached(k):
        with np.errstate(over="ignore"):  # |1 - eta mu| > 1 overflows to inf: "never reached"
            return 0.5 * np.sum((1 - eta * mu) ** (2 * k) * c2) <= rel * 0.5 * np.sum(c2)

    if not reached(max_steps):
        return -1
    lo, hi = 0, 1
    while not reached(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reached(mid) else (mid, hi)
    return hi


# --- The step size of gradient descent (chapter "gd_step_size") -----------------------------------


def _symmetric(name: str, H) -> np.ndarray:
    H = np.asarray(H, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {H.shape}.")
    if not np.all(np.isfinite(H)):
        raise ValueError(f"{name} contains NaN or infinite entries; every entry must be finite.")
    if not np.allclose(H, H.T, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(H).max()))):
        raise ValueError(f"{name} must be symmetric (a Gram matrix J J^T).")
    return H


def contraction_factor(H, eta: float) -> float:
    r"""The spectral norm ``||I - eta H||`` of the linearised GD map, for a symmetric ``H``.

    .. math::  \|I - \eta H\|_2 = \max_i |1 - \eta\mu_i| = \max(|1 - \eta\mu_{\min}|, |1 - \eta\mu_{\max}|).

    It equals ``1 - eta mu_min`` exactly when ``eta (mu_min + mu_max) <= 2``, in particular whenever
    ``eta <= 1 / mu_max``: the condition of Xu et al.'s residual-recursion argument. It is ``< 1``
    iff ``0 < eta < 2 / mu_max`` (for ``mu_min > 0``).

    Raises:
      ValueError: if ``H`` is not a finite symmetric matrix or ``eta`` is not positive.

    References:
      Xu et al. (arXiv:2408.00573, v1/v2), the L2-regression part (the step O(1/||H_inf||)).
    """
    H = _symmetric("H", H)
    eta = _checks.positive("eta (the step size)", eta)
    mu = np.linalg.eigvalsh(H)
    return float(max(abs(1 - eta * mu[0]), abs(1 - eta * mu[-1])))


def edge_of_stability(H) -> float:
    """``2 / lambda_max(H)``: the largest step for which linearised GD ``r <- (I - eta H) r`` expands
    no eigen-direction of ``H``. Above it the top direction grows by ``eta lambda_max - 1 > 1`` per step.

    Raises:
      ValueError: if ``H`` is not a finite symmetric matrix with a positive largest eigenvalue.
    """
    H = _symmetric("H", H)
    top = float(np.linalg.eigvalsh(H)[-1])
    if top <= 0:
        raise ValueError(f"H has largest eigenvalue {top:.3g} <= 0; it must be positive.")
    return 2.0 / top


def step_gain(lam0: float, h_norm: float, n: int) -> float:
    """How much larger Xu et al.'s step ``1/||H_inf||`` is than Du et al.'s ``lambda_0/n^2``.

    Returns ``n^2 / (lambda_0 ||H_inf||)``. For unit inputs ``trace(H_inf) = n/2`` gives
    ``||H_inf|| <= n/2``, so the gain is at least ``2n / lambda_0`` (and ``lambda_0 <= 1/2`` makes that
    at least ``4n``). Both step sizes carry unspecified constants; this compares the scales.
    """
    return xu_step(h_norm) / du_step(lam0, n)


def growth_factor(values, steps=None) -> float:
    """``max_{k <= steps} values[k] / values[0]``: how far a run rose above its start.

    Use it on ``trace.residual_norm`` (or ``trace.loss``) above the edge of stability, where the
    loss first grows before (at finite width) the Gram matrix adapts: the catapult. Non-finite
    entries count as infinite growth.

    Raises:
      ValueError: if ``values`` is not 1-D, ``values[0]`` is not a finite positive number, or
        ``steps`` is not a whole number in ``[1, len(values) - 1]``.
    """
    v = np.asarray(values, dtype=float)
    _checks.ndim("values", v, 1)
    if v.size < 2 or not np.isfinite(v[0]) or v[0] <= 0:
        raise ValueError("values must hold at least 2 entries and start with a finite positive value.")
    steps = len(v) - 1 if steps is None else _checks.positive_int("steps", steps)
    if steps > len(v) - 1:
        raise ValueError(f"steps = {steps} exceeds the trace length {len(v) - 1}.")
    seg = v[: steps + 1]
    if not np.all(np.isfinite(seg)):
        return float("inf")
    return float(np.max(seg) / seg[0])


def first_increase(values, floor: float = 1e-20) -> int:
    """First ``k`` with ``values[k + 1] > values[k]``; ``-1`` if the sequence never increases.

    Only the part of the run above ``floor * values[0]`` is examined, so round-off at the end of a
    converged run (relative loss ~1e-30) is not mistaken for growth. A non-finite value counts as
    an increase. Below ``2 / lambda_max(H)`` the linearised loss is non-increasing, so a run that
    "contracts from the start" has ``first_increase(loss) == -1``.

    Raises:
      ValueError: if ``values`` is not 1-D with a finite positive first entry.
    """
    v = np.asarray(values, dtype=float)
    _checks.ndim("values", v, 1)
    if v.size < 1 or not np.isfinite(v[0]) or v[0] <= 0:
        raise ValueError("values must start with a finite positive value.")
    floor = _checks.nonnegative("floor", floor)
    above = np.flatnonzero(~(v > floor * v[0]))  # first entry at or below the floor (NaN counts)
    end = len(v) if above.size == 0 else int(above[0])
    if above.size and not np.isfinite(v[end]):  # a NaN/inf is not "converged": it is growth
        return end - 1
    seg = v[: end + 1] if end < len(v) else v
    up = np.flatnonzero(~(np.diff(seg) <= 0))
    return int(up[0]) if up.size else -1
