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
    when ``eta >= 2 / lambda_max(H)``).
    """
    H = np.asarray(H, dtype=float)
    mu, V = np.linalg.eigh(H)
    c2 = (V.T @ np.asarray(r0, dtype=float)) ** 2
    eta = _checks.positive("eta", eta)

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
