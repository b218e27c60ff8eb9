r"""Continuous-time references for the residual, one eigen-mode of a frozen Gram at a time.

Freeze the Gram at ``H = sum_i lambda_i v_i v_i^T``. Each ODE below is linear with coefficients that
depend on ``H`` only through ``lambda``, so the residual ``xi(t) = sum_i x_i(t) (v_i . xi(0)) v_i``
with a scalar solution ``x_i`` per mode (:func:`evolve`). Every scalar solution here is in closed
form (no ODE solver is needed; ``tests/test_flows.py`` checks each against a fine Runge-Kutta
discretisation). All start at rest, ``x(0) = 1``, ``x'(0) = 0`` (Shi et al.'s high-resolution ODEs
start with a small non-zero velocity, ``O(sqrt s)``; the book uses rest throughout).

==========================  ===============================================================
:func:`gradient_flow`        ``x' = -lambda x`` (GD with ``t = k s``)
:func:`hb_fixed_beta`        ``(1 - beta) x' = -lambda x`` (HB with fixed ``beta``, ``t = k s``)
:func:`low_resolution`       ``x'' + 2 sqrt(mu) x' + lambda x = 0`` (HB and NAG-SC, ``t = k sqrt s``)
:func:`high_resolution`      HB: ``x'' + 2 sqrt(mu) x' + (1 + sqrt(mu s)) lambda x = 0``;
                             NAG: ``x'' + (2 sqrt(mu) + sqrt(s) lambda) x' + (1 + sqrt(mu s)) lambda x = 0``
:func:`nag_c`                ``x'' + (r/t) x' + lambda x = 0`` (NAG-C, ``t = k sqrt s``): Bessel
==========================  ===============================================================

References:
  W. Su, S. Boyd, E. Candes, JMLR 17 (2016) (the NAG-C ODE); B. Shi, S. S. Du, M. I. Jordan,
  W. J. Su, Understanding the acceleration phenomenon via high-resolution differential equations,
  Math. Program. (2022), arXiv:1810.08907 (the high-resolution ODEs); Liu et al., IJCAI 2024 and
  Bu et al., AISTATS 2021 (the residual form on wide networks; the book's derivation).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from . import _checks


def _times(t):
    t = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times t must be finite and >= 0.")
    return t


def _lams(lam):
    lam = np.asarray(lam, dtype=float)
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError("eigenvalues lambda must be finite and > 0.")
    return lam


def damped_mode(b, c, t, x0=1.0, v0=0.0):
    r"""Exact solution of ``x'' + b x' + c x = 0``, ``x(0) = x0``, ``x'(0) = v0``, and its derivative.

    ``x = e^{-bt/2} [x0 cosh(w t) + (v0 + b x0/2) sinh(w t)/w]`` with ``w = sqrt(b^2/4 - c)`` (complex
    when the mode oscillates); ``sinh(wt)/w -> t`` at the double root. ``b``, ``c`` broadcast with ``t``.

    Returns:
      ``(x, x')`` as real arrays of the broadcast shape.
    """
    b = np.asarray(b, dtype=float)
    c = np.asarray(c, dtype=float)
    t = _times(t)
    w = np.sqrt((b * b / 4 - c).astype(complex))
    wt = w * t
    small = np.abs(wt) < 1e-4
    w_safe = np.where(small, 1.0, w)
    # e^{-bt/2} cosh(wt) and e^{-bt/2} sinh(wt)/w from e^{(+-w - b/2) t}: no overflow for damped modes
    ep, em = np.exp((w - b / 2) * t), np.exp((-w - b / 2) * t)
    damp = np.exp(-b * t / 2)
    ch = np.where(small, damp * (1 + wt * wt / 2), (ep + em) / 2)
    sinc = np.where(small, damp * t * (1 + wt * wt / 6), (ep - em) / (2 * w_safe))
    x = x0 * ch + (v0 + b * x0 / 2) * sinc
    # x' = -b/2 x + e^{-bt/2} [x0 w sinh(wt) + (v0 + b x0/2) cosh(wt)], w sinh(wt) = w^2 sinc
    dx = -b / 2 * x + x0 * (w * w) * sinc + (v0 + b * x0 / 2) * ch
    return np.real(x), np.real(dx)


def gradient_flow(lam, t):
    """``x(t) = exp(-lambda t)``: gradient flow, the limit of GD with ``t = k s``."""
    return np.exp(-_lams(lam) * _times(t))


def hb_fixed_beta(lam, beta, t):
    """``x(t) = exp(-lambda t/(1 - beta))``: HB with a fixed ``beta`` as ``s -> 0`` with ``t = k s``.

    (Bu et al.'s "HB behaves like GD": GD with step ``s/(1 - beta)``.)
    """
    beta = float(beta)
    if not 0 <= beta < 1:
        raise ValueError(f"beta must lie in [0, 1), got {beta!r}.")
    return np.exp(-_lams(lam) * _times(t) / (1 - beta))


def low_resolution(lam, mu, t):
    """The shared low-resolution ODE of HB and NAG-SC with Shi's momentum: ``x'' + 2 sqrt(mu) x' + lambda x = 0``.

    Returns:
      ``(x, x')``.
    """
    mu = _checks.positive("mu", mu)
    lam = _lams(lam)
    return damped_mode(2 * np.sqrt(mu) + 0 * lam, lam, t)


def _high_resolution_coefficients(method, lam, mu, s):
    """Friction ``b`` and stiffness ``c`` of a mode ``x'' + b x' + c x = 0`` of the high-resolution ODE."""
    if method not in ("HB", "NAG"):
        raise ValueError(f"method must be 'HB' or 'NAG', got {method!r}.")
    mu = _checks.positive("mu", mu)
    s = _checks.nonnegative("s (the step size)", s)
    lam = _lams(lam)
    b = 2 * np.sqrt(mu) + (np.sqrt(s) * lam if method == "NAG" else 0 * lam)
    return b, (1 + np.sqrt(mu * s)) * lam


def high_resolution(method: str, lam, mu, s, t):
    r"""Shi et al.'s high-resolution ODE of HB or NAG-SC for one mode (time ``t = k sqrt s``).

    HB:  ``x'' + 2 sqrt(mu) x' + (1 + sqrt(mu s)) lambda x = 0``.
    NAG: ``x'' + (2 sqrt(mu) + sqrt(s) lambda) x' + (1 + sqrt(mu s)) lambda x = 0``; the extra
    friction ``sqrt(s) lambda`` is the gradient correction ``sqrt(s) H xi'`` seen by the mode.

    Returns:
      ``(x, x')``.
    """
    b, c = _high_resolution_coefficients(method, lam, mu, s)
    return damped_mode(b, c, t)


def exponent(method: str, lam, mu, s=0.0):
    """The decay exponent ``-max Re(root)`` of a mode of :func:`high_resolution` (``s = 0``: low resolution)."""
    b, c = _high_resolution_coefficients(method, lam, mu, s)
    disc = np.sqrt((b * b / 4 - c).astype(complex))
    return -np.real(-b / 2 + disc)


def nag_c(lam, r, t):
    r"""NAG-C's mode: the solution of ``x'' + (r/t) x' + lambda x = 0`` regular at 0, ``x(0) = 1``.

    .. math::  x(t) = \Gamma(\nu+1)\,(2/z)^\nu J_\nu(z),\qquad z = \sqrt{\lambda}\,t,\quad \nu = (r-1)/2,

    and ``x'(t) = -sqrt(lambda) Gamma(nu+1) 2^nu z^{-nu} J_{nu+1}(z)`` (from
    ``d/dz [z^-nu J_nu(z)] = -z^-nu J_{nu+1}(z)``). ``r = 2`` gives ``sin z / z``, ``r = 3`` gives
    ``2 J_1(z)/z``. Since ``J_nu(z) ~ sqrt(2/(pi z)) cos(z - nu pi/2 - pi/4)``, ``|x| <~ C z^{-r/2}``.

    Returns:
      ``(x, x')``.
    """
    r = _checks.positive("r (the friction constant)", r)
    lam = _lams(lam)
    t = _times(t)
    nu = (r - 1) / 2
    z = np.sqrt(lam) * t
    zs = np.where(z > 0, z, 1.0)
    g = special.gamma(nu + 1) * 2.0 ** nu
    x = np.where(z > 0, g * zs ** (-nu) * special.jv(nu, zs), 1.0)
    # d/dz [z^-nu J_nu(z)] = -z^-nu J_{nu+1}(z)
    dx = np.where(z > 0, -np.sqrt(lam) * g * zs ** (-nu) * special.jv(nu + 1, zs), 0.0)
    return x, dx


def evolve(H, xi0, mode_solution, t):
    """The residual ``xi(t)`` from per-mode solutions on a frozen ``H``.

    Args:
      H: symmetric Gram matrix ``(n, n)``.
      xi0: initial residual ``(n,)`` (initial velocity 0).
      mode_solution: function ``lam -> x`` returning an array of shape ``(len(t), n)`` for the vector
        of eigenvalues, e.g. ``lambda lam: flows.nag_c(lam, 3, t[:, None])[0]``.
      t: the times (only used for the shape check).

    Returns:
      ``xi`` of shape ``(len(t), n)``.
    """
    H = np.asarray(H, dtype=float)
    xi0 = np.asarray(xi0, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or xi0.shape != (H.shape[0],):
        raise ValueError(f"H must be square and xi0 match it, got {H.shape} and {xi0.shape}.")
    lam, V = np.linalg.eigh(H)
    x = np.asarray(mode_solution(lam))
    if x.shape != (len(np.atleast_1d(t)), H.shape[0]):
        raise ValueError(f"mode_solution must return shape (len(t), n), got {x.shape}.")
    return (x * (V.T @ xi0)) @ V.T


def hb_energy(x, v, a, mu):
    """The Lyapunov energy ``a x^2/2 + v^2/4 + (v + 2 sqrt(mu) x)^2/4`` of HB's mode (sum over modes by the caller)."""
    mu = _checks.positive("mu", mu)
    return a * x * x / 2 + v * v / 4 + (v + 2 * np.sqrt(mu) * x) ** 2 / 4
