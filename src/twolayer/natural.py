r"""Natural gradient descent, Gram-Gauss-Newton and two-layer K-FAC, in the n-by-n form.

For the loss ``L = 1/2 ||r||^2`` with a Gaussian likelihood, the Fisher information is the
Gauss-Newton matrix ``F = J^T J / n`` (``n`` training points, ``J = dr/dtheta`` of shape
``(n, p)``), of rank at most ``n``. Natural gradient descent preconditions the gradient ``J^T r``
with its (pseudo-)inverse; with the ``1/n`` absorbed into the step size,

.. math::  \theta_{k+1} = \theta_k - \eta\, (J^\top J)^{+} J^\top r
                        = \theta_k - \eta\, J^\top (J J^\top)^{-1} r          (J of full row rank).

The second form solves one ``n x n`` system with the Gram matrix ``H = J J^T`` and never forms the
``p x p`` Fisher. Linearised (``J`` fixed) it moves the residual by ``r <- r - eta J J^+ r =
(1 - eta) r``: every output travels on a straight line to its target, at a rate that does not see
the spectrum of ``H``.

Contents:

- :func:`ngd` and :func:`ggn` (= NGD with ``eta = 1``, Cai et al.'s Gram-Gauss-Newton), optimizers
  for :func:`twolayer.train.run`; :func:`ngd_direction` (the step, as a function); :func:`check_gram`
  (run it on the initial Gram before an undamped run, see "Singular Gram" below);
  :func:`fisher_direction` (the same step through the ``p x p`` Fisher pseudo-inverse: a brute-force
  reference for tests and benchmarks, ``O(p^3)``).
- :func:`kfac_two_layer`, K-FAC for the first layer of the two-layer ReLU net, with the Kronecker
  factors written out by :func:`kfac_factors`; :func:`kfac_direction`; :func:`leverage_scores`.
- :func:`residual_path`: the residual vector after every step of a run (the output-space picture;
  :func:`twolayer.train.run` records only norms). The linearised predictions need no new code:
  NGD, K-FAC and GD are ``r <- (I - eta M) r`` with ``M = I``, ``diag(l)`` and ``H(0)``, which
  :func:`twolayer.rates.linearized_loss` and :func:`twolayer.rates.linearized_steps_to` evaluate.

Singular Gram. Undamped NGD needs ``J`` of full row rank (ZMG19's Condition 1). Whether the Gram is
singular depends on the data and the parameters, so it cannot be checked when the optimizer is
built, and inside ``jit`` nothing can raise. The design is therefore two-layered:

1. :func:`check_gram` is run on the initial parameters by the chapter (or by any caller) before an
   undamped run. It raises ``ValueError`` with a plain sentence if
   ``lambda_min(H) <= rcond * lambda_max(H)`` (default ``rcond = 1e-10``) and ``damping == 0``.
2. Inside the step the system ``(H + damping I) z = r`` is solved by a Cholesky factorisation. The
   step returns NaN (never a silently regularised answer) when the factorisation fails or a pivot
   falls below ``sqrt(RCOND * max diag)`` (what an exactly singular Gram leaves after round-off).
   The runner then freezes the last finite iterate and :attr:`twolayer.train.Trace.first_nonfinite`
   names the step: a singular Gram met *during* training shows up as a divergence in the trace.
   The pivot test catches exact singularity; a merely ill-conditioned Gram (tiny ``lambda_min``
   but no tiny pivot) is solved as it is, which is what :func:`check_gram` is for.

References:
  G. Zhang, J. Martens, R. Grosse. Fast convergence of natural gradient descent for
  over-parameterized neural networks. NeurIPS 2019 (arXiv:1905.10961): the NGD update (eq. 3 and
  Section 3), Theorem 1 (Conditions 1-2), the two-layer ReLU corollary and the K-FAC result.
  T. Cai, R. Gao, J. Hou, S. Chen, D. Wang, D. He, Z. Zhang, L. Wang. Gram-Gauss-Newton method:
  learning overparameterized neural networks for regression problems. arXiv:1905.11675 (2019).
  J. Martens, R. Grosse. Optimizing neural networks with Kronecker-factored approximate curvature.
  ICML 2015 (the K-FAC approximation ``E[g g^T (x) x x^T] ~ E[g g^T] (x) E[x x^T]``).
"""

from __future__ import annotations


import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from . import _checks
from .optim import Optimizer, no_state
from .problem import Problem
from .train import run

#: Relative eigenvalue threshold below which a Gram (or a K-FAC factor) counts as singular.
RCOND = 1e-10


# --------------------------------------------------------------------------------------------
# Natural gradient descent / Gram-Gauss-Newton
# --------------------------------------------------------------------------------------------
def _ngd_dir(theta, problem, damping):
    r = problem.r(theta)
    H = problem.H(theta)
    M = H + damping * jnp.eye(H.shape[0], dtype=H.dtype)
    # Cholesky: NaN (never a silently regularised answer) if M is not numerically positive
    # definite. An exactly singular Gram (two identical inputs) can survive round-off with a tiny
    # positive pivot, so a pivot below sqrt(RCOND * max diag M) also counts as singular.
    L = jnp.linalg.cholesky(M)
    singular = jnp.min(jnp.diagonal(L)) ** 2 <= RCOND * jnp.max(jnp.diagonal(M))
    z = jsl.cho_solve((L, True), r)
    z = jnp.where(singular | ~jnp.all(jnp.isfinite(z)), jnp.nan, z)
    return problem.vjp(theta, problem.data, z)  # J^T (H + damping I)^-1 r, shaped like theta


def _ngd_step(theta, state, problem, hyper):
    g = _ngd_dir(theta, problem, hyper["damping"])
    theta = jax.tree_util.tree_map(lambda t, gt: t - hyper["eta"] * gt, theta, g)
    return theta, state


def ngd(eta: float, damping: float = 0.0) -> Optimizer:
    r"""Natural gradient descent (= Gauss-Newton) for ``L = 1/2 ||r||^2``, via one n-by-n solve.

    .. math::  \theta_{k+1} = \theta_k - \eta\, J^\top (J J^\top + \lambda I)^{-1} r(\theta_k),
               \qquad J = J(\theta_k),\ \lambda = \text{damping}.

    With ``damping = 0`` this is ``theta - eta J^+ r = theta - eta (J^T J)^+ J^T r``: the natural
    gradient with the Fisher ``F = J^T J / n`` of a Gaussian likelihood, the ``1/n`` absorbed in
    ``eta``. Linearised, ``r <- (1 - eta) r`` (so ``L <- (1 - eta)^2 L``) whatever the spectrum of
    ``H = J J^T``. With ``damping > 0`` an eigen-direction of ``H`` with eigenvalue ``mu`` contracts
    by ``1 - eta mu / (mu + damping)`` instead: damped runs are outside the theorems.

    The ``p x p`` Fisher is never formed: the step costs one ``n x n`` Gram, one Cholesky solve and
    one ``J^T z`` product (``problem.vjp``). Before an undamped run, call :func:`check_gram` on the
    initial parameters; a Gram that becomes singular during the run makes the Cholesky solve return
    NaN, which :func:`twolayer.train.run` reports in ``Trace.first_nonfinite``.

    Args:
      eta: step size, > 0. Theorem 1 of ZMG19 needs ``eta <= (1 - 2C) / (1 + C)^2 <= 1``.
      damping: ``lambda >= 0`` added to the Gram's diagonal (explicit; 0 = exact NGD).

    Returns:
      An :class:`~twolayer.optim.Optimizer` named ``"NGD"`` (``"NGD (damping ...)"`` if damped).

    Raises:
      ValueError: if ``eta`` is not a finite positive number or ``damping`` is negative.

    Example:
      >>> check_gram(prob, net.W)                 # raises if J J^T is singular
      >>> trace = twolayer.train.run(ngd(0.5), prob, net.W, steps=10)

    References:
      Zhang, Martens & Grosse, NeurIPS 2019, eq. (3) and Theorem 1; the n-by-n form by the
      push-through identity ``(J^T J + lambda I)^-1 J^T = J^T (J J^T + lambda I)^-1``.
    """
    eta = _checks.positive("eta (the step size)", eta)
    damping = _checks.nonnegative("damping", damping)
    name = "NGD" if damping == 0 else f"NGD (damping {damping:g})"
    return Optimizer(no_state, _ngd_step,
                     {"eta": jnp.asarray(eta), "damping": jnp.asarray(damping)}, name)


def ggn(damping: float = 0.0) -> Optimizer:
    r"""Gram-Gauss-Newton: natural gradient descent with unit step, ``eta = 1``.

    .. math::  \theta_{k+1} = \theta_k - J^\top (J J^\top + \lambda I)^{-1} r(\theta_k).

    For a linear model it interpolates in one step; for a wide smooth network the residual
    contracts quadratically, ``||r_{k+1}|| <= C ||r_k||^2``, because what is left after a step is
    only the change of the Jacobian along the step.

    Args:
      damping: ``lambda >= 0`` (0 in the theorem).

    Returns:
      An :class:`~twolayer.optim.Optimizer` named ``"GGN"``.

    Raises:
      ValueError: if ``damping`` is negative.

    Example:
      >>> trace = twolayer.train.run(ggn(), prob, net.W, steps=8)

    References:
      Cai et al., arXiv:1905.11675 (2019), the GGN update (Section 3, full-batch, without damping)
      and the quadratic-convergence theorem; Zhang, Martens & Grosse (2019), eq. (3) with eta = 1.
    """
    damping = _checks.nonnegative("damping", damping)
    opt = ngd(1.0, damping)
    return opt._replace(name="GGN" if damping == 0 else f"GGN (damping {damping:g})")


def _check_problem(problem) -> None:
    if not isinstance(problem, Problem):
        raise ValueError(
            f"problem must be a twolayer.problem.Problem, got {type(problem).__name__}."
        )


def ngd_direction(problem: Problem, theta, damping: float = 0.0):
    r"""The NGD direction ``J^T (J J^T + damping I)^{-1} r`` at ``theta`` (shaped like ``theta``).

    With ``damping = 0`` it equals ``J^+ r = (J^T J)^+ J^T r``, the minimum-norm solution of
    ``J delta = r``. NaN if the Gram is singular and ``damping = 0`` (see :func:`check_gram`).

    Args:
      problem: a :class:`~twolayer.problem.Problem`.
      theta: parameters.
      damping: ``>= 0``.

    Returns:
      The direction, a pytree like ``theta`` (the step is ``theta - eta * direction``).

    Raises:
      ValueError: if ``damping`` is negative or ``problem`` is not a Problem.

    Example:
      >>> delta = ngd_direction(prob, net.W)      # (m, d) for the two-layer net

    References:
      Zhang, Martens & Grosse (2019), eq. (3).
    """
    _check_problem(problem)
    damping = _checks.nonnegative("damping", damping)
    return _ngd_dir(theta, problem, jnp.asarray(damping))


def fisher_direction(problem: Problem, theta, damping: float = 0.0, rcond: float = RCOND):
    r"""Brute-force reference: ``(J^T J + damping I)^+ J^T r`` through the ``p x p`` matrix.

    This is the textbook natural gradient with the Gauss-Newton/Fisher matrix (its ``1/n`` absorbed
    in the step size). It forms ``J`` (``n x p``) and ``J^T J`` (``p x p``) and takes an
    eigenvalue pseudo-inverse, ``O(p^3)`` time and ``O(p^2)`` memory: use it only on tiny problems,
    to test :func:`ngd_direction` and to time the difference (``benchmarks/ngd_step_cost.py``).

    Args:
      problem: a :class:`~twolayer.problem.Problem`.
      theta: parameters (a pytree; the result has the same structure).
      damping: ``>= 0``.
      rcond: eigenvalues of ``J^T J + damping I`` below ``rcond * max`` are treated as zero.

    Returns:
      The direction, a pytree like ``theta``.

    Raises:
      ValueError: on a negative ``damping``, a non-positive ``rcond``, or a non-Problem.

    Example:
      >>> np.allclose(fisher_direction(prob, W), ngd_direction(prob, W))
      True

    References:
      Zhang, Martens & Grosse (2019), Section 2 (the Fisher of a Gaussian likelihood is the
      Gauss-Newton matrix ``J^T J / n``).
    """
    _check_problem(problem)
    damping = _checks.nonnegative("damping", damping)
    rcond = _checks.positive("rcond", rcond)
    from jax.flatten_util import ravel_pytree

    _, unravel = ravel_pytree(theta)
    J = problem.J(theta)
    r = problem.r(theta)
    F = J.T @ J + damping * jnp.eye(J.shape[1], dtype=J.dtype)
    return unravel(_psd_pinv(F, rcond) @ (J.T @ r))


def check_gram(problem: Problem, theta, damping: float = 0.0, rcond: float = RCOND):
    r"""Check that (damped) NGD is well defined at ``theta``; return the Gram's extreme eigenvalues.

    Undamped NGD solves ``J J^T z = r``, which needs ``J`` of full row rank (ZMG19's Condition 1).
    Run this on the initial parameters before an undamped run: inside ``jit`` the step cannot raise
    (a singular Gram met during a run appears as a non-finite step in the trace instead).

    Args:
      problem: a :class:`~twolayer.problem.Problem`.
      theta: parameters (usually the initial ones).
      damping: the damping the run will use; with ``damping > 0`` nothing is raised.
      rcond: the Gram counts as singular if ``lambda_min <= rcond * lambda_max``.

    Returns:
      ``(lambda_min, lambda_max)`` of ``H(theta) = J J^T`` (floats).

    Raises:
      ValueError: if ``damping == 0`` and the Gram is singular to working precision, with the
        eigenvalue ratio in the message; also on a negative ``damping`` or non-positive ``rcond``.

    Example:
      >>> lam_min, lam_max = check_gram(prob, net.W)

    References:
      Zhang, Martens & Grosse (2019), Condition 1 (``G(0) = J J^T`` positive definite).
    """
    _check_problem(problem)
    damping = _checks.nonnegative("damping", damping)
    rcond = _checks.positive("rcond", rcond)
    ev = np.linalg.eigvalsh(np.asarray(problem.H(theta)))
    lam_min, lam_max = float(ev[0]), float(ev[-1])
    if not np.all(np.isfinite(ev)):
        raise ValueError("the Gram matrix J J^T has non-finite entries at these parameters.")
    if damping == 0 and lam_min <= rcond * max(lam_max, np.finfo(float).tiny):
        raise ValueError(
            "the Gram matrix J J^T is singular at these parameters "
            f"(lambda_min = {lam_min:.3e}, lambda_max = {lam_max:.3e}, ratio below rcond = "
            f"{rcond:g}), so undamped natural gradient descent (J^T (J J^T)^-1 r) is not defined. "
            "This happens when two inputs coincide or are parallel, or when the width is too "
            "small. Remove the duplicates, widen the network, or pass damping > 0 (which is "
            "outside the convergence theorem)."
        )
    return lam_min, lam_max


# --------------------------------------------------------------------------------------------
# K-FAC for the first layer of the two-layer ReLU network
# --------------------------------------------------------------------------------------------
def _psd_pinv(M, rcond):
    # Pseudo-inverse of a symmetric PSD matrix by eigh, with an explicit relative cut-off.
    mu, V = jnp.linalg.eigh(M)
    keep = mu > rcond * jnp.max(jnp.abs(mu))
    inv = jnp.where(keep, 1.0 / jnp.where(keep, mu, 1.0), 0.0)
    return (V * inv) @ V.T


def _gamma(W, a, X):
    # Gamma_ir = m^-1/2 a_r 1{w_r . x_i >= 0}: the back-propagated activation patterns, (n, m).
    return (X @ W.T >= 0).astype(W.dtype) * a / jnp.sqrt(W.shape[0])


def _kfac_dir(W, a, X, r, damping, rcond):
    # Gamma^T, (m, n), built with the neurons on the leading axis: XLA's CPU matmuls contract over
    # m much faster in this layout (a 200-step K-FAC run at m = 256 000, n = 20 took 8.5 s instead
    # of 15 s on 2 cores), and the result is the same to round-off.
    Gt = (W @ X.T >= 0).astype(W.dtype) * (a / jnp.sqrt(W.shape[0]))[:, None]
    K = Gt.T @ Gt + damping * jnp.eye(Gt.shape[1], dtype=Gt.dtype)  # n x n twin of S + damping I
    A = X.T @ X + damping * jnp.eye(X.shape[1], dtype=X.dtype)      # d x d
    # (S + damping I)^+ Gamma^T = Gamma^T (Gamma Gamma^T + damping I)^+  (push-through), so the
    # m x m factor S is never formed: Delta W = Gamma^T K^+ diag(r) X A^+.
    return Gt @ (_psd_pinv(K, rcond) @ ((r[:, None] * X) @ _psd_pinv(A, rcond)))


def _kfac_step(theta, state, problem, hyper):
    data = problem.data
    if not (isinstance(data, dict) and "X" in data and "a" in data):
        raise ValueError(
            "K-FAC for the two-layer net needs a problem built by twolayer.models.regression "
            "(its data must hold the inputs 'X' and the output weights 'a')."
        )
    r = problem.r(theta)
    D = _kfac_dir(theta, data["a"], data["X"], r, hyper["damping"], hyper["rcond"])
    return theta - hyper["eta"] * D, state


def kfac_factors(W, a, X):
    r"""The two Kronecker factors of K-FAC for the first layer, written out explicitly.

    Row ``i`` of the Jacobian, reshaped like ``W``, is ``g_i x_i^T`` with ``g_i`` the row ``i`` of
    ``Gamma`` (``Gamma_ir = m^-1/2 a_r 1{w_r . x_i >= 0}``), so the exact Gauss-Newton matrix is a
    sum of Kronecker products and K-FAC replaces it by one:

    .. math::  J^\top J = \sum_i (g_i g_i^\top) \otimes (x_i x_i^\top)
               \;\approx\; n\,\big(\tfrac1n S\big) \otimes \big(\tfrac1n A\big)
               = \tfrac1n\, S \otimes A,\qquad
               S = \Gamma^\top\Gamma = \sum_i g_i g_i^\top\ (m\times m,\ \mathrm{rank}\le n),\quad
               A = X^\top X = \sum_i x_i x_i^\top\ (d\times d).

    ``S (x) A`` is ordered like ``W.ravel()`` (index ``r*d + k``), i.e. ``np.kron(S, A)``.
    Inverting ``(1/n) S (x) A`` factor by factor gives ``n S^+ G A^+`` (``G = J^T r`` as an
    ``m x d`` matrix); as for NGD, the factor ``n`` is absorbed into ``eta``. The book uses these
    unnormalised factors, for which the step ``Delta W = S^+ G A^+`` moves output ``j`` by exactly
    ``-eta l_j r_j`` to first order (see :func:`kfac_two_layer`).

    Args:
      W: first-layer weights, ``(m, d)``.
      a: output weights, ``(m,)``.
      X: inputs, ``(n, d)``.

    Returns:
      ``(A, S)``: ``A = X^T X`` of shape ``(d, d)`` and ``S = Gamma^T Gamma`` of shape ``(m, m)``.
      ``S`` is ``m x m``: call this only for small ``m`` (tests, exercises).

    Raises:
      ValueError: on inconsistent shapes.

    Example:
      >>> A, S = kfac_factors(net.W, net.a, X)

    References:
      Martens & Grosse (ICML 2015), Section 3; Zhang, Martens & Grosse (2019), Section 5.
    """
    W, a, X = _check_two_layer(W, a, X)
    G = _gamma(W, a, X)
    return X.T @ X, G.T @ G


def _check_two_layer(W, a, X):
    _checks.ndim("W", W, 2)
    _checks.ndim("a", a, 1)
    _checks.ndim("X", X, 2)
    if a.shape[0] != W.shape[0]:
        raise ValueError(f"a has {a.shape[0]} entries but W has {W.shape[0]} rows (neurons).")
    if X.shape[1] != W.shape[1]:
        raise ValueError(f"W expects inputs of dimension {W.shape[1]} but X has {X.shape[1]} columns.")
    return jnp.asarray(W), jnp.asarray(a), jnp.asarray(X)


def kfac_direction(W, a, X, r, damping: float = 0.0, rcond: float = RCOND):
    r"""The K-FAC direction ``(S + damping I)^+ (Gamma^T diag(r) X) (A + damping I)^+``.

    ``Gamma^T diag(r) X = J^T r`` is the gradient reshaped like ``W``. By the push-through identity
    the ``m x m`` factor is never formed: ``(S + lambda I)^+ Gamma^T = Gamma^T (Gamma Gamma^T +
    lambda I)^+``, an ``n x n`` pseudo-inverse.

    Args:
      W, a, X: the network and inputs as in :func:`kfac_factors`.
      r: residual ``u - y``, shape ``(n,)``.
      damping: ``>= 0``, added to both factors (explicit Tikhonov damping).
      rcond: relative eigenvalue cut-off of the pseudo-inverses.

    Returns:
      ``Delta W`` of shape ``(m, d)``; the step is ``W - eta * Delta W``.

    Raises:
      ValueError: on inconsistent shapes, a negative ``damping`` or a non-positive ``rcond``.

    Example:
      >>> D = kfac_direction(net.W, net.a, X, prob.r(net.W))

    References:
      Zhang, Martens & Grosse (2019), Section 5 (K-FAC for the two-layer ReLU net).
    """
    W, a, X = _check_two_layer(W, a, X)
    _checks.ndim("r", r, 1)
    if r.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but r has {r.shape[0]} entries; they must match.")
    damping = _checks.nonnegative("damping", damping)
    rcond = _checks.positive("rcond", rcond)
    return _kfac_dir(W, a, X, jnp.asarray(r), damping, rcond)


def leverage_scores(X, rcond: float = RCOND) -> np.ndarray:
    r"""Leverage scores ``l_j = x_j^T (X^T X)^+ x_j``: the diagonal of the hat matrix ``X (X^T X)^+ X^T``.

    Each lies in ``[0, 1]`` and they sum to ``rank X``. For unit inputs ``l_j >= 1 / lambda_max(X^T X)``;
    if ``X`` has full row rank (``d >= n``) every ``l_j = 1``.

    Args:
      X: inputs, ``(n, d)``.
      rcond: relative cut-off of the pseudo-inverse.

    Returns:
      ``l``, a NumPy array of shape ``(n,)``.

    Raises:
      ValueError: if ``X`` is not 2-D and finite, or ``rcond`` is not positive.

    Example:
      >>> l = leverage_scores(X); l.sum()   # = d when n >= d and X has rank d

    References:
      Zhang, Martens & Grosse (2019), Section 5 (the K-FAC rate depends on ``X^T X``).
    """
    _checks.ndim("X", X, 2)
    _checks.finite("X", X)
    rcond = _checks.positive("rcond", rcond)
    X = np.asarray(X, dtype=float)
    Ap = np.asarray(_psd_pinv(jnp.asarray(X.T @ X), rcond))
    return np.einsum("jk,kl,jl->j", X, Ap, X)


def kfac_two_layer(eta: float, damping: float = 0.0, rcond: float = RCOND) -> Optimizer:
    r"""K-FAC for the first layer of the two-layer ReLU net, with explicit Kronecker factors.

    .. math::  W_{k+1} = W_k - \eta\,(S + \lambda I)^{+}\,\big(\Gamma^\top \mathrm{diag}(r)\, X\big)\,(A + \lambda I)^{+},
               \qquad S = \Gamma^\top\Gamma,\ A = X^\top X,

    with ``Gamma`` and the factors of :func:`kfac_factors` at ``W_k``. To first order the step moves
    output ``j`` by ``J_j vec(Delta W) = -eta [Gamma S^+ Gamma^T diag(r) X A^+ X^T]_jj``; when
    ``Gamma`` has full row rank, ``Gamma S^+ Gamma^T = I`` and this is ``-eta l_j r_j`` with the
    leverage score ``l_j = x_j^T A^+ x_j`` (:func:`leverage_scores`). Hence, for ``eta <= 1`` and
    unit inputs, ``||r||^2`` contracts per step by at most ``(1 - eta l_min)^2 <= 1 - eta /
    lambda_max(X^T X)``: the rate sees the input Gram ``X^T X`` and not ``lambda_0``. If ``d >= n``
    (``X`` of full row rank), every ``l_j = 1`` and K-FAC moves the outputs exactly as NGD.

    Normalisation: these are the unnormalised factors. K-FAC approximates ``J^T J`` by
    ``(1/n) S (x) A`` (:func:`kfac_factors`), whose inverse applied to the gradient is
    ``n S^+ G A^+``: the factor ``n`` is absorbed into ``eta``, as for NGD. The Fisher's own
    normalisation, ``J^T J / n ~ (S/n) (x) (A/n)``, would put ``n^2`` there instead. Only ``eta``
    changes.

    The ``m x m`` factor is never formed (see :func:`kfac_direction`). Works on problems built by
    :func:`twolayer.models.regression` (it reads ``X`` and ``a`` from ``problem.data``).

    Args:
      eta: step size, > 0 (the rate statement needs ``eta <= 1``).
      damping: ``lambda >= 0`` added to both factors (0 = pseudo-inverses).
      rcond: relative eigenvalue cut-off of the pseudo-inverses (explicit, default ``1e-10``).

    Returns:
      An :class:`~twolayer.optim.Optimizer` named ``"K-FAC"``.

    Raises:
      ValueError: if ``eta`` or ``rcond`` is not positive or ``damping`` is negative; at trace time,
        if the problem is not a two-layer regression problem.

    Example:
      >>> trace = twolayer.train.run(kfac_two_layer(1.0), prob, net.W, steps=30)

    References:
      Zhang, Martens & Grosse (2019), Section 5 (convergence of K-FAC on the two-layer ReLU net);
      Martens & Grosse (2015), eq. for the Kronecker-factored block.
    """
    eta = _checks.positive("eta (the step size)", eta)
    damping = _checks.nonnegative("damping", damping)
    rcond = _checks.positive("rcond", rcond)
    return Optimizer(no_state, _kfac_step,
                     {"eta": jnp.asarray(eta), "damping": jnp.asarray(damping),
                      "rcond": jnp.asarray(rcond)}, "K-FAC")


# --------------------------------------------------------------------------------------------
# The output-space picture
# --------------------------------------------------------------------------------------------
def _residual(theta, problem):
    return problem.r(theta)


def residual_path(optimizer: Optimizer, problem: Problem, theta0, steps: int) -> np.ndarray:
    r"""The whole residual vector ``r(k) = u(k) - y`` after every step, ``k = 0..steps``.

    The output-space picture needs every coordinate, not just norms: this is
    :func:`twolayer.train.run` with ``record`` set to the residual, so it is the same loop (compiled
    once per method, problem type, shapes and steps).

    Args:
      optimizer: an :class:`~twolayer.optim.Optimizer`.
      problem: a :class:`~twolayer.problem.Problem`.
      theta0: initial parameters.
      steps: number of steps, >= 1.

    Returns:
      NumPy array ``(steps + 1, n)``; rows are NaN from the step where the run diverged on.

    Raises:
      ValueError: on a non-positive ``steps`` or a non-Problem.

    Example:
      >>> R = residual_path(ngd(0.2), prob, net.W, 20)   # outputs u(k) = R[k] + y
    """
    _check_problem(problem)
    steps = _checks.positive_int("steps", steps)
    return run(optimizer, problem, theta0, steps, record=_residual).records
