r"""Optimizers as ``(init, step)`` pairs that may ask the problem for residuals and Jacobians.

An :class:`Optimizer` holds two pure functions and its hyperparameters:

- ``init(theta, problem, hyper) -> state``
- ``step(theta, state, problem, hyper) -> (theta, state)``

``problem`` is a :class:`twolayer.problem.Problem` (residual, ``J^T v``, Jacobian, Gram), so methods
that need more than the gradient (natural gradient, K-FAC) fit the same shape. Hyperparameters are
passed as data, not baked into the function, so a sweep over step sizes compiles the training loop
once. Every optimizer validates its hyperparameters when it is built.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import _checks


class Optimizer(NamedTuple):
    """An optimizer: pure ``init`` and ``step`` functions, hyperparameters and a display name."""

    init: Callable
    step: Callable
    hyper: dict
    name: str


def no_state(theta, problem, hyper):
    """The ``init`` of an optimizer that keeps no state (GD, NGD, K-FAC, the two-timescale steps)."""
    return ()


def _gd_step(theta, state, problem, hyper):
    g = problem.grad(theta)
    theta = jax.tree_util.tree_map(lambda t, gt: t - hyper["eta"] * gt, theta, g)
    return theta, state


def gd(eta: float) -> Optimizer:
    r"""Full-batch gradient descent on ``L = 1/2 ||r||^2``.

    .. math::  \theta_{k+1} = \theta_k - \eta\, J(\theta_k)^\top r(\theta_k).

    Linearised around a fixed Gram ``H = J J^T`` the residual obeys ``r <- (I - eta H) r``: each
    eigen-direction of ``H`` with eigenvalue ``lambda`` contracts by ``|1 - eta lambda|`` per step.

    Args:
      eta: step size, > 0.

    Returns:
      An :class:`Optimizer`.

    Raises:
      ValueError: if ``eta`` is not a finite positive number.

    Example:
      >>> trace = twolayer.train.run(gd(0.5), problem, W0, steps=1000)

    References:
      Du et al., ICLR 2019, Section 4 (the update and Theorem 4.1).
    """
    eta = _checks.positive("eta (the step size)", eta)
    return Optimizer(no_state, _gd_step, {"eta": jnp.asarray(eta)}, "GD")


# --- Momentum: heavy ball and Nesterov (chapter "momentum") ---------------------------------------
#
# The state of a momentum method is the previous iterate W_{k-1} (and, for the vanishing-momentum
# schedule, the step counter k), with the convention W_{-1} = W_0: the first step of every method is
# a plain gradient step.


def _momentum(name: str, beta) -> float:
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1), got {beta!r}.") from None
    if not (0.0 <= b < 1.0):
        raise ValueError(f"{name} must lie in [0, 1) (0 is gradient descent), got {beta!r}.")
    return b


def _previous_iterate(theta, problem, hyper):
    return theta


def _hb_step(theta, prev, problem, hyper):
    g = problem.grad(theta)
    new = jax.tree_util.tree_map(
        lambda t, tp, gt: t - hyper["s"] * gt + hyper["beta"] * (t - tp), theta, prev, g)
    return new, theta


def heavy_ball(s: float, beta: float) -> Optimizer:
    r"""Polyak's heavy ball with a constant step and momentum.

    .. math::  W_{k+1} = W_k - s\,\nabla L(W_k) + \beta\,(W_k - W_{k-1}),\qquad W_{-1} = W_0 .

    The state is the previous iterate ``W_{k-1}``. This is *exactly* ``optax.sgd(s, momentum=beta)``
    (PyTorch's ``SGD(lr=s, momentum=beta)``): their velocity ``v_k = g_k + beta v_{k-1}`` (``v_{-1} =
    0``) is ``-(W_{k+1} - W_k)/s``, no change of variables. On a fixed Gram ``H`` each eigen-direction
    of the residual with eigenvalue ``lambda`` follows
    ``xi_{k+1} = (1 + beta - s lambda) xi_k - beta xi_{k-1}`` (see :mod:`twolayer.momentum`).

    Args:
      s: step size, > 0.
      beta: momentum, in ``[0, 1)``; ``beta = 0`` is :func:`gd`.

    Returns:
      An :class:`Optimizer` named ``"HB"``.

    Raises:
      ValueError: if ``s`` is not a finite positive number or ``beta`` is not in ``[0, 1)``.

    Example:
      >>> tr = twolayer.train.run(heavy_ball(0.3, 0.9), problem, W0, steps=1000)

    References:
      B. T. Polyak, Some methods of speeding up the convergence of iteration methods, USSR Comput.
      Math. Math. Phys. 4 (1964). Liu et al., IJCAI 2024 and Bu et al., AISTATS 2021 analyse it on
      wide two-layer networks.
    """
    s = _checks.positive("s (the step size)", s)
    beta = _momentum("beta (the momentum)", beta)
    return Optimizer(_previous_iterate, _hb_step,
                     {"s": jnp.asarray(s), "beta": jnp.asarray(beta)}, "HB")


def _nag_update(theta, prev, problem, s, beta):
    y = jax.tree_util.tree_map(lambda t, tp: t + beta * (t - tp), theta, prev)
    g = problem.grad(y)
    return jax.tree_util.tree_map(lambda yt, gt: yt - s * gt, y, g)


def _nag_step(theta, prev, problem, hyper):
    return _nag_update(theta, prev, problem, hyper["s"], hyper["beta"]), theta


def nesterov(s: float, beta: float) -> Optimizer:
    r"""Nesterov's accelerated gradient with constant momentum (NAG-SC, the strongly convex form).

    .. math::  Y_k = W_k + \beta\,(W_k - W_{k-1}),\qquad W_{k+1} = Y_k - s\,\nabla L(Y_k),
               \qquad W_{-1} = W_0 .

    The state is ``W_{k-1}``; ``theta`` is the sequence ``W_k`` (where the loss is recorded), not the
    gradient points ``Y_k``. Change of variables to optax: ``optax.sgd(s, momentum=beta,
    nesterov=True)`` (PyTorch ``nesterov=True``) iterates the gradient points: its parameters after
    ``k`` steps are ``Y_k = W_k + beta (W_k - W_{k-1})``, and they start at ``Y_0 = W_0``. In
    gradient-correction form, ``Y_{k+1} = Y_k + beta (Y_k - Y_{k-1}) - s grad(Y_k) - beta s (grad(Y_k)
    - grad(Y_{k-1}))``. On a fixed Gram each eigen-direction follows
    ``xi_{k+1} = (1 - s lambda) [(1 + beta) xi_k - beta xi_{k-1}]``.

    Args:
      s: step size, > 0 (the tuned choice is ``1/L``).
      beta: momentum, in ``[0, 1)`` (the tuned choice is ``(sqrt(kappa) - 1)/(sqrt(kappa) + 1)``).

    Returns:
      An :class:`Optimizer` named ``"NAG"``.

    Raises:
      ValueError: if ``s`` is not a finite positive number or ``beta`` is not in ``[0, 1)``.

    References:
      Y. Nesterov, Introductory Lectures on Convex Optimization (2004), scheme (2.2.19); the
      high-resolution view: Shi, Du, Jordan & Su (2018, arXiv:1810.08907); Liu et al., IJCAI 2024.
    """
    s = _checks.positive("s (the step size)", s)
    beta = _momentum("beta (the momentum)", beta)
    return Optimizer(_previous_iterate, _nag_step,
                     {"s": jnp.asarray(s), "beta": jnp.asarray(beta)}, "NAG")


def _nag_c_init(theta, problem, hyper):
    return theta, jnp.asarray(0, dtype=jnp.int32)


def nag_c_beta(k, r):
    """The vanishing momentum ``beta_k = (k - 1)/(k + r - 1)`` of NAG-C (0 at ``k = 0``)."""
    k = jnp.asarray(k, dtype=jnp.result_type(float))
    return jnp.where(k >= 1, (k - 1) / jnp.where(k >= 1, k + r - 1, 1.0), 0.0)


def _nag_c_step(theta, state, problem, hyper):
    prev, k = state
    beta = nag_c_beta(k, hyper["r"])
    return _nag_update(theta, prev, problem, hyper["s"], beta), (theta, k + 1)


def nesterov_c(s: float, r: float = 3.0) -> Optimizer:
    r"""Nesterov's method with vanishing momentum (NAG-C, the convex form), Su-Boyd-Candes' ``r``.

    .. math::  Y_k = W_k + \beta_k (W_k - W_{k-1}),\quad W_{k+1} = Y_k - s\,\nabla L(Y_k),\quad
               \beta_k = \frac{k-1}{k+r-1}\ (k\ge1),\quad W_{-1} = W_0 .

    ``r = 3`` is Nesterov's classical ``(k - 1)/(k + 2)``. The state is ``(W_{k-1}, k)``. Its
    low-resolution limit (``t = k sqrt(s)``, ``s -> 0``) is ``X'' + (r/t) X' + grad L(X) = 0``
    (:func:`twolayer.flows.nag_c`). Bu et al.'s code resets PyTorch's momentum to this schedule
    every epoch; PyTorch's Nesterov form then uses ``beta_k`` where this form uses ``beta_{k+1}``
    (a shift by one index, immaterial for the limit).

    Args:
      s: step size, > 0.
      r: friction constant, > 0 (``r = 3`` classical; Bu et al. use 2, 3, 6, 8).

    Returns:
      An :class:`Optimizer` named ``"NAG-C"``.

    Raises:
      ValueError: if ``s`` or ``r`` is not a finite positive number.

    References:
      W. Su, S. Boyd, E. Candes, A differential equation for modeling Nesterov's accelerated
      gradient method, JMLR 17 (2016), eq. (1.2)-(1.3) with ``r`` of their Section 4; Bu et al.,
      AISTATS 2021.
    """
    s = _checks.positive("s (the step size)", s)
    r = _checks.positive("r (the friction constant)", r)
    return Optimizer(_nag_c_init, _nag_c_step, {"s": jnp.asarray(s), "r": jnp.asarray(r)}, "NAG-C")
