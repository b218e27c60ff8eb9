r"""The linear theory of heavy ball and Nesterov: tunings, companion radii, rates, stability limits.

Freeze the Gram matrix at ``H`` with eigenvalues ``lambda_i``. Every method of
:mod:`twolayer.optim` then moves each eigen-coordinate ``x`` of the residual by a two-term recursion
``x_{k+1} = c_1 x_k + c_0 x_{k-1}`` with the *companion matrix* ``[[c_1, c_0], [1, 0]]``:

=========  =====================================  ======================================
method      ``c_1``                                 ``c_0``
=========  =====================================  ======================================
GD          ``1 - s lambda``                         ``0``
HB          ``1 + beta - s lambda``                  ``-beta``
NAG         ``(1 + beta)(1 - s lambda)``             ``-beta (1 - s lambda)``
=========  =====================================  ======================================

The mode's *radius* is the larger modulus of the roots of ``z^2 - c_1 z - c_0``; the method's radius
over a spectrum is the largest mode radius, the asymptotic factor per step of ``||xi_k||``.

Contents: the tunings (:func:`gd_tuning`, :func:`polyak`, :func:`nag_sc`, :func:`nag_lrp`,
:func:`shi_beta`), :func:`companion`, :func:`mode_radius`, :func:`spectral_radius`,
:func:`iteration_matrix` (the ``2n x 2n`` brute-force reference), :func:`stability_limit`,
:func:`mode_sequence` (the scalar recursion itself, any momentum schedule), and the Lyapunov constants
of the residual ODEs (:func:`young_rate`, :func:`lyapunov_rate`).

References:
  B. T. Polyak (1964); Y. Nesterov (2004); L. Lessard, B. Recht, A. Packard, Analysis and design of
  optimization algorithms via integral quadratic constraints, SIAM J. Optim. 26 (2016), Section 4.5
  (the tuning ``s = 4/(3L + mu)``); B. Shi, S. S. Du, M. I. Jordan, W. J. Su (arXiv:1810.08907);
  Liu et al., IJCAI 2024; Bu et al., AISTATS 2021. The statements here are the book's derivations.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks

METHODS = ("GD", "HB", "NAG")


class Tuning(NamedTuple):
    """A step size, a momentum, and the closed-form radius the tuning achieves on ``[mu, L]``."""

    name: str
    s: float
    beta: float
    rate: float


def _pair(L, mu):
    L = _checks.positive("L (the largest eigenvalue)", L)
    mu = _checks.positive("mu (the smallest eigenvalue)", mu)
    if mu > L:
        raise ValueError(f"mu = {mu:.6g} must not exceed L = {L:.6g}.")
    return L, mu


def _method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    return method


def _beta(beta):
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta (the momentum) must be a number in [0, 1), got {beta!r}.") from None
    if not 0.0 <= b < 1.0:
        raise ValueError(f"beta (the momentum) must lie in [0, 1), got {beta!r}.")
    return b


def gd_tuning(L: float, mu: float) -> Tuning:
    """The best constant GD step on ``[mu, L]``: ``s = 2/(L + mu)``, radius ``(kappa-1)/(kappa+1)``."""
    L, mu = _pair(L, mu)
    k = L / mu
    return Tuning("GD", 2.0 / (L + mu), 0.0, 1.0 - 2.0 / (k + 1.0))


def polyak(L: float, mu: float) -> Tuning:
    r"""Polyak's heavy-ball tuning: ``s = 4/(sqrt L + sqrt mu)^2``, ``beta = ((sqrt k - 1)/(sqrt k + 1))^2``.

    Radius ``1 - 2/(sqrt(kappa) + 1)``, the optimum of any two-term method on quadratics.
    """
    L, mu = _pair(L, mu)
    q = np.sqrt(L / mu)
    return Tuning("HB", 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2, ((q - 1) / (q + 1)) ** 2,
                  1.0 - 2.0 / (q + 1.0))


def nag_sc(L: float, mu: float) -> Tuning:
    """Nesterov's strongly convex tuning: ``s = 1/L``, ``beta = (sqrt k - 1)/(sqrt k + 1)``; radius ``1 - 1/sqrt k``."""
    L, mu = _pair(L, mu)
    q = np.sqrt(L / mu)
    return Tuning("NAG", 1.0 / L, (q - 1) / (q + 1), 1.0 - 1.0 / q)


def nag_lrp(L: float, mu: float) -> Tuning:
    """Lessard-Recht-Packard's NAG tuning: ``s = 4/(3L + mu)``, ``beta = (sqrt(3k+1) - 2)/(sqrt(3k+1) + 2)``.

    Radius ``1 - 2/sqrt(3 kappa + 1)``, the best radius of NAG on quadratics.
    """
    L, mu = _pair(L, mu)
    q = np.sqrt(3 * L / mu + 1)
    return Tuning("NAG", 4.0 / (3 * L + mu), (q - 2) / (q + 2), 1.0 - 2.0 / q)


def shi_beta(s: float, mu: float) -> float:
    """Shi et al.'s momentum ``(1 - sqrt(mu s))/(1 + sqrt(mu s))`` for a step ``s`` and a ``mu``.

    Raises:
      ValueError: unless ``s``, ``mu`` are positive with ``mu s < 1``.
    """
    s = _checks.positive("s (the step size)", s)
    mu = _checks.positive("mu", mu)
    if mu * s >= 1:
        raise ValueError(f"Shi's momentum needs mu s < 1, got mu s = {mu * s:.4g}.")
    q = np.sqrt(mu * s)
    return float((1 - q) / (1 + q))


def companion(method: str, s: float, beta: float, lam):
    """The companion coefficients ``(c_1, c_0)`` of ``x_{k+1} = c_1 x_k + c_0 x_{k-1}`` per eigenvalue.

    Args:
      method: ``"GD"``, ``"HB"`` or ``"NAG"``.
      s: step size, > 0.
      beta: momentum in ``[0, 1)`` (ignored for GD).
      lam: an eigenvalue or an array of them.

    Returns:
      ``(c1, c0)``, arrays shaped like ``lam``.
    """
    method = _method(method)
    s = _checks.positive("s (the step size)", s)
    beta = 0.0 if method == "GD" else _beta(beta)
    lam = np.asarray(lam, dtype=float)
    if method == "GD":
        return 1 - s * lam, np.zeros_like(lam)
    if method == "HB":
        return 1 + beta - s * lam, np.full_like(lam, -beta)
    return (1 + beta) * (1 - s * lam), -beta * (1 - s * lam)


def mode_radius(method: str, s: float, beta: float, lam):
    """The radius (largest root modulus of ``z^2 - c_1 z - c_0``) of each eigen-mode."""
    c1, c0 = companion(method, s, beta, lam)
    disc = np.sqrt((c1 * c1 + 4 * c0).astype(complex))
    return np.maximum(np.abs((c1 + disc) / 2), np.abs((c1 - disc) / 2))


def spectral_radius(method: str, s: float, beta: float, spectrum) -> float:
    """The method's radius on a frozen Gram: the largest :func:`mode_radius` over ``spectrum``.

    Raises:
      ValueError: if ``spectrum`` is empty or not finite (plus the checks of :func:`companion`).
    """
    spec = np.asarray(spectrum, dtype=float).ravel()
    if spec.size == 0 or not np.all(np.isfinite(spec)):
        raise ValueError("spectrum must be a non-empty array of finite eigenvalues.")
    return float(np.max(mode_radius(method, s, beta, spec)))


def iteration_matrix(method: str, s: float, beta: float, H):
    """The ``2n x 2n`` matrix mapping ``(xi_k, xi_{k-1})`` to ``(xi_{k+1}, xi_k)`` on a frozen ``H``.

    The brute-force reference for :func:`spectral_radius`: its spectral radius is the method's radius.
    """
    H = np.asarray(H, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.all(np.isfinite(H)):
        raise ValueError(f"H must be a finite square matrix, got shape {H.shape}.")
    method = _method(method)
    s = _checks.positive("s (the step size)", s)
    beta = 0.0 if method == "GD" else _beta(beta)
    n = H.shape[0]
    eye = np.eye(n)
    if method == "HB":
        C1, C0 = (1 + beta) * eye - s * H, -beta * eye
    elif method == "NAG":
        C1, C0 = (1 + beta) * (eye - s * H), -beta * (eye - s * H)
    else:
        C1, C0 = eye - s * H, 0 * eye
    return np.block([[C1, C0], [eye, 0 * eye]])


def stability_limit(method: str, beta: float = 0.0) -> float:
    """The largest ``s * lambda_max`` for which the linearised method contracts every mode.

    GD: 2. HB: ``2 (1 + beta)``. NAG: ``2 (1 + beta)/(1 + 2 beta)``. (Set ``z = -1`` in the mode's
    characteristic polynomial; for ``s lambda`` above the limit one root is below ``-1``.)
    """
    method = _method(method)
    beta = _beta(beta)
    if method == "GD":
        return 2.0
    if method == "HB":
        return 2.0 * (1 + beta)
    return 2.0 * (1 + beta) / (1 + 2 * beta)


def mode_sequence(method: str, s: float, lam, steps: int, *, beta=None, r=None, x0=1.0):
    """The exact iterates ``x_0..x_steps`` of each eigen-mode on a frozen Gram (``x_{-1} = x_0``).

    Give a constant momentum ``beta``, or ``r`` for NAG-C's schedule ``beta_k = (k-1)/(k+r-1)``
    (``method`` must then be ``"NAG"``). The runner's :func:`twolayer.optim.heavy_ball`,
    :func:`~twolayer.optim.nesterov` and :func:`~twolayer.optim.nesterov_c` on a linear problem
    reproduce these numbers (tested), so this is the linearised prediction for each of them.

    Returns:
      An array of shape ``(steps + 1,) + lam.shape``.
    """
    method = _method(method)
    s = _checks.positive("s (the step size)", s)
    steps = _checks.positive_int("steps", steps)
    if (beta is None) == (r is None) and method != "GD":
        raise ValueError("give exactly one of beta (constant momentum) and r (NAG-C schedule).")
    if r is not None:
        if method != "NAG":
            raise ValueError("the vanishing schedule r belongs to Nesterov's method (method='NAG').")
        r = _checks.positive("r (the friction constant)", r)
        betas = np.array([0.0] + [(k - 1) / (k + r - 1) for k in range(1, steps)])
    else:
        betas = np.full(steps, 0.0 if method == "GD" else _beta(beta))
    lam = np.asarray(lam, dtype=float)
    x = np.empty((steps + 1,) + lam.shape)
    x[0] = x0
    prev = x[0]
    for k in range(steps):
        b = betas[k]
        cur = x[k]
        if method == "HB":
            x[k + 1] = cur - s * lam * cur + b * (cur - prev)
        else:  # NAG (GD is beta = 0)
            x[k + 1] = (1 - s * lam) * (cur + b * (cur - prev))
        prev = cur
    return x


# --- Lyapunov constants of the residual ODEs --------------------------------------------------------


def young_rate(eps: float) -> float:
    r"""The decay constant the balanced-Young argument gives for HB's ODE, as a function of ``eps``.

    With ``E = 1/2 xi^T A xi + 1/2 ||xi'||^2 + sqrt(mu) xi^T xi' + mu ||xi||^2``, ``dE/dt =
    -sqrt(mu) (||xi'||^2 + xi^T A xi)`` and Young's inequality with weight ``eps``,
    ``E <= max(1 + eps, 3 + 1/eps)/2 (||xi'||^2 + xi^T A xi)``, so ``dE/dt <= -c(eps) sqrt(mu) E`` with
    ``c(eps) = 2 / max(1 + eps, 3 + 1/eps)``, maximal at ``eps = 1 + sqrt 2`` where it is ``2 - sqrt 2``.
    """
    eps = _checks.positive("eps", eps)
    return 2.0 / max(1.0 + eps, 3.0 + 1.0 / eps)


def lyapunov_rate(method: str, lam, mu: float, s: float = 0.0):
    r"""The sharp instantaneous constant ``c`` with ``dE/dt <= -c sqrt(mu) E`` for one eigen-mode.

    For the mode ``x'' + D x' + a x = 0`` with ``a = (1 + sqrt(mu s)) lam`` and ``D = 2 sqrt(mu)``
    (HB) or ``2 sqrt(mu) + sqrt(s) lam`` (NAG), the energy ``E_D = a x^2/2 + x'^2/4 + (x' + D x)^2/4``
    has ``-dE_D/dt = (D/2)(x'^2 + a x^2)``. The best ``c`` over all states is the smallest
    generalised eigenvalue of that dissipation against ``E_D``, divided by ``sqrt(mu)``. (For HB, ``E_D``
    is the energy of :func:`young_rate`; at ``a = mu`` the constant is exactly ``2 - sqrt 2``.)

    Args:
      method: ``"HB"`` or ``"NAG"``.
      lam: eigenvalue(s) of ``H``, each ``>= mu``.
      mu: the strong-convexity constant used by the method (``> 0``).
      s: step size (``>= 0``; ``0`` is the low-resolution ODE).

    Returns:
      The constant for each ``lam`` (shape of ``lam``).
    """
    if method not in ("HB", "NAG"):
        raise ValueError(f"method must be 'HB' or 'NAG', got {method!r}.")
    mu = _checks.positive("mu", mu)
    s = _checks.nonnegative("s", s)
    lam = np.asarray(lam, dtype=float)
    if np.any(lam < mu * (1 - 1e-12)):
        raise ValueError("every eigenvalue must be >= mu (the Lyapunov argument uses A >= mu I).")
    a = (1 + np.sqrt(mu * s)) * lam
    D = 2 * np.sqrt(mu) + (np.sqrt(s) * lam if method == "NAG" else 0.0)
    # E = [[a/2 + D^2/4, D/4], [D/4, 1/2]] in (x, x'); dissipation Q = diag(D a/2, D/2).
    e11, e12, e22 = a / 2 + D * D / 4, D / 4, 0.5 + 0 * a
    q1, q2 = D * a / 2, D / 2 + 0 * a
    # smallest c with det(Q - c E) = 0: largest eigenvalue of Q^-1/2 E Q^-1/2, inverted.
    m11, m12, m22 = e11 / q1, e12 / np.sqrt(q1 * q2), e22 / q2
    top = (m11 + m22) / 2 + np.sqrt(((m11 - m22) / 2) ** 2 + m12 ** 2)
    return 1.0 / top / np.sqrt(mu)
